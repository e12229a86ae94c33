/*
 * errseq.pml: the errseq-explorer world (docs/model.md sections 1-4) in Promela, for the
 * `plain` and `mainline` specs, with the open-before (syncfs) guarantee as an
 * assertion.  It mirrors explorer/world.py, explorer/spec.py, specs/plain.py,
 * specs/mainline.py (via v5_11.py, v5_10.py) and explorer/guarantees.py:OpenBefore.
 *
 * Parameters (spin -D...; all have defaults):
 *   M        containers (1..4)                     default 2
 *   F        fds per container (1..3)              default 2
 *   HF       host fds (0..3)                       default 0
 *   D        steps: every run has at most D events default 8
 *   SPEC     0 = plain, 1 = mainline               default 0
 *   OPTS     mount options: 1 normal, 2 volatile, 3 both   default 3
 *   MONITOR  1 = carry the open-before duty bits and assert; 0 = world only
 *   STEPS    1 = a step counter in the state bounds runs to D; 0 = no counter, the
 *            bound is pan -mD with -DBFS (used to count distinct worlds)
 *
 * Build:  spin -o2 -DM=2 -DD=8 -DSPEC=1 -a errseq.pml
 *         gcc -O2 -DNOREDUCE -DSAFETY [-DBFS] -o pan pan.c && ./pan -m100
 * (-o2 keeps variables Spin's data-flow analysis would call dead, so that the state
 * vector holds the whole world; runs/compares are driven by run.py next to this file.)
 *
 * The state is the Python tuple, field by field: upper.s_wb_err; per file (ovl1..ovlN,
 * host) wb_err, dirty, cached; per container mounted (0, 1 normal, 2 volatile),
 * s_wb_err, errseq; per fd slot (container fds first, F per container, then host fds)
 * open, f_wb_err, f_sb_err.  On top of it: `steps` (the bound) and, with MONITOR, one
 * duty bit per fd slot.  Each event is one d_step (one transition, no intermediate
 * state), guarded by exactly the enabling rule of world.enabled(); temporaries are
 * `hidden` so they never enter the state vector.  The process is a single loop, so
 * the program counter is the same in every stored state.
 */

#ifndef M
#define M 2
#endif
#ifndef F
#define F 2
#endif
#ifndef HF
#define HF 0
#endif
#ifndef D
#define D 8
#endif
#ifndef SPEC
#define SPEC 0
#endif
#ifndef OPTS
#define OPTS 3
#endif
#ifndef MONITOR
#define MONITOR 1
#endif
#ifndef STEPS
#define STEPS 1
#endif

#if M < 1 || M > 4 || F < 1 || F > 3 || HF < 0 || HF > 3 || D > 250
#error "bounds out of range: M 1..4, F 1..3, HF 0..3, D <= 250"
#endif

#define NF (M + 1)          /* files: one per container, then the host's */
#define NS (M * F + HF)     /* fd slots */

/* errseq_t, classic layout (explorer/errseq.py): errno bits 0-11, SEEN bit 12,
 * counter from bit 13.  Only EIO (5) is ever recorded. */
#define ERRNO_MASK 4095
#define SEEN 4096
#define CTR_INC 8192
#define EIO 5
#define SAMPLE(v) (((v) & SEEN) -> (v) : 0)
#define CHECK(v, since) (((v) == (since)) -> 0 : ((v) & ERRNO_MASK))

/* --- the world ------------------------------------------------------------------ */
int sb;                     /* upper.s_wb_err */
int ino_err[NF];            /* inode wb_err */
bit ino_dirty[NF];
bit ino_cached[NF];
byte mnt[M];                /* 0 unmounted, 1 normal, 2 volatile */
int ovl_err[M];             /* overlay sb s_wb_err */
int ofs_errseq[M];          /* ofs->errseq */
bit fd_open[NS];
int f_wb[NS];
int f_sb[NS];

#if STEPS
byte steps;                 /* events so far: the run is bounded to D */
#define EV(guard, body) d_step { steps < D && (guard) -> steps++; body; ret = 0; st = 0; i = 0 }
#else
/* no counter: the bound is pan's own depth limit, -mD, in a BFS (pan -DBFS does not
 * expand a state at depth >= -m); the state vector is then the world alone */
#define EV(guard, body) d_step { (guard) -> body; ret = 0; st = 0; i = 0 }
#endif
#if MONITOR
int duty;                   /* open-before (syncfs): bit s = slot s owes an error */
#endif

/* temporaries, used only inside one d_step and zeroed at its end, so that they are
 * the same in every stored state (not `hidden`: pan -DBFS refuses hidden variables) */
byte ret;
byte st;
byte i;

inline errseq_set(v) {
	if
	:: (v & SEEN) -> v = ((v & ~(ERRNO_MASK | SEEN)) | EIO) + CTR_INC
	:: else -> v = (v & ~(ERRNO_MASK | SEEN)) | EIO
	fi
}

/* check_and_advance(v, &since): ret = errno or 0 */
inline check_and_advance(v, since) {
	if
	:: v != since -> v = v | SEEN; since = v; ret = v & ERRNO_MASK
	:: else -> ret = 0
	fi
}

inline writeback_all() {
	for (i : 0 .. NF - 1) { ino_dirty[i] = 0 }
}

/* --- enabling rules (explorer/world.py) ----------------------------------------- */
/* some open fd of container c holds its inode */
#define HOLDS(c) (fd_open[(c) * F] || (F > 1 && fd_open[(c) * F + 1]) || (F > 2 && fd_open[(c) * F + 2]))
#define HOST_HOLDS ((HF > 0 && fd_open[M * F]) || (HF > 1 && fd_open[M * F + 1]) || (HF > 2 && fd_open[M * F + 2]))
/* slot s (k-th of its owner, base the owner's first slot) is the lowest free one */
#define LOWEST(s, k) (!fd_open[s] && ((k) < 1 || fd_open[(s) - 1]) && ((k) < 2 || fd_open[(s) - 2]))

/* --- events ------------------------------------------------------------------------ */
inline do_mount(c, mode) {
	mnt[c] = mode;
#if SPEC == 1
	/* mainline (v5.11 ovl_fill_super): a volatile mount samples the upper errseq and
	 * is refused with EIO on an unseen upper error; refused = all three fields 0 */
	if
	:: mode == 2 ->
		ofs_errseq[c] = SAMPLE(sb);
		if
		:: CHECK(sb, ofs_errseq[c]) != 0 -> mnt[c] = 0; ovl_err[c] = 0; ofs_errseq[c] = 0
		:: else -> skip
		fi
	:: else -> skip
	fi
#endif
}

/* umount: generic_shutdown_super -> sync_filesystem(ovl sb) -> ovl_sync_fs(sb, 1) syncs the
 * upper fs for a normal overlay (docs/conformance.md F1); plain containers are directories */
inline do_umount(c) {
#if SPEC == 1
	if
	:: mnt[c] == 1 -> writeback_all()
	:: else -> skip
	fi
#endif
	mnt[c] = 0; ovl_err[c] = 0; ofs_errseq[c] = 0
}

inline do_wberror(ino) {
	errseq_set(ino_err[ino]);
	errseq_set(sb);
	ino_dirty[ino] = 0;
#if MONITOR
	/* open fds whose syncfs must report it: the container's own, and every host fd */
	for (i : 0 .. NS - 1) {
		if
		:: fd_open[i] && (i >= M * F || i / F == ino) -> duty = duty | (1 << i)
		:: else -> skip
		fi
	}
#endif
}

/* the open-before (syncfs) duty of slot s ends with its next syncfs: was it kept? */
inline syncfs_duty(s) {
#if MONITOR
	assert(!(duty & (1 << s)) || ret != 0);
	duty = duty & ~(1 << s)
#else
	skip
#endif
}

inline vfs_fsync(s, ino) {
	ino_dirty[ino] = 0;
	check_and_advance(ino_err[ino], f_wb[s])
}

inline vfs_syncfs(s) {
	writeback_all();
	check_and_advance(sb, f_sb[s]);
	syncfs_duty(s)
}

inline do_close(s) {
	fd_open[s] = 0; f_wb[s] = 0; f_sb[s] = 0;
#if MONITOR
	duty = duty & ~(1 << s)
#endif
}

inline ovl_open(s, c) {
	fd_open[s] = 1;
	ino_cached[c] = 1;
	f_wb[s] = SAMPLE(ino_err[c]);
#if SPEC == 1
	f_sb[s] = SAMPLE(ovl_err[c])
#else
	f_sb[s] = SAMPLE(sb)
#endif
}

inline ovl_fsync(s, c) {
#if SPEC == 1
	/* v5.11 ovl_fsync: volatile returns errseq_check(upper, ofs->errseq), no sync */
	if
	:: mnt[c] == 2 -> ret = CHECK(sb, ofs_errseq[c])
	:: else -> vfs_fsync(s, c)
	fi
#else
	vfs_fsync(s, c)
#endif
}

inline ovl_syncfs(s, c) {
#if SPEC == 1
	/* mainline ovl_sync_fs, then the VFS check_and_advance on the overlay sb */
	if
	:: mnt[c] == 2 -> st = CHECK(sb, ofs_errseq[c])   /* volatile: never syncs */
	:: else -> writeback_all(); st = 0
	fi;
	check_and_advance(ovl_err[c], f_sb[s]);
	if
	:: st != 0 -> ret = EIO
	:: else -> skip
	fi;
	syncfs_duty(s)
#else
	vfs_syncfs(s)
#endif
}

#define CONTAINER(c) \
	:: EV((OPTS & 1) && mnt[c] == 0, do_mount(c, 1)) \
	:: EV((OPTS & 2) && mnt[c] == 0, do_mount(c, 2)) \
	:: EV(mnt[c] != 0 && !HOLDS(c), do_umount(c)) \
	:: EV(ino_dirty[c], do_wberror(c)) \
	:: EV(!ino_dirty[c] && ino_cached[c] && !HOLDS(c), ino_err[c] = 0; ino_cached[c] = 0)

/* container fd slot s, the k-th of container c */
#define CSLOT(s, c, k) \
	:: EV(mnt[c] != 0 && LOWEST(s, k), ovl_open(s, c)) \
	:: EV(fd_open[s], ino_dirty[c] = 1) \
	:: EV(fd_open[s], ovl_fsync(s, c)) \
	:: EV(fd_open[s], ovl_syncfs(s, c)) \
	:: EV(fd_open[s], do_close(s))

/* host fd slot s, the k-th host fd: plain VFS rules in every spec */
#define HSLOT(s, k) \
	:: EV(LOWEST(s, k), fd_open[s] = 1; ino_cached[M] = 1; f_wb[s] = SAMPLE(ino_err[M]); f_sb[s] = SAMPLE(sb)) \
	:: EV(fd_open[s], ino_dirty[M] = 1) \
	:: EV(fd_open[s], vfs_fsync(s, M)) \
	:: EV(fd_open[s], vfs_syncfs(s)) \
	:: EV(fd_open[s], do_close(s))

active proctype world()
{
end:
	do
	CONTAINER(0)
#if M > 1
	CONTAINER(1)
#endif
#if M > 2
	CONTAINER(2)
#endif
#if M > 3
	CONTAINER(3)
#endif
	CSLOT(0, 0, 0)
#if F > 1
	CSLOT(1, 0, 1)
#endif
#if F > 2
	CSLOT(2, 0, 2)
#endif
#if M > 1
	CSLOT(F, 1, 0)
#if F > 1
	CSLOT(F + 1, 1, 1)
#endif
#if F > 2
	CSLOT(F + 2, 1, 2)
#endif
#endif
#if M > 2
	CSLOT(2 * F, 2, 0)
#if F > 1
	CSLOT(2 * F + 1, 2, 1)
#endif
#if F > 2
	CSLOT(2 * F + 2, 2, 2)
#endif
#endif
#if M > 3
	CSLOT(3 * F, 3, 0)
#if F > 1
	CSLOT(3 * F + 1, 3, 1)
#endif
#if F > 2
	CSLOT(3 * F + 2, 3, 2)
#endif
#endif
#if HF > 0
	HSLOT(M * F, 0)
#endif
#if HF > 1
	HSLOT(M * F + 1, 1)
#endif
#if HF > 2
	HSLOT(M * F + 2, 2)
#endif
	/* the host's file: wberror and evict (needs a host fd to ever be cached/dirty) */
	:: EV(ino_dirty[M], do_wberror(M))
	:: EV(!ino_dirty[M] && ino_cached[M] && !HOST_HOLDS, ino_err[M] = 0; ino_cached[M] = 0)
	/* sync(2): always enabled */
	:: EV(true, writeback_all())
	od
}
