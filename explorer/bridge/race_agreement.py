"""agreement with races on: every history of one spec is a history of the other (§8).

Without races, agreement compares two specs' results on each sequence of events both
allow.  With calls in steps, a run's history is what its callers see: which call
began and which ended, in what order, on which thread, and each call's result.  Two
specs agree when every history the spec gives, the reference can give too, and the
other way round: a history whose calls the reference can make in that order, but
never with those results, is the violation.  The same spec agrees with itself, and
without overlapping calls this is the comparison without races.

`HistoryIn` checks one direction as a monitor over the checked spec's runs: its
bookkeeping is the set of the other spec's states reachable by a run with the same
history so far (the other spec's steps that begin or end nothing are free in
between).  A call the other spec cannot begin leaves the history outside it (no
violation); a call it can end, but never with that result, is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.bridge.race_model import NotEnabled, RaceModel
from explorer.domain.race_world import PENDING, Call
from explorer.domain.world import State
from explorer.engine.contract import Monitor

#: The other spec's runs with the same history so far: (its state, what it owes the
#: history) where each lane whose call the history began and has not ended is
#: (lane, "begun", event) while the other spec has not taken that call's first step,
#: and (lane, "ended", result) once its call has ended ahead of the history: a thread
#: may enter a call before its first shared access and return after its last one.
Others = frozenset[tuple[State, tuple]]


@dataclass
class HistoryIn(Monitor[State, Any, Any, Others]):
    """The histories of runs of one RaceModel, followed in `other`'s runs."""

    other: RaceModel
    symmetry: Any = None  # the checked model's, to carry the bookkeeping (same layout)
    name: str = "agreement"
    _memo: dict[tuple[Others, Any, Any], tuple[Others, str]] = field(
        default_factory=dict, repr=False
    )
    _moves: dict[State, list] = field(default_factory=dict, repr=False)
    _nexts: dict[tuple[State, tuple], list] = field(default_factory=dict, repr=False)
    _one: dict[Others, Others] = field(default_factory=dict, repr=False)

    def initial(self) -> Others:
        return frozenset((t, ()) for t in self.other.initial_states())

    def step(self, m: Others, s: State, action: Any, obs: Any) -> tuple[Others, str]:
        if type(action) is not Call and obs is PENDING:
            return m, ""
        key = (m, action, obs)
        got = self._memo.get(key)
        if got is None:
            m2, why = self._step(m, action, obs)
            # One object per value: lookups then compare by identity, not set by set.
            got = self._memo[key] = (self._one.setdefault(m2, m2), why)
        return got

    def _step(self, m: Others, action: Any, obs: Any) -> tuple[Others, str]:
        if not m:
            return m, ""  # the history left the other spec's already
        lane = action.lane
        if type(action) is Call:
            m = self._close(frozenset((t, (*owed, (lane, "begun", action.event))) for t, owed in m))
            if obs is PENDING:
                return m, ""
        done = (lane, "ended", obs)
        kept = frozenset((t, tuple(o for o in owed if o != done)) for t, owed in m if done in owed)
        if kept:
            return kept, ""
        if any(o[0] == lane for _, owed in m for o in owed):
            return kept, self._reason()
        return kept, ""  # the other spec could not even make this call

    def _close(self, m: Others) -> Others:
        """Every run the other spec can go on with before the history's next event: any
        step of a call the history began, its first step included, and an end, owed."""
        out = set(m)
        todo = list(m)
        nxt_of = self._nexts
        while todo:
            e = todo.pop()
            nxt = nxt_of.get(e)
            if nxt is None:
                nxt = nxt_of[e] = self._next(*e)
            for x in nxt:
                if x not in out:
                    out.add(x)
                    todo.append(x)
        return frozenset(out)

    def _next(self, t: State, owed: tuple) -> list[tuple[State, tuple]]:
        moves = self._moves.get(t)
        if moves is None:
            moves = self._moves[t] = self.other.free_successors(t)
        out = []
        for x, u, o in moves:
            out.append((u, owed if o is PENDING else (*owed, (x.lane, "ended", o))))
        for k, (lane, what, ev) in enumerate(owed):
            if what != "begun":
                continue
            try:
                u, o = self.other.next_state(t, Call(lane, ev))
            except NotEnabled:
                continue  # it cannot begin here (yet)
            rest = owed[:k] + owed[k + 1 :]
            out.append((u, rest if o is PENDING else (*rest, (lane, "ended", o))))
        return out

    def _reason(self) -> str:
        return f"{self.other.name} never gives this call that result with these overlaps"

    def translate(self, m: Others, perm: int) -> Others:
        sym = self.symmetry
        assert sym is not None
        return frozenset(
            (
                sym.image(t, perm),
                tuple(
                    (sym.translate_lane(ln, perm), w, sym.translate_action(Call(ln, v), perm).event)
                    if w == "begun"
                    else (sym.translate_lane(ln, perm), w, v)
                    for ln, w, v in owed
                ),
            )
            for t, owed in m
        )
