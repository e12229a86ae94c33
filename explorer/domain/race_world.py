"""The world with calls in flight (docs/model.md §8): threads, their calls, their steps.

With races on, a state is the world's fields (explorer.domain.layout) followed by:

    per file:                  under writeback (a failing writeback holds its page)
    with T > 1 threads, per fd slot its f_lock, then per container its overlay lock
    per lane:                  0 (idle) or the call in flight: (event, done, *reads)

A lane is a thread: T per actor (the containers, then the host), `ovl1.1`, `host.2`,
and one per file for the environment (`env.ovl1`), whose failing writeback of that
file is a call of four steps.  A new call starts on its actor's lowest idle thread
(threads of one actor share its fds and are alike).  `start` and `advance` take one
step; `enabled_starts` says which calls may start (explorer.domain.events, plus what
calls in flight forbid: nothing touches an fd while it is being opened or a container
while it is being mounted, no fd is closed under a call on it, a page under writeback
is neither failed again nor evicted).  umount, close, evict and sync are one step
each, as the kernel serialises them with what could overlap them (s_umount, the fd
table); the others step through their shared accesses (explorer.domain.steps).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from explorer.domain import errseq_steps
from explorer.domain.events import all_events, enabled
from explorer.domain.layout import ENVIRONMENT, Bounds, Event, State
from explorer.domain.steps import Blocked, StepRun, Yield
from explorer.domain.vfs import Spec
from explorer.domain.world import File, OvlFs, SuperBlock, World


class _Of:
    """What a step says of its call, read as the event's own fields (so that code that
    names an event's verb, fd or container names a step's the same way)."""

    __slots__ = ()
    event: Event

    @property
    def verb(self) -> str:
        return self.event.verb

    @property
    def arg(self) -> int:
        return self.event.arg

    @property
    def volatile(self) -> bool:
        return self.event.volatile

    @property
    def err(self) -> int:
        return self.event.err

    @property
    def ino(self) -> int:
        return self.event.ino


@dataclass(frozen=True, slots=True)
class Call(_Of):
    """A call begins on `lane`, with its first step (docs/model.md §8)."""

    lane: int
    event: Event


@dataclass(frozen=True, slots=True)
class Resume(_Of):
    """The call `event` in flight on `lane` takes its next step (never equal to the
    Call that began it: a dataclass compares its class too, a NamedTuple would not)."""

    lane: int
    event: Event


#: The most threads per actor a run takes (`--threads`): a typo is refused at once.
MAX_THREADS = 8

#: The calls that run to their end in one step.
WHOLE = frozenset({"umount", "close", "evict", "sync"})

#: A state with races: the world's fields (ints), then per lane 0 or a call's record.
RaceState = tuple[Any, ...]

#: What an in-flight step returns as its observation: the call goes on.
PENDING = Ellipsis


@dataclass(frozen=True)
class RaceLayout:
    """Where the race fields of a state are, for one bounds, thread count and options."""

    bounds: Bounds
    threads: int = 1
    options: tuple[int, ...] = (1, 2)
    events: list[Event] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", all_events(self.bounds, self.options))

    @cached_property
    def event_id(self) -> dict[Event, int]:
        return {ev: k for k, ev in enumerate(self.events)}

    @cached_property
    def uw0(self) -> int:
        return self.bounds.width

    @cached_property
    def lock0(self) -> int:
        return self.uw0 + self.bounds.files

    @cached_property
    def nlocks(self) -> int:
        b = self.bounds
        return b.slots + b.mounts if self.threads > 1 else 0

    @cached_property
    def lane0(self) -> int:
        return self.lock0 + self.nlocks

    @cached_property
    def actor_lanes(self) -> int:
        return (self.bounds.mounts + 1) * self.threads

    @cached_property
    def lanes(self) -> int:
        return self.actor_lanes + self.bounds.files

    @cached_property
    def size(self) -> int:
        return self.lane0 + self.lanes

    def initial(self) -> RaceState:
        return self.bounds.initial() + (0,) * (self.size - self.bounds.width)

    # --- lanes -------------------------------------------------------------------------

    def lane_actor(self, lane: int) -> int:
        """The actor of a lane: a container, the host, or ENVIRONMENT."""
        return lane // self.threads if lane < self.actor_lanes else ENVIRONMENT

    def lane_name(self, lane: int) -> str:
        b = self.bounds
        if lane >= self.actor_lanes:
            return f"env.{b.owner_name(lane - self.actor_lanes)}"
        return f"{b.owner_name(lane // self.threads)}.{lane % self.threads + 1}"

    def lane_of(self, ev: Event, state: RaceState) -> int | None:
        """The lane a new call `ev` starts on (None: none is idle)."""
        actor = self.bounds.actor(ev)
        if actor == ENVIRONMENT:
            lane = self.actor_lanes + ev.arg
            return lane if not state[self.lane0 + lane] else None
        first = actor * self.threads
        for lane in range(first, first + self.threads):
            if not state[self.lane0 + lane]:
                return lane
        return None

    def in_flight(self, state: RaceState) -> Iterator[tuple[int, Event]]:
        """Every lane with a call in flight, and its event."""
        for lane in range(self.lanes):
            rec = state[self.lane0 + lane]
            if rec:
                yield lane, self.events[rec[0]]

    def quiescent(self, state: RaceState) -> bool:
        """No call in flight."""
        return not any(state[self.lane0 :])

    # --- which fields a call reaches alone -----------------------------------------

    @cached_property
    def raw(self) -> frozenset[int]:
        """Structural fields, read and written in place: no call in flight sees them
        change (an fd's `open`, an overlay's `mounted`, an inode's `cached`)."""
        b = self.bounds
        out = {b.fd_base(s) for s in range(b.slots)}
        out |= {b.ofs_base(c) for c in range(b.mounts)}
        out |= {b.inode_base(i) + 2 for i in range(b.files)}
        return frozenset(out)

    def private(self, ev: Event) -> frozenset[int]:
        """The fields no other thread can reach while `ev` is in flight: with one thread
        per actor, every fd's cursors and every overlay's errseq_t fields (each is its
        actor's alone); else the new struct file of an open, the overlay of a mount."""
        return self._private_all if self.threads == 1 else self._private_own(ev)

    @cached_property
    def _private_all(self) -> frozenset[int]:
        b = self.bounds
        out = {b.fd_base(s) + k for s in range(b.slots) for k in (1, 2)}
        out |= {b.ofs_base(c) + k for c in range(b.mounts) for k in (1, 2)}
        return frozenset(out)

    def _private_own(self, ev: Event) -> frozenset[int]:
        b = self.bounds
        if ev.verb == "open":
            return frozenset({b.fd_base(ev.arg) + 1, b.fd_base(ev.arg) + 2})
        if ev.verb == "mount":
            return frozenset({b.ofs_base(ev.arg) + 1, b.ofs_base(ev.arg) + 2})
        return frozenset()

    def lock_index(self, view: File | OvlFs) -> int | None:
        """Where a lock is (None: only one thread can reach it, so it never waits)."""
        if not self.nlocks:
            return None
        if isinstance(view, File):
            return self.lock0 + view.index
        return self.lock0 + self.bounds.slots + view.index

    # --- which calls may start ---------------------------------------------------------

    def enabled_starts(self, state: RaceState) -> list[tuple[int, Event]]:
        """The calls that may start in `state`, each with its lane."""
        b = self.bounds
        base = state[: b.width]
        mounting, opening, busy = set(), set(), set()
        for _, ev in self.in_flight(state):
            if ev.verb == "mount":
                mounting.add(ev.arg)
            elif ev.verb in ("open", "write", "fsync", "syncfs"):
                busy.add(ev.arg)
                if ev.verb == "open":
                    opening.add(ev.arg)
        out = []
        for ev in enabled(b, base, self.options):
            verb = ev.verb
            if verb in ("umount", "open") and b.actor(ev) in mounting:
                continue
            if verb in ("write", "fsync", "syncfs") and ev.arg in opening:
                continue
            if verb == "close" and ev.arg in busy:
                continue
            lane = self.lane_of(ev, state)
            if lane is not None:
                out.append((lane, ev))
        return out


class Cells:
    """The world's fields as a call in steps reaches them: every access goes to its
    StepRun, which replays it, makes it, or stops the call before it."""

    __slots__ = ("cells", "run")

    def __init__(self, cells: list[int], run: StepRun) -> None:
        self.cells, self.run = cells, run

    def __getitem__(self, i):
        if type(i) is int:
            return self.run.load(self.cells, i)
        return self.cells[i]

    def __setitem__(self, i, v) -> None:
        if type(i) is int:
            self.run.store(self.cells, i, v)
            return
        for k, x in zip(range(*i.indices(len(self.cells))), v, strict=True):
            self.run.store(self.cells, k, x)

    def __iter__(self):
        return iter(self.cells)

    def __len__(self) -> int:
        return len(self.cells)

    def cmpxchg(self, i: int, old: int, new: int) -> int:
        return self.run.cmpxchg(self.cells, i, old, new)

    def update(self, i: int, f) -> int:
        return self.run.update(self.cells, i, f)

    def warn(self, what: str) -> None:
        self.run.warn(what)


class StepWorld(World):
    """The World a hook sees while its call runs in steps."""

    __slots__ = ("layout", "run")

    def __init__(self, layout: RaceLayout, fields: State, run: StepRun) -> None:
        self.bounds, self.layout, self.run = layout.bounds, layout, run
        # The views index a list; Cells is one to them, every access going to the run.
        self._w = Cells(list(fields), run)  # type: ignore[assignment]
        self.sb = SuperBlock(self._w, 0, 0)

    def freeze(self) -> State:
        return tuple(self._w.cells)  # type: ignore[attr-defined]

    def _pages(self, inos) -> tuple[list[int], list[int]]:
        b, uw0 = self.bounds, self.layout.uw0
        return [b.inode_base(i) + 1 for i in inos], [uw0 + i for i in inos]

    def writeback(self, ino: int) -> None:
        dirty, uw = self._pages([ino])
        self.run.page_wait(self._w.cells, dirty, uw, "writeback")  # type: ignore[attr-defined]

    def writeback_all(self) -> None:
        dirty, uw = self._pages(range(self.bounds.files))
        self.run.page_wait(self._w.cells, dirty, uw, "writeback all")  # type: ignore[attr-defined]

    def take_page(self, ino: int) -> None:
        b = self.bounds
        self.run.take_page(self._w.cells, b.inode_base(ino) + 1, self.layout.uw0 + ino)  # type: ignore[attr-defined]

    def end_page_writeback(self, ino: int) -> None:
        self.run.end_writeback(self._w.cells, self.layout.uw0 + ino)  # type: ignore[attr-defined]

    def spin_lock(self, view: File | OvlFs) -> None:
        self.run.lock(self._w.cells, self.layout.lock_index(view))  # type: ignore[attr-defined]

    def spin_unlock(self, view: File | OvlFs) -> None:
        self.run.unlock(self._w.cells, self.layout.lock_index(view))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Stepped:
    """What one step did: the next state, the observation (the call's result when it
    ended, PENDING while it goes on), and, when asked for, what its accesses did."""

    state: RaceState
    obs: object
    labels: tuple = ()


def step(
    spec: Spec, layout: RaceLayout, state: RaceState, lane: int, describe: bool = False
) -> Stepped | None:
    """The next step of the call in flight on `lane` (None: it has to wait)."""
    rec = state[layout.lane0 + lane]
    return _run(spec, layout, state, lane, rec[0], rec[1], tuple(rec[2:]), describe)


def start(
    spec: Spec, layout: RaceLayout, state: RaceState, lane: int, ev: Event, describe: bool = False
) -> Stepped | None:
    """Start `ev` on `lane` and take its first step (None: it cannot start now)."""
    return _run(spec, layout, state, lane, layout.event_id[ev], 0, (), describe)


def _run(
    spec: Spec,
    layout: RaceLayout,
    state: RaceState,
    lane: int,
    eid: int,
    done: int,
    log: tuple[int, ...],
    describe: bool,
) -> Stepped | None:
    ev = layout.events[eid]
    run = StepRun(log, done, layout.private(ev), layout.raw, ev.verb in WHOLE, describe)
    w = StepWorld(layout, state[: layout.lane0], run)
    try:
        ret = spec.apply(w, ev)
    except Yield:
        rec: object = (eid, done + 1, *log, *run.reads)
        obs: object = PENDING
    except Blocked:
        return None
    else:
        rec, obs = 0, ret
    lanes: list[Any] = list(state[layout.lane0 :])
    lanes[lane] = rec
    return Stepped(w.freeze() + tuple(lanes), obs, tuple(run.labels))


def in_steps(spec: Spec, set_in_one: bool = False) -> Spec:
    """`spec` with its errseq flavour working access by access (explorer.domain.errseq_steps):
    the same hooks, for calls in steps."""
    twin = copy.copy(spec)
    twin.errseq = errseq_steps.in_steps(spec.errseq, set_in_one)
    return twin
