"""v5.10: overlayfs before any writeback-error reporting from upper.

c86243b090bc "ovl: provide a mount option "volatile"" (Vivek Goyal, v5.10).
The overlay superblock's s_wb_err is never set, so syncfs(2) on an overlay fd syncs
the upper fs (non-volatile) but reports no upper writeback error.  fsync on a
non-volatile overlay passes through to the real upper file, whose f_wb_err was
sampled when the overlay file was opened.  A volatile overlay's fsync and syncfs
return 0 without syncing anything (ovl_should_sync() is false).

fs/overlayfs/super.c ovl_sync_fs() at v5.10:
    if (!ovl_should_sync(ofs)) return 0;  ...  ret = sync_filesystem(upper_sb);

This is also the base the Dec 2020 proposals were written against (vivek-v2,
vivek-v3, vivek-v3-seen, jeff-split: docs/model.md §4, "details the proposals leave open").
"""

from explorer.domain.vfs import Spec
from explorer.domain.world import File, OvlFs, World


class V5_10(Spec):
    name = "v5.10"
    summary = "no upper error reporting; volatile fsync/syncfs return 0"
    sources = ("c86243b090bc",)
    overlay = True

    def ovl_open(self, w: World, ofs: OvlFs, f: File) -> None:
        """ovl_open(): the real upper file samples the inode; the VFS samples the overlay sb."""
        f.f_wb_err = self.errseq.sample(w.inode(f.ino).wb_err)
        f.f_sb_err = self.errseq.sample(ofs.s_wb_err)

    def ovl_fsync(self, w: World, ofs: OvlFs, f: File) -> int:
        """ovl_fsync(): volatile skips the sync and returns 0; else the real file's fsync."""
        if ofs.volatile:
            return 0
        return self.ovl_real_fsync(w, f)

    def ovl_sync_fs(self, w: World, ofs: OvlFs) -> int:
        """ovl_sync_fs(): sync the upper fs unless volatile."""
        self.ovl_sync_upper(w, ofs)
        return 0

    def sys_syncfs(self, w: World, ofs: OvlFs, f: File) -> int:
        """syncfs(2): sync_filesystem(ovl sb), then check_and_advance on the overlay sb."""
        ret = self.ovl_sync_fs(w, ofs)
        ret2 = self.errseq.check_and_advance(ofs.s_wb_err, f.f_sb_err)
        return ret or ret2
