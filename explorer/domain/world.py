"""The world of docs/model.md §1: one upper filesystem shared by N overlay containers and the host.

A state is a flat tuple of ints, so that it hashes fast and stores small.  Its layout
is fixed by the bounds (containers, fds per container, host fds):

    [0]                     upper.s_wb_err
    per file (ovl1..ovlN, host):       wb_err, dirty, cached
    per container (ovl1..ovlN):        mounted (0 no, 1 normal, 2 volatile), s_wb_err, errseq
    per fd slot (container fds first, then host fds):  open, f_wb_err, f_sb_err

`open` is 0 for a free slot and 1 for an fd on its owner's own file.  With
`host_files` "any" a host fd may hold a container's upper file instead (the host opens
`upperdir/file` directly): its `open` is then 2 + that container's index, so the file
an fd holds is part of the state.

A spec hook never sees the tuple: it works on a `World`, a mutable copy with views
named after the kernel's structures (`w.sb.s_wb_err`, `w.inode(f).wb_err`,
`w.ofs(c).errseq`, `file.f_sb_err`), and the copy is frozen back afterwards.  Reading
an errseq_t field gives a reference to it (`FieldRef`), which the errseq functions
read and write through, as the kernel passes `&file->f_sb_err`; assigning an int or
another field stores the value.

Events are small tuples `(verb, arg, volatile, err, ino)`; `arg` is a container or
file index for mount/umount/wberror/evict, an fd slot for fd events, -1 for sync; `err`
is the negative errno a wberror records (EIO unless `--errnos` offers more); `ino` is
the file a host open takes when it is not the host's own (-1: the owner's file).  This
module also decides which events are enabled: those rules are the same for every spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from explorer.domain.errseq import Ref

State = tuple[int, ...]

# Mount modes stored in the `mounted` field.
UNMOUNTED, NORMAL, VOLATILE = 0, 1, 2

#: The mount modes explored, by the name `--mount-options` gives them.
MOUNT_OPTIONS = {"normal": (NORMAL,), "volatile": (VOLATILE,), "both": (NORMAL, VOLATILE)}

# The largest bounds accepted, from the options and in scenarios.  Real runs stop on the
# memory guard far below them (4 containers at depth 12 already take 6 GB: README.md,
# docs/performance.md); they are there so that a typo
# (--mounts 1000, ovl18446744073709551616) is refused at once with its name, instead of
# a state layout of millions of fields built for minutes before memory runs out.  A
# sequence of 64 events is longer than any witness the thread discusses (the seed has 8).
MAX_MOUNTS = 16
MAX_FDS = 8
MAX_HOST_FDS = 8
MAX_DEPTH = 64

FD_VERBS = ("open", "write", "fsync", "syncfs", "close")

#: The writeback errors the model records, as negative errnos (the kernel's -EIO ...),
#: by the name results print with.  EIO is what `wberror FILE` records.
EIO, ENOSPC = -5, -28
ERRNOS = {"EIO": EIO, "ENOSPC": ENOSPC}
ERRNO_NAMES = {v: k for k, v in ERRNOS.items()}

#: Which files a host fd may open: its own only, or any container's upper file too.
HOST_FILES = ("own", "any")

# Who performs an event: the kinds docs/model.md §5 groups isolation violations by.
ENVIRONMENT = -1


class Event(NamedTuple):
    """One step of a run: `verb` with a container, file or fd-slot index `arg`; a
    wberror's errno `err`; the file `ino` a host open takes (-1: the owner's own)."""

    verb: str
    arg: int = -1
    volatile: bool = False
    err: int = EIO
    ino: int = -1


@dataclass(frozen=True)
class Bounds:
    """The shape of the world: how many containers, fds per container, host fds; the
    errnos a writeback error may record; which files a host fd may open."""

    mounts: int = 2
    fds: int = 2
    host_fds: int = 1  # docs/model.md §1: one host fd by default
    errnos: tuple[int, ...] = (EIO,)
    host_files: str = "own"

    @cached_property
    def host_any(self) -> bool:
        """A host fd may hold a container's upper file (`open fdN host ovlK`)."""
        return self.host_files == "any"

    @cached_property
    def files(self) -> int:
        """One file per container plus the host's file."""
        return self.mounts + 1

    @cached_property
    def host(self) -> int:
        """Index of the host as an owner and of its file."""
        return self.mounts

    @cached_property
    def slots(self) -> int:
        return self.mounts * self.fds + self.host_fds

    def owner(self, slot: int) -> int:
        """Container index of an fd slot, or `host` for a host slot."""
        return slot // self.fds if slot < self.mounts * self.fds else self.mounts

    def owner_slots(self, owner: int) -> range:
        if owner == self.mounts:
            base = self.mounts * self.fds
            return range(base, base + self.host_fds)
        return range(owner * self.fds, (owner + 1) * self.fds)

    def owner_name(self, owner: int) -> str:
        return "host" if owner == self.mounts else f"ovl{owner + 1}"

    # Offsets into the state tuple.
    def inode_base(self, ino: int) -> int:
        return 1 + 3 * ino

    def ofs_base(self, c: int) -> int:
        return self._ofs0 + 3 * c

    def fd_base(self, slot: int) -> int:
        return self._fd0 + 3 * slot

    @cached_property
    def _ofs0(self) -> int:
        return 1 + 3 * self.files

    @cached_property
    def _fd0(self) -> int:
        return 1 + 3 * self.files + 3 * self.mounts

    @cached_property
    def width(self) -> int:
        return self._fd0 + 3 * self.slots

    def initial(self) -> State:
        """Nothing mounted, nothing open, every file on disk, clean and uncached."""
        return (0,) * self.width

    def actor(self, ev: Event) -> int:
        """Who does `ev`: a container index, `host`, or ENVIRONMENT (wberror, evict)."""
        if ev.verb in ("mount", "umount"):
            return ev.arg
        if ev.verb in FD_VERBS:
            return self.owner(ev.arg)
        if ev.verb == "sync":
            return self.mounts
        return ENVIRONMENT

    def open_value(self, owner: int, ino: int) -> int:
        """What an fd slot's `open` field holds for an fd of `owner` on file `ino`."""
        return 1 if ino == owner else 2 + ino

    def slot_file(self, s: State, slot: int) -> int:
        """The file an open fd slot holds: its owner's, or a container's for a host fd
        opened on it."""
        v = s[self.fd_base(slot)]
        return v - 2 if v > 1 else self.owner(slot)


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
    return int(value)  # type: ignore[call-overload]


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

    def clear(self, base: int) -> None:
        self._w[base : base + 3] = (0, 0, 0)


# --- which events are enabled (the same rules for every spec) -----------------------


def mounted(b: Bounds, s: State, c: int) -> int:
    return s[b.ofs_base(c)]


def is_open(b: Bounds, s: State, slot: int) -> bool:
    return s[b.fd_base(slot)] != 0


def free_slot(b: Bounds, s: State, owner: int) -> int | None:
    """The lowest free fd slot of `owner`: opens always take it, so fds are named canonically."""
    if owner != b.host and not mounted(b, s, owner):
        return None
    for slot in b.owner_slots(owner):
        if not s[b.fd_base(slot)]:
            return slot
    return None


def has_open_fds(b: Bounds, s: State, owner: int) -> bool:
    """Some fd of `owner` is open (a container with one cannot be unmounted)."""
    return any(s[b.fd_base(slot)] for slot in b.owner_slots(owner))


def holds(b: Bounds, s: State, ino: int) -> bool:
    """Some open fd holds the inode, so it cannot be evicted: one of its owner's fds on
    it, or a host fd opened on it directly."""
    if ino == b.host or not b.host_any:
        return any(s[b.fd_base(slot)] == 1 for slot in b.owner_slots(ino))
    if has_open_fds(b, s, ino):
        return True
    held = 2 + ino
    return any(s[b.fd_base(slot)] == held for slot in b.owner_slots(b.host))


def why_disabled(b: Bounds, s: State, ev: Event, options: tuple[int, ...]) -> str | None:
    """Why `ev` cannot happen in `s` (None if it can): the reasons a scenario error quotes."""
    verb, arg = ev.verb, ev.arg
    if verb == "sync":
        return None
    if verb in ("mount", "umount"):
        name = b.owner_name(arg)
        if verb == "mount":
            if mounted(b, s, arg):
                return f"{name} is already mounted"
            mode = VOLATILE if ev.volatile else NORMAL
            if mode not in options:
                return f"{'volatile' if ev.volatile else 'normal'} mounts are not explored"
            return None
        if not mounted(b, s, arg):
            return f"{name} is not mounted"
        if has_open_fds(b, s, arg):
            return f"{name} still has open fds (close them first)"
        return None
    if verb in ("wberror", "evict"):
        base = b.inode_base(arg)
        name = b.owner_name(arg)
        if verb == "wberror":
            if ev.err not in b.errnos:
                return f"{ERRNO_NAMES.get(ev.err, ev.err)} writeback errors are not explored"
            return None if s[base + 1] else f"{name}'s file has no dirty data to fail writing back"
        if s[base + 1]:
            return f"{name}'s file has dirty data (write it back before it can be evicted)"
        if not s[base + 2]:
            return f"{name}'s inode is not in the cache"
        if holds(b, s, arg):
            return f"{name}'s inode is held by an open fd"
        return None
    owner = b.owner(arg)
    if verb == "open":
        if ev.ino >= 0 and ev.ino != owner:
            if owner != b.host or ev.ino >= b.mounts:
                return "only the host opens another file, a container's upper file"
            if not b.host_any:
                return "host fds on a container's upper file are not explored"
        if owner != b.host and not mounted(b, s, owner):
            return f"{b.owner_name(owner)} is not mounted"
        slot = free_slot(b, s, owner)
        if slot is None:
            return f"{b.owner_name(owner)} has no free fd (bound reached)"
        if slot != arg:
            return "an open takes its owner's lowest free fd slot"
        return None
    if not is_open(b, s, arg):
        return "that fd is not open"
    return None


def all_events(b: Bounds, options: tuple[int, ...]) -> list[Event]:
    """Every event the bounds allow, in a fixed order (the order the search tries them)."""
    evs: list[Event] = []
    for c in range(b.mounts):
        if NORMAL in options:
            evs.append(Event("mount", c, False))
        if VOLATILE in options:
            evs.append(Event("mount", c, True))
        evs.append(Event("umount", c))
    for slot in range(b.slots):
        evs.extend(Event(verb, slot) for verb in FD_VERBS)
        if b.host_any and b.owner(slot) == b.host:
            evs.extend(Event("open", slot, ino=c) for c in range(b.mounts))
    for ino in range(b.files):
        evs.extend(Event("wberror", ino, err=err) for err in b.errnos)
        evs.append(Event("evict", ino))
    evs.append(Event("sync"))
    return evs


def enabled(b: Bounds, s: State, options: tuple[int, ...]) -> list[Event]:
    """The events enabled in `s`; an open takes the owner's lowest free slot only."""
    out: list[Event] = []
    for c in range(b.mounts):
        if s[b.ofs_base(c)]:
            if not has_open_fds(b, s, c):
                out.append(Event("umount", c))
        else:
            if NORMAL in options:
                out.append(Event("mount", c, False))
            if VOLATILE in options:
                out.append(Event("mount", c, True))
    for owner in range(b.mounts + 1):
        slot = free_slot(b, s, owner)
        if slot is not None:
            out.append(Event("open", slot))
    if b.host_any:
        slot = free_slot(b, s, b.host)
        if slot is not None:
            out.extend(Event("open", slot, ino=c) for c in range(b.mounts))
    for slot in range(b.slots):
        if s[b.fd_base(slot)]:
            out.extend(
                (
                    Event("write", slot),
                    Event("fsync", slot),
                    Event("syncfs", slot),
                    Event("close", slot),
                )
            )
    only_eio = b.errnos == (EIO,)
    for ino in range(b.files):
        base = b.inode_base(ino)
        if s[base + 1]:
            if only_eio:
                out.append(Event("wberror", ino))
            else:
                out.extend(Event("wberror", ino, err=err) for err in b.errnos)
        elif s[base + 2] and not holds(b, s, ino):
            out.append(Event("evict", ino))
    out.append(Event("sync"))
    return out
