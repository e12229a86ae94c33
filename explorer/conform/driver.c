/*
 * errseq-explorer conformance driver: runs as /init in a throw-away VM.
 *
 * It reads /scenario.scn (the project's scenario language, docs/model.md §2), builds
 * the world of docs/model.md §1 on a real kernel and prints one result line per event:
 *
 *   @@ KVER <release>
 *   @@ R <index> <result> [detail]     result: 0, EIO, E<name>, "-" (environment
 *                                      event done) or "skipped" (cannot happen here)
 *   @@ W <index> ino=<n> sectors=<a>-<b>[,...]   what a wberror failed on purpose
 *   @@ K <index> <kernel log line>     every kernel log line printed during event
 *   @@ BAD <reason>                    the run cannot be trusted (setup failed...)
 *   @@ END
 *
 * Setup (docs/conformance.md, F2): tmpfs file -> loop -> dm
 * (linear) -> ext4 without journal, 256-byte inodes, noatime; periodic writeback
 * off.  Every file the scenario names is created in place, written, fsynced and
 * synced, so its blocks are allocated and clean.  `wberror F` maps exactly F's
 * extents (FIEMAP, no SYNC flag) to the dm `error` target with the fs not frozen
 * (DM_SKIP_LOCKFS), triggers writeback with sync(2) (which checks no errseq) and
 * heals.  `wberror F ENOSPC` maps F's extents instead to a dm-thin volume whose pool is
 * out of data space with error_if_no_space, so that the writes fail with
 * BLK_STS_NOSPC (-ENOSPC) rather than the error target's BLK_STS_IOERR.
 * `open fdN host ovlK` opens ovlK's upper file directly (/upper/ovlK/upper/file).
 * Only raw syscalls and ioctls: no dmsetup, no shell.
 *
 * With /race.txt instead of /scenario.scn the same world runs a race program many
 * times over (race.c, which documents its own output lines).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"

#define DISK_MB 64

static int kmsg_fd = -1;
static int tracing; /* ext4_evict_inode events enabled */
int cur_event = -1;
int quiet;
char last_result[128];
struct wb_target last_wb;

void out(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	ssize_t w = write(1, buf, n);
	(void)w;
}

double uptime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void poweroff(void)
{
	sync();
	out("@@ END %.2f", uptime());
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

void die(const char *what)
{
	out("@@ BAD %s: %s", what, strerror(errno));
	poweroff();
}

const char *errname(int e)
{
	static char buf[32];
	switch (e) {
	case 0: return "0";
	case EIO: return "EIO";
	case EROFS: return "EROFS";
	case ENOENT: return "ENOENT";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case EBADF: return "EBADF";
	case EPERM: return "EPERM";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case ESTALE: return "ESTALE";
	case EUCLEAN: return "EUCLEAN";
	}
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

/* The next kernel log record since the last read (its message only), or 0 if none. */
int kmsg_next(char *msg, size_t n)
{
	char rec[8192];
	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		ssize_t r = read(kmsg_fd, rec, sizeof rec - 1);
		if (r < 0) {
			if (errno == EPIPE)
				continue; /* overwritten records: keep reading */
			return 0;         /* EAGAIN: nothing more */
		}
		rec[r] = 0;
		char *m = strchr(rec, ';');
		m = m ? m + 1 : rec;
		char *nl = strchr(m, '\n');
		if (nl)
			*nl = 0;
		snprintf(msg, n, "%s", m);
		return 1;
	}
}

/* Print every kernel log record since the last call, tagged with the event. */
void drain_kmsg(void)
{
	char msg[8192];
	while (kmsg_next(msg, sizeof msg))
		out("@@ K %d %s", cur_event, msg);
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		die(path);
	if (write(fd, val, strlen(val)) < 0)
		die(path);
	close(fd);
}

static void mkdir_p(const char *path)
{
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		die(path);
}

static void insmod(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		die(path);
	close(fd);
}

static int run_prog(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* ---------- device-mapper, raw ioctls ---------- */

#define DM_NAME "errseq"
#define THIN_BLOCK 128 /* sectors: dm-thin's smallest data block, 64 KiB */
static int dm_ctl = -1;
static unsigned loop_major, loop_minor;
static uint64_t disk_sectors;
static unsigned thin_major, thin_minor; /* the always-out-of-space thin volume */
static int have_thin;

struct dm_buf {
	struct dm_ioctl io;
	char data[16384];
};

static void dm_init_named(struct dm_buf *b, unsigned flags, const char *name)
{
	memset(b, 0, sizeof *b);
	b->io.version[0] = DM_VERSION_MAJOR;
	b->io.version[1] = 0;
	b->io.version[2] = 0;
	b->io.data_size = sizeof *b;
	b->io.data_start = sizeof(struct dm_ioctl);
	b->io.flags = flags;
	snprintf(b->io.name, sizeof b->io.name, "%s", name);
}

static void dm_init(struct dm_buf *b, unsigned flags)
{
	dm_init_named(b, flags, DM_NAME);
}

static void dm_cmd(unsigned long cmd, struct dm_buf *b, const char *what)
{
	if (ioctl(dm_ctl, cmd, b) < 0)
		die(what);
}

struct seg {
	uint64_t start, len;
	int error; /* 0 linear to the disk, 1 error (EIO), 2 the thin volume (ENOSPC) */
};

/* Load a table: segments in order, "error", "linear <loop> <start>", or for ENOSPC
 * "linear <thin> <THIN_BLOCK + start>" (past the thin volume's one provisioned block). */
static void dm_load(const struct seg *segs, int n)
{
	struct dm_buf b;
	dm_init(&b, 0);
	char *p = b.data;
	for (int i = 0; i < n; i++) {
		struct dm_target_spec *t = (struct dm_target_spec *)p;
		memset(t, 0, sizeof *t);
		t->sector_start = segs[i].start;
		t->length = segs[i].len;
		char *params = p + sizeof *t;
		if (segs[i].error == 1) {
			strcpy(t->target_type, "error");
			params[0] = 0;
		} else if (segs[i].error == 2) {
			strcpy(t->target_type, "linear");
			sprintf(params, "%u:%u %llu", thin_major, thin_minor,
				(unsigned long long)(THIN_BLOCK + segs[i].start));
		} else {
			strcpy(t->target_type, "linear");
			sprintf(params, "%u:%u %llu", loop_major, loop_minor,
				(unsigned long long)segs[i].start);
		}
		size_t len = sizeof *t + strlen(params) + 1;
		len = (len + 7) & ~(size_t)7;
		t->next = len;
		p += len;
	}
	b.io.target_count = n;
	dm_cmd(DM_TABLE_LOAD, &b, "DM_TABLE_LOAD");
}

/* Suspend without freezing the fs (a freeze would write the dirty pages back). */
static void dm_suspend(void)
{
	struct dm_buf b;
	dm_init(&b, DM_SUSPEND_FLAG | DM_SKIP_LOCKFS_FLAG);
	dm_cmd(DM_DEV_SUSPEND, &b, "DM suspend");
}

static void dm_resume(void)
{
	struct dm_buf b;
	dm_init(&b, 0);
	dm_cmd(DM_DEV_SUSPEND, &b, "DM resume");
}

static void dm_swap(const struct seg *segs, int n)
{
	dm_suspend();
	dm_load(segs, n);
	dm_resume();
}

static void dm_all_linear(void)
{
	struct seg s = {0, disk_sectors, 0};
	dm_swap(&s, 1);
}

static dev_t setup_devices(void)
{
	/* tmpfs file -> loop */
	int img = open("/tmp/disk.img", O_RDWR | O_CREAT, 0600);
	if (img < 0 || ftruncate(img, (off_t)DISK_MB << 20) < 0)
		die("disk image");
	disk_sectors = ((uint64_t)DISK_MB << 20) / 512;
	int ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0)
		die("/dev/loop-control");
	int n = ioctl(ctl, LOOP_CTL_GET_FREE);
	if (n < 0)
		die("LOOP_CTL_GET_FREE");
	char lp[64];
	snprintf(lp, sizeof lp, "/dev/loop%d", n);
	int lfd = -1;
	for (int i = 0; i < 100 && lfd < 0; i++) {
		lfd = open(lp, O_RDWR);
		if (lfd < 0)
			usleep(10000);
	}
	if (lfd < 0)
		die(lp);
	if (ioctl(lfd, LOOP_SET_FD, img) < 0)
		die("LOOP_SET_FD");
	struct stat st;
	if (fstat(lfd, &st) < 0)
		die("stat loop");
	loop_major = major(st.st_rdev);
	loop_minor = minor(st.st_rdev);
	/* lfd and img stay open for the life of the VM */

	/* loop -> dm linear */
	dm_ctl = open("/dev/mapper/control", O_RDWR);
	if (dm_ctl < 0)
		die("/dev/mapper/control");
	struct dm_buf b;
	dm_init(&b, 0);
	dm_cmd(DM_DEV_CREATE, &b, "DM_DEV_CREATE");
	dev_t dev = (dev_t)b.io.dev;
	struct seg s = {0, disk_sectors, 0};
	dm_load(&s, 1);
	dm_resume();
	if (mknod("/dev/errseq-dm", S_IFBLK | 0600, dev) < 0 && errno != EEXIST)
		die("mknod dm");
	return dev;
}

/* One device with a one-target table, created and resumed; its dev_t. */
static dev_t dm_create(const char *name, const char *type, uint64_t len, const char *params)
{
	struct dm_buf b;
	dm_init_named(&b, 0, name);
	dm_cmd(DM_DEV_CREATE, &b, "DM_DEV_CREATE");
	dev_t dev = (dev_t)b.io.dev;
	dm_init_named(&b, 0, name);
	struct dm_target_spec *t = (struct dm_target_spec *)b.data;
	t->sector_start = 0;
	t->length = len;
	snprintf(t->target_type, sizeof t->target_type, "%s", type);
	strcpy(b.data + sizeof *t, params);
	size_t l = (sizeof *t + strlen(params) + 1 + 7) & ~(size_t)7;
	t->next = l;
	b.io.target_count = 1;
	dm_cmd(DM_TABLE_LOAD, &b, "DM_TABLE_LOAD");
	dm_init_named(&b, 0, name);
	dm_cmd(DM_DEV_SUSPEND, &b, "DM resume");
	return dev;
}

static unsigned loop_attach(const char *img, uint64_t bytes)
{
	int fd = open(img, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0)
		die(img);
	int ctl = open("/dev/loop-control", O_RDWR);
	int n = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE);
	if (n < 0)
		die("LOOP_CTL_GET_FREE");
	close(ctl);
	char lp[64];
	snprintf(lp, sizeof lp, "/dev/loop%d", n);
	int lfd = -1;
	for (int i = 0; i < 100 && lfd < 0; i++) {
		lfd = open(lp, O_RDWR);
		if (lfd < 0)
			usleep(10000);
	}
	if (lfd < 0 || ioctl(lfd, LOOP_SET_FD, fd) < 0)
		die("LOOP_SET_FD (thin)");
	struct stat st;
	if (fstat(lfd, &st) < 0)
		die("stat loop");
	return (unsigned)st.st_rdev; /* lfd and fd stay open for the life of the VM */
}

/*
 * The ENOSPC injection (drivers/md/dm-thin.c): a thin pool of exactly one data block,
 * with error_if_no_space, and a thin volume on it.  Block 0 of the volume is
 * provisioned here (empty flushes land there and stay harmless); the next write
 * needs a new block, alloc_data_block() finds none and sets PM_OUT_OF_DATA_SPACE,
 * after which every write to an unprovisioned block ends with BLK_STS_NOSPC
 * (should_error_unserviceable_bio), i.e. -ENOSPC in the filesystem's end_io.  Both
 * writes are checked here, before the scenario starts.
 */
static void setup_thin(void)
{
	unsigned meta = loop_attach("/tmp/thin-meta.img", 4 << 20);
	unsigned data = loop_attach("/tmp/thin-data.img", THIN_BLOCK * 512);
	char params[256];
	snprintf(params, sizeof params, "%u:%u %u:%u %d 0 1 error_if_no_space",
		 major(meta), minor(meta), major(data), minor(data), THIN_BLOCK);
	dev_t pool = dm_create("errseq-pool", "thin-pool", THIN_BLOCK, params);
	struct dm_buf b;
	dm_init_named(&b, 0, "errseq-pool");
	struct dm_target_msg *msg = (struct dm_target_msg *)b.data;
	msg->sector = 0;
	strcpy(msg->message, "create_thin 0");
	dm_cmd(DM_TARGET_MSG, &b, "DM_TARGET_MSG create_thin");
	snprintf(params, sizeof params, "%u:%u 0", major(pool), minor(pool));
	dev_t thin = dm_create("errseq-thin", "thin", disk_sectors + THIN_BLOCK, params);
	thin_major = major(thin);
	thin_minor = minor(thin);
	if (mknod("/dev/errseq-thin", S_IFBLK | 0600, thin) < 0 && errno != EEXIST)
		die("mknod thin");
	int fd = open("/dev/errseq-thin", O_RDWR | O_DIRECT);
	void *blk;
	if (fd < 0 || posix_memalign(&blk, 4096, 4096))
		die("open thin");
	memset(blk, 0, 4096);
	if (pwrite(fd, blk, 4096, 0) != 4096)
		die("thin: provisioning block 0");
	if (pwrite(fd, blk, 4096, THIN_BLOCK * 512) != -1 || errno != ENOSPC) {
		out("@@ BAD thin pool: a write past its one block did not fail with ENOSPC (%s)",
		    strerror(errno));
		poweroff();
	}
	close(fd);
	free(blk);
	have_thin = 1;
}

/* ---------- the world ---------- */

int ncont;               /* containers ovl1..ovlN used */
int mounted[MAXC + 1];   /* 0 no, 1 normal, 2 volatile */
int cached[MAXC + 1];    /* opened since the last evict (the model's `cached`) */
int fd_of[MAXFD];
char fd_name[MAXFD][64];
static int fd_target[MAXFD];    /* container index, 0 = host */
int nfd;
static char buf4k[FILESZ];

/* The file of a target: host's on the upper fs, ovlN's inside its upperdir. */
void upper_path(int t, char *p, size_t n)
{
	if (t == 0)
		snprintf(p, n, "/upper/host");
	else
		snprintf(p, n, "/upper/ovl%d/upper/file", t);
}

static void create_file(int t)
{
	char p[256];
	upper_path(t, p, sizeof p);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(p);
	memset(buf4k, 'a' + t, sizeof buf4k);
	if (pwrite(fd, buf4k, FILESZ, 0) != FILESZ)
		die("initial write");
	if (fsync(fd) < 0)
		die("initial fsync");
	close(fd);
}

static void rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d))) {
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				char sub[512];
				snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
				rm_rf(sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

/* docs/model.md §6: the administrator removes the volatile marker before a remount. */
void clear_volatile_marker(int c)
{
	char p[256];
	snprintf(p, sizeof p, "/upper/ovl%d/work/work/incompat", c);
	rm_rf(p);
}

int target_of(const char *tok)
{
	if (!strcmp(tok, "host"))
		return 0;
	if (!strncmp(tok, "ovl", 3) && isdigit((unsigned char)tok[3])) {
		int c = atoi(tok + 3);
		if (c >= 1 && c <= MAXC)
			return c;
	}
	return -1;
}

int find_fd(const char *name)
{
	for (int i = 0; i < nfd; i++)
		if (!strcmp(fd_name[i], name))
			return i;
	return -1;
}

/* An event's result ("0", "EIO", "-", "skipped why"...): kept in last_result and,
 * unless quiet, printed as its `@@ R` line. */
static void result(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_result, sizeof last_result, fmt, ap);
	va_end(ap);
	if (!quiet)
		out("@@ R %d %s", cur_event, last_result);
}

static void result_errno(int ret)
{
	result("%s", errname(ret < 0 ? errno : 0));
}

static void ev_mount(int c, int vol)
{
	char mnt[64], opts[512];
	if (mounted[c]) {
		result("skipped already mounted");
		return;
	}
	clear_volatile_marker(c);
	snprintf(mnt, sizeof mnt, "/mnt/ovl%d", c);
	snprintf(opts, sizeof opts,
		 "lowerdir=/tmp/lower,upperdir=/upper/ovl%d/upper,workdir=/upper/ovl%d/work%s",
		 c, c, vol ? ",volatile" : "");
	int r = mount("overlay", mnt, "overlay", 0, opts);
	if (r == 0)
		mounted[c] = vol ? 2 : 1;
	result_errno(r);
}

static void ev_umount(int c)
{
	char mnt[64];
	if (!mounted[c]) {
		result("skipped not mounted");
		return;
	}
	snprintf(mnt, sizeof mnt, "/mnt/ovl%d", c);
	int r = umount2(mnt, 0);
	if (r == 0) {
		mounted[c] = 0;
		clear_volatile_marker(c);
	}
	result_errno(r);
}

static void ev_open(const char *name, int t, int file)
{
	char p[256];
	if (nfd >= MAXFD) {
		out("@@ BAD too many fds");
		poweroff();
	}
	snprintf(fd_name[nfd], sizeof fd_name[nfd], "%s", name);
	fd_target[nfd] = t;
	fd_of[nfd] = -1;
	if (t > 0 && !mounted[t]) {
		nfd++;
		result("skipped ovl%d is not mounted", t);
		return;
	}
	if (t == 0 && file > 0)
		upper_path(file, p, sizeof p); /* the host opens ovlK's upper file directly */
	else if (t == 0)
		snprintf(p, sizeof p, "/upper/host");
	else
		snprintf(p, sizeof p, "/mnt/ovl%d/file", t);
	int fd = open(p, O_RDWR);
	fd_of[nfd++] = fd;
	if (fd >= 0)
		cached[file > 0 ? file : t] = 1;
	result_errno(fd);
}

static void ev_fd(const char *verb, const char *name)
{
	int i = find_fd(name);
	if (i < 0 || fd_of[i] < 0) {
		result("skipped %s is not open", name);
		return;
	}
	int fd = fd_of[i], r;
	if (!strcmp(verb, "write")) {
		memset(buf4k, 'A' + cur_event % 26, sizeof buf4k);
		ssize_t n = pwrite(fd, buf4k, FILESZ, 0);
		if (n >= 0 && n != FILESZ) {
			result("E_SHORT short write %zd", n);
			return;
		}
		r = n < 0 ? -1 : 0;
	} else if (!strcmp(verb, "fsync")) {
		r = fsync(fd);
	} else if (!strcmp(verb, "syncfs")) {
		r = syncfs(fd);
	} else { /* close */
		r = close(fd);
		fd_of[i] = -2;
		fd_name[i][0] = 0; /* the name may not come back, but be safe */
	}
	result_errno(r);
}

/* Map exactly F's data sectors to `error` (EIO) or to the out-of-space thin volume
 * (ENOSPC), write everything back, heal. */
static void ev_wberror(int t, int nospc)
{
	char p[256];
	upper_path(t, p, sizeof p);
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		die("wberror open");
	struct stat st;
	fstat(fd, &st);
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[MAXSPANS];
	} f;
	memset(&f, 0, sizeof f);
	f.fm.fm_start = 0;
	f.fm.fm_length = FIEMAP_MAX_OFFSET;
	f.fm.fm_flags = 0; /* not FIEMAP_FLAG_SYNC: it would write the page back */
	f.fm.fm_extent_count = MAXSPANS;
	if (ioctl(fd, FS_IOC_FIEMAP, &f.fm) < 0)
		die("FIEMAP");
	close(fd);
	if (f.fm.fm_mapped_extents == 0) {
		out("@@ BAD wberror: %s has no extents", p);
		poweroff();
	}
	struct seg segs[80];
	int n = 0;
	uint64_t pos = 0;
	char desc[1024] = "";
	last_wb.ino = (unsigned long)st.st_ino;
	last_wb.nspans = 0;
	last_wb.nospc = nospc;
	for (unsigned i = 0; i < f.fm.fm_mapped_extents; i++) {
		struct fiemap_extent *e = &f.ext[i];
		if (e->fe_flags & (FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_UNKNOWN |
				   FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_NOT_ALIGNED |
				   FIEMAP_EXTENT_ENCODED)) {
			out("@@ BAD wberror: extent flags 0x%x on %s", e->fe_flags, p);
			poweroff();
		}
		uint64_t s = e->fe_physical / 512, len = (e->fe_length + 511) / 512;
		if (s < pos || s + len > disk_sectors) {
			out("@@ BAD wberror: extents not sorted");
			poweroff();
		}
		if (s > pos)
			segs[n++] = (struct seg){pos, s - pos, 0};
		segs[n++] = (struct seg){s, len, nospc ? 2 : 1};
		pos = s + len;
		last_wb.span[last_wb.nspans][0] = s;
		last_wb.span[last_wb.nspans++][1] = s + len;
		size_t dl = strlen(desc);
		snprintf(desc + dl, sizeof desc - dl, "%s%llu-%llu", i ? "," : "",
			 (unsigned long long)s, (unsigned long long)(s + len));
	}
	if (pos < disk_sectors)
		segs[n++] = (struct seg){pos, disk_sectors - pos, 0};
	if (!quiet)
		out("@@ W %d ino=%llu sectors=%s errno=%s", cur_event,
		    (unsigned long long)st.st_ino, desc, nospc ? "ENOSPC" : "EIO");
	dm_swap(segs, n);
	sync(); /* writes back and waits; checks no errseq */
	dm_all_linear();
	result("-");
}

/*
 * Drop the inode: it must have no fd and be clean (the model's precondition).
 * drop_caches=3: inodes that still have page cache are kept off the inode LRU
 * (fs/inode.c __inode_add_lru: !mapping_shrinkable), so the page cache must go
 * first; the overlay's dentries pin the upper ones, hence several rounds.
 * Evidence: the ext4_evict_inode trace event for F's inode number.
 */
static int trace_has_evict(unsigned long ino)
{
	char want[64], buf[65536];
	snprintf(want, sizeof want, " ino %lu ", ino);
	int fd = open("/sys/kernel/tracing/trace", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n, tot = 0;
	while (tot < (ssize_t)sizeof buf - 1 && (n = read(fd, buf + tot, sizeof buf - 1 - tot)) > 0)
		tot += n;
	close(fd);
	buf[tot] = 0;
	for (char *l = strstr(buf, "ext4_evict_inode:"); l; l = strstr(l + 1, "ext4_evict_inode:")) {
		char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char line[256];
		snprintf(line, sizeof line, "%.*s ", (int)(len < 200 ? len : 200), l);
		if (strstr(line, want))
			return 1;
	}
	return 0;
}

static void ev_evict(int t)
{
	char p[256];
	struct stat st;
	/* docs/model.md §2: an inode not brought in by an open since the last evict
	 * has nothing to lose (setup's inodes hold no error); like the model,
	 * there is nothing to evict. */
	if (!cached[t]) {
		result("skipped not cached");
		return;
	}
	cached[t] = 0;
	upper_path(t, p, sizeof p);
	if (stat(p, &st) < 0)
		die("evict stat");
	if (tracing) {
		int fd = open("/sys/kernel/tracing/trace", O_WRONLY | O_TRUNC);
		if (fd >= 0)
			close(fd);
	}
	/* drop_caches evicts every unused inode: pin the other files (O_PATH holds
	 * the dentry and inode, samples errseqs without side effect) so that only F
	 * leaves the cache, as in the model. */
	int pins[MAXC + 1];
	for (int o = 0; o <= ncont; o++) {
		char q[256];
		upper_path(o, q, sizeof q);
		pins[o] = o == t ? -1 : open(q, O_PATH);
	}
	/* Dirty metadata buffers attached to an inode keep it from being evicted
	 * (inode_lru_isolate: remove_inode_buffers fails while one is dirty).  A
	 * normal overlay's umount syncs them, a volatile one does not (seen on 6.12).
	 * fsync of the block device writes only the bdev page cache, i.e. metadata:
	 * no file's data, no errseq of the upper sb or of any file. */
	int bfd = open("/dev/errseq-dm", O_RDONLY);
	if (bfd < 0 || fsync(bfd) < 0)
		die("fsync of the block device");
	close(bfd);
	int found = 0;
	for (int i = 0; i < 5 && found <= 0; i++) {
		write_file("/proc/sys/vm/drop_caches", "3");
		found = tracing ? trace_has_evict((unsigned long)st.st_ino) : -1;
	}
	for (int o = 0; o <= ncont; o++)
		if (pins[o] >= 0)
			close(pins[o]);
	result("- %s",
	    found > 0 ? "evicted" : found == 0 ? "still-cached" : "unverified");
}

/* ---------- scenario ---------- */

char lines[MAXEV][256];
int nlines;

static void read_scenario(void)
{
	FILE *f = fopen("/scenario.scn", "r");
	if (!f)
		die("/scenario.scn");
	char l[256];
	while (nlines < MAXEV && fgets(l, sizeof l, f)) {
		char *h = strchr(l, '#');
		if (h)
			*h = 0;
		char *eq = strchr(l, '=');
		if (eq)
			*eq = 0;
		char *s = l;
		while (isspace((unsigned char)*s))
			s++;
		char *e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = 0;
		if (*s)
			snprintf(lines[nlines++], sizeof lines[0], "%s", s);
	}
	fclose(f);
}

static int wants_nospc; /* some `wberror F ENOSPC`: set up the thin pool */

/* Every target named anywhere gets its file (and for ovlN its dirs). */
void scan_targets(void)
{
	for (int i = 0; i < nlines; i++) {
		char w[4][64] = {{0}};
		sscanf(lines[i], "%63s %63s %63s %63s", w[0], w[1], w[2], w[3]);
		if (!strcmp(w[0], "wberror") && !strcmp(w[2], "ENOSPC"))
			wants_nospc = 1;
		for (int k = 1; k < 4; k++) {
			int t = target_of(w[k]);
			if (t > ncont)
				ncont = t;
		}
	}
}

void run_event(const char *l)
{
	char w[4][64] = {{0}};
	int n = sscanf(l, "%63s %63s %63s %63s", w[0], w[1], w[2], w[3]);
	(void)n;
	if (!strcmp(w[0], "mount"))
		ev_mount(target_of(w[1]), !strcmp(w[2], "volatile"));
	else if (!strcmp(w[0], "umount"))
		ev_umount(target_of(w[1]));
	else if (!strcmp(w[0], "open"))
		ev_open(w[1], target_of(w[2]), w[3][0] ? target_of(w[3]) : 0);
	else if (!strcmp(w[0], "write") || !strcmp(w[0], "fsync") || !strcmp(w[0], "syncfs") ||
		 !strcmp(w[0], "close"))
		ev_fd(w[0], w[1]);
	else if (!strcmp(w[0], "wberror")) {
		int nospc = !strcmp(w[2], "ENOSPC");
		if (nospc && !have_thin) {
			out("@@ BAD wberror ENOSPC without the thin pool");
			poweroff();
		}
		ev_wberror(target_of(w[1]), nospc);
	}
	else if (!strcmp(w[0], "evict"))
		ev_evict(target_of(w[1]));
	else if (!strcmp(w[0], "sync")) {
		sync();
		result("0");
	} else {
		out("@@ BAD unknown verb %s", w[0]);
		poweroff();
	}
}

void setup(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mkdir("/tmp", 01777);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	if (mount("tmpfs", "/tmp", "tmpfs", 0, "size=80%") < 0)
		die("mount tmpfs");
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END); /* only what happens from now on */

	insmod("/modules/loop.ko");
	insmod("/modules/dm-mod.ko");
	insmod("/modules/overlay.ko");
	if (wants_nospc) {
		insmod("/modules/dm-bufio.ko");
		insmod("/modules/libcrc32c.ko");
		insmod("/modules/dm-persistent-data.ko");
		insmod("/modules/dm-bio-prison.ko");
		insmod("/modules/dm-thin-pool.ko");
	}

	/* No periodic flusher: a dirty page stays dirty until the scenario says. */
	write_file("/proc/sys/vm/dirty_writeback_centisecs", "0");

	out("@@ T modules %.2f", uptime());
	dev_t dev = setup_devices();
	(void)dev;
	if (wants_nospc)
		setup_thin();
	char *mkfs[] = {"/sbin/mke2fs", "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-I", "256", "-b", "4096",
			"-E", "nodiscard,hash_seed=6f0a2c1e-5b7d-4e8f-9a1b-2c3d4e5f6a7b", "-U", "0b6a4a8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "/dev/errseq-dm", NULL};
	if (run_prog(mkfs) != 0) {
		errno = EIO;
		die("mke2fs");
	}
	mkdir_p("/upper");
	out("@@ T mkfs %.2f", uptime());
	if (mount("/dev/errseq-dm", "/upper", "ext4", MS_NOATIME, "noinit_itable") < 0)
		die("mount upper");
	/* Every warning goes to the log: the run is checked against it. */
	int rl = open("/sys/fs/ext4/dm-0/warning_ratelimit_interval_ms", O_WRONLY);
	if (rl >= 0) {
		ssize_t w = write(rl, "0", 1);
		(void)w;
		close(rl);
	}
	/* The evidence for `evict`: ext4's own trace event. */
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0) {
		int fd = open("/sys/kernel/tracing/events/ext4/ext4_evict_inode/enable", O_WRONLY);
		if (fd >= 0 && write(fd, "1", 1) == 1)
			tracing = 1;
		if (fd >= 0)
			close(fd);
	}
	mkdir_p("/tmp/lower");
	for (int c = 1; c <= ncont; c++) {
		char p[128];
		snprintf(p, sizeof p, "/upper/ovl%d/upper", c);
		mkdir_p(p);
		snprintf(p, sizeof p, "/upper/ovl%d/work", c);
		mkdir_p(p);
		snprintf(p, sizeof p, "/mnt/ovl%d", c);
		mkdir_p(p);
		create_file(c);
	}
	create_file(0); /* the host's file always exists (docs/model.md §1) */
	sync();         /* blocks allocated, every page clean */
}

int main(void)
{
	struct utsname u;
	mkdir("/proc", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	uname(&u);
	out("@@ KVER %s %.2f", u.release, uptime());
	if (access("/race.txt", R_OK) == 0)
		race_main(); /* race.c: a race program instead of a scenario */
	read_scenario();
	scan_targets();
	setup();
	drain_kmsg(); /* setup's messages, under event -1 */
	out("@@ BEGIN %d %.2f", nlines, uptime());
	for (int i = 0; i < nlines; i++) {
		cur_event = i;
		run_event(lines[i]);
		drain_kmsg();
	}
	cur_event = nlines;
	for (int i = 0; i < nfd; i++)
		if (fd_of[i] >= 0)
			close(fd_of[i]);
	drain_kmsg();
	poweroff();
	return 0;
}
