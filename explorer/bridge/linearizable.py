"""linearizable (docs/model.md §8): every run's results are those of an atomic order of its calls.

A run with calls in steps is linearizable when some order of all its calls
(environment events and calls that return nothing included) that keeps real time (a
call that ended before another began comes first; a thread's program order follows)
is a run of the atomic model, each call enabled at its place, giving every call the
result it had.  The check is a monitor over the run, so that the search over the
product is exhaustive and its first violation is a shortest run that has no such order.

Its bookkeeping is what a linearization can be after the run so far: the calls in
flight, and the set of configurations (atomic state, what each call in flight was
linearized with, or nothing yet).  A call that begins may be linearized at once or
later: after each beginning, the set is closed under linearizing any call in flight
not yet linearized (when it is enabled in that atomic state).  A call that ends keeps
the configurations where it was linearized with its result.  No configuration left is
the violation.  Calls are identified by their lanes, so the bookkeeping follows the
run's threads.

The set is closed after every step (a call's end keeps that: what it keeps linearizes
the same calls as before), so a call's beginning only adds the configurations where the
new call is linearized, and what the others can do after it.  Atomic states, call
lists and configurations are numbered once per monitor, so that the bookkeeping is a
number and a frozenset of numbers, cheap to hash and to compare.  Numbers and the
values they stand for correspond one to one, so the product (its states, its counts,
its first violation) is the one the sets themselves would give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.bridge.race_model import RaceModel
from explorer.domain.race_world import PENDING, Call
from explorer.domain.world import State
from explorer.engine.contract import Monitor

#: (calls in flight, by number; configurations, by number)
Lins = tuple[int, frozenset[int]]
#: A configuration: (atomic state's number, per lane () or (result,): () for a lane
#: whose call is not linearized yet, or that has none in flight).
Config = tuple[int, tuple[tuple, ...]]

#: What `_move` has not been asked yet.
_UNKNOWN = object()


class _Numbers:
    """Values numbered in the order they come: `number(v)`, and `values[n]` back."""

    __slots__ = ("ids", "values")

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.values: list = []

    def number(self, value: Any) -> int:
        n = self.ids.get(value)
        if n is None:
            n = self.ids[value] = len(self.values)
            self.values.append(value)
        return n


@dataclass
class Linearizable(Monitor[State, object, object, Lins]):
    """The linearizable property as a monitor of runs of a RaceModel."""

    model: RaceModel
    name: str = "linearizable"
    _memo: dict[tuple[Lins, Any, Any], tuple[Lins, str]] = field(default_factory=dict, repr=False)
    _one: dict[Lins, Lins] = field(default_factory=dict, repr=False)
    #: atomic states; calls in flight as ((lane, event), ...) sorted by lane; Configs
    _atomic: _Numbers = field(default_factory=_Numbers, repr=False)
    _calls: _Numbers = field(default_factory=_Numbers, repr=False)
    _configs: _Numbers = field(default_factory=_Numbers, repr=False)
    #: per event, per atomic state (number): (next state's number, result) or None
    _moves: dict[Any, dict[int, Any]] = field(default_factory=dict, repr=False)
    _enabled: list[frozenset] = field(default_factory=list, repr=False)
    _pending: dict[int, list[tuple[int, Any, dict]]] = field(default_factory=dict, repr=False)
    _begun: dict[tuple[int, int, Any], tuple] = field(default_factory=dict, repr=False)
    _ended: dict[tuple[int, int, Any], tuple] = field(default_factory=dict, repr=False)
    _closed: dict[tuple[int, int], frozenset[int]] = field(default_factory=dict, repr=False)

    def initial(self) -> Lins:
        atomic0 = next(iter(self.model.atomic.initial_states()))
        a = self._atomic.number(atomic0)
        idle = ((),) * self.model.layout.lanes
        return self._calls.number(()), frozenset({self._configs.number((a, idle))})

    def step(self, m: Lins, s: State, action, obs: object) -> tuple[Lins, str]:
        if type(action) is not Call and obs is PENDING:
            return m, ""
        key = (m, action, obs)
        got = self._memo.get(key)
        if got is None:
            m2, why = self._step(m, action, obs)
            # One object per value: lookups then compare by identity, not set by set.
            got = self._memo[key] = (self._one.setdefault(m2, m2), why)
        return got

    def _step(self, m: Lins, action, obs: object) -> tuple[Lins, str]:
        ci, lins = m
        lane = action.lane
        if type(action) is Call:
            ci, moves, grown = self._begin(ci, lane, action.event)
            parts = []
            for c in lins:
                got = grown.get(c)
                if got is None:
                    got = grown[c] = self._grow(ci, lane, action.event, moves, c)
                parts.append(got)
            lins = lins.union(*parts)
        if obs is PENDING:
            return (ci, lins), ""
        ci, ends = self._end(ci, lane, obs)
        kept = []
        configs = self._configs
        for c in lins:
            end = ends.get(c)
            if end is None:
                a, r = configs.values[c]
                end = -1
                if r[lane] == (obs,):
                    end = configs.number((a, (*r[:lane], (), *r[lane + 1 :])))
                ends[c] = end
            if end >= 0:
                kept.append(end)
        why = "" if kept else "no order of the calls that keeps real time gives these results"
        return (ci, frozenset(kept)), why

    # --- the atomic model --------------------------------------------------------------

    def _moves_of(self, ev: Any) -> dict[int, Any]:
        got = self._moves.get(ev)
        if got is None:
            got = self._moves[ev] = {}
        return got

    def _move(self, a: int, ev: Any, moves: dict[int, Any]) -> tuple[int, Any] | None:
        """The atomic state (number) and result after `ev` in atomic state `a`, None when
        `ev` is not enabled there; `moves` is `ev`'s memo."""
        atomic, state = self.model.atomic, self._atomic.values[a]
        while len(self._enabled) <= a:
            self._enabled.append(frozenset(atomic.actions(self._atomic.values[len(self._enabled)])))
        got = None
        if ev in self._enabled[a]:
            a2, result = atomic.next_state(state, ev)
            got = (self._atomic.number(a2), result)
        moves[a] = got
        return got

    # --- a call begins or ends ---------------------------------------------------------

    def _begin(self, ci: int, lane: int, ev: Any) -> tuple[int, dict, dict[int, frozenset[int]]]:
        """The calls in flight once `ev` begins on `lane`, `ev`'s moves, and what each
        configuration adds (filled as they come)."""
        key = (ci, lane, ev)
        got = self._begun.get(key)
        if got is None:
            calls = tuple(sorted((*self._calls.values[ci], (lane, ev)), key=lambda c: c[0]))
            got = self._begun[key] = (self._calls.number(calls), self._moves_of(ev), {})
        return got

    def _end(self, ci: int, lane: int, obs: object) -> tuple[int, dict[int, int]]:
        """The calls in flight once the call on `lane` ends with `obs`, and what each
        configuration becomes (-1: dropped), filled as they come."""
        key = (ci, lane, obs)
        got = self._ended.get(key)
        if got is None:
            calls = tuple(c for c in self._calls.values[ci] if c[0] != lane)
            got = self._ended[key] = (self._calls.number(calls), {})
        return got

    def _grow(self, ci: int, lane: int, ev: Any, moves: dict, c: int) -> frozenset[int]:
        """What configuration c adds when a call begins on `lane`: every one that
        linearizes it, then any more calls in flight (c's set is closed under the others
        already, so a new configuration has the new call linearized)."""
        a, r = self._configs.values[c]
        moved = moves.get(a, _UNKNOWN)
        if moved is _UNKNOWN:
            moved = self._move(a, ev, moves)
        if moved is None:
            return frozenset()
        a2, result = moved
        y = self._configs.number((a2, (*r[:lane], (result,), *r[lane + 1 :])))
        got = self._closed.get((ci, y))
        if got is None:
            got = self._closed[(ci, y)] = self._close(ci, y)
        return got

    def _close(self, ci: int, c: int) -> frozenset[int]:
        """Configuration c and every one that linearizes some more calls in flight after
        c's, in any order."""
        pending = self._pending.get(ci)
        if pending is None:
            pending = self._pending[ci] = [
                (lane, ev, self._moves_of(ev)) for lane, ev in self._calls.values[ci]
            ]
        configs = self._configs
        out = {c}
        todo = [c]
        while todo:
            a, r = configs.values[todo.pop()]
            for lane, ev, moves in pending:
                if r[lane]:
                    continue
                moved = moves.get(a, _UNKNOWN)
                if moved is _UNKNOWN:
                    moved = self._move(a, ev, moves)
                if moved is None:
                    continue
                a2, result = moved
                nxt = configs.number((a2, (*r[:lane], (result,), *r[lane + 1 :])))
                if nxt not in out:
                    out.add(nxt)
                    todo.append(nxt)
        return frozenset(out)

    # --- symmetry ----------------------------------------------------------------------

    def translate(self, m: Lins, perm: int) -> Lins:
        """The bookkeeping in the next stored state's coordinates (symmetry)."""
        sym = self.model.symmetry
        assert sym is not None
        ci, lins = m
        moved = [sym.translate_action(Call(lane, ev), perm) for lane, ev in self._calls.values[ci]]
        new_calls = tuple(sorted(((c.lane, c.event) for c in moved), key=lambda c: c[0]))
        lanes = [(lane, sym.translate_lane(lane, perm)) for lane, _ in self._calls.values[ci]]
        new_lins = []
        for c in lins:
            a, r = self._configs.values[c]
            image = self._atomic.number(sym.atomic_image(self._atomic.values[a], perm))
            t = [()] * len(r)
            for old, new in lanes:
                t[new] = r[old]
            new_lins.append(self._configs.number((image, tuple(t))))
        return self._calls.number(new_calls), frozenset(new_lins)
