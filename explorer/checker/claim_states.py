"""herd7's `States` for a claim: each distinct outcome of the events its condition
names, with how many runs end in it (docs/model.md §7).

herd7 lists the final values of the locations a litmus test's condition reads; a
claim's condition reads events, so an outcome is the result of each event the
condition names that can report an error (mount, open, fsync, syncfs: the others
always return 0 or nothing, docs/model.md §2), in the order the condition first names
them.
Runs are counted as the claim checker counts them, paths of the claim's layered graph
(explorer.engine.count): a count of runs per (state, outcome) is carried along the
edges in breadth-first order, so nothing is enumerated run by run, and the counts of a
spec's outcomes add up to its Observation's runs.  Runs the filter leaves out are not
listed (herd7 drops them too).
"""

from __future__ import annotations

from collections import Counter

from explorer.bridge.claim_model import ClaimModel
from explorer.checker.results import ClaimStates, StateCount
from explorer.domain.claim import ProgramLine
from explorer.domain.claim_formula import LineId
from explorer.domain.scenario import ALWAYS_ZERO, ENVIRONMENT, result_name
from explorer.engine.search import Exploration


def named_events(model: ClaimModel) -> list[tuple[LineId, str]]:
    """The events the condition names that can report an error, as written, in the
    order the condition first names them."""
    f = model.claim.formula
    if f is None:
        return []
    out: dict[LineId, str] = {}
    for atom in f.atoms():
        refs = (atom.event,) if hasattr(atom, "event") else (atom.first, atom.then)
        for ref in refs:
            pl = model.claim.program_line(ref.id)
            if isinstance(pl, ProgramLine) and pl.event.verb not in ALWAYS_ZERO + ENVIRONMENT:
                out.setdefault(ref.id, str(ref))
    return list(out.items())


def states(model: ClaimModel, ex: Exploration) -> ClaimStates:
    """The named events, and every outcome of them with its runs (most runs first)."""
    named = named_events(model)
    slot = {line: k for k, (line, _) in enumerate(named)}
    blank = ("-",) * len(named)
    per: list[Counter | None] = [None] * ex.n_states
    for sid, d in enumerate(ex.depth):
        if d == 0:
            per[sid] = Counter({blank: 1})
    # Expanded states are a prefix of the ids in BFS order and every edge goes one
    # level down: a state's counts are complete before its out-edges are followed.
    for e in range(ex.n_edges):
        here = per[ex.src[e]]
        if not here:
            continue
        dst = ex.dst[e]
        there = per[dst]
        if there is None:
            there = per[dst] = Counter()
        k = slot.get(ex.action[e].line)
        if k is None:
            there.update(here)
            continue
        res = result_name(ex.obs[e]) or "-"
        for outcome, n in here.items():
            there[outcome[:k] + (res,) + outcome[k + 1 :]] += n
    runs: Counter = Counter()
    sat: Counter = Counter()
    for counts, node in zip(per, ex.states, strict=True):
        if not counts or not model.complete(node) or not model.holds(node, "filter"):
            continue
        runs.update(counts)
        if model.holds(node, "formula"):
            sat.update(counts)
    found = [StateCount(o, n, sat[o]) for o, n in runs.items()]
    found.sort(key=lambda s: (-s.runs, s.results))
    return ClaimStates([name for _, name in named], found)
