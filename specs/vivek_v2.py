"""vivek-v2: propagate upper errors through the overlay sb, used as a cursor.

Vivek Goyal, "[RFC PATCH 0/3] vfs, overlayfs: Fix syncfs() to return error",
20201216233149.39025-1-vgoyal@redhat.com (3/3 "overlayfs: Check writeback errors
w.r.t upper in ->syncfs()"), and the inline patch of 20201214230121.GB3453@redhat.com.

- mount: ovl_sb->s_wb_err = errseq_sample(&upper->s_wb_err).
- open: the VFS default, f_sb_err = errseq_sample(&ovl_sb->s_wb_err).
- syncfs (new f_op->syncfs): sync upper (not volatile); if
  errseq_check(&upper->s_wb_err, ovl_sb->s_wb_err) then, under a new
  ofs->errseq_lock, errseq_check_and_advance(&upper->s_wb_err, &ovl_sb->s_wb_err),
  which marks upper SEEN and copies its value into the overlay sb; finally
  errseq_check_and_advance(&ovl_sb->s_wb_err, &f->f_sb_err).
Written against v5.10: volatile fsync returns 0 without syncing, volatile mounts are
never refused (docs/model.md §4).
"""

from explorer.domain.world import File, OvlFs, World
from specs.v5_10 import V5_10


class VivekV2(V5_10):
    name = "vivek-v2"
    summary = "overlay sb samples upper at mount and advances on syncfs"
    sources = (
        "20201216233149.39025-1-vgoyal@redhat.com",
        "20201214230121.GB3453@redhat.com",
    )

    def ovl_fill_super(self, w: World, ofs: OvlFs) -> int:
        ofs.s_wb_err = self.errseq.sample(w.sb.s_wb_err)
        return 0

    def sys_syncfs(self, w: World, ofs: OvlFs, f: File) -> int:
        es = self.errseq
        self.ovl_sync_upper(w, ofs)
        if es.check(w.sb.s_wb_err, ofs.s_wb_err):
            w.spin_lock(ofs)  # ofs->errseq_lock
            es.check_and_advance(w.sb.s_wb_err, ofs.s_wb_err)
            w.spin_unlock(ofs)
        return es.check_and_advance(ofs.s_wb_err, f.f_sb_err)
