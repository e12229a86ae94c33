"""What `explore claim` prints: Observation lines, runs, mismatches, JSON, docs/claims.md.

One greppable line per claim and spec, in herd7's vocabulary:

    Observation seed-overlay-mount-hides-error vivek-v3-seen Sometimes 1 15   ok
    Observation 05-intervening-mount-hides-error amir Never 0 16   MISMATCH (expected Sometimes)

(the verdict, then the runs that satisfy the condition and those that do not), one
line per `expect:` line (`Expect NAME SPEC PROPERTY holds|fails N   ok|MISMATCH ...`),
then each run shown (a satisfying one, or one refuting a failed expectation) as a
lane timeline and as a scenario, once for all the specs that give it; at the end the
unsettled claims with their reasons, every mismatch again, and a one-line summary.
`as_json` and `markdown` say the same for scripts and for docs/claims.md.
"""

from __future__ import annotations

from typing import Any

from explorer.checker.results import UNSETTLED, ClaimOutcome, ExpectOutcome, Observation
from explorer.domain.catalog import builtin_names
from explorer.domain.claim import ClaimBounds, ClaimVerdict
from explorer.domain.scenario import result_name
from explorer.render import report, timeline
from explorer.render.claim_witness import witness_json

SCHEMA = "errseq-explorer/claims/1"
SHORT = {ClaimVerdict.NEVER: "N", ClaimVerdict.SOMETIMES: "S", ClaimVerdict.ALWAYS: "A"}


def expected_text(verdicts: tuple[ClaimVerdict, ...]) -> str:
    return " or ".join(str(v) for v in verdicts)


def observation_line(name: str, o: Observation) -> str:
    """The greppable line: `Observation NAME SPEC VERDICT SAT UNSAT   ok|MISMATCH ...`."""
    if o.error:
        return f"Observation {name} {o.spec} NoRun 0 0   ERROR ({o.error})"
    status = "ok" if o.ok else f"MISMATCH (expected {expected_text(o.expected)})"
    return f"Observation {name} {o.spec} {o.verdict} {o.satisfied} {o.unsatisfied}   {status}"


def got_text(e: ExpectOutcome) -> str:
    if e.undecided:
        return "undecided"
    return "holds" if e.holds else f"fails {e.length}"


def wanted_text(e: ExpectOutcome) -> str:
    x = e.expect
    return "holds" if x.holds else "fails" + (f" {x.length}" if x.length is not None else "")


def expect_line(name: str, e: ExpectOutcome) -> str:
    """`Expect NAME SPEC PROPERTY holds|fails N   ok|MISMATCH (expected ...)`."""
    status = "ok" if e.ok else f"MISMATCH (expected {wanted_text(e)})"
    if e.undecided:
        limit = next(v.limit for v in e.verdicts if v.undecided)
        status = f"UNDECIDED ({limit})"
    return f"Expect {name} {e.expect.spec} {e.expect.property} {got_text(e)}   {status}"


def bounds_text(cb: ClaimBounds) -> str:
    text = (
        f"mounts {cb.mounts}, fds {cb.fds}, host-fds {cb.host_fds}, "
        f"mount-options {cb.mount_options}, depth {cb.depth}"
    )
    if cb.errnos != ("EIO",):
        text += f", errnos {'+'.join(cb.errnos)}"
    if cb.counter_bits is not None:
        text += f", counter-bits {cb.counter_bits}"
    if cb.host_files != "own":
        text += f", host-files {cb.host_files}"
    text += f", races on, threads {cb.threads}" if cb.races == "on" else ""
    return text


def states_lines(claim: str, o: Observation) -> list[str]:
    """herd7's `States` under one spec (docs/model.md §7): `States CLAIM SPEC N`, then
    each outcome of the calls the condition names, with its runs and how many of them
    satisfy the condition."""
    if o.outcomes is None:
        return []
    counts = o.outcomes.counts
    out = [f"States {claim} {o.spec} {len(counts)}"]
    width = max((len(str(s.runs)) for s in counts), default=1)
    for s in counts:
        what = "; ".join(f"{n}={r}" for n, r in zip(o.outcomes.events, s.results, strict=True))
        what = f"{what};" if what else "(the condition names no call that can fail)"
        tag = (
            "satisfies"
            if s.satisfying == s.runs
            else f"{s.satisfying} satisfy"
            if s.satisfying
            else ""
        )
        out.append(f"  {s.runs:>{width}}  {what}" + (f"  ({tag})" if tag else ""))
    return out


def claim_text(c: ClaimOutcome) -> str:
    """One claim's block: its lines, then its runs and failed expectations' witnesses."""
    name = c.claim.name
    out = [f"claim {name} ({c.claim.source})"]
    if c.not_checked:
        out.append(f"  not checked: {c.reason}")
        return "\n".join(out) + "\n"
    assert c.bounds is not None and c.world_bounds is not None
    out.append(f"  at {bounds_text(c.bounds)}")
    out += [f"  note: {n}" for n in c.notes]
    out += [observation_line(name, o) for o in c.observations]
    out += [expect_line(name, e) for e in c.expects]
    out += [line for o in c.observations for line in states_lines(name, o)]
    groups: dict[tuple, list[Observation]] = {}
    for o in c.observations:
        if o.run is not None:
            key = (
                o.run.satisfies,
                tuple((str(n), s.obs) for n, s in zip(o.run.lines, o.run.steps, strict=True)),
                tuple(o.run.race or ()),
            )
            groups.setdefault(key, []).append(o)
    for (satisfies, _, race), obs in groups.items():
        run = obs[0].run
        assert run is not None
        specs = ", ".join(o.spec for o in obs)
        what = "satisfies" if satisfies else "does not satisfy"
        title = f"{specs}: a run that {what} the condition"
        out.append("")
        if race:  # replayable by explore replay --races
            out += [f"{title}, in the step notation:", "", *race]
            continue
        out.append(
            timeline.timeline(c.world_bounds, run.steps, title=title, named=run.lines).rstrip("\n")
        )
        out.append("")
        bits = c.bounds.counter_bits
        narrow = f" --counter-bits {bits}" if bits is not None else ""
        out.append(f"As a scenario (explore replay FILE --spec {obs[0].spec}{narrow}):")
        out.append("")
        out.append(timeline.scenario_text(c.world_bounds, run.steps, named=run.lines).rstrip("\n"))
    for e in c.expects:
        if e.ok:
            continue
        for v in e.verdicts:
            if not v.holds:
                out.append("")
                out.append(report.witness_text(c.world_bounds, v, e.config).rstrip("\n"))
                break
    return "\n".join(out) + "\n"


def condition_line(c: ClaimOutcome) -> int:
    """The line of the condition's first atom: where a quantifier's expectation is."""
    f = c.claim.formula
    return min((a.line for a in f.atoms()), default=0) if f is not None else 0


def mismatch_lines(outcomes: list[ClaimOutcome]) -> list[str]:
    """Every expectation not met, and every spec without a run, located in its file."""
    lines = []
    for c in outcomes:
        src = c.claim.source
        for o in c.observations:
            if o.error:
                lines.append(f"{src}:{o.error_line}: no run under {o.spec}: {o.error}")
            elif not o.ok:
                said = (
                    f"result: {o.spec} {o.expected[0]}"
                    if o.expected_line
                    else f"{c.claim.quantifier} expects {expected_text(o.expected)} under {o.spec}"
                )
                got = f"got {o.verdict} ({o.satisfied} of {o.satisfied + o.unsatisfied})"
                line = o.expected_line or condition_line(c)
                lines.append(f"{src}:{line}: {said}, {got}")
        for e in c.expects:
            if not e.ok and not e.undecided:
                x = e.expect
                lines.append(
                    f"{src}:{x.line}: expect: {x.spec} {x.property} {wanted_text(e)}, "
                    f"got {got_text(e)}"
                )
    return lines


def summary(outcomes: list[ClaimOutcome]) -> str:
    checked = [c for c in outcomes if not c.not_checked]
    n_obs = sum(len(c.observations) for c in checked)
    n_exp = sum(len(c.expects) for c in checked)
    bad = mismatch_lines(outcomes)
    text = (
        f"{len(outcomes)} claim{'s' if len(outcomes) != 1 else ''}: {len(checked)} checked "
        f"({n_obs} observations, {n_exp} expectations)"
    )
    if n := sum(c.not_checked == UNSETTLED for c in outcomes):
        text += f", {n} unsettled"
    if n := sum(c.undecided() for c in outcomes):
        text += f", {n} expectation{'s' if n != 1 else ''} undecided (the memory guard)"
    return text + (f"; {len(bad)} not as expected" if bad else "; all as expected")


def text(outcomes: list[ClaimOutcome]) -> str:
    """The whole terminal output."""
    parts = [claim_text(c) for c in outcomes]
    tail = []
    unsettled = [c for c in outcomes if c.not_checked == UNSETTLED]
    if unsettled:
        tail.append("Unsettled (the claim says why the tool cannot settle it):")
        tail += [f"  {c.claim.name}: {c.reason}" for c in unsettled]
    bad = mismatch_lines(outcomes)
    if bad:
        tail.append("^^^ NOT AS EXPECTED:")
        tail += [f"  {line}" for line in bad]
    tail.append(summary(outcomes))
    return "\n".join(parts) + "\n" + "\n".join(tail) + "\n"


# --- JSON -------------------------------------------------------------------------------


def observation_json(c: ClaimOutcome, o: Observation) -> dict[str, Any]:
    d: dict[str, Any] = {
        "spec": o.spec,
        "verdict": str(o.verdict) if o.verdict else None,
        "satisfied": o.satisfied,
        "unsatisfied": o.unsatisfied,
        "filtered": o.filtered,
        "expected": [str(v) for v in o.expected],
        "expected_line": o.expected_line or None,
        "ok": o.ok,
        "line": observation_line(c.claim.name, o),
    }
    if o.error:
        d["error"] = o.error
        d["error_line"] = o.error_line
    if o.outcomes is not None:
        d["states"] = {
            "events": o.outcomes.events,
            "outcomes": [
                {"results": list(s.results), "runs": s.runs, "satisfying": s.satisfying}
                for s in o.outcomes.counts
            ],
        }
    if o.run is not None and o.run.race is not None:
        d["run"] = {"satisfies": o.run.satisfies, "race": o.run.race}
    elif o.run is not None and c.world_bounds is not None:
        d["run"] = {
            "satisfies": o.run.satisfies,
            "steps": [
                {"event": str(n), "result": result_name(s.obs)}
                for n, s in zip(o.run.lines, o.run.steps, strict=True)
            ],
            "scenario": timeline.scenario_text(c.world_bounds, o.run.steps, named=o.run.lines),
        }
    return d


def expect_json(c: ClaimOutcome, e: ExpectOutcome) -> dict[str, Any]:
    x = e.expect
    d: dict[str, Any] = {
        "spec": x.spec,
        "property": x.property,
        "line": x.line,
        "expected": {"holds": x.holds, "length": x.length},
        "holds": None if e.undecided else e.holds,
        "length": e.length,
        "ok": e.ok,
    }
    if e.undecided:
        d["limit"] = next(v.limit for v in e.verdicts if v.undecided)
    bad = [v for v in e.verdicts if not v.holds]
    if bad and c.world_bounds is not None:
        d |= witness_json(c.world_bounds, bad[0], e.config)
    return d


def as_json(outcomes: list[ClaimOutcome], code: int) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "claims": [
            {
                "name": c.claim.name,
                "file": c.claim.source,
                "question": list(c.claim.question),
                "conclusion": c.claim.conclusion,
                "checked": not c.not_checked,
                "not_checked": c.not_checked or None,
                "reason": c.reason or None,
                "bounds": vars(c.bounds) | {"errnos": list(c.bounds.errnos)} if c.bounds else None,
                "notes": c.notes,
                "observations": [observation_json(c, o) for o in c.observations],
                "expects": [expect_json(c, e) for e in c.expects],
            }
            for c in outcomes
        ],
        "mismatches": mismatch_lines(outcomes),
        "summary": summary(outcomes),
        "exit": code,
    }


# --- docs/claims.md ---------------------------------------------------------------------


def cell(o: Observation | None) -> str:
    if o is None:
        return ""
    if o.error:
        return "no run"
    text = f"{SHORT[o.verdict]} {o.satisfied}/{o.satisfied + o.unsatisfied}"  # type: ignore[index]
    return text if o.ok else f"{text} (expected {expected_text(o.expected)})"


def expect_cell(e: ExpectOutcome | None) -> str:
    if e is None:
        return ""
    return got_text(e) if e.ok else f"{got_text(e)} (expected {wanted_text(e)})"


FIDELITY = "Fidelity:"


def fidelity(question: tuple[str, ...]) -> str:
    """The claim's `# Fidelity:` line in its question, with the comment lines right
    after it that start with two spaces or more: how far its verdicts reach (faithful,
    a bounded form of what was said, or one reading of two)."""
    said: list[str] = []
    for line in question:
        if said and line.startswith("  ") and line.strip():
            said.append(line.strip())
        elif said:
            break
        elif line.startswith(FIDELITY):
            said.append(line.removeprefix(FIDELITY).strip())
    return " ".join(said)


def markdown(outcomes: list[ClaimOutcome], link_root: str = "..") -> str:
    """docs/claims.md: per folder of claims, a table of claims against the built-in specs
    (and the specs the claims name by path), with each claim's conclusion."""
    specs = builtin_names()
    extra = [o.spec for c in outcomes for o in c.observations if o.spec not in specs] + [
        e.expect.spec for c in outcomes for e in c.expects if e.expect.spec not in specs
    ]
    specs += list(dict.fromkeys(extra))
    lines = [
        "# Claims, checked",
        "",
        "The claim library (`claims/`) settled by `explore claim claims/`: per claim and",
        "spec the verdict, with the runs that satisfy the condition out of all runs (N",
        "Never, S Sometimes, A Always), or a property's verdict for an `expect:` line (holds,",
        "or fails with the shortest witness's length). The last two columns are the",
        "claim's fidelity (its `# Fidelity:` line: how far the verdicts reach, faithful to",
        "what was said, a bounded form of it, or one reading of two) and its conclusion",
        "(its `# Conclusion:` line). The words each claim quotes are in `claims/sources/`,",
        "one excerpt per message, under its Message-ID. This page is generated: `explore",
        "claim claims/ --markdown > docs/claims.md`; a test regenerates it and compares,",
        "and the test suite runs the library, so a spec change that moves a verdict fails",
        "CI and names the claims that moved. The language is docs/claims-language.md.",
    ]
    folders: dict[str, list[ClaimOutcome]] = {}
    for c in outcomes:
        folders.setdefault(c.claim.source.rsplit("/", 1)[0], []).append(c)
    for folder, group in folders.items():
        lines += ["", f"## {folder}", ""]
        lines.append("| claim | " + " | ".join(specs) + " | fidelity | conclusion |")
        lines.append("|---" * (len(specs) + 3) + "|")
        for c in group:
            link = f"[{c.claim.name}]({link_root}/{c.claim.source})"
            said = fidelity(c.claim.question).replace("|", "\\|")
            conclusion = (c.claim.conclusion or "").replace("|", "\\|")
            if c.not_checked:
                lines.append(
                    f"| {link} | "
                    + " | ".join("-" for _ in specs)
                    + f" | {said} | ({c.not_checked}) {conclusion} |"
                )
                continue
            if c.observations:
                by = {o.spec: o for o in c.observations}
                lines.append(
                    f"| {link} | "
                    + " | ".join(cell(by.get(s)) for s in specs)
                    + f" | {said} | {conclusion} |"
                )
                said = conclusion = ""
            props = list(dict.fromkeys(e.expect.property for e in c.expects))
            for prop in props:
                by_e = {e.expect.spec: e for e in c.expects if e.expect.property == prop}
                first = link if not c.observations and prop == props[0] else ""
                label = f"{first} `{prop}`".strip()
                lines.append(
                    f"| {label} | "
                    + " | ".join(expect_cell(by_e.get(s)) for s in specs)
                    + f" | {said} | {conclusion} |"
                )
                said = conclusion = ""
    return "\n".join(lines) + "\n"
