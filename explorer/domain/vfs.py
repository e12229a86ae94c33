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

Hooks return 0 or a negative errno; `apply` turns an event into hook calls.  A spec
given by path is a user's code: whatever one of its hooks raises (SystemExit and
RecursionError included) or returns that is not a result becomes a SpecHookError
naming the spec, the line of its file, the hook and the event.  `apply` is the one
place every search and replay goes through; `hook_errors` and `check_result` do the
same for code that calls a hook directly.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.abc import Loader
from pathlib import Path
from types import ModuleType
from typing import ClassVar

from explorer.domain.errseq import MAX_ERRNO, Classic, Flavour, Ref, errseq_t
from explorer.domain.world import (
    EIO,
    ENOSPC,
    NORMAL,
    UNMOUNTED,
    VOLATILE,
    Bounds,
    Event,
    File,
    OvlFs,
    World,
)
from explorer.errors import InputError

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

#: Raised through a hook untouched: Ctrl-C, and a generator being closed.
PASS_THROUGH = (KeyboardInterrupt, GeneratorExit)


class SpecHookError(InputError):
    """A spec's hook raised, exited, or returned something that is not a result: bad input
    (exit 2) in one line.  Rebuilt from its fields when pickled, so that a worker process
    sends it to the parent whole (its cause, the hook's own exception, stays behind)."""

    def __init__(self, spec: str, where: str, hook: str, event: str, problem: str) -> None:
        self.spec, self.where, self.hook, self.event = spec, where, hook, event
        self.problem = problem
        place = f" ({where})" if where else ""
        super().__init__(f"spec {spec}{place}, hook {hook}, {event}: {problem}")

    def __reduce__(self):
        return SpecHookError, (self.spec, self.where, self.hook, self.event, self.problem)


def event_text(b: Bounds, ev: Event) -> str:
    """An event as a hook error names it: "event 'fsync' by ovl1 (fd slot 2)"."""
    verb = ev.verb
    if verb in ("mount", "umount"):
        return f"event '{verb}{' volatile' if ev.volatile else ''}' by {b.owner_name(ev.arg)}"
    if verb in ("wberror", "evict"):
        return f"event '{verb}' of {b.owner_name(ev.arg)}'s file"
    if verb == "open" and ev.ino >= 0:
        who = b.owner_name(b.owner(ev.arg))
        return f"event 'open' of {b.owner_name(ev.ino)}'s file by {who} (fd slot {ev.arg + 1})"
    if verb == "sync":
        return "event 'sync' by host"
    return f"event '{verb}' by {b.owner_name(b.owner(ev.arg))} (fd slot {ev.arg + 1})"


def shown_path(path: str) -> str:
    """A file as the user would name it: relative to the working directory when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _spec_files(spec: object) -> dict[str, str]:
    """realpath -> path of the files defining the spec's class and the spec classes it
    derives from; not this module's, whose base rules are reached from a spec's line."""
    files = {}
    for cls in type(spec).__mro__:
        if cls is Spec or cls is object:
            continue
        path = getattr(sys.modules.get(cls.__module__), "__file__", None)
        if path:
            files[os.path.realpath(path)] = path
    return files


def _where(spec: object, hook: str, exc: BaseException | None) -> str:
    """file:line where the spec went wrong: the deepest frame of the traceback in one of
    its files; without one, the hook's definition if a spec file has it, else the file."""
    files = _spec_files(spec)
    found = ""
    tb = exc.__traceback__ if exc is not None else None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if os.path.realpath(name) in files:
            found = f"{shown_path(name)}:{tb.tb_lineno}"
        tb = tb.tb_next
    if found:
        return found
    code = getattr(getattr(type(spec), hook, None), "__code__", None)
    if code is not None and os.path.realpath(code.co_filename) in files:
        return f"{shown_path(code.co_filename)}:{code.co_firstlineno}"
    return shown_path(next(iter(files.values()))) if files else ""


def _spec_name(spec: object) -> str:
    name = getattr(spec, "name", None)
    return name if isinstance(name, str) else type(spec).__name__


def exception_text(exc: BaseException) -> str:
    """What a user's code raised, for a one-line message: its type and its message."""
    try:
        text = str(exc)
    except Exception:  # a user's exception whose __str__ fails
        text = "(a message that cannot be printed)"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def user_module_name(path: Path, prefix: str) -> str:
    """The module name a user's .py file is loaded under: one per file, whatever the
    path it was given by."""
    return f"{prefix}_{abs(hash(str(path.resolve())))}"


def new_user_module(path: Path, prefix: str, error: type[InputError]) -> tuple[ModuleType, Loader]:
    """A user's .py file as a registered module not yet run, and the loader that runs it
    (`error` when Python cannot load the file at all)."""
    name = user_module_name(path, prefix)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise error(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    return module, spec.loader


def error_line(exc: BaseException, path: Path) -> str:
    """ ", line N" of the deepest frame of `exc`'s traceback in the user's file `path`."""
    line = ""
    tb = exc.__traceback__
    real = os.path.realpath(path)
    while tb is not None:
        if os.path.realpath(tb.tb_frame.f_code.co_filename) == real:
            line = f", line {tb.tb_lineno}"
        tb = tb.tb_next
    return line


def hook_error(spec: object, hook: str, event: str, exc: BaseException) -> SpecHookError:
    """The SpecHookError for `exc`, raised by `hook` of `spec` while running `event`."""
    problem = exception_text(exc)
    if isinstance(exc, SystemExit):
        problem += " (a hook returns its result; it must not exit)"
    elif isinstance(exc, TypeError) and "unpack non-iterable int" in str(exc):
        problem += (
            " (the errseq functions take fields by reference and return the kernel's "
            "result: f.f_sb_err = es.sample(w.sb.s_wb_err))"
        )
    return SpecHookError(_spec_name(spec), _where(spec, hook, exc), hook, event, problem)


@contextmanager
def hook_errors(spec: object, hook: str, event: str) -> Iterator[None]:
    """For code that calls a spec's hook directly rather than through `Spec.apply`:
    whatever the hook raises becomes a SpecHookError (Ctrl-C stays itself).

        what = "event 'syncfs' by ovl1 (a fresh open)"
        with hook_errors(spec, "sys_syncfs", what):
            ret = check_result(spec, "sys_syncfs", what, spec.sys_syncfs(w, ofs, f))
    """
    try:
        yield
    except (*PASS_THROUGH, SpecHookError):
        raise
    except BaseException as exc:
        raise hook_error(spec, hook, event, exc) from exc


def check_result(spec: object, hook: str, event: str, ret: object) -> int:
    """A call's result from a hook (mount, fsync, syncfs): 0 or a negative errno in
    [-4095, -1]; anything else (a str, a float, True, None, 5) is a SpecHookError.  A
    field returned by reference counts as its value."""
    if isinstance(ret, Ref):
        ret = ret.value
    if isinstance(ret, int) and not isinstance(ret, bool) and -MAX_ERRNO <= ret <= 0:
        return int(ret)
    try:
        shown = repr(ret)
    except Exception:  # a user's object whose __repr__ fails
        shown = "an object"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise SpecHookError(
        _spec_name(spec),
        _where(spec, hook, None),
        hook,
        event,
        f"returned {shown} ({type(ret).__name__}); a call returns 0 or a negative errno "
        f"in [-{MAX_ERRNO}, -1]",
    )


class Spec:
    """plain: containers are directories; mount and umount change nothing."""

    name: ClassVar[str] = "plain"
    #: one line for tables and --help
    summary: ClassVar[str] = "no overlay: containers are directories of the upper fs"
    #: the errseq_t flavour used for every errseq in the world
    errseq: ClassVar[Flavour] = Classic
    #: False only for plain, whose mounts are no-ops
    overlay: ClassVar[bool] = False
    #: what the hooks follow: kernel commit ids and mailing-list Message-IDs
    #: (https://lore.kernel.org/r/<Message-ID>), as the spec's docstring cites them
    sources: ClassVar[tuple[str, ...]] = ()

    # --- plain VFS (host fds always, container fds unless overridden) ---------------

    def vfs_open(self, w: World, f: File) -> None:
        """do_dentry_open(): sample the inode's and the superblock's errseq."""
        f.f_wb_err = self.errseq.sample(w.inode(f.ino).wb_err)
        f.f_sb_err = self.errseq.sample(w.sb.s_wb_err)

    def vfs_fsync(self, w: World, f: File) -> int:
        """file_write_and_wait_range() then file_check_and_advance_wb_err()."""
        w.writeback(f.ino)
        return self.errseq.check_and_advance(w.inode(f.ino).wb_err, f.f_wb_err)

    def vfs_syncfs(self, w: World, f: File) -> int:
        """syncfs(2): sync_filesystem(sb), then check_and_advance(&sb->s_wb_err, &f_sb_err)."""
        w.writeback_all()
        return self.errseq.check_and_advance(w.sb.s_wb_err, f.f_sb_err)

    def mapping_set_error(self, w: World, ino: int, err: int) -> None:
        """A failed writeback: errseq_set on the inode's mapping and on its superblock."""
        inode = w.inode(ino)
        self.errseq.set(inode.wb_err, err)
        self.errseq.set(w.sb.s_wb_err, err)
        inode.dirty = 0  # the failed page is marked clean; its data is gone

    # --- overlay hooks: plain treats a container as a directory ---------------------

    def ovl_fill_super(self, w: World, ofs: OvlFs) -> int:
        """mount: 0, or a negative errno to refuse it (the container stays unmounted)."""
        return 0

    def generic_shutdown_super(self, w: World, ofs: OvlFs) -> None:
        """umount: sync_filesystem(ovl sb) runs ovl_sync_fs(sb, 1), whose result the
        unmount ignores (fs/super.c; docs/conformance.md F1).  plain: a directory."""
        if self.overlay:
            self.ovl_sync_fs(w, ofs)

    def ovl_open(self, w: World, ofs: OvlFs, f: File) -> None:
        """open of the container's file through its overlay."""
        self.vfs_open(w, f)

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
        twin.errseq = type(self).errseq.narrowed(counter_bits)  # type: ignore[misc]
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
            ret = self._hook(w, ev, "ovl_fill_super", True, ofs)
            if ret:
                w.clear(b.ofs_base(ev.arg))
            return ret
        if verb == "umount":
            self._hook(w, ev, "generic_shutdown_super", False, w.ofs(ev.arg))
            w.clear(b.ofs_base(ev.arg))
            return 0
        if verb == "wberror":
            self._hook(w, ev, "mapping_set_error", False, ev.arg, ev.err)
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
            if ev.ino >= 0:
                f.ino = ev.ino
            f.open = b.open_value(f.owner, f.ino)
            w.inode(f.ino).cached = 1
            if ofs is None:
                self._hook(w, ev, "vfs_open", False, f)
            else:
                self._hook(w, ev, "ovl_open", False, ofs, f)
            return 0
        if verb == "write":
            w.inode(f.ino).dirty = 1
            return 0
        if verb == "close":
            w.clear(b.fd_base(ev.arg))
            return 0
        if verb == "fsync":
            if ofs is None:
                return self._hook(w, ev, "vfs_fsync", True, f)
            return self._hook(w, ev, "ovl_fsync", True, ofs, f)
        if verb == "syncfs":
            if ofs is None:
                return self._hook(w, ev, "vfs_syncfs", True, f)
            return self._hook(w, ev, "sys_syncfs", True, ofs, f)
        raise ValueError(f"unknown verb {verb!r}")

    def _hook(self, w: World, ev: Event, hook: str, call: bool, *args: object) -> int | None:
        """Run one hook on `w`: a call's result is checked (`check_result`), a void hook's
        ignored; anything the hook raises, exits with or recurses into is a SpecHookError
        whose cause is the original (explorer.bridge.stepper looks at it)."""
        try:
            ret = getattr(self, hook)(w, *args)
        except (*PASS_THROUGH, SpecHookError):
            raise
        except BaseException as exc:
            raise hook_error(self, hook, event_text(w.bounds, ev), exc) from exc
        if not call:
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
    "UNMOUNTED",
    "VOLATILE",
    "Spec",
    "SpecHookError",
    "check_result",
    "errseq_t",
    "hook_errors",
]
