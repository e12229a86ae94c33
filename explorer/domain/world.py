"""The world of docs/model.md §1 as a spec hook sees it: a state with names.

A spec hook never sees the state tuple (explorer.domain.layout): it works on a
`World`, a mutable copy with views named after the kernel's structures
(`w.sb.s_wb_err`, `w.inode(f).wb_err`, `w.ofs(c).errseq`, `file.f_sb_err`), and the
copy is frozen back afterwards.  Reading an errseq_t field gives a reference to it
(`FieldRef`), which the errseq functions read and write through, as the kernel passes
`&file->f_sb_err`; assigning an int or another field stores the value.

This module is also the world's one import: a spec file takes `World`, `File`,
`OvlFs` and the errnos from here, and the layout (explorer.domain.layout) and the
rules of which events are enabled (explorer.domain.events) are re-exported.
"""

from __future__ import annotations

from explorer.domain.errseq import Ref
from explorer.domain.events import (
    all_events,
    enabled,
    free_slot,
    has_open_fds,
    holds,
    is_open,
    mounted,
    why_disabled,
)
from explorer.domain.layout import (
    EIO,
    ENOSPC,
    ENVIRONMENT,
    ERRNO_NAMES,
    ERRNOS,
    FD_VERBS,
    HOST_FILES,
    MAX_DEPTH,
    MAX_FDS,
    MAX_HOST_FDS,
    MAX_MOUNTS,
    MOUNT_OPTIONS,
    NORMAL,
    UNMOUNTED,
    VOLATILE,
    Bounds,
    Event,
    State,
)


def _as_field(value: object) -> int:
    """What a field stores: an int, or the value of an errseq_t passed in.  A field is
    an int (an errseq_t is a u32): a hook that stores a float or a str has a bug, which
    int() would hide by truncating or parsing it."""
    if type(value) is int:
        return value
    if isinstance(value, Ref):
        value = value.value
    if isinstance(value, float | str | bytes) or value is None:
        raise TypeError(f"a state field holds an int, not {type(value).__name__} {value!r}")
    return int(value)  # type: ignore[call-overload]  # any object a hook stored: int() judges


def _field(offset: int, doc: str) -> property:
    def get(self: _View) -> int:
        return self._w[self._base + offset]

    def put(self: _View, value: int | Ref) -> None:
        self._w[self._base + offset] = _as_field(value)

    return property(get, put, doc=doc)


class FieldRef(Ref):
    """An errseq_t field of the world, by reference (the kernel's `&sb->s_wb_err`)."""

    __slots__ = ("_w", "_i")

    def __init__(self, w: list[int], i: int) -> None:
        self._w, self._i = w, i

    @property
    def value(self) -> int:
        return self._w[self._i]

    @value.setter
    def value(self, v: int) -> None:
        self._w[self._i] = _as_field(v)


def _errseq_field(offset: int, doc: str) -> property:
    def get(self: _View) -> FieldRef:
        return FieldRef(self._w, self._base + offset)

    def put(self: _View, value: int | Ref) -> None:
        self._w[self._base + offset] = _as_field(value)

    return property(get, put, doc=doc)


class _View:
    __slots__ = ("_w", "_base", "index")

    def __init__(self, w: list[int], base: int, index: int) -> None:
        self._w, self._base, self.index = w, base, index


class SuperBlock(_View):
    """The upper filesystem's superblock."""

    __slots__ = ()
    s_wb_err = _errseq_field(0, "errseq_t recording every writeback error on the upper fs")


class Inode(_View):
    """An upper inode (one file).  `index` is the file: ovlN's file is N-1, the host's is N."""

    __slots__ = ()
    wb_err = _errseq_field(0, "mapping->wb_err")
    dirty = _field(1, "has unwritten page-cache data")
    cached = _field(2, "in the inode cache (its wb_err exists)")


class OvlFs(_View):
    """A container's overlay mount: its superblock errseq and the spec's private sample."""

    __slots__ = ()
    mounted = _field(0, "UNMOUNTED, NORMAL or VOLATILE")
    s_wb_err = _errseq_field(1, "the overlay superblock's errseq_t")
    errseq = _errseq_field(2, "ofs->errseq: a sample of upper.s_wb_err (spec-specific)")

    @property
    def volatile(self) -> bool:
        return self.mounted == VOLATILE


class File(_View):
    """An open file description in an fd slot, with its two cursors."""

    __slots__ = ("owner", "ino")
    open = _field(0, "the slot holds an open file (1: its owner's; 2 + c: container c's)")
    f_wb_err = _errseq_field(1, "cursor for fsync (of the real upper file, for an overlay fd)")
    f_sb_err = _errseq_field(2, "cursor for syncfs")

    def __init__(self, w: list[int], base: int, index: int, owner: int, ino: int = -1) -> None:
        super().__init__(w, base, index)
        self.owner = owner
        #: the file: the owner's own (each owner has one, with the owner's index), or the
        #: container file a host fd opened directly
        self.ino = owner if ino < 0 else ino


class World:
    """A mutable copy of a state, handed to spec hooks for one event."""

    __slots__ = ("bounds", "_w", "sb")

    def __init__(self, bounds: Bounds, state: State) -> None:
        self.bounds = bounds
        self._w = list(state)
        self.sb = SuperBlock(self._w, 0, 0)

    def freeze(self) -> State:
        return tuple(self._w)

    def inode(self, ino: int) -> Inode:
        return Inode(self._w, self.bounds.inode_base(ino), ino)

    def ofs(self, c: int) -> OvlFs:
        return OvlFs(self._w, self.bounds.ofs_base(c), c)

    def file(self, slot: int) -> File:
        b = self.bounds
        base = b.fd_base(slot)
        v = self._w[base]
        return File(self._w, base, slot, b.owner(slot), v - 2 if type(v) is int and v > 1 else -1)

    def writeback(self, ino: int) -> None:
        """Write back one file successfully (a failing writeback is a `wberror` event)."""
        self._w[self.bounds.inode_base(ino) + 1] = 0

    def writeback_all(self) -> None:
        """sync_filesystem(upper) / sync(2): every dirty file is written back."""
        for ino in range(self.bounds.files):
            self._w[self.bounds.inode_base(ino) + 1] = 0

    def take_page(self, ino: int) -> None:
        """A failing writeback takes the file's dirty page: it is clean (its data is
        lost) and under writeback until `end_page_writeback`."""
        self._w[self.bounds.inode_base(ino) + 1] = 0

    def end_page_writeback(self, ino: int) -> None:
        """The failed page comes out of writeback (nothing waits for it in one step)."""

    def spin_lock(self, view: File | OvlFs) -> None:
        """spin_lock(&file->f_lock), or a lock of an overlay (vivek-v2's
        ofs->errseq_lock): a call in one step holds it throughout."""

    def spin_unlock(self, view: File | OvlFs) -> None:
        """spin_unlock of the same lock."""

    def clear(self, base: int) -> None:
        self._w[base : base + 3] = (0, 0, 0)


__all__ = [
    "EIO",
    "ENOSPC",
    "ENVIRONMENT",
    "ERRNO_NAMES",
    "ERRNOS",
    "FD_VERBS",
    "HOST_FILES",
    "MAX_DEPTH",
    "MAX_FDS",
    "MAX_HOST_FDS",
    "MAX_MOUNTS",
    "MOUNT_OPTIONS",
    "NORMAL",
    "UNMOUNTED",
    "VOLATILE",
    "Bounds",
    "Event",
    "FieldRef",
    "File",
    "Inode",
    "OvlFs",
    "State",
    "SuperBlock",
    "World",
    "all_events",
    "enabled",
    "free_slot",
    "has_open_fds",
    "holds",
    "is_open",
    "mounted",
    "why_disabled",
]
