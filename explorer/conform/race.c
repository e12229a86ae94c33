/*
 * Race mode of the conformance driver, in the manner of klitmus7: one boot runs a race
 * program many times over and counts its outcomes.
 *
 * /race.txt (written by explorer/conform/races.py):
 *   iterations N        how many times the program runs
 *   delay D             each racing thread first spins a random 0..D rounds (0: none)
 *   busy B              B more threads spin on the CPUs while the racing threads run
 *   flushers F          F more threads fsync the block device over and over meanwhile
 *                       (a cache flush always in flight: racing calls that flush wait
 *                       together and wake together; the bdev's errseq_t is its own)
 *   seed S              the random delays' seed
 *   setup EVENT         the setup, scenario-language events (docs/model.md §2) in order
 *   thread K CALL       thread K's calls in order: write FD, fsync FD, syncfs FD, sync
 *
 * Each iteration runs the setup sequentially (fresh fds, a new dirty page, a new injected
 * writeback error), then releases the racing threads, each pinned to its own CPU, from a
 * spin barrier; the outcome is every call's result, thread by thread.  An iteration is
 * counted only if it was faithful:
 *   - each wberror of the setup logged the failure of its target's data (ext4's
 *     "I/O error <status> writing to inode <ino>") and no other failed write was logged
 *     anywhere in the iteration;
 *   - a control fd, opened on the same file just before each wberror (an open only
 *     samples the errseq_t's), gets an error from fsync and from syncfs after the
 *     threads: the error reached the inode's wb_err and the superblock's s_wb_err;
 *   - every setup event returned what it returned in the first counted iteration.
 * Then the world is put back: fds closed, overlays unmounted, every file fsynced and
 * syncfs'd through a fresh fd (every page clean, every errseq_t 0 or SEEN, which samples
 * and compares like the 0 of a fresh world), no file counted as cached.
 *
 * Output (after driver.c's `@@ KVER`):
 *   @@ RACE iterations=N threads=T cpus=C busy=B flushers=F delay=D
 *   @@ BOOT <kernel log line>        the preemption model, the CPUs brought up
 *   @@ CLOCK start|end <clocksource> the kernel's clock before and after the iterations
 *   @@ S <i> <result>                setup event i's result in every counted iteration
 *   @@ H <count> <r>,<r>,... overlap=<n> gaps=<a>,<b>,<c>,<d>,<e>
 *                                    one line per distinct outcome (every call's result,
 *                                    thread 1's calls first); of its iterations, how many
 *                                    had every thread inside its calls at one instant, and
 *                                    how far apart the threads' last calls ended: under
 *                                    1 us, 10 us, 100 us, 1 ms, and more
 *   @@ X <iteration> <reason>        the first excluded iterations, and why
 *   @@ XC <reason> <count>           excluded iterations per kind of reason
 *   @@ M <iterations>                iterations whose threads left the barrier without
 *                                    having been seen running together (see meet())
 *   @@ P <iteration> <uptime>        progress
 *   @@ RT <seconds>                  the iterations' guest time
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"

#define MAXT 8       /* racing threads */
#define MAXCALLS 8   /* calls per thread */
#define MAXSETUP 64  /* setup events */
#define MAXOUT 64    /* distinct outcomes */
#define MAXX 20      /* excluded iterations shown one by one */
#define NGAPS 5

enum verb { V_WRITE, V_FSYNC, V_SYNCFS, V_SYNC };

struct call {
	enum verb verb;
	char fd[64];
	int fdnum;
};

struct racer {
	int ncalls;
	struct call calls[MAXCALLS];
	int err[MAXCALLS];
	double t0, t1; /* first call's start, last call's end */
	int cpu;
	uint64_t rng;
	char buf[FILESZ];
};

struct outcome {
	char key[512];
	long count, overlap, gaps[NGAPS];
};

struct ctl {
	int fd, target;
};

static struct racer thr[MAXT];
static int nthr, nbusy, nflush, ncpus;
static long iterations = 1;
static unsigned long delay_max;
static unsigned long seed = 1;
static char setup_lines[MAXSETUP][256];
static int nsetup;
static char ref_res[MAXSETUP][128]; /* setup results of the first counted iteration */
static int have_ref;
static struct outcome outs[MAXOUT];
static int nouts;
static atomic_int gen, arrived, finished, busy_on, go;
static atomic_ulong beat[MAXT];
static atomic_long gave_up; /* iterations whose threads left without being seen together */

/* ---------- reading /race.txt ---------- */

static void bad(const char *what, const char *line)
{
	out("@@ BAD race.txt: %s: %s", what, line);
	poweroff();
}

static void add_call(int k, const char *text)
{
	char verb[64] = "", fd[64] = "";
	sscanf(text, "%63s %63s", verb, fd);
	if (k < 1 || k > MAXT)
		bad("thread number out of range", text);
	struct racer *t = &thr[k - 1];
	if (t->ncalls >= MAXCALLS)
		bad("too many calls in one thread", text);
	struct call *c = &t->calls[t->ncalls++];
	if (!strcmp(verb, "write"))
		c->verb = V_WRITE;
	else if (!strcmp(verb, "fsync"))
		c->verb = V_FSYNC;
	else if (!strcmp(verb, "syncfs"))
		c->verb = V_SYNCFS;
	else if (!strcmp(verb, "sync"))
		c->verb = V_SYNC;
	else
		bad("a thread's call is write, fsync, syncfs or sync", text);
	snprintf(c->fd, sizeof c->fd, "%s", fd);
	if (k > nthr)
		nthr = k;
}

static void read_race(void)
{
	FILE *f = fopen("/race.txt", "r");
	if (!f)
		die("/race.txt");
	char l[320];
	while (fgets(l, sizeof l, f)) {
		char *h = strchr(l, '#');
		if (h)
			*h = 0;
		l[strcspn(l, "\n")] = 0;
		char key[32] = "";
		int off = 0;
		if (sscanf(l, "%31s %n", key, &off) < 1)
			continue;
		char *rest = l + off;
		if (!strcmp(key, "iterations"))
			iterations = atol(rest);
		else if (!strcmp(key, "delay"))
			delay_max = strtoul(rest, NULL, 10);
		else if (!strcmp(key, "busy"))
			nbusy = atoi(rest);
		else if (!strcmp(key, "flushers"))
			nflush = atoi(rest);
		else if (!strcmp(key, "seed"))
			seed = strtoul(rest, NULL, 10);
		else if (!strcmp(key, "setup") && nsetup < MAXSETUP && nlines < MAXEV) {
			snprintf(setup_lines[nsetup++], sizeof setup_lines[0], "%s", rest);
			snprintf(lines[nlines++], sizeof lines[0], "%s", rest);
		} else if (!strcmp(key, "thread") && nlines < MAXEV) {
			int k = 0, o2 = 0;
			if (sscanf(rest, "%d %n", &k, &o2) < 1)
				bad("thread needs a number", l);
			add_call(k, rest + o2);
			snprintf(lines[nlines++], sizeof lines[0], "%s", rest + o2);
		} else
			bad("unknown line", l);
	}
	fclose(f);
	for (int k = 0; k < nthr; k++)
		if (!thr[k].ncalls)
			bad("a thread without calls", "");
	if (nthr < 2 || iterations < 1 || nbusy < 0 || nbusy > MAXT || nflush < 0 || nflush > MAXT)
		bad("needs two or more threads, one or more iterations, at most 8 helpers", "");
}

/* ---------- threads ---------- */

static void futex_wait(atomic_int *a, int val)
{
	syscall(SYS_futex, (int *)a, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(atomic_int *a)
{
	syscall(SYS_futex, (int *)a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* A spin loop's pause, but not the PAUSE instruction: QEMU's TCG turns that into an exit
 * to its CPU loop (target/i386/tcg/misc_helper.c, helper_pause: "Just let another CPU
 * run"), which takes QEMU's big lock, so two vCPUs spinning with it take turns instead
 * of running together. */
static inline void cpu_relax(void)
{
	__asm__ volatile("" ::: "memory");
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof s, &s) < 0)
		die("sched_setaffinity");
}

static uint64_t next_rnd(struct racer *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

static int do_call(struct racer *t, const struct call *c)
{
	int r = 0;
	switch (c->verb) {
	case V_WRITE: {
		ssize_t n = pwrite(c->fdnum, t->buf, FILESZ, 0);
		if (n >= 0 && n != FILESZ)
			return EFBIG; /* a short write: no result of the model */
		r = n < 0 ? -1 : 0;
		break;
	}
	case V_FSYNC:
		r = fsync(c->fdnum);
		break;
	case V_SYNCFS:
		r = syncfs(c->fdnum);
		break;
	case V_SYNC:
		sync();
		break;
	}
	return r < 0 ? errno : 0;
}

/*
 * Leave together, and only while every racing thread is really running: a vCPU is a host
 * thread that the host may hold off its CPU for milliseconds, and a thread whose vCPU is
 * held cannot race.  Each thread bumps its heartbeat and watches the others'; a
 * heartbeat that stands still for MEET_STILL checks starts its count again.  The first
 * thread to see every other heartbeat move MEET_MOVES times says go (after
 * MEET_GIVE_UP_S it says go anyway, and that iteration is counted as unmet).
 */
#define MEET_MOVES 32
#define MEET_STILL 64
#define MEET_GIVE_UP_S 0.01

static void meet(int self)
{
	unsigned long last[MAXT];
	int moved[MAXT] = {0}, still[MAXT] = {0};
	for (int k = 0; k < nthr; k++)
		last[k] = atomic_load(&beat[k]);
	double give_up = now() + MEET_GIVE_UP_S;
	for (unsigned long i = 0; !atomic_load(&go); i++) {
		atomic_fetch_add(&beat[self], 1);
		int all = 1;
		for (int k = 0; k < nthr; k++) {
			if (k == self)
				continue;
			unsigned long b = atomic_load(&beat[k]);
			if (b != last[k]) {
				moved[k]++;
				still[k] = 0;
			} else if (++still[k] > MEET_STILL) {
				moved[k] = still[k] = 0;
			}
			last[k] = b;
			all &= moved[k] >= MEET_MOVES;
		}
		if (all)
			atomic_store(&go, 1);
		else if ((i & 255) == 255 && now() > give_up && !atomic_exchange(&go, 1))
			atomic_fetch_add(&gave_up, 1);
		cpu_relax();
	}
}

/* A racing thread: wait for an iteration, meet the others at a spin barrier (each is on
 * its own CPU), leave with them, wait its random delay, make its calls. */
static void *racer_main(void *arg)
{
	struct racer *t = arg;
	pin(t->cpu);
	int seen = 0;
	for (;;) {
		int g;
		while ((g = atomic_load(&gen)) == seen)
			futex_wait(&gen, seen);
		seen = g;
		atomic_fetch_add(&arrived, 1);
		while (atomic_load(&arrived) < nthr)
			cpu_relax();
		meet((int)(t - thr));
		unsigned long d = delay_max ? next_rnd(t) % (delay_max + 1) : 0;
		for (unsigned long i = 0; i < d; i++)
			cpu_relax();
		t->t0 = now();
		for (int c = 0; c < t->ncalls; c++)
			t->err[c] = do_call(t, &t->calls[c]);
		t->t1 = now();
		if (atomic_fetch_add(&finished, 1) + 1 == nthr)
			futex_wake(&finished);
	}
	return NULL;
}

/* A helper: while the racing threads run, spins on its CPU (bdev < 0) or fsyncs the
 * block device over and over. */
struct helper {
	int cpu, bdev;
};

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	pin(h->cpu);
	for (;;) {
		while (!atomic_load(&busy_on))
			futex_wait(&busy_on, 0);
		while (atomic_load(&busy_on))
			if (h->bdev < 0)
				cpu_relax();
			else
				(void)!fsync(h->bdev);
	}
	return NULL;
}

static void start_threads(void)
{
	pthread_t tid;
	for (int k = 0; k < nthr; k++) {
		thr[k].cpu = k % ncpus;
		thr[k].rng = (seed + 1) * 0x9E3779B97F4A7C15ull + (uint64_t)k * 0xBF58476D1CE4E5B9ull;
		if (!thr[k].rng)
			thr[k].rng = 1;
		memset(thr[k].buf, 'r' + k, FILESZ);
		if (pthread_create(&tid, NULL, racer_main, &thr[k]))
			die("pthread_create");
	}
	static struct helper helpers[2 * MAXT];
	for (int j = 0; j < nbusy + nflush; j++) {
		helpers[j].cpu = (nthr + j) % ncpus;
		helpers[j].bdev = j < nbusy ? -1 : open("/dev/errseq-dm", O_RDONLY);
		if (j >= nbusy && helpers[j].bdev < 0)
			die("/dev/errseq-dm");
		if (pthread_create(&tid, NULL, helper_main, &helpers[j]))
			die("pthread_create");
	}
}

static void race_once(void)
{
	atomic_store(&arrived, 0);
	atomic_store(&finished, 0);
	atomic_store(&go, 0);
	if (nbusy + nflush) {
		atomic_store(&busy_on, 1);
		futex_wake(&busy_on);
	}
	atomic_fetch_add(&gen, 1);
	futex_wake(&gen);
	int f;
	while ((f = atomic_load(&finished)) < nthr)
		futex_wait(&finished, f);
	atomic_store(&busy_on, 0);
}

/* ---------- faithfulness ---------- */

static int in_spans(const struct wb_target *w, uint64_t sector)
{
	for (int i = 0; w && i < w->nspans; i++)
		if (w->span[i][0] <= sector && sector < w->span[i][1])
			return 1;
	return 0;
}

/* Read the kernel log since the last call.  Returns how many lines report the failure
 * of `w`'s data (w may be NULL), or -1 if another write failed (then `why` says which). */
static int klog_check(const struct wb_target *w, char *why, size_t wn)
{
	static const char *suspect[] = {
		"EXT4-fs error", "lost page write", "lost async page write",
		"Remounting filesystem read-only", "I/O error", "error writing",
		"journal", "blk_update_request",
	};
	char msg[1024];
	int hits = 0, foreign = 0;
	while (kmsg_next(msg, sizeof msg)) {
		int sus = 0;
		for (size_t i = 0; i < sizeof suspect / sizeof *suspect; i++)
			if (strcasestr(msg, suspect[i]))
				sus = 1;
		if (!sus)
			continue;
		const char *p;
		int status;
		unsigned long ino;
		unsigned long long at;
		if ((p = strstr(msg, "I/O error ")) &&
		    sscanf(p, "I/O error %d writing to inode %lu", &status, &ino) == 2 && w &&
		    ino == w->ino && status == (w->nospc ? 3 : 10)) {
			hits++; /* BLK_STS_NOSPC or BLK_STS_IOERR, as injected */
			continue;
		}
		if ((p = strstr(msg, "Buffer I/O error on dev")) && (p = strstr(p, "logical block ")) &&
		    sscanf(p, "logical block %llu", &at) == 1 && in_spans(w, at * 8))
			continue; /* 4096-byte blocks: 8 sectors each */
		if ((p = strstr(msg, "I/O error, dev ")) && strstr(p, "op 0x1:(WRITE)") &&
		    (p = strstr(p, "sector ")) && sscanf(p, "sector %llu", &at) == 1 &&
		    in_spans(w, at))
			continue;
		if (!foreign)
			snprintf(why, wn, "a write other than the target's data failed: %.400s", msg);
		foreign = 1;
	}
	return foreign ? -1 : hits;
}

static int open_ctl(struct ctl *ctl, int *nctl, int target)
{
	char p[256];
	if (*nctl >= MAXSETUP)
		return 0;
	upper_path(target, p, sizeof p);
	ctl[*nctl].fd = open(p, O_RDONLY);
	ctl[*nctl].target = target;
	return ctl[(*nctl)++].fd >= 0;
}

/* The setup, event by event, with its checks; 0 and `why` if the iteration is not
 * faithful. */
static int run_setup(struct ctl *ctl, int *nctl, char res[][128], char *why, size_t wn)
{
	for (int i = 0; i < nsetup; i++) {
		char w[4][64] = {{0}};
		sscanf(setup_lines[i], "%63s %63s %63s %63s", w[0], w[1], w[2], w[3]);
		int wb = !strcmp(w[0], "wberror");
		if (wb && !open_ctl(ctl, nctl, target_of(w[1]))) {
			snprintf(why, wn, "setup %d: cannot open the control fd", i);
			return 0;
		}
		if (!strcmp(w[0], "evict")) /* an evict needs the file without fds */
			for (int c = 0; c < *nctl; c++)
				if (ctl[c].target == target_of(w[1]) && ctl[c].fd >= 0) {
					close(ctl[c].fd);
					ctl[c].fd = -1;
				}
		cur_event = i;
		run_event(setup_lines[i]);
		snprintf(res[i], sizeof res[i], "%s", last_result);
		int hits = klog_check(wb ? &last_wb : NULL, why, wn);
		if (hits < 0)
			return 0;
		if (wb && hits == 0) {
			snprintf(why, wn, "setup %d (%.200s): no failed write of its data was logged", i,
				 setup_lines[i]);
			return 0;
		}
		if (strstr(last_result, "still-cached") || strstr(last_result, "unverified")) {
			snprintf(why, wn, "setup %d (%.200s): the evict was not verified", i,
				 setup_lines[i]);
			return 0;
		}
	}
	return 1;
}

static int resolve_fds(char *why, size_t wn)
{
	for (int k = 0; k < nthr; k++)
		for (int c = 0; c < thr[k].ncalls; c++) {
			struct call *cl = &thr[k].calls[c];
			if (cl->verb == V_SYNC)
				continue;
			int i = find_fd(cl->fd);
			cl->fdnum = i < 0 ? -1 : fd_of[i];
			if (cl->fdnum < 0) {
				snprintf(why, wn, "thread %d: %s is not open after the setup", k + 1,
					 cl->fd);
				return 0;
			}
		}
	return 1;
}

/* After the threads: every control fd must get an error from fsync and from syncfs. */
static int check_ctl(const struct ctl *ctl, int nctl, char *why, size_t wn)
{
	for (int c = 0; c < nctl; c++) {
		if (ctl[c].fd < 0)
			continue;
		int a = fsync(ctl[c].fd) < 0 ? errno : 0;
		int b = syncfs(ctl[c].fd) < 0 ? errno : 0;
		if (!a || !b) {
			snprintf(why, wn, "control fd of wberror %d: fsync %s, syncfs %s: the error "
				 "was not recorded", c, errname(a), errname(b));
			return 0;
		}
	}
	return 1;
}

/* Put the world back (see the top of this file).  0 and `why` if that failed. */
static int restore(struct ctl *ctl, int nctl, char *why, size_t wn)
{
	for (int c = 0; c < nctl; c++)
		if (ctl[c].fd >= 0)
			close(ctl[c].fd);
	for (int i = 0; i < nfd; i++)
		if (fd_of[i] >= 0)
			close(fd_of[i]);
	nfd = 0;
	for (int c = ncont; c >= 1; c--) {
		if (!mounted[c])
			continue;
		char mnt[64];
		snprintf(mnt, sizeof mnt, "/mnt/ovl%d", c);
		if (umount2(mnt, 0) < 0)
			die("umount after an iteration");
		mounted[c] = 0;
		clear_volatile_marker(c);
	}
	for (int t = 0; t <= ncont; t++) {
		char p[256];
		upper_path(t, p, sizeof p);
		int fd = open(p, O_RDONLY);
		if (fd < 0)
			die("reopen after an iteration");
		(void)!fsync(fd); /* an unseen error returns EIO here: that is the point */
		(void)!syncfs(fd);
		close(fd);
		cached[t] = 0;
	}
	return klog_check(NULL, why, wn) >= 0;
}

/* ---------- the histogram ---------- */

static void tally(void)
{
	char key[512] = "";
	for (int k = 0; k < nthr; k++)
		for (int c = 0; c < thr[k].ncalls; c++) {
			size_t l = strlen(key);
			snprintf(key + l, sizeof key - l, "%s%s", l ? "," : "", errname(thr[k].err[c]));
		}
	double lo0 = thr[0].t0, hi0 = thr[0].t0, lo1 = thr[0].t1, hi1 = thr[0].t1;
	for (int k = 1; k < nthr; k++) {
		lo0 = thr[k].t0 < lo0 ? thr[k].t0 : lo0;
		hi0 = thr[k].t0 > hi0 ? thr[k].t0 : hi0;
		lo1 = thr[k].t1 < lo1 ? thr[k].t1 : lo1;
		hi1 = thr[k].t1 > hi1 ? thr[k].t1 : hi1;
	}
	(void)lo0;
	double gap = (hi1 - lo1) * 1e6;
	int g = gap < 1 ? 0 : gap < 10 ? 1 : gap < 100 ? 2 : gap < 1000 ? 3 : 4;
	int i;
	for (i = 0; i < nouts && strcmp(outs[i].key, key); i++)
		;
	if (i == nouts) {
		if (nouts == MAXOUT) {
			out("@@ BAD more than %d distinct outcomes", MAXOUT);
			poweroff();
		}
		snprintf(outs[nouts++].key, sizeof outs[0].key, "%s", key);
	}
	outs[i].count++;
	outs[i].overlap += hi0 < lo1;
	outs[i].gaps[g]++;
}

/* One iteration; 1 if it was counted, else 0 and `why`. */
static int iteration(char *why, size_t wn)
{
	struct ctl ctl[MAXSETUP];
	int nctl = 0;
	char res[MAXSETUP][128];
	int ok = run_setup(ctl, &nctl, res, why, wn) && resolve_fds(why, wn);
	if (ok) {
		cur_event = nsetup;
		race_once();
		ok = klog_check(NULL, why, wn) >= 0 && check_ctl(ctl, nctl, why, wn);
	}
	if (!restore(ctl, nctl, why, wn) && ok)
		ok = 0;
	if (!ok)
		return 0;
	for (int i = 0; i < nsetup && have_ref; i++)
		if (strcmp(res[i], ref_res[i])) {
			snprintf(why, wn, "setup %d (%.200s) returned %.100s, not %.100s as before", i,
				 setup_lines[i], res[i], ref_res[i]);
			return 0;
		}
	if (!have_ref) {
		memcpy(ref_res, res, sizeof ref_res);
		have_ref = 1;
	}
	tally();
	return 1;
}

/* The clock the kernel reads: tsc is read in place; hpet or acpi_pm (after the
 * watchdog found the TSC unstable) is a device, each read an exit to QEMU. */
static void clocksource(const char *when)
{
	char cs[64] = "?";
	int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, cs, sizeof cs - 1) : -1;
	if (n > 0) {
		cs[n] = 0;
		cs[strcspn(cs, "\n")] = 0;
	}
	if (fd >= 0)
		close(fd);
	out("@@ CLOCK %s %s", when, cs);
}

/* The kernel's own words on what this race runs on: preemption model, CPUs. */
static void boot_facts(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	char rec[2048];
	ssize_t n;
	while (fd >= 0 && ((n = read(fd, rec, sizeof rec - 1)) > 0 || (n < 0 && errno == EPIPE))) {
		if (n < 0)
			continue;
		rec[n] = 0;
		char *m = strchr(rec, ';');
		m = m ? m + 1 : rec;
		m[strcspn(m, "\n")] = 0;
		if (strstr(m, "Dynamic Preempt") || strstr(m, "smp: Brought up"))
			out("@@ BOOT %s", m);
	}
	if (fd >= 0)
		close(fd);
	clocksource("start");
}

/* Why an excluded iteration was excluded, in a word (for the per-reason counts). */
static const char *kind(const char *why)
{
	if (strstr(why, "no failed write"))
		return "not-injected";
	if (strstr(why, "not recorded"))
		return "not-recorded";
	if (strstr(why, "other than the target"))
		return "foreign-failure";
	if (strstr(why, "returned"))
		return "setup-differs";
	return "other";
}

void race_main(void)
{
	read_race();
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus < 1)
		ncpus = 1;
	scan_targets();
	setup();
	boot_facts();
	char why[1024], msg[1024];
	while (kmsg_next(msg, sizeof msg)) /* setup's own (mke2fs probing the loop device) */
		;
	out("@@ RACE iterations=%ld threads=%d cpus=%d busy=%d flushers=%d delay=%lu", iterations,
	    nthr, ncpus, nbusy, nflush, delay_max);
	quiet = 1;
	start_threads();
	const char *kinds[] = {"not-injected", "not-recorded", "foreign-failure", "setup-differs",
			       "other"};
	long xcount[5] = {0}, shown = 0;
	double t0 = uptime();
	for (long k = 0; k < iterations; k++) {
		why[0] = 0;
		if (!iteration(why, sizeof why)) {
			const char *kd = kind(why);
			for (int i = 0; i < 5; i++)
				xcount[i] += !strcmp(kd, kinds[i]);
			if (shown++ < MAXX)
				out("@@ X %ld %s", k, why);
		}
		if ((k + 1) % 100 == 0)
			out("@@ P %ld %.2f", k + 1, uptime());
	}
	double rt = uptime() - t0;
	for (int i = 0; i < nsetup && have_ref; i++)
		out("@@ S %d %s", i, ref_res[i]);
	for (int i = 0; i < nouts; i++)
		out("@@ H %ld %s overlap=%ld gaps=%ld,%ld,%ld,%ld,%ld", outs[i].count, outs[i].key,
		    outs[i].overlap, outs[i].gaps[0], outs[i].gaps[1], outs[i].gaps[2],
		    outs[i].gaps[3], outs[i].gaps[4]);
	for (int i = 0; i < 5; i++)
		if (xcount[i])
			out("@@ XC %s %ld", kinds[i], xcount[i]);
	clocksource("end");
	out("@@ M %ld", atomic_load(&gave_up));
	out("@@ RT %.2f", rt);
	poweroff();
}
