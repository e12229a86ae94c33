"""`explore conform FILE.claim`: a claim's runs on real kernels, in herd7's vocabulary.

Per kernel (6.1, modelled by v5.11; 6.12, by mainline) the claim's runs under that
kernel's spec are replayed, each in a fresh VM through the scenario harness: every
run when there are at most REPLAY_ALL of them, else a satisfying and a refuting one
(the witnesses).  Every event's result is compared with the model's, as for any
scenario, and the claim's filter and condition are evaluated on the kernel's own
results, so that the kernel gets an `Observation` line of its own: its verdict over
the runs it replayed, and whether that is all of them.  As klitmus7 does for litmus
tests, a kernel can only show what the replayed runs show: with witnesses only, its
line says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from explorer.checker.claim_runs import REPLAY_ALL, ReplayPlan, kernel_verdict, replay_plan
from explorer.checker.properties import PROPERTIES
from explorer.conform import core
from explorer.conform.race_claims import RaceCheck, plan_race
from explorer.conform.race_claims import as_json as race_json
from explorer.conform.race_claims import failed as race_failed
from explorer.conform.race_claims import lines as race_lines
from explorer.domain.catalog import load_spec
from explorer.domain.claim import Claim, ClaimVerdict, expected, load_claim, required_bounds
from explorer.domain.errseq import COUNTER_BITS
from explorer.domain.scenario import parse


@dataclass
class ClaimCheck:
    """One claim on one kernel: the runs to replay, then what the kernel gave."""

    claim: Claim
    kernel: str
    spec: str
    plan: ReplayPlan | None = None
    items: list[core.Item] = field(default_factory=list)
    skipped: str = ""  # why nothing is replayed
    outcomes: list[core.Outcome] = field(default_factory=list)
    race: RaceCheck | None = None  # a claim with races on: its race program instead


def plan_claims(paths: list[Path], kernels: list[str]) -> list[ClaimCheck]:
    """The runs each claim file replays on each kernel (model side only: no VM)."""
    checks = []
    for path in paths:
        claim = load_claim(path, PROPERTIES)
        for k in kernels:
            checks.append(plan_one(claim, k))
    return checks


def plan_one(claim: Claim, kernel: str, limit: int = REPLAY_ALL) -> ClaimCheck:
    spec = core.KERNEL_SPEC[kernel]
    check = ClaimCheck(claim, kernel, spec)
    if claim.unsettled is not None:
        check.skipped = f"unsettled: {claim.unsettled}"
    elif not claim.programs:
        check.skipped = "no programs (expect: lines only): nothing to replay"
    elif claim.specs is not None and spec not in claim.specs:
        check.skipped = f"{spec}, the model of {kernel}, is not among the claim's specs"
    elif (bits := required_bounds(claim).counter_bits) is not None:
        check.skipped = (
            f"counter-bits {bits}: a real kernel's errseq counter has {COUNTER_BITS} bits "
            "(lib/errseq.c), so runs that depend on a narrower one's wraparound cannot be "
            "reproduced"
        )
    if check.skipped:
        return check
    if required_bounds(claim).races == "on":
        check.race = plan_race(claim, kernel, spec)
        return check
    check.plan = replay_plan(claim, spec, load_spec(spec), limit)
    if check.plan.observation.error:
        check.skipped = f"no run under {spec}: {check.plan.observation.error}"
        return check
    for n, run in enumerate(check.plan.runs, 1):
        where = f"{claim.source} (run {n} under {spec})"
        check.items.append(
            core.Item(
                f"{claim.name}-{kernel}-run{n}",
                run.text,
                parse(run.text, where),
                origin=where,
                only_kernel=kernel,
            )
        )
    return check


@dataclass
class KernelObservation:
    """What one kernel gave over the runs it replayed."""

    satisfied: int = 0
    unsatisfied: int = 0
    filtered: int = 0  # runs whose kernel results fail the filter
    not_representable: int = 0
    failed: int = 0  # runs that differ from the model, or could not be checked
    replayed: int = 0

    @property
    def verdict(self) -> ClaimVerdict | None:
        if not self.satisfied + self.unsatisfied:
            return None
        if not self.satisfied:
            return ClaimVerdict.NEVER
        return ClaimVerdict.ALWAYS if not self.unsatisfied else ClaimVerdict.SOMETIMES


def observe_kernel(check: ClaimCheck) -> KernelObservation:
    """Count the kernel's runs by its own results (those replayed and checked)."""
    assert check.plan is not None
    out = KernelObservation()
    by_name = {o.name: o for o in check.outcomes}
    for item, run in zip(check.items, check.plan.runs, strict=True):
        o = by_name.get(item.name)
        if o is None:
            continue
        if o.status == core.NOT_REPRESENTABLE:
            out.not_representable += 1
            continue
        if o.status in (core.ERROR, core.INVALID):
            out.failed += 1
            continue
        out.replayed += 1
        if o.status == core.MISMATCH:
            out.failed += 1
        passes, satisfies = kernel_verdict(check.claim, run, [r.kernel for r in o.rows])
        if not passes:
            out.filtered += 1
        elif satisfies:
            out.satisfied += 1
        else:
            out.unsatisfied += 1
    return out


def lines(check: ClaimCheck, release: str = "") -> list[str]:
    """The claim's block for one kernel: the model's Observation line, the kernel's,
    and what the kernel's line stands on."""
    name, k = check.claim.name, check.kernel
    if check.race is not None:
        return race_lines(check.race)
    head = f"claim {name} on {release or k} (model: {check.spec})"
    if check.skipped or check.plan is None:
        return [f"{head}: not replayed: {check.skipped}"]
    o = check.plan.observation
    total = o.satisfied + o.unsatisfied
    n = len(check.plan.runs)
    ko = observe_kernel(check)
    none = ko.not_representable == n  # none of the runs can be put on this kernel
    done = ", none representable on this kernel" if none else " replayed"
    head += f": {'all ' if check.plan.complete else ''}{n} of {total} runs{done}"
    if not check.plan.complete:
        head += " (a satisfying and a refuting one, where they exist)"
    model = f"Observation {name} {check.spec} {o.verdict} {o.satisfied} {o.unsatisfied}"
    v = ko.verdict
    kline = f"Observation {name} {k} {v or 'NoRun'} {ko.satisfied} {ko.unsatisfied}"
    if ko.failed:
        status = f"MISMATCH with the model in {ko.failed} of {n} runs (tables above)"
    elif none:
        status = "not representable (tables above)"
    elif not check.plan.complete or ko.not_representable or ko.filtered:
        status = f"witnesses only ({ko.satisfied + ko.unsatisfied} of {total} runs)"
    elif v in (accepts := expected(check.claim, check.spec)[0]):
        status = "ok"
    else:
        status = f"MISMATCH (expected {' or '.join(accepts)})"
    out = [head, f"{model}   (the model)", f"{kline}   {status}"]
    if ko.not_representable and not none:
        out.append(
            f"  {ko.not_representable} run(s) not representable on a real kernel (tables above)"
        )
    if ko.filtered:
        out.append(f"  {ko.filtered} run(s) whose kernel results fail the claim's filter")
    return out


def failed(check: ClaimCheck) -> bool:
    """A run that differs from the model or could not be checked, an outcome the model
    calls Never (exit 1)."""
    return any(o.failed for o in check.outcomes) or (
        check.race is not None and race_failed(check.race)
    )


def as_json(check: ClaimCheck) -> dict:
    d: dict = {"claim": check.claim.name, "kernel": check.kernel, "spec": check.spec}
    if check.race is not None:
        d["race"] = race_json(check.race)
        return d
    if check.skipped or check.plan is None:
        d["skipped"] = check.skipped
        return d
    o, ko = check.plan.observation, observe_kernel(check)
    d |= {
        "model": {
            "verdict": str(o.verdict),
            "satisfied": o.satisfied,
            "unsatisfied": o.unsatisfied,
        },
        "kernel": {
            "verdict": str(ko.verdict) if ko.verdict else None,
            "satisfied": ko.satisfied,
            "unsatisfied": ko.unsatisfied,
            "filtered": ko.filtered,
            "not_representable": ko.not_representable,
            "failed": ko.failed,
        },
        "all_runs": check.plan.complete,
        "runs": [i.name for i in check.items],
    }
    return d
