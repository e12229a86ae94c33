"""The errseq world with calls in steps, as a model for the engine (docs/model.md §8).

`RaceModel` is `ErrseqModel`'s twin for `--races`: its states hold the calls in flight
(explorer.domain.race_world), its actions are `Call(lane, event)`, a call beginning
with its first step, which costs 1 (the search's depth counts calls), and
`Resume(lane, event)`, its next step, which costs 0.  An action observes the call's
result when the step ends it and PENDING while it goes on.

A step's effect depends only on the call's record and on the fields of its event's
footprint (explorer.bridge.stepper), the pages under writeback and the locks: steps are
memoised on those, verified on every miss as the stepper verifies events (a spec that
reaches outside runs uncached, exactly).
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter
from typing import Any

from explorer.bridge.model import ErrseqModel, kind_rank
from explorer.bridge.race_symmetry import RaceSymmetry
from explorer.bridge.stepper import POISON, Poison, PoisonError, footprint
from explorer.domain import world
from explorer.domain.race_world import (
    PENDING,
    Call,
    RaceLayout,
    RaceState,
    Resume,
    Stepped,
    in_steps,
    start,
    step,
)
from explorer.domain.scenario import result_name
from explorer.domain.vfs import Spec, SpecHookError
from explorer.domain.world import NORMAL, VOLATILE, Bounds, Event
from explorer.engine.contract import Model, Observers, Role

Action = Call | Resume


class NotEnabled(ValueError):
    """The action cannot be taken in this state (its call cannot begin, or its step has
    to wait).  Its own class, so that code trying an action catches this alone and a
    spec's SpecHookError, a ValueError too, still ends the run as bad input."""


class RaceModel(Model[RaceState, Action, Any], Observers[Action]):
    """One spec over one bounded world, `threads` threads per actor, calls in steps."""

    def __init__(
        self,
        spec: Spec,
        bounds: Bounds,
        options: tuple[int, ...] = (NORMAL, VOLATILE),
        threads: int = 1,
        symmetry: bool | RaceSymmetry = False,
        cache: bool = True,
        set_in_one: bool = True,
    ) -> None:
        self.spec, self.bounds, self.options, self.threads = spec, bounds, options, threads
        self.name = spec.name
        self.steps = in_steps(spec, set_in_one)
        self.layout = RaceLayout(bounds, threads, options)
        #: the same spec with calls in one step: what a linearization runs
        self.atomic = ErrseqModel(spec, bounds, options)
        if isinstance(symmetry, RaceSymmetry):
            assert symmetry.L == self.layout, "a shared symmetry is one of the model's layout"
            self.symmetry: RaceSymmetry | None = symmetry
        else:
            self.symmetry = RaceSymmetry(self.layout) if symmetry else None
        self.cache = cache
        self._memo: dict[int, tuple[Any, dict]] = {}  # event id -> (getter, memo)
        self._starts: dict[tuple, list[tuple[Call, int]]] = {}
        self._resumes: dict[tuple[int, int], Resume] = {}
        L = self.layout
        self._lane0 = L.lane0
        self._plans: list[tuple[Any, dict] | None] = [None] * len(L.events)
        flags = [bounds.ofs_base(c) for c in range(bounds.mounts)]
        flags += [bounds.fd_base(s) for s in range(bounds.slots)]
        flags += [bounds.inode_base(i) + k for i in range(bounds.files) for k in (1, 2)]
        flags += range(L.uw0, L.lock0)
        self._flags = itemgetter(*flags)

    def __repr__(self) -> str:
        return f"RaceModel({self.name}, {self.bounds}, threads={self.threads})"

    # --- the engine's Model ------------------------------------------------------------

    def initial_states(self) -> list[RaceState]:
        return [self.layout.initial()]

    def cost(self, action: Action) -> int:
        return 1 if type(action) is Call else 0

    def actions(self, state: RaceState) -> list[Action]:
        return [a for a, _, _ in self.successors(state)]

    def successors(self, state: RaceState) -> list[tuple[Action, RaceState, Any]]:
        """Every call in flight's next step (lanes in order), then every call that may
        begin."""
        out = self.free_successors(state)
        take = self._take
        for call, eid in self._calls(state):
            got = take(state, call.lane, eid, (0,))
            if got is not None:
                out.append((call, *got))
        return out

    def free_successors(self, state: RaceState) -> list[tuple[Action, RaceState, Any]]:
        """The next step of every call in flight, lanes in order."""
        out: list[tuple[Action, RaceState, Any]] = []
        resumes, take = self._resumes, self._take
        lane = 0
        for rec in state[self._lane0 :]:
            if rec:
                got = take(state, lane, rec[0], rec[1:])
                if got is not None:
                    action = resumes.get((lane, rec[0]))
                    if action is None:
                        action = resumes[(lane, rec[0])] = Resume(lane, self.layout.events[rec[0]])
                    out.append((action, *got))
            lane += 1
        return out

    def next_state(self, state: RaceState, action: Action) -> tuple[RaceState, Any]:
        L = self.layout
        if type(action) is Call:
            got = self._take(state, action.lane, L.event_id[action.event], (0,))
        else:
            rec = state[L.lane0 + action.lane]
            got = self._take(state, action.lane, rec[0], rec[1:]) if rec else None
        if got is None:
            raise NotEnabled(f"{action} is not enabled")
        return got

    def starts(self, state: RaceState) -> list[tuple[int, Event]]:
        """The calls that may begin, with their lanes."""
        return [(call.lane, call.event) for call, _ in self._calls(state)]

    def _calls(self, state: RaceState) -> list[tuple[Call, int]]:
        """The calls that may begin, with their events' ids (memoised on what decides it:
        the flags, and which lanes are busy with what)."""
        key = (self._flags(state), *[r[0] if r else -1 for r in state[self._lane0 :]])
        got = self._starts.get(key)
        if got is None:
            L = self.layout
            got = self._starts[key] = [
                (Call(lane, ev), L.event_id[ev]) for lane, ev in L.enabled_starts(state)
            ]
        return got

    def describe_step(self, state: RaceState, action: Action) -> Stepped | None:
        """The step `action` takes, with what each of its accesses did."""
        if type(action) is Call:
            return start(self.steps, self.layout, state, action.lane, action.event, True)
        return step(self.steps, self.layout, state, action.lane, True)

    # --- steps, memoised ---------------------------------------------------------------

    def _take(
        self, state: RaceState, lane: int, eid: int, rec: tuple
    ) -> tuple[RaceState, Any] | None:
        """The step of the call `eid` with record tail `rec` (done, *reads) on `lane`."""
        if not self.cache:
            return self._direct(state, lane, eid, rec)
        plan = self._plans[eid]
        if plan is None:
            plan = self._plans[eid] = self._memo[eid] = self._plan(self.layout.events[eid])
        getter, memo = plan
        key = (rec, getter(state))
        hit = memo.get(key)
        if hit is None:
            hit = self._miss(state, lane, eid, rec)
            if hit is None:
                self.cache = False
                return self._direct(state, lane, eid, rec)
            memo[key] = hit
        if hit is False:
            return None
        writes, new_rec, obs = hit
        t = list(state)
        for i, v in writes:
            t[i] = v
        t[self._lane0 + lane] = new_rec
        return tuple(t), obs

    def _plan(self, ev: Event) -> tuple[Any, dict]:
        L = self.layout
        reads, consts = footprint(self.bounds, ev)
        fields = sorted({*reads, *consts, *range(L.uw0, L.lane0)})
        return itemgetter(*fields), {}

    def _direct(
        self, state: RaceState, lane: int, eid: int, rec: tuple
    ) -> tuple[RaceState, Any] | None:
        got = self._run(state, lane, eid, rec)
        return None if got is None else (got.state, got.obs)

    def _run(self, state: Any, lane: int, eid: int, rec: tuple) -> Stepped | None:
        L = self.layout
        if rec == (0,):
            return start(self.steps, L, state, lane, L.events[eid])
        t = list(state)
        t[L.lane0 + lane] = (eid, *rec)
        return step(self.steps, L, tuple(t), lane)

    def _miss(self, state: RaceState, lane: int, eid: int, rec: tuple):
        """The step's effect as (writes, new record, observation), False when it has to
        wait; None when the step reaches outside what it is memoised on."""
        L = self.layout
        getter, _ = self._memo[eid]
        keep = set(getter(range(len(state))))
        poisoned: list[Any] = [POISON] * L.lane0 + [0] * L.lanes
        for i in keep:
            poisoned[i] = state[i]
        try:
            got = self._run(tuple(poisoned), lane, eid, rec)
        except PoisonError:
            return None
        except SpecHookError as exc:
            if not isinstance(exc.__cause__, PoisonError):
                self._run(state, lane, eid, rec)  # the hook's own error, if it has it
            return None
        direct = self._run(state, lane, eid, rec)
        if got is None or direct is None:
            return False if got is None and direct is None else None
        writes = []
        for i in range(L.lane0):
            new = got.state[i]
            if isinstance(new, Poison):
                continue
            if new != state[i]:
                if i not in keep:
                    return None
                writes.append((i, new))
        t = list(state)
        for i, v in writes:
            t[i] = v
        new_rec = got.state[L.lane0 + lane]
        t[L.lane0 + lane] = new_rec
        if tuple(t) != direct.state or got.obs != direct.obs:
            return None
        return tuple(writes), new_rec, got.obs

    # --- what the isolation check asks (Observers) -------------------------------------

    def viewers(self) -> list[int]:
        return list(range(self.bounds.mounts))

    def role(self, action: Action, viewer: int) -> Role:
        """Every step of the viewer's own calls is its own; every step of the
        environment's calls (failing writebacks, evictions) is seen by all."""
        actor = self.layout.lane_actor(action.lane)
        if actor == viewer:
            return Role.INSIDE
        return Role.ENVIRONMENT if actor == world.ENVIRONMENT else Role.OUTSIDE

    def kind(self, action: Action) -> str:
        return action.event.verb

    def kind_rank(self, kind: str) -> int:
        return kind_rank(kind)

    def settles(self, obs: object) -> bool:
        """A step that does not end its call observes no result."""
        return obs is not PENDING


def is_pending(obs: object) -> bool:
    """The step did not end its call."""
    return obs is PENDING


def race_tally(actions: list, obs: list) -> Counter:
    """Coverage with races: how many calls of each kind began, and how many ended with
    which error ("fsync EIO")."""
    c: Counter = Counter(a.event.verb for a in actions if type(a) is Call)
    for a, o in zip(actions, obs, strict=True):
        if o is not PENDING and o:
            c[f"{a.event.verb} {result_name(o)}"] += 1
    return c
