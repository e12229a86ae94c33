"""A spec whose host syncfs misses the containers' errors: a control case of open-before.

The upper superblock records only the host file's writeback errors; an error on a
container's file is recorded in its inode and, while the container is mounted, in
the overlay superblock (as in tests/isolated_spec.py), never in the upper one.  So a
host fd, whose filesystem is the whole upper fs, gets 0 from syncfs after an error on
a container's upper file: open-before-syncfs must fail for it.  The host's own file
and the containers' fds are served correctly, so that failure is the only one.
"""

from explorer.domain.vfs import Spec
from explorer.domain.world import File, OvlFs, World


class HostBlind(Spec):
    name = "host-blind"
    summary = "the upper sb records only the host file's errors"
    overlay = True

    def mapping_set_error(self, w: World, ino: int, err: int) -> None:
        inode = w.inode(ino)
        self.errseq.set(inode.wb_err, err)
        inode.dirty = 0
        if ino == w.bounds.host:
            self.errseq.set(w.sb.s_wb_err, err)
            return
        ofs = w.ofs(ino)
        if ofs.mounted:
            self.errseq.set(ofs.s_wb_err, err)

    def ovl_open(self, w: World, ofs: OvlFs, f: File) -> None:
        f.f_wb_err = self.errseq.sample(w.inode(f.ino).wb_err)
        f.f_sb_err = self.errseq.sample(ofs.s_wb_err)

    def sys_syncfs(self, w: World, ofs: OvlFs, f: File) -> int:
        w.writeback_all()
        return self.errseq.check_and_advance(ofs.s_wb_err, f.f_sb_err)
