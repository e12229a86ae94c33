"""The Spec base: the plain VFS rules as hooks named after the kernel functions.

A kernel variant ("spec", MODEL.md §4) is a subclass in `specs/` that overrides the
overlay hooks (`ovl_fill_super`, `ovl_open`, `ovl_fsync`, `ovl_sync_fs`,
`ovl_syncfs`).  The base class *is* the `plain` spec: no overlay, each container a
directory on the upper fs, so every container fd follows the VFS rules that host fds
always follow:

    open:   f_wb_err = errseq_sample(&inode->i_mapping->wb_err)    (do_dentry_open)
            f_sb_err = errseq_sample(&sb->s_wb_err)
    fsync:  write back the file, then errseq_check_and_advance(wb_err, &f_wb_err)
    syncfs: sync_filesystem(sb), then errseq_check_and_advance(s_wb_err, &f_sb_err)
    writeback error: mapping_set_error() sets both the inode's and the sb's errseq

Hooks return 0 or a negative errno; `apply` turns an event into hook calls.
"""

from __future__ import annotations

from typing import ClassVar

from explorer.errseq import Classic, Flavour
from explorer.world import NORMAL, UNMOUNTED, VOLATILE, Event, File, OvlFs, World

EIO = -5


class Spec:
    """plain: containers are directories; mount and umount change nothing."""

    name: ClassVar[str] = "plain"
    #: one line for tables and --help
    summary: ClassVar[str] = "no overlay: containers are directories of the upper fs"
    #: the errseq_t flavour used for every errseq in the world
    errseq: ClassVar[Flavour] = Classic
    #: False only for plain, whose mounts are no-ops
    overlay: ClassVar[bool] = False

    # --- plain VFS (host fds always, container fds unless overridden) ---------------

    def vfs_open(self, w: World, f: File) -> None:
        """do_dentry_open(): sample the inode's and the superblock's errseq."""
        inode = w.inode(f.ino)
        inode.wb_err, f.f_wb_err = self.errseq.sample(inode.wb_err)
        w.sb.s_wb_err, f.f_sb_err = self.errseq.sample(w.sb.s_wb_err)

    def vfs_fsync(self, w: World, f: File) -> int:
        """file_write_and_wait_range() then file_check_and_advance_wb_err()."""
        inode = w.inode(f.ino)
        w.writeback(f.ino)
        inode.wb_err, f.f_wb_err, ret = self.errseq.check_and_advance(inode.wb_err, f.f_wb_err)
        return ret

    def vfs_syncfs(self, w: World, f: File) -> int:
        """syncfs(2): sync_filesystem(sb), then check_and_advance(&sb->s_wb_err, &f_sb_err)."""
        w.writeback_all()
        w.sb.s_wb_err, f.f_sb_err, ret = self.errseq.check_and_advance(w.sb.s_wb_err, f.f_sb_err)
        return ret

    def mapping_set_error(self, w: World, ino: int, err: int) -> None:
        """A failed writeback: errseq_set on the inode's mapping and on its superblock."""
        inode = w.inode(ino)
        inode.wb_err = self.errseq.set(inode.wb_err, err)
        w.sb.s_wb_err = self.errseq.set(w.sb.s_wb_err, err)
        inode.dirty = 0  # the failed page is marked clean; its data is gone

    # --- overlay hooks: plain treats a container as a directory ---------------------

    def ovl_fill_super(self, w: World, ofs: OvlFs) -> int:
        """mount: 0, or a negative errno to refuse it (the container stays unmounted)."""
        return 0

    def generic_shutdown_super(self, w: World, ofs: OvlFs) -> None:
        """umount: sync_filesystem(ovl sb) runs ovl_sync_fs(sb, 1), which syncs the upper
        fs unless volatile (fs/super.c; docs/conformance.md F1).  plain: a directory."""
        if self.overlay:
            self.ovl_sync_upper(w, ofs)

    def ovl_open(self, w: World, ofs: OvlFs, f: File) -> None:
        """open of the container's file through its overlay."""
        self.vfs_open(w, f)

    def ovl_fsync(self, w: World, ofs: OvlFs, f: File) -> int:
        """fsync on an overlay fd."""
        return self.vfs_fsync(w, f)

    def ovl_syncfs(self, w: World, ofs: OvlFs, f: File) -> int:
        """syncfs on an overlay fd (the whole syscall, VFS errseq check included)."""
        return self.vfs_syncfs(w, f)

    # --- helpers shared by the overlay specs -----------------------------------------

    def ovl_real_fsync(self, w: World, f: File) -> int:
        """Non-volatile overlay fsync: vfs_fsync on the real upper file (its own cursor)."""
        return self.vfs_fsync(w, f)

    def ovl_sync_upper(self, w: World, ofs: OvlFs) -> None:
        """sync_filesystem(upper) from ovl_sync_fs; a volatile overlay never syncs."""
        if not ofs.volatile:
            w.writeback_all()

    # --- the event dispatcher ---------------------------------------------------------

    def apply(self, w: World, ev: Event) -> int | None:
        """Perform an enabled event on `w`; return its result (None for environment events)."""
        verb = ev.verb
        b = w.bounds
        if verb == "mount":
            ofs = w.ofs(ev.arg)
            ofs.mounted = VOLATILE if ev.volatile else NORMAL
            ret = self.ovl_fill_super(w, ofs)
            if ret:
                w.clear(b.ofs_base(ev.arg))
            return ret
        if verb == "umount":
            self.generic_shutdown_super(w, w.ofs(ev.arg))
            w.clear(b.ofs_base(ev.arg))
            return 0
        if verb == "wberror":
            self.mapping_set_error(w, ev.arg, EIO)
            return None
        if verb == "evict":
            w.clear(b.inode_base(ev.arg))  # the inode and its wb_err are gone
            return None
        if verb == "sync":
            w.writeback_all()
            return 0
        f = w.file(ev.arg)
        host = f.owner == b.host
        ofs = None if host else w.ofs(f.owner)
        if verb == "open":
            f.open = 1
            w.inode(f.ino).cached = 1
            if ofs is None:
                self.vfs_open(w, f)
            else:
                self.ovl_open(w, ofs, f)
            return 0
        if verb == "write":
            w.inode(f.ino).dirty = 1
            return 0
        if verb == "close":
            w.clear(b.fd_base(ev.arg))
            return 0
        if verb == "fsync":
            return self.vfs_fsync(w, f) if ofs is None else self.ovl_fsync(w, ofs, f)
        if verb == "syncfs":
            return self.vfs_syncfs(w, f) if ofs is None else self.ovl_syncfs(w, ofs, f)
        raise ValueError(f"unknown verb {verb!r}")

    def __repr__(self) -> str:
        return f"<spec {self.name}>"


__all__ = ["EIO", "NORMAL", "UNMOUNTED", "VOLATILE", "Spec"]
