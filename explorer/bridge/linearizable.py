"""linearizable (docs/model.md §8): every run's results are those of an atomic order of its calls.

A run with calls in steps is linearizable when some order of all its calls
(environment events and calls that return nothing included) that keeps real time (a
call that ended before another began comes first; a thread's program order follows)
is a run of the atomic model, each call enabled at its place, giving every call the
result it had.  The check is a monitor over the run, so that the search over the
product is exhaustive and its first violation is a shortest run that has no such order.

Its bookkeeping is what a linearization can be after the run so far: the calls in
flight, and the set of (atomic state, what each call in flight was linearized with, or
nothing yet).  A call that begins may be linearized at once or later: after each
beginning, every state is closed under linearizing any call in flight not yet
linearized (when it is enabled in that atomic state).  A call that ends keeps the
states where it was linearized with its result.  No state left is the violation.
Calls are identified by their lanes, so the bookkeeping follows the run's threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.bridge.race_model import RaceModel
from explorer.domain.race_world import PENDING, Call
from explorer.domain.world import State
from explorer.engine.contract import Monitor

#: (calls in flight as (lane, event), sorted by lane; linearizations: frozenset of
#: (atomic state, per call in flight () or (result,)))
Lins = tuple[tuple[tuple[int, Any], ...], frozenset[tuple[State, tuple[tuple, ...]]]]


@dataclass
class Linearizable(Monitor[State, object, object, Lins]):
    """The linearizable property as a monitor of runs of a RaceModel."""

    model: RaceModel
    name: str = "linearizable"
    _memo: dict[tuple[Lins, Any, Any], tuple[Lins, str]] = field(default_factory=dict, repr=False)
    _closed: dict[tuple, frozenset] = field(default_factory=dict, repr=False)
    _one: dict[Lins, Lins] = field(default_factory=dict, repr=False)

    def initial(self) -> Lins:
        atomic0 = next(iter(self.model.atomic.initial_states()))
        return (), frozenset({(atomic0, ())})

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
        calls, lins = m
        lane = action.lane
        if type(action) is Call:
            calls = tuple(sorted((*calls, (lane, action.event))))
            k = next(i for i, c in enumerate(calls) if c[0] == lane)
            lins = frozenset((a, (*r[:k], (), *r[k:])) for a, r in lins)
            lins = self._close(calls, lins)
        if obs is PENDING:
            return (calls, lins), ""
        k = next(i for i, c in enumerate(calls) if c[0] == lane)
        want = (obs,)
        kept = frozenset((a, r[:k] + r[k + 1 :]) for a, r in lins if r[k] == want)
        calls = calls[:k] + calls[k + 1 :]
        if not kept:
            return (calls, kept), "no order of the calls that keeps real time gives these results"
        return (calls, kept), ""

    def _close(self, calls, lins):
        """Every linearization that linearizes some more calls in flight, in any order
        (each goes on alone: the union of each one's, kept per calls in flight)."""
        out: set = set()
        for lin in lins:
            key = (calls, lin)
            got = self._closed.get(key)
            if got is None:
                got = self._closed[key] = self._close1(calls, lin)
            out |= got
        return frozenset(out)

    def _close1(self, calls, lin):
        atomic = self.model.atomic
        out = {lin}
        todo = [lin]
        while todo:
            a, r = todo.pop()
            enabled = None
            for k, done in enumerate(r):
                if done:
                    continue
                if enabled is None:
                    enabled = set(atomic.actions(a))
                ev = calls[k][1]
                if ev not in enabled:
                    continue
                a2, result = atomic.next_state(a, ev)
                nxt = (a2, (*r[:k], (result,), *r[k + 1 :]))
                if nxt not in out:
                    out.add(nxt)
                    todo.append(nxt)
        return frozenset(out)

    def translate(self, m: Lins, perm: int) -> Lins:
        """The bookkeeping in the next stored state's coordinates (symmetry)."""
        sym = self.model.symmetry
        assert sym is not None
        calls, lins = m
        moved = [
            (sym.translate_action(Call(lane, ev), perm), k) for k, (lane, ev) in enumerate(calls)
        ]
        order = sorted(range(len(moved)), key=lambda i: moved[i][0].lane)
        new_calls = tuple((moved[i][0].lane, moved[i][0].event) for i in order)
        new_lins = frozenset(
            (sym.atomic_image(a, perm), tuple(r[moved[i][1]] for i in order)) for a, r in lins
        )
        return new_calls, new_lins
