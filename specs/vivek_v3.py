"""vivek-v3: overlay fds take their syncfs cursor straight from the upper sb.

Vivek Goyal, "[RFC PATCH 0/3][v3] vfs, overlayfs: Fix syncfs() to return correct
errors", 20201221195055.35295-1-vgoyal@redhat.com; 3/3 "overlayfs: Report writeback
errors on upper" is the seed's thread.

- mount: nothing.
- open (regular file): f_sb_err = errseq_sample(&upper->s_wb_err), overriding the
  VFS sample of the overlay sb.
- syncfs: sync_filesystem(ovl sb) syncs upper (not volatile); then, through the new
  s_op->errseq_check_advance: a lockless errseq_check(&upper->s_wb_err, f->f_sb_err)
  and on a change errseq_check_and_advance(&upper->s_wb_err, &f->f_sb_err) under
  f->f_lock.
Written against v5.10: volatile fsync returns 0, volatile mounts never refused.
"""

from explorer.domain.world import File, OvlFs, World
from specs.v5_10 import V5_10


class VivekV3(V5_10):
    name = "vivek-v3"
    summary = "passthrough: overlay fds sample and advance the upper sb"
    sources = ("20201221195055.35295-1-vgoyal@redhat.com",)

    def ovl_open(self, w: World, ofs: OvlFs, f: File) -> None:
        f.f_wb_err = self.errseq.sample(w.inode(f.ino).wb_err)
        f.f_sb_err = self.errseq.sample(w.sb.s_wb_err)

    def sys_syncfs(self, w: World, ofs: OvlFs, f: File) -> int:
        es = self.errseq
        self.ovl_sync_upper(w, ofs)
        # ovl_errseq_check_advance(): lockless errseq_check, then f_lock.
        if not es.check(w.sb.s_wb_err, f.f_sb_err):
            return 0
        w.spin_lock(f)
        ret = es.check_and_advance(w.sb.s_wb_err, f.f_sb_err)
        w.spin_unlock(f)
        return ret
