"""The Spec base: the plain VFS rules as hooks named after the kernel functions.

A kernel variant ("spec", docs/model.md §4) is a subclass in `specs/` that overrides the
overlay hooks (HOOKS lists them all; `explore specs --show NAME` shows where each of a
spec's comes from).  The base class *is* the `plain` spec: no overlay, each container
a directory on the upper fs, so every container fd follows the VFS rules that host fds
always follow:

    open:   f_wb_err = errseq_sample(&inode->i_mapping->wb_err)    (do_dentry_open)
            f_sb_err = errseq_sample(&sb->s_wb_err)
    fsync:  write back the file, then errseq_check_and_advance(wb_err, &f_wb_err)
    syncfs: sync_filesystem(sb), then errseq_check_and_advance(s_wb_err, &f_sb_err)
    writeback error: mapping_set_error() sets both the inode's and the sb's errseq

A spec file needs two imports; its hooks read like the kernel, the errseq_t fields
passed by reference (explorer.domain.errseq):

    from explorer.domain.vfs import EIO, Spec
    from explorer.domain.world import File, OvlFs, World

    class MyPatch(Spec):
        name = "my-patch"
        overlay = True

        def ovl_open(self, w: World, ofs: OvlFs, f: File) -> None:
            f.f_wb_err = self.errseq.sample(w.inode(f.ino).wb_err)
            f.f_sb_err = self.errseq.sample(w.sb.s_wb_err)

What each hook may return is what the kernel function it is named after can
(`RESULTS`): 0 or a negative errno where that function can fail (the errno is
honoured: a failed open leaves no fd), nothing where it is void.  `apply` turns an
event into hook calls, and a hook that raises or returns what it cannot is a
SpecHookError naming the spec, the line of its file, the hook and the event
(explorer.domain.hookerror).
"""

from __future__ import annotations

import copy
from typing import ClassVar

from explorer.domain.errseq import MAX_ERRNO, Classic, Flavour, errseq_t
from explorer.domain.hookerror import (
    RESULTS,
    VOID,
    SpecHookError,
    check_result,
    check_void,
    event_text,
    hook_error,
    hook_errors,
)
from explorer.domain.userfile import PASS_THROUGH
from explorer.domain.world import (
    EIO,
    ENOSPC,
    NORMAL,
    UNMOUNTED,
    VOLATILE,
    Event,
    File,
    OvlFs,
    World,
)

#: Every hook a spec may override, in the order `explore specs --show` lists them: the
#: VFS rules, the overlay's hooks (one per event or kernel function), and the functions
#: the overlay specs share.  A spec's method named like a hook that is not one of
#: these is refused when it loads (explorer.domain.catalog): it would never be called.
HOOKS = (
    "vfs_open",
    "vfs_fsync",
    "vfs_syncfs",
    "mapping_set_error",
    "ovl_fill_super",
    "generic_shutdown_super",
    "ovl_open",
    "ovl_fsync",
    "ovl_sync_fs",
    "sys_syncfs",
    "ovl_real_fsync",
    "ovl_sync_upper",
    "ovl_sync_status",
)

#: Hooks by an old name: a spec that defines one is refused with the new name.
RENAMED = {"ovl_syncfs": "sys_syncfs"}


class Spec:
    """plain: containers are directories; mount and umount change nothing."""

    name: ClassVar[str] = "plain"
    #: one line for tables and --help
    summary: ClassVar[str] = "no overlay: containers are directories of the upper fs"
    #: the errseq_t flavour used for every errseq in the world (`with_counter_bits`
    #: narrows it on one instance)
    errseq: Flavour = Classic
    #: False only for plain, whose mounts are no-ops
    overlay: ClassVar[bool] = False
    #: what the hooks follow: kernel commit ids and mailing-list Message-IDs
    #: (https://lore.kernel.org/r/<Message-ID>), as the spec's docstring cites them
    sources: ClassVar[tuple[str, ...]] = ()

    # --- plain VFS (host fds always, container fds unless overridden) ---------------

    def vfs_open(self, w: World, f: File) -> int | None:
        """do_dentry_open(): sample the inode's and the superblock's errseq.  0 or
        nothing opens; a negative errno fails the open (no fd)."""
        f.f_wb_err = self.errseq.sample(w.inode(f.ino).wb_err)
        f.f_sb_err = self.errseq.sample(w.sb.s_wb_err)
        return 0

    def vfs_fsync(self, w: World, f: File) -> int:
        """file_write_and_wait_range() then file_check_and_advance_wb_err() (mm/filemap.c):
        a lockless errseq_check against READ_ONCE(f_wb_err), and only on a change the
        check-and-advance under f_lock."""
        w.writeback(f.ino)
        es = self.errseq
        wb_err = w.inode(f.ino).wb_err
        if not es.check(wb_err, f.f_wb_err):
            return 0
        w.spin_lock(f)
        err = es.check_and_advance(wb_err, f.f_wb_err)
        w.spin_unlock(f)
        return err

    def vfs_syncfs(self, w: World, f: File) -> int:
        """syncfs(2): sync_filesystem(sb), then check_and_advance(&sb->s_wb_err, &f_sb_err)."""
        w.writeback_all()
        return self.errseq.check_and_advance(w.sb.s_wb_err, f.f_sb_err)

    def mapping_set_error(self, w: World, ino: int, err: int) -> None:
        """A failed writeback: errseq_set on the inode's mapping and on its superblock
        (include/linux/pagemap.h).  The page was taken before (it is clean, its data
        gone) and comes out of writeback after (`apply`)."""
        self.errseq.set(w.inode(ino).wb_err, err)
        self.errseq.set(w.sb.s_wb_err, err)

    # --- overlay hooks: plain treats a container as a directory ---------------------

    def ovl_fill_super(self, w: World, ofs: OvlFs) -> int:
        """mount: 0, or a negative errno to refuse it (the container stays unmounted)."""
        return 0

    def generic_shutdown_super(self, w: World, ofs: OvlFs) -> None:
        """umount: sync_filesystem(ovl sb) runs ovl_sync_fs(sb, 1), whose result the
        unmount ignores (fs/super.c; docs/conformance.md F1).  plain: a directory."""
        if self.overlay:
            self.ovl_sync_fs(w, ofs)

    def ovl_open(self, w: World, ofs: OvlFs, f: File) -> int | None:
        """open of the container's file through its overlay; 0 or nothing opens, a
        negative errno fails the open (the kernel's fails when opening the real file
        does)."""
        return self.vfs_open(w, f)

    def ovl_fsync(self, w: World, ofs: OvlFs, f: File) -> int:
        """fsync on an overlay fd."""
        return self.vfs_fsync(w, f)

    def ovl_sync_fs(self, w: World, ofs: OvlFs) -> int:
        """->sync_fs of the overlay sb (sync_filesystem(ovl sb), from syncfs(2) and from
        unmount): sync the upper fs unless volatile."""
        self.ovl_sync_upper(w, ofs)
        return 0

    def sys_syncfs(self, w: World, ofs: OvlFs, f: File) -> int:
        """syncfs(2) on an overlay fd, the whole syscall: sync_filesystem(ovl sb), which
        runs ovl_sync_fs, then the VFS errseq check on the fd's f_sb_err (vivek-v2
        replaces the whole with f_op->syncfs, vivek-v3 the check with
        s_op->errseq_check_advance).  plain: a directory's syncfs(2)."""
        return self.vfs_syncfs(w, f)

    # --- helpers shared by the overlay specs -----------------------------------------

    def ovl_real_fsync(self, w: World, f: File) -> int:
        """Non-volatile overlay fsync: vfs_fsync on the real upper file (its own cursor)."""
        return self.vfs_fsync(w, f)

    def ovl_sync_upper(self, w: World, ofs: OvlFs) -> None:
        """sync_filesystem(upper) from ovl_sync_fs; a volatile overlay never syncs."""
        if not ofs.volatile:
            w.writeback_all()

    def ovl_sync_status(self, w: World, ofs: OvlFs) -> int:
        """Whether the overlay syncs its upper fs: 1 yes, 0 no (volatile: v5.10's
        ovl_should_sync); v5.11's adds a negative errno, a volatile overlay's upper
        error."""
        return 0 if ofs.volatile else 1

    # --- the model's options ----------------------------------------------------------

    def with_counter_bits(self, counter_bits: int | None) -> Spec:
        """This spec with every errseq_t narrowed to a `counter_bits`-bit counter
        (`--counter-bits`; the split layout gets one bit less); None: the kernel's width.
        Every errseq computation of a run goes through `self.errseq`, the no-loss
        monitor's fresh opens and replay included, so narrowing it here reaches all."""
        if counter_bits is None or counter_bits == self.errseq.counter_bits:
            return self
        twin = copy.copy(self)
        twin.errseq = type(self).errseq.narrowed(counter_bits)
        return twin

    # --- the event dispatcher ---------------------------------------------------------

    def apply(self, w: World, ev: Event) -> int | None:
        """Perform an enabled event on `w`; return its result (None for environment events).
        A hook that misbehaves raises SpecHookError (see `_hook`)."""
        verb = ev.verb
        b = w.bounds
        if verb == "mount":
            ofs = w.ofs(ev.arg)
            ofs.mounted = VOLATILE if ev.volatile else NORMAL
            ret = self._hook(w, ev, "ovl_fill_super", ofs)
            if ret:
                w.clear(b.ofs_base(ev.arg))
            return ret
        if verb == "umount":
            self._hook(w, ev, "generic_shutdown_super", w.ofs(ev.arg))
            w.clear(b.ofs_base(ev.arg))
            return 0
        if verb == "wberror":
            # The I/O completion sets the error, then ends writeback on the page.
            w.take_page(ev.arg)
            self._hook(w, ev, "mapping_set_error", ev.arg, ev.err)
            w.end_page_writeback(ev.arg)
            return None
        if verb == "evict":
            w.clear(b.inode_base(ev.arg))  # the inode and its wb_err are gone
            return None
        if verb == "sync":
            w.writeback_all()
            return 0
        return self._fd_event(w, ev)

    def _fd_event(self, w: World, ev: Event) -> int | None:
        """`apply` for the events on fd slot `ev.arg`: open, write, close, fsync, syncfs."""
        verb = ev.verb
        b = w.bounds
        f = w.file(ev.arg)
        ofs = None if f.owner == b.host else w.ofs(f.owner)
        if verb == "open":
            if ev.ino >= 0:
                f.ino = ev.ino
            f.open = b.open_value(f.owner, f.ino)
            w.inode(f.ino).cached = 1
            if ofs is None:
                ret = self._hook(w, ev, "vfs_open", f)
            else:
                ret = self._hook(w, ev, "ovl_open", ofs, f)
            if ret:  # the open failed: no fd (its lookup left the inode cached)
                w.clear(b.fd_base(ev.arg))
            return ret
        if verb == "write":
            w.inode(f.ino).dirty = 1
            return 0
        if verb == "close":
            w.clear(b.fd_base(ev.arg))
            return 0
        if verb == "fsync":
            if ofs is None:
                return self._hook(w, ev, "vfs_fsync", f)
            return self._hook(w, ev, "ovl_fsync", ofs, f)
        if verb == "syncfs":
            if ofs is None:
                return self._hook(w, ev, "vfs_syncfs", f)
            return self._hook(w, ev, "sys_syncfs", ofs, f)
        raise ValueError(f"unknown verb {verb!r}")

    def _hook(self, w: World, ev: Event, hook: str, *args: object) -> int | None:
        """Run one hook on `w` and return its result, checked against what the kernel
        function can return (`RESULTS`: an int, or None from a void hook); anything the
        hook raises, exits with or recurses into is a SpecHookError whose cause is the
        original (explorer.bridge.stepper looks at it)."""
        try:
            ret = getattr(self, hook)(w, *args)
        except (*PASS_THROUGH, SpecHookError):
            raise
        except BaseException as exc:
            raise hook_error(self, hook, event_text(w.bounds, ev), exc) from exc
        if RESULTS[hook][0] == VOID:
            if ret is not None:
                check_void(self, hook, event_text(w.bounds, ev), ret)
            return None
        if type(ret) is int and -MAX_ERRNO <= ret <= 0:  # the common case, quickly
            return ret
        return check_result(self, hook, event_text(w.bounds, ev), ret)

    def __repr__(self) -> str:
        return f"<spec {self.name}>"


__all__ = [
    "EIO",
    "ENOSPC",
    "HOOKS",
    "NORMAL",
    "RESULTS",
    "UNMOUNTED",
    "VOLATILE",
    "Spec",
    "SpecHookError",
    "check_result",
    "check_void",
    "errseq_t",
    "hook_errors",
]
