"""A spec isolated by construction: the control case of tests/test_isolation.py.

Each container keeps its own errseq (the overlay superblock's `s_wb_err`), set only
when writeback of its own file fails while it is mounted.  Its fds sample and advance
only that errseq (syncfs) and their own file's `wb_err` (fsync, the plain VFS rule;
no one outside the container can open that file).  Nothing outside a container can
set, sample or mark anything the container reads, so the c-view fixes every result.
"""

from explorer.domain.vfs import Spec
from explorer.domain.world import File, OvlFs, World


class Isolated(Spec):
    name = "isolated"
    summary = "every container reads only state it alone writes"
    overlay = True

    def mapping_set_error(self, w: World, ino: int, err: int) -> None:
        super().mapping_set_error(w, ino, err)
        if ino < w.bounds.mounts:
            ofs = w.ofs(ino)
            if ofs.mounted:
                self.errseq.set(ofs.s_wb_err, err)

    def ovl_open(self, w: World, ofs: OvlFs, f: File) -> None:
        f.f_wb_err = self.errseq.sample(w.inode(f.ino).wb_err)
        f.f_sb_err = self.errseq.sample(ofs.s_wb_err)

    def sys_syncfs(self, w: World, ofs: OvlFs, f: File) -> int:
        w.writeback_all()
        return self.errseq.check_and_advance(ofs.s_wb_err, f.f_sb_err)
