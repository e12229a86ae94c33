"""A claim's runs with races on: the product of the world in steps and the claim's
thread programs (docs/claims-language.md, Races; docs/model.md §8).

A claim with `races on` in its `bounds:` runs each program on a thread of its actor
(`host.2:` on its second thread, sharing its fds; `host:`, the actor's own program, on
its first, and its threads start once it has ended; `env:` the environment, whose
calls on a file take that file's lane), and its calls are
explorer.bridge.race_model's: a call is the steps of its shared accesses, and any
thread's next step may come next.  A node of the product is

    state    the RaceModel's state (the world, pages under writeback, locks, calls
             in flight)
    pcs      per program, the index of its next line (it moves when a call ends)
    flying   per program, the lane of its call in flight, or -1
    fds      per fd the claim names, its slot while open, else -1
    tallies  per call a `attempts(...)`/`warned(...)` atom counts: (cmpxchgs, WARNs)
             of its steps so far
    record   one bit per atom, set when it became true: `E = R` when E's last step
             returned R, `A < B` when B began after A had ended (real time), a tally
             when its call ended with a count that satisfies it

A run is a path to a node where every call has ended; two runs are one when they
take the same steps in the same order (a step is (lane, call), and at most one
program steps on a lane at a time, so distinct paths are distinct step sequences).  Every step makes progress, so the
graph is acyclic, and runs are counted per node by memoised depth-first search:
paths of different lengths may meet (a lockless fast path against the slow one), so
the level-by-level count of explorer.engine.count does not apply.

errseq_set's loop is one step (docs/races.md, Reductions) unless the claim counts
`attempts(...)`: then its read and every cmpxchg are steps, so the counts see them.
"""

from __future__ import annotations

import sys
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, NamedTuple

from explorer.bridge.race_model import RaceModel
from explorer.bridge.race_runs import notes
from explorer.domain import world
from explorer.domain.claim import Claim, ProgramLine, required_bounds
from explorer.domain.claim_formula import Atom, Before, LineId, Returns, Tally
from explorer.domain.claim_program import actor_of, thread_of
from explorer.domain.claim_tally import holds
from explorer.domain.events import why_disabled
from explorer.domain.race_scenario import format_race
from explorer.domain.race_world import PENDING, Call, Resume
from explorer.domain.scenario import owner_index, result_name
from explorer.domain.vfs import Spec
from explorer.domain.world import ERRNOS, MOUNT_OPTIONS, Event


class RNode(NamedTuple):
    state: tuple
    pcs: tuple[int, ...]
    flying: tuple[int, ...]
    fds: tuple[int, ...]
    tallies: tuple[tuple[int, int], ...]
    record: int
    results: tuple[str, ...]  # per event the States name: its result, "-" before


@dataclass
class Counted:
    """A claim's runs under one spec with races on."""

    satisfied: int
    unsatisfied: int
    filtered: int
    states: int
    stuck: list[tuple[ProgramLine, str]]  # where the interleavings that never end stop, why
    outcomes: Counter  # (results of the named events, "sat"/"unsat"/"filtered") -> runs


class RaceClaim:
    """The runs of `claim` (races on) under `spec` at the claim's bounds."""

    def __init__(self, claim: Claim, spec: Spec) -> None:
        self.claim = claim
        cb = self.bounds = required_bounds(claim)
        b = self.world_bounds = cb.world()
        self.options = MOUNT_OPTIONS[cb.mount_options]
        atoms: list[Atom] = []
        for f in (claim.filter, claim.formula):
            for a in f.atoms() if f is not None else ():
                if a not in atoms:
                    atoms.append(a)
        self.atoms = atoms
        self.bit = {a: 1 << i for i, a in enumerate(atoms)}
        counts = any(isinstance(a, Tally) and a.what == "attempts" for a in atoms)
        spec = spec.with_counter_bits(cb.counter_bits)
        self.model = RaceModel(spec, b, self.options, cb.threads, set_in_one=not counts)
        self.L = self.model.layout
        self.names = list(claim.programs)
        self.lines = [claim.programs[n] for n in self.names]
        self.program_of = {n: i for i, n in enumerate(self.names)}
        self.lane = [self._lane(n) for n in self.names]
        # A thread program (ACTOR.K) starts when its actor's own program has ended
        # (docs/model.md §8): the index of that program, or -1.
        self.after = [self.program_of.get(actor_of(n), -1) if "." in n else -1 for n in self.names]
        opens = [
            pl for pl in claim.lines() if isinstance(pl, ProgramLine) and pl.event.verb == "open"
        ]
        self.fd_names = [pl.event.fd or "" for pl in opens]
        self.fd_index = {name: i for i, name in enumerate(self.fd_names)}
        tallied = sorted({a.event.id for a in atoms if isinstance(a, Tally)})
        self.tally_index = {line: i for i, line in enumerate(tallied)}
        self.begins: dict[LineId, list[Before]] = {}
        self.ends: dict[LineId, list[Returns | Tally]] = {}
        for a in atoms:
            if isinstance(a, Before):
                self.begins.setdefault(a.then.id, []).append(a)
            else:
                self.ends.setdefault(a.event.id, []).append(a)
        self.named: dict[LineId, int] = {}

    def name_results(self, named: list[LineId]) -> None:
        """Carry the results of these events (herd7's States) in the nodes."""
        self.named = {line: k for k, line in enumerate(named)}

    def _lane(self, name: str) -> int | None:
        """A program's lane (None for env: its calls take their file's lane)."""
        actor = actor_of(name)
        if actor == "env":
            return None
        return owner_index(actor, self.world_bounds.mounts) * self.L.threads + thread_of(name) - 1

    def initial(self) -> RNode:
        n = len(self.names)
        return RNode(
            self.L.initial(),
            (0,) * n,
            (-1,) * n,
            (-1,) * len(self.fd_names),
            ((0, 0),) * len(self.tally_index),
            0,
            ("-",) * len(self.named),
        )

    def complete(self, node: RNode) -> bool:
        return all(
            pc == len(lines) for pc, lines in zip(node.pcs, self.lines, strict=True)
        ) and all(f < 0 for f in node.flying)

    def holds(self, node: RNode, which: str) -> bool:
        f = self.claim.filter if which == "filter" else self.claim.formula
        return f is None or f.decide(lambda atom: bool(node.record & self.bit[atom]))

    # --- steps ---------------------------------------------------------------------------

    def world_event(self, pl: ProgramLine, node: RNode) -> Event | None:
        """The world event a program line performs in `node` (None: not now, an fd not
        open yet or no free slot)."""
        b, e = self.world_bounds, pl.event
        who = self._who(e.target or "")
        if e.verb in ("mount", "umount"):
            return Event(e.verb, who, e.volatile)
        if e.verb == "wberror":
            return Event("wberror", who, err=ERRNOS[e.errno])
        if e.verb == "evict":
            return Event("evict", who)
        if e.verb == "sync":
            return Event("sync")
        if e.verb == "open":
            slot = world.free_slot(b, node.state[: b.width], who)
            ino = owner_index(e.file, b.mounts) if e.file else -1
            return None if slot is None else Event("open", slot, ino=ino)
        slot = node.fds[self.fd_index[e.fd or ""]]
        return None if slot < 0 else Event(e.verb, slot)

    def _who(self, name: str) -> int:
        return owner_index(name, self.world_bounds.mounts) if name else 0

    def successors(self, node: RNode) -> list[tuple[int, Any, RNode, object]]:
        """Every program's next step: its call in flight's, or its next line's first."""
        out = []
        L, m = self.L, self.model
        for i, lines in enumerate(self.lines):
            lane = node.flying[i]
            if lane >= 0:
                rec = node.state[L.lane0 + lane]
                action: Any = Resume(lane, L.events[rec[0]])
            elif node.pcs[i] < len(lines):
                if not self._started(node, i):
                    continue
                pl = lines[node.pcs[i]]
                assert isinstance(pl, ProgramLine)  # `any K` is refused with races on
                ev = self.world_event(pl, node)
                if ev is None or ev not in {e for _, e in m.starts(node.state)}:
                    continue
                own = self.lane[i]
                free = L.lane_of(ev, node.state) if own is None else own
                if free is None or node.state[L.lane0 + free]:
                    continue
                action = Call(free, ev)
            else:
                continue
            try:
                t, obs = m.next_state(node.state, action)
            except ValueError:
                continue  # it waits (a lock, a page under writeback)
            out.append((i, action, self._after(node, i, action, t, obs), obs))
        return out

    def _started(self, node: RNode, i: int) -> bool:
        """Whether program i may run: a thread program once its actor's own has ended."""
        j = self.after[i]
        return j < 0 or (node.pcs[j] == len(self.lines[j]) and node.flying[j] < 0)

    def _after(self, node: RNode, i: int, action: Any, t: tuple, obs: object) -> RNode:
        """The node after program i's step `action` led to world state `t`."""
        pl = self.lines[i][node.pcs[i]]
        assert isinstance(pl, ProgramLine)
        record, tallies = node.record, node.tallies
        if type(action) is Call:
            for a in self.begins.get(pl.id, ()):
                first = a.first.id
                if node.pcs[self.program_of[first[0]]] > first[1]:
                    record |= self.bit[a]
        k = self.tally_index.get(pl.id)
        if k is not None:
            stepped = self.model.describe_step(node.state, action)
            labels = stepped.labels if stepped is not None else ()
            cas, warns = tallies[k]
            cas += sum(1 for lab in labels if lab[0] == "cmpxchg")
            warns += sum(1 for lab in labels if lab[0] == "warn")
            tallies = tallies[:k] + ((cas, warns),) + tallies[k + 1 :]
        pcs, flying, fds = node.pcs, node.flying, node.fds
        if obs is PENDING:
            flying = flying[:i] + (action.lane,) + flying[i + 1 :]
            return RNode(t, pcs, flying, fds, tallies, record, node.results)
        results = node.results
        if (n := self.named.get(pl.id)) is not None:
            results = results[:n] + (result_name(obs) or "-",) + results[n + 1 :]  # type: ignore[arg-type]
        for end in self.ends.get(pl.id, ()):
            if isinstance(end, Returns):
                hit = obs == end.result
            else:
                assert k is not None
                hit = holds(end, tallies[k][0] if end.what == "attempts" else tallies[k][1])
            if hit:
                record |= self.bit[end]
        if k is not None:
            tallies = tallies[:k] + ((0, 0),) + tallies[k + 1 :]
        if pl.event.fd is not None:
            f = self.fd_index[pl.event.fd]
            ev = action.event
            slot = ev.arg if ev.verb == "open" else -1 if ev.verb == "close" else fds[f]
            fds = fds[:f] + (slot,) + fds[f + 1 :]
        pcs = pcs[:i] + (pcs[i] + 1,) + pcs[i + 1 :]
        flying = flying[:i] + (-1,) + flying[i + 1 :]
        return RNode(t, pcs, flying, fds, tallies, record, results)

    # --- runs ----------------------------------------------------------------------------

    def count(self) -> Counted:
        """Every run counted by whether it passes the filter and satisfies the formula,
        and by the outcome of the named events."""
        memo: dict[RNode, Counter] = {}
        stuck: dict[LineId, tuple[ProgramLine, str]] = {}
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 10_000))
        try:
            got = self._count(self.initial(), memo, stuck)
        finally:
            sys.setrecursionlimit(limit)
        kinds: Counter = Counter()
        for (_, kind), n in got.items():
            kinds[kind] += n
        order = sorted(stuck.values(), key=lambda x: x[0].line)
        return Counted(kinds["sat"], kinds["unsat"], kinds["filtered"], len(memo), order, got)

    def _why(self, node: RNode, i: int, pl: ProgramLine) -> str:
        """Why program i's line `pl` cannot take its next step in `node`."""
        if node.flying[i] >= 0:
            return "its call waits (a lock, a page under writeback)"
        if not self._started(node, i):
            return f"{actor_of(self.names[i])}'s own program does not end"
        ev = self.world_event(pl, node)
        if ev is None:
            return "its fd is not open" if pl.event.verb != "open" else "no free fd slot"
        b = self.world_bounds
        why = why_disabled(b, node.state[: b.width], ev, self.options)
        return why or "another call in flight keeps it from starting"

    def _count(self, node: RNode, memo: dict[RNode, Counter], stuck: dict) -> Counter:
        """The runs from `node` on, per (outcome, kind)."""
        got = memo.get(node)
        if got is not None:
            return got
        got = Counter()
        if self.complete(node):
            if not self.holds(node, "filter"):
                kind = "filtered"
            else:
                kind = "sat" if self.holds(node, "formula") else "unsat"
            got[(node.results, kind)] = 1
        else:
            nexts = self.successors(node)
            if not nexts:
                for i, lines in enumerate(self.lines):
                    if node.pcs[i] < len(lines):
                        pl = lines[node.pcs[i]]
                        assert isinstance(pl, ProgramLine)
                        stuck.setdefault(pl.id, (pl, self._why(node, i, pl)))
            for _, _, t, _ in nexts:
                got.update(self._count(t, memo, stuck))
        memo[node] = got
        return got

    def shortest(self, satisfying: bool) -> list[tuple[Any, object, ProgramLine]] | None:
        """A run with the fewest steps that passes the filter and satisfies the formula
        (or does not), as its (action, observation, program line) steps."""
        root = self.initial()
        parent: dict[RNode, tuple[RNode, Any, object, ProgramLine] | None] = {root: None}
        queue = deque([root])
        while queue:
            node = queue.popleft()
            if self.complete(node):
                if self.holds(node, "filter") and self.holds(node, "formula") == satisfying:
                    steps = []
                    at = parent[node]
                    while at is not None:
                        prev, action, obs, pl = at
                        steps.append((action, obs, pl))
                        at = parent[prev]
                    return steps[::-1]
                continue
            for i, action, t, obs in self.successors(node):
                if t not in parent:
                    line = self.lines[i][node.pcs[i]]
                    assert isinstance(line, ProgramLine)
                    parent[t] = (node, action, obs, line)
                    queue.append(t)
        return None

    def race_lines(self, steps: list[tuple[Any, object, ProgramLine]]) -> list[str]:
        """A run in the step notation, the claim's fds by their names, what each step's
        accesses did as comments."""
        opened = [
            pl.event.fd or "" for a, _, pl in steps if type(a) is Call and a.event.verb == "open"
        ]
        pairs = [(a, obs) for a, obs, _ in steps]
        out = format_race(self.L, pairs, notes(self.model, pairs, opened), opened)
        if not self.model.steps.errseq.set_in_one:  # type: ignore[attr-defined]
            why = "# errseq_set's read and each cmpxchg are steps here, as attempts(...) counts"
            out.insert(0, f"{why} them; explore replay --races takes each errseq_set whole")
        return out
