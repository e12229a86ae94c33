"""mainline-flock: mainline with Jeff Layton's f_lock for syncfs(2)'s cursor (unmerged).

"[PATCH] vfs: protect updates to file->f_sb_err with f_lock",
20201203191035.1162408-1-jlayton@kernel.org, sent again unchanged as
20201219134804.20034-1-jlayton@kernel.org and as "[PATCH][RESEND] vfs: serialize
updates to file->f_sb_err with f_lock", 20210104184347.90598-1-jlayton@kernel.org:
"We could have racing updates to that value if two tasks are issuing syncfs() on the
same fd at the same time, possibly causing an error to be reported twice or not at
all."  The patch changes syncfs(2) in fs/sync.c, for every filesystem:

    if (errseq_check(&sb->s_wb_err, f.file->f_sb_err)) {
            /* Something changed, must use slow path */
            spin_lock(&f.file->f_lock);
            ret2 = errseq_check_and_advance(&sb->s_wb_err, &f.file->f_sb_err);
            spin_unlock(&f.file->f_lock);
    }

so host fds (the upper sb) and overlay fds (the overlay sb, 6.12's syncfs(2)) both take
it.  Without races every result is mainline's: the lockless check only skips a
check-and-advance that would find nothing (docs/model.md §8).
"""

from explorer.domain.world import File, OvlFs, World
from specs.mainline import Mainline


class MainlineFlock(Mainline):
    name = "mainline-flock"
    summary = "mainline with Jeff Layton's f_lock around syncfs's cursor (unmerged)"
    sources = (
        "20201203191035.1162408-1-jlayton@kernel.org",
        "20201219134804.20034-1-jlayton@kernel.org",
        "20210104184347.90598-1-jlayton@kernel.org",
    )

    def vfs_syncfs(self, w: World, f: File) -> int:
        """syncfs(2) on a host fd: sync_filesystem(upper), then the patched tail."""
        w.writeback_all()
        return self.advance_f_sb_err(w, w.sb.s_wb_err, f)

    def sys_syncfs(self, w: World, ofs: OvlFs, f: File) -> int:
        """syncfs(2) on an overlay fd: sync_filesystem(ovl sb), then the patched tail."""
        ret = self.ovl_sync_fs(w, ofs)
        ret2 = self.advance_f_sb_err(w, ofs.s_wb_err, f)
        return ret or ret2

    def advance_f_sb_err(self, w: World, s_wb_err, f: File) -> int:
        """The patch: a lockless errseq_check (the cursor loaded without READ_ONCE),
        and only on a change the check-and-advance under f_lock."""
        es = self.errseq
        if not es.check(s_wb_err, f.f_sb_err):
            return 0
        w.spin_lock(f)
        ret2 = es.check_and_advance(s_wb_err, f.f_sb_err)
        w.spin_unlock(f)
        return ret2
