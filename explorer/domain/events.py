"""Which events can happen (docs/model.md §2): the same rules for every spec.

Every event the bounds allow (`all_events`), those enabled in a state (`enabled`, the
search's fast path) and why one is not (`why_disabled`, the reasons a scenario error
quotes): a container with open fds cannot be unmounted, an open takes its owner's
lowest free fd, an inode is evicted only when clean and held by no fd, a writeback
fails only on dirty data.
"""

from __future__ import annotations

from explorer.domain.layout import (
    EIO,
    ERRNO_NAMES,
    FD_VERBS,
    NORMAL,
    VOLATILE,
    Bounds,
    Event,
    State,
)


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
