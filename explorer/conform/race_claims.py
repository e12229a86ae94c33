"""`explore conform` on a claim with races on: its race program run many times in one
boot per kernel (explorer.conform.races, in the manner of klitmus7) and held to the
model's outcomes of the same program.

The claim becomes a RaceProgram (`race_program`):

- the threads are the thread programs (`ACTOR.K:`, and `ACTOR:` with races on) from
  their first line the condition names on: the calls whose results are observed;
- the setup is what comes before: each program's lines before that one, program by
  program in file order, then the environment's lines (its failing writebacks),
  run one after the other before the threads start, as race.c runs a setup.

The kernel runs only the runs where the setup is over before any thread call begins, so
its outcomes are held to the model's outcomes of that same program
(explorer.checker.claim_races.program_outcomes), not to the claim's counts over every
interleaving: an outcome the model calls Never under the kernel's spec fails the run,
and how many of the model's possible outcomes the kernel showed is reported (a window
not hit is a fact, not a failure).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from explorer.checker.claim_races import program_outcomes
from explorer.conform import races
from explorer.domain.catalog import load_spec
from explorer.domain.claim import Claim, ProgramLine
from explorer.domain.claim_formula import Before, Returns
from explorer.domain.claim_program import actor_of
from explorer.domain.scenario import result_name

#: Iterations per kernel (RACE_ITERATIONS overrides: 200 keeps a run short).
ITERATIONS = 2000


class NotARace(ValueError):
    """A claim with races on that race.c cannot run as a program (the reason)."""


def _split(claim: Claim) -> tuple[list[str], list[tuple[str, list[ProgramLine]]]]:
    """The setup's lines, and each thread's label and lines."""
    named = claim.formula.events() if claim.formula is not None else frozenset()
    setup: list[str] = []
    env: list[str] = []
    threads: list[tuple[str, list[ProgramLine]]] = []
    for name, program in claim.programs.items():
        lines = [pl for pl in program if isinstance(pl, ProgramLine)]
        if actor_of(name) == "env":
            env += [pl.text for pl in lines]
            continue
        first = next((k for k, pl in enumerate(lines) if pl.id in named), len(lines))
        setup += [pl.text for pl in lines[:first]]
        if first < len(lines):
            threads.append((name if "." in name else f"{name}.1", lines[first:]))
    return setup + env, threads


def race_program(claim: Claim) -> races.RaceProgram:
    """The claim's setup and threads as race.c runs them (see the module's docstring);
    NotARace when that is not a program race.c can run."""
    setup, threads = _split(claim)
    labels = [label for label, _ in threads]
    if len(set(labels)) < len(labels):
        raise NotARace("an actor's own program and its thread 1 both race")
    program = races.RaceProgram(
        claim.name,
        tuple(setup),
        tuple(tuple(pl.text for pl in lines) for _, lines in threads),
        tuple(label for label, _ in threads),
    )
    try:
        races.check_program(program, claim.source)
    except races.ScenarioError as exc:
        raise NotARace(exc.reason) from None
    return program


def condition_outcomes(claim: Claim, possible) -> set[tuple[str, ...]] | None:
    """The possible outcomes that satisfy the claim's condition, when it can be read
    off an outcome (results of thread calls; a setup line before a thread call); None
    when it needs more (the order of two thread calls, step counts)."""
    f = claim.formula
    if f is None:
        return None
    _, threads = _split(claim)
    where = {pl.id: k for k, pl in enumerate(pl for _, lines in threads for pl in lines)}
    out = set()
    for o in possible:

        def atom(a, o=o) -> bool:
            if isinstance(a, Returns) and a.event.id in where:
                return o[where[a.event.id]] == (result_name(a.result) or "0")
            if isinstance(a, Before) and a.first.id not in where and a.then.id in where:
                return True
            raise LookupError

        try:
            if f.decide(atom):
                out.add(tuple(o))
        except LookupError:
            return None
    return out


@dataclass
class RaceCheck:
    """A race claim on one kernel: its program, the model's outcomes, the kernel's."""

    claim: Claim
    kernel: str
    spec: str
    program: races.RaceProgram | None = None
    possible: dict = field(default_factory=dict)  # outcome -> a shortest run
    skipped: str = ""
    histogram: races.Histogram | None = None
    verdict: races.RaceVerdict | None = None
    error: str = ""


def plan_race(claim: Claim, kernel: str, spec: str) -> RaceCheck:
    """The program and the model's outcomes (no VM)."""
    check = RaceCheck(claim, kernel, spec)
    try:
        check.program = race_program(claim)
    except NotARace as exc:
        check.skipped = f"not a program race.c runs: {exc}"
        return check
    why = races.not_representable(check.program, kernel)
    if why:
        check.skipped = f"not representable on {kernel}: {why}"
        return check
    p = check.program
    check.possible = program_outcomes(load_spec(spec), p.setup, p.threads, p.labels)
    return check


def run(check: RaceCheck, accel: str = "tcg") -> None:
    """Run the program on the kernel and judge it (a VM per kernel)."""
    assert check.program is not None
    n = int(os.environ.get("RACE_ITERATIONS", str(ITERATIONS)))
    try:
        cpus = len(check.program.threads) + 1  # a vCPU for the flusher too
        h = races.run_race(check.program, check.kernel, n, flushers=1, cpus=cpus, accel=accel)
    except Exception as exc:  # a VM or build failure: reported, the run fails (exit 1)
        check.error = f"{type(exc).__name__}: {exc}"
        return
    check.histogram = h
    check.verdict = races.judge(h, check.possible)


def lines(check: RaceCheck) -> list[str]:
    """The kernel's histogram, klitmus7's way, and the verdict against the model."""
    head = f"claim {check.claim.name} on {check.kernel} (model: {check.spec}, races)"
    if check.skipped:
        return [f"{head}: not run: {check.skipped}"]
    p = check.program
    assert p is not None
    model = " | ".join(races.outcome_text(p, tuple(o)) for o in sorted(check.possible))
    out = [head, f"  the model's possible outcomes: {model}"]
    if check.error:
        return [*out, f"  ERROR: {check.error}"]
    assert check.histogram is not None and check.verdict is not None
    cond = condition_outcomes(check.claim, check.possible)
    out += races.format_histogram(check.histogram, cond).splitlines()
    out.append(races.format_verdict(check.verdict, p))
    return out


def failed(check: RaceCheck) -> bool:
    return bool(check.error) or (check.verdict is not None and not check.verdict.ok)


def as_json(check: RaceCheck) -> dict:
    d: dict = {"skipped": check.skipped} if check.skipped else {}
    if check.program is not None and not check.skipped:
        d["possible"] = [list(o) for o in sorted(check.possible)]
    if check.error:
        d["error"] = check.error
    if check.histogram is not None and check.verdict is not None:
        d["histogram"] = [
            {"outcome": list(o), "count": n} for o, n in sorted(check.histogram.counts.items())
        ]
        d["status"] = check.verdict.status
        d["seen_possible"] = len(check.verdict.seen_possible)
        d["forbidden"] = [list(o) for o in check.verdict.forbidden]
    return d
