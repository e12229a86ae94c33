"""`explore claim` on a claim with races on: its runs (explorer.bridge.claim_races)
counted per spec, held to the claim's expectation, with a run to show in the step
notation."""

from __future__ import annotations

from collections import Counter

from explorer.bridge.claim_races import RaceClaim
from explorer.bridge.race_program import outcomes
from explorer.checker.claim_states import named_events
from explorer.checker.results import ClaimRun, ClaimStates, Observation, StateCount
from explorer.domain.claim import Claim, ClaimVerdict, expected
from explorer.domain.vfs import Spec


def observe_races(claim: Claim, name: str, spec: Spec) -> Observation:
    """The claim's runs under one spec with races on, counted, with the run to show."""
    rc = RaceClaim(claim, spec)
    named = named_events(rc)  # type: ignore[arg-type]  # it reads the claim only
    rc.name_results([line for line, _ in named])
    got = rc.count()
    accepts, line = expected(claim, name)
    o = Observation(
        name, None, got.satisfied, got.unsatisfied, got.filtered, accepts, line, states=got.states
    )
    if got.satisfied + got.unsatisfied == 0:
        o.error, o.error_line = _no_run(claim, got.filtered, got.stuck)
        return o
    runs: Counter = Counter()
    good: Counter = Counter()
    for (outcome, kind), n in got.outcomes.items():
        if kind != "filtered":
            runs[outcome] += n
        if kind == "sat":
            good[outcome] += n
    found = [StateCount(out, n, good[out]) for out, n in runs.items()]
    found.sort(key=lambda s: (-s.runs, s.results))
    o.outcomes = ClaimStates([name for _, name in named], found)
    sat, unsat = got.satisfied, got.unsatisfied
    o.verdict = (
        ClaimVerdict.NEVER
        if not sat
        else ClaimVerdict.ALWAYS
        if not unsat
        else ClaimVerdict.SOMETIMES
    )
    refute_always = not o.ok and o.verdict != ClaimVerdict.ALWAYS
    if sat or refute_always:
        steps = rc.shortest(not refute_always)
        if steps is not None:
            o.run = ClaimRun(not refute_always, [], [], race=rc.race_lines(steps))
    return o


def _no_run(claim: Claim, filtered: int, stuck: list) -> tuple[str, int]:
    """Why no run: the filter leaves them all out, or every interleaving stops."""
    if filtered:
        assert claim.filter is not None
        line = min(a.line for a in claim.filter.atoms())
        runs = f"{filtered} run{'s' if filtered != 1 else ''}"
        return f"no run passes the filter (it leaves out all {runs})", line
    said = "; ".join(f"line {pl.line} '{pl.text}' ({why})" for pl, why in stuck)
    return f"every interleaving stops before its end, waiting at {said}", (
        stuck[0][0].line if stuck else 0
    )


def program_outcomes(
    spec: Spec,
    setup: tuple[str, ...],
    threads: tuple[tuple[str, ...], ...],
    labels: tuple[str, ...],
) -> dict:
    """Every outcome of a race program (setup run whole, then threads that race) under
    `spec`, with a shortest run each: what `explore conform` holds a kernel to."""
    return outcomes(spec, setup, threads, labels, notes_too=False)
