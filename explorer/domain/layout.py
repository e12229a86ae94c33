"""The shape of the world (docs/model.md §1): bounds, events, and a state's layout.

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

Events are small tuples `(verb, arg, volatile, err, ino)`; `arg` is a container or
file index for mount/umount/wberror/evict, an fd slot for fd events, -1 for sync; `err`
is the negative errno a wberror records (EIO unless `--errnos` offers more); `ino` is
the file a host open takes when it is not the host's own (-1: the owner's file).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

State = tuple[int, ...]

# Mount modes stored in the `mounted` field.
UNMOUNTED, NORMAL, VOLATILE = 0, 1, 2

#: The mount modes explored, by the name `--mount-options` gives them.
MOUNT_OPTIONS = {"normal": (NORMAL,), "volatile": (VOLATILE,), "both": (NORMAL, VOLATILE)}

# The largest bounds accepted, from the options and in scenarios.  Real runs stop on the
# memory guard far below them (docs/performance.md); they are there so that a typo
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
