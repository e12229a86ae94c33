"""The runs of a claim a real kernel replays (`explore conform FILE.claim`), and the
claim's verdict on a run with the kernel's own results."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from explorer.bridge.claim_model import ClaimModel
from explorer.checker.claims import counted, search
from explorer.checker.results import Observation
from explorer.domain.claim import Claim, ProgramLine
from explorer.domain.claim_formula import RESULTS, LineId, Ran, evaluate
from explorer.domain.vfs import Spec
from explorer.engine.search import Exploration, realize

#: Every run of a claim is replayed on a kernel when it has at most this many.
REPLAY_ALL = 48


@dataclass
class ClaimReplay:
    """One run of a claim, to replay on a real kernel: as a scenario (the claim's fd
    names, no stated results), the claim line of each event (None for an `any` line's),
    and whether it satisfies the condition in the model."""

    text: str
    lines: list[LineId | None]
    satisfies: bool


@dataclass
class ReplayPlan:
    """The runs of a claim under one spec a kernel replays: every run (`complete`), or
    a satisfying and a refuting one when there are more than REPLAY_ALL."""

    spec: str
    observation: Observation
    runs: list[ClaimReplay]
    complete: bool


def replay_plan(claim: Claim, name: str, spec: Spec, limit: int = REPLAY_ALL) -> ReplayPlan:
    """Which runs of `claim` under `spec` to replay (see ReplayPlan)."""
    model, ex = search(claim, spec)
    o = counted(claim, name, model, ex)
    total = o.satisfied + o.unsatisfied
    if total <= limit:
        found = list(_run_paths(model, ex))
    else:
        witnesses = [_shortest(model, ex, satisfying) for satisfying in (True, False)]
        found = [p for p in witnesses if p is not None]
    return ReplayPlan(name, o, [_replay(model, ex, edges) for edges in found], total <= limit)


def _run_paths(model: ClaimModel, ex: Exploration) -> Iterator[list[int]]:
    """Every path to a complete node that passes the filter (depth first, in order)."""
    stack: list[tuple[int, list[int]]] = [(sid, []) for sid, d in enumerate(ex.depth) if d == 0]
    while stack:
        sid, edges = stack.pop()
        node = ex.states[sid]
        if model.complete(node) and model.holds(node, "filter"):
            yield edges
        for e in reversed(ex.out_edges(sid)):
            stack.append((ex.dst[e], [*edges, e]))


def _shortest(model: ClaimModel, ex: Exploration, satisfying: bool) -> list[int] | None:
    """A shortest run that satisfies the condition (or that does not), if any."""
    for sid, node in enumerate(ex.states):
        if (
            model.complete(node)
            and model.holds(node, "filter")
            and model.holds(node, "formula") == satisfying
        ):
            return ex.path_to(sid)
    return None


def _replay(model: ClaimModel, ex: Exploration, edges: list[int]) -> ClaimReplay:
    moves = [st.action for st in realize(model, ex, edges)]
    names = model.line_names(moves)
    lines = [
        m.line if isinstance(model.claim.program_line(m.line), ProgramLine) else None for m in moves
    ]
    node = ex.states[ex.dst[edges[-1]]] if edges else ex.states[0]
    return ClaimReplay("".join(f"{n}\n" for n in names), lines, model.holds(node, "formula"))


def kernel_verdict(claim: Claim, run: ClaimReplay, results: list[str | None]) -> tuple[bool, bool]:
    """(passes the filter, satisfies the condition) of a run with a kernel's results."""
    record = {
        line: Ran(i, RESULTS.get(res or "", None) if res is not None else None)
        for i, (line, res) in enumerate(zip(run.lines, results, strict=True))
        if line is not None
    }
    passes = claim.filter is None or evaluate(claim.filter, record)
    assert claim.formula is not None
    return passes, evaluate(claim.formula, record)
