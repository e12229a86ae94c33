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
pair of a number and a frozenset of numbers: cheap to hash and to compare, and one value
per value the sets of (atomic state, results) would be, so the product is the same.
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
#: The calls in flight as (lane, event), sorted by lane.
Calls = tuple[tuple[int, Any], ...]
#: A configuration: (atomic state's number, per call in flight () or (result,)).
Config = tuple[int, tuple[tuple, ...]]


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
    _atomic: _Numbers = field(default_factory=_Numbers, repr=False)
    _calls: _Numbers = field(default_factory=_Numbers, repr=False)
    _configs: _Numbers = field(default_factory=_Numbers, repr=False)
    _enabled: list[frozenset] = field(default_factory=list, repr=False)
    _moves: dict[tuple[int, Any], tuple[int, Any] | None] = field(default_factory=dict, repr=False)
    _begun: dict[tuple[int, int, Any], tuple] = field(default_factory=dict, repr=False)
    _ended: dict[tuple[int, int, Any], tuple] = field(default_factory=dict, repr=False)
    _closed: dict[tuple[int, int], frozenset[int]] = field(default_factory=dict, repr=False)

    def initial(self) -> Lins:
        atomic0 = next(iter(self.model.atomic.initial_states()))
        return self._calls.number(()), frozenset({self._config(atomic0, ())})

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
            ci, k, grown = self._begin(ci, lane, action.event)
            parts = []
            for c in lins:
                got = grown.get(c)
                if got is None:
                    got = grown[c] = self._grow(ci, k, c)
                parts.append(got)
            lins = frozenset().union(*parts)
        if obs is PENDING:
            return (ci, lins), ""
        ci, k, ends = self._end(ci, lane, obs)
        kept = []
        for c in lins:
            end = ends.get(c)
            if end is None:
                a, r = self._configs.values[c]
                end = ends[c] = self._config(a, r[:k] + r[k + 1 :], True) if r[k] == (obs,) else -1
            if end >= 0:
                kept.append(end)
        why = "" if kept else "no order of the calls that keeps real time gives these results"
        return (ci, frozenset(kept)), why

    # --- numbering and the atomic model ------------------------------------------------

    def _config(self, a: Any, r: tuple, numbered: bool = False) -> int:
        """The number of the configuration (atomic state a, results r); a is a state, or
        its number when `numbered`."""
        if not numbered:
            a = self._atomic.number(a)
        return self._configs.number((a, r))

    def _move(self, a: int, ev: Any) -> tuple[int, Any] | None:
        """The atomic state (number) and result after `ev` in atomic state `a`, None when
        `ev` is not enabled there."""
        key = (a, ev)
        if key in self._moves:
            return self._moves[key]
        atomic, state = self.model.atomic, self._atomic.values[a]
        while len(self._enabled) <= a:
            self._enabled.append(frozenset(atomic.actions(self._atomic.values[len(self._enabled)])))
        got = None
        if ev in self._enabled[a]:
            a2, result = atomic.next_state(state, ev)
            got = (self._atomic.number(a2), result)
        self._moves[key] = got
        return got

    # --- a call begins: the configurations it adds --------------------------------------

    def _begin(self, ci: int, lane: int, ev: Any) -> tuple[int, int, dict[int, frozenset[int]]]:
        """The calls in flight once `ev` begins on `lane`, its place among them, and what
        each configuration grows into (filled as they come)."""
        key = (ci, lane, ev)
        got = self._begun.get(key)
        if got is None:
            calls = tuple(sorted((*self._calls.values[ci], (lane, ev)), key=lambda c: c[0]))
            k = next(i for i, c in enumerate(calls) if c[0] == lane)
            got = self._begun[key] = (self._calls.number(calls), k, {})
        return got

    def _end(self, ci: int, lane: int, obs: object) -> tuple[int, int, dict[int, int]]:
        """The calls in flight once the call on `lane` ends with `obs`, its place among
        those before, and what each configuration becomes (-1: dropped), filled as they
        come."""
        key = (ci, lane, obs)
        got = self._ended.get(key)
        if got is None:
            calls = self._calls.values[ci]
            k = next(i for i, c in enumerate(calls) if c[0] == lane)
            got = self._ended[key] = (self._calls.number(calls[:k] + calls[k + 1 :]), k, {})
        return got

    def _grow(self, ci: int, k: int, c: int) -> frozenset[int]:
        """Configuration c with the new call k not linearized yet, and every one that
        linearizes it, then any more calls in flight (c's set is closed under the others
        already, so a new configuration has k linearized)."""
        a, r = self._configs.values[c]
        out = {self._config(a, (*r[:k], (), *r[k:]), True)}
        moved = self._move(a, self._calls.values[ci][k][1])
        if moved is not None:
            a2, result = moved
            y = self._config(a2, (*r[:k], (result,), *r[k:]), True)
            got = self._closed.get((ci, y))
            if got is None:
                got = self._closed[(ci, y)] = self._close(ci, y)
            out |= got
        return frozenset(out)

    def _close(self, ci: int, c: int) -> frozenset[int]:
        """Every configuration that linearizes some more calls in flight after c's, in
        any order."""
        calls, configs = self._calls.values[ci], self._configs.values
        out = {c}
        todo = [c]
        while todo:
            a, r = configs[todo.pop()]
            for k, done in enumerate(r):
                if done:
                    continue
                moved = self._move(a, calls[k][1])
                if moved is None:
                    continue
                a2, result = moved
                nxt = self._config(a2, (*r[:k], (result,), *r[k + 1 :]), True)
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
        calls = self._calls.values[ci]
        moved = [
            (sym.translate_action(Call(lane, ev), perm), k) for k, (lane, ev) in enumerate(calls)
        ]
        order = sorted(range(len(moved)), key=lambda i: moved[i][0].lane)
        new_calls = tuple((moved[i][0].lane, moved[i][0].event) for i in order)
        new_lins = []
        for c in lins:
            a, r = self._configs.values[c]
            image = sym.atomic_image(self._atomic.values[a], perm)
            new_lins.append(self._config(image, tuple(r[moved[i][1]] for i in order)))
        return self._calls.number(new_calls), frozenset(new_lins)
