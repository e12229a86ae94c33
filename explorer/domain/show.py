"""A state of the world as named kernel fields, decoded, and what changed between two.

A reader of a witness wants the errseq_t values after each step as the kernel would
print them: `upper.s_wb_err: 0x5 -> 0x1005 (EIO, SEEN, ctr 0)`.  This module turns the
flat state tuple (explorer.domain.world) into such fields, decoding each errseq_t by
the spec's layout (docs/model.md §3: counter, SEEN and errno; or, split, counter,
REPORTED, OBSERVED and errno), and says which fields a step changed.  The text traces
and the HTML report both read it, so they show the same thing.

The decoding is a table: `GROUPS` lists the kinds of kernel objects a state holds
(the upper superblock, each upper inode, each overlay mount, each open file), each
with how its instances sit in the tuple and its fields; `KINDS` says how a field's
value reads.  A new kind of object in the state is one more entry in `GROUPS`.

A group may exist or not (an inode out of the cache has no `wb_err`, a free fd slot
no cursors): its `presence` field says so.  `changes` reports a group that comes into
existence with all its fields (a new fd's sampled cursors matter even when 0), and a
group that goes away by its presence field alone.
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from explorer.domain.errseq import (
    ERRNO_MASK,
    ERRSEQ_OBSERVED,
    ERRSEQ_REPORTED,
    ERRSEQ_SEEN,
    Flavour,
)
from explorer.domain.world import NORMAL, VOLATILE, Bounds, State

#: Names of the fd slots' groups are given per run (`fd1`, ...); this is the fallback.
SlotNames = Mapping[int, str]


def errno_name(magnitude: int) -> str:
    """5 -> "EIO": the OS's name of an errno magnitude (the number when it has none)."""
    return _errno.errorcode.get(magnitude, f"errno {magnitude}")


def errseq_fields(value: int, flavour: Flavour) -> str:
    """The parts of a non-zero errseq_t: "EIO, SEEN, ctr 0" (classic) or "EIO,
    REPORTED, OBSERVED, ctr 0" (split layout); "" for 0, which holds no error."""
    if value == 0:
        return ""
    parts = [errno_name(value & ERRNO_MASK)]
    if flavour.name == "split":
        if value & ERRSEQ_REPORTED:
            parts.append("REPORTED")
        if value & ERRSEQ_OBSERVED:
            parts.append("OBSERVED")
        counter = value >> 14
    else:
        if value & ERRSEQ_SEEN:
            parts.append("SEEN")
        counter = value >> 13
    parts.append(f"ctr {counter}")
    return ", ".join(parts)


def errseq_text(value: int, flavour: Flavour) -> str:
    """`0x1005 (EIO, SEEN, ctr 0)`; `0x0` for zero."""
    decoded = errseq_fields(value, flavour)
    return f"{value:#x} ({decoded})" if decoded else f"{value:#x}"


@dataclass(frozen=True)
class Kind:
    """How a field's value reads: `text(value, flavour, bounds)`."""

    name: str
    text: Callable[[int, Flavour, Bounds], str]


def _open_text(value: int, flavour: Flavour, b: Bounds) -> str:
    if value == 0:
        return "closed"
    return "open" if value == 1 else f"open on {b.owner_name(value - 2)}'s file"


ERRSEQ = Kind("errseq", lambda v, fl, b: errseq_text(v, fl))
FLAG = Kind("flag", lambda v, fl, b: "yes" if v else "no")
MOUNT = Kind(
    "mount", lambda v, fl, b: {0: "no", NORMAL: "normal", VOLATILE: "volatile"}.get(v, str(v))
)
OPEN = Kind("open", _open_text)
#: Every kind of field, by name (the HTML report's value tables are keyed by it).
KINDS = {k.name: k for k in (ERRSEQ, FLAG, MOUNT, OPEN)}


@dataclass(frozen=True)
class Group:
    """One kind of kernel object in the state: its instances (label, offset of its
    first field, fd slot or -1) for given bounds, and its fields (name, offset, kind);
    the field named by `presence` says whether an instance exists (None: always)."""

    what: str
    instances: Callable[[Bounds], Iterable[tuple[str, int, int]]]
    fields: tuple[tuple[str, int, Kind], ...]
    presence: str | None = None


def _slots(b: Bounds) -> Iterable[tuple[str, int, int]]:
    for owner in range(b.mounts + 1):
        for k, slot in enumerate(b.owner_slots(owner), 1):
            yield f"{b.owner_name(owner)}.slot{k}", b.fd_base(slot), slot


#: The state's objects, in the order a state is shown (docs/model.md §1).
GROUPS: tuple[Group, ...] = (
    Group("the upper superblock", lambda b: [("upper", 0, -1)], (("s_wb_err", 0, ERRSEQ),)),
    Group(
        "each file's upper inode",
        lambda b: ((f"{b.owner_name(i)}.inode", b.inode_base(i), -1) for i in range(b.files)),
        (("cached", 2, FLAG), ("wb_err", 0, ERRSEQ), ("dirty", 1, FLAG)),
        presence="cached",
    ),
    Group(
        "each container's overlay mount",
        lambda b: ((b.owner_name(c), b.ofs_base(c), -1) for c in range(b.mounts)),
        (("mounted", 0, MOUNT), ("sb.s_wb_err", 1, ERRSEQ), ("ofs.errseq", 2, ERRSEQ)),
        presence="mounted",
    ),
    Group(
        "each fd slot's open file",
        _slots,
        (("open", 0, OPEN), ("f_wb_err", 1, ERRSEQ), ("f_sb_err", 2, ERRSEQ)),
        presence="open",
    ),
)


@dataclass(frozen=True)
class Field:
    """One field of the state: where it is, how it reads, which group instance it
    belongs to (`group`: its label, `slot` for an fd's), and the index of the field
    saying whether that instance exists (`presence`, -1: it always does)."""

    group: str
    name: str
    index: int
    kind: Kind
    slot: int
    presence: int

    def label(self, names: SlotNames | None = None) -> str:
        """ "upper.s_wb_err", "ovl1.inode.dirty", "fd2.f_sb_err" (its run's fd name)."""
        group = names.get(self.slot, self.group) if names and self.slot >= 0 else self.group
        return f"{group}.{self.name}"


@cache
def fields(bounds: Bounds) -> tuple[Field, ...]:
    """Every field of a state of these bounds, in display order."""
    out: list[Field] = []
    for g in GROUPS:
        for label, base, slot in g.instances(bounds):
            offsets = dict((name, off) for name, off, _ in g.fields)
            presence = base + offsets[g.presence] if g.presence is not None else -1
            out += [Field(label, n, base + off, k, slot, presence) for n, off, k in g.fields]
    return tuple(out)


def present(f: Field, state: State) -> bool:
    """Whether the field's group instance exists in `state`."""
    return f.presence < 0 or bool(state[f.presence])


def value_text(f: Field, value: int, flavour: Flavour, bounds: Bounds) -> str:
    return f.kind.text(value, flavour, bounds)


@dataclass(frozen=True)
class Change:
    """A field a step changed: `old` is None when its group came into existence."""

    field: Field
    old: int | None
    new: int

    def text(self, flavour: Flavour, bounds: Bounds, names: SlotNames | None = None) -> str:
        """`upper.s_wb_err: 0x5 -> 0x1005 (EIO, SEEN, ctr 0)`; a new group's field has
        no arrow (`fd2.f_sb_err: 0x0`)."""
        new = value_text(self.field, self.new, flavour, bounds)
        if self.old is None:
            return f"{self.field.label(names)}: {new}"
        old = self.old
        old_text = (
            f"{old:#x}"
            if self.field.kind is ERRSEQ
            else value_text(self.field, old, flavour, bounds)
        )
        return f"{self.field.label(names)}: {old_text} -> {new}"


def changes(bounds: Bounds, before: State, after: State) -> list[Change]:
    """The fields that differ between two states, in display order: a group instance
    that came into existence with every field, one that went away by its presence
    field alone, any other by the fields that differ."""
    out: list[Change] = []
    for f in fields(bounds):
        was, now = present(f, before), present(f, after)
        if not now:
            if was and f.index == f.presence:
                out.append(Change(f, before[f.index], after[f.index]))
        elif not was:
            out.append(Change(f, None, after[f.index]))
        elif before[f.index] != after[f.index]:
            out.append(Change(f, before[f.index], after[f.index]))
    return out


def change_lines(
    bounds: Bounds,
    flavour: Flavour,
    before: State,
    after: State,
    names: SlotNames | None = None,
) -> list[str]:
    """`changes` as text, one line per field."""
    return [c.text(flavour, bounds, names) for c in changes(bounds, before, after)]


def state_lines(
    bounds: Bounds, flavour: Flavour, state: State, names: SlotNames | None = None
) -> list[str]:
    """Every field of the groups that exist in `state`, as `label: value` lines."""
    return [
        f"{f.label(names)}: {value_text(f, state[f.index], flavour, bounds)}"
        for f in fields(bounds)
        if present(f, state)
    ]


def run_names(bounds: Bounds, actions: Sequence, names: Sequence) -> list[dict[int, str]]:
    """Per step of a run, the fd name of each slot after it: `actions` are the run's
    world events, `names` the same run as scenario lines (their `fd`).  A closed fd
    keeps its name until its slot is opened again, so its close reads `fd1.open`."""
    current: dict[int, str] = {}
    out: list[dict[int, str]] = []
    for ev, line in zip(actions, names, strict=True):
        if ev.verb == "open" and line.fd:
            current[ev.arg] = line.fd
        out.append(dict(current))
    return out
