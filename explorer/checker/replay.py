"""Run a scenario under a spec: the model's result for every event, line by line.

Results are "0" or "EIO" for syscalls and None for environment events (wberror,
evict).  An event that cannot happen under one spec (say, `open` in a container
whose volatile mount that spec refused) is skipped in that spec's run with the
reason; `replay_all` turns an event that no spec can run into a ScenarioError (unless its
container's mount did not give the result the file states, see there).

A line may state its result (`syncfs fd1 = EIO`): `mismatches` lists every spec whose
result is not the stated one, an event that spec skipped included.  Disagreement
between specs is what a replay shows; a stated result is a claim about each spec
replayed, so a file whose results hold for one kernel is replayed under that spec alone.

A witness file the main job writes (out/SPEC/PROPERTY.txt) ends with its run as a
scenario: `scenarios_in` reads that part, and both runs of an isolation pair.
"""

from __future__ import annotations

import re

from explorer.checker.results import SKIPPED, Mismatch, Run
from explorer.domain import world
from explorer.domain.scenario import (
    Event,
    Scenario,
    ScenarioError,
    owner_index,
    parse,
    result_name,
    world_event,
)
from explorer.domain.vfs import Spec
from explorer.domain.world import NORMAL, VOLATILE, World

__all__ = [
    "SKIPPED",
    "Mismatch",
    "Run",
    "mismatches",
    "replay",
    "replay_all",
    "run",
    "scenarios_in",
    "stated",
]

BOTH = (NORMAL, VOLATILE)
ENVIRONMENT = ("wberror", "evict")
# The line a witness's scenario follows (written by explorer.render.report and
# explorer.render.pair, which this layer may not import).
WITNESS_RE = re.compile(r"(Run A as a scenario|As a scenario) \(explore replay FILE\b.*\):$")
# A run with races, in the step notation (a thread before each call: `ovl1.1: fsync fd1`),
# and the line its witness file writes it after (explorer.render.race_report).
STEPS_RE = re.compile(r"^\s*(?:env(?:\.(?:host|ovl\d+))?|(?:host|ovl\d+)\.\d+)\s*:")
RACE_WITNESS_RE = re.compile(r"As a race scenario \(explore replay --races\b")


def scenarios_in(text: str, source: str) -> list[Scenario]:
    """The scenarios a file holds: a scenario file's one; a witness file's run, the lines
    after its 'As a scenario' line; an isolation witness's two runs, 'SOURCE (run A)'
    and 'SOURCE (run B)'.  Line numbers stay the file's, so errors and mismatches name
    the witness file's lines."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if WITNESS_RE.match(line.strip())), None)
    if start is None:
        return [_parse_atomic(text, source)]
    parts = [range(start + 1, len(lines))]
    if lines[start].startswith("Run A"):
        b = next((i for i in parts[0] if lines[i].strip() == "Run B:"), None)
        if b is None:
            raise ScenarioError(source, start + 1, "Run A", "no 'Run B:' line after run A")
        parts = [range(start + 1, b), range(b + 1, len(lines))]
    out = []
    for run, rows in zip("AB", parts, strict=False):
        sc = parse("\n".join(line if i in rows else "" for i, line in enumerate(lines)), source)
        if len(parts) == 2:
            sc.source = f"{source} (run {run})"
        out.append(sc)
    return out


def _parse_atomic(text: str, source: str) -> Scenario:
    """`parse`, saying so when the file is a run with races (replayed with --races)."""
    try:
        return parse(text, source)
    except ScenarioError as exc:
        lines = text.splitlines()
        at = next((n for n, ln in enumerate(lines, 1) if RACE_WITNESS_RE.search(ln)), 0)
        if at or STEPS_RE.match(lines[exc.line - 1] if 0 < exc.line <= len(lines) else ""):
            what = "a witness of a run with races" if at else "a run in the step notation"
            token = "As a race scenario" if at else exc.token
            raise ScenarioError(
                source, at or exc.line, token, f"{what}: replay it with --races"
            ) from None
        raise


def run(scenario: Scenario, spec: Spec) -> Run:
    """Replay `scenario` under `spec`, skipping (with a reason) what cannot happen here."""
    b = scenario.bounds
    state = b.initial()
    slots: dict[str, int] = {}
    failed: dict[str, str] = {}  # an fd whose open failed: why it is not open
    out = Run(spec)
    for i, e in enumerate(scenario.events):
        ev = world_event(scenario, e, slots, state)
        reason: str | None
        if ev.arg == -1 and e.verb == "open":
            # No free slot: ask about the owner's first slot, for the real reason
            # (not mounted, or every fd the scenario needs is open).
            first = world.Event("open", b.owner_slots(owner_index(e.target or "", b.mounts))[0])
            reason = world.why_disabled(b, state, first, BOTH) or "no free fd slot"
        elif ev.arg == -1 and e.fd:
            reason = failed.get(e.fd, f"{e.fd} is not open")
        else:
            reason = world.why_disabled(b, state, ev, BOTH)
        if reason is not None:
            out.results.append(SKIPPED)
            out.skipped[i] = reason
            out.states.append(state)
            continue
        w = World(b, state)
        ret = spec.apply(w, ev)
        state = w.freeze()
        if e.verb == "open" and ret:
            failed[e.fd or ""] = (
                f"{e.fd} is not open: its open on line {e.line} returned {result_name(ret)}"
            )
        elif e.verb == "open":
            slots[e.fd or ""] = ev.arg
        elif e.verb == "close":
            slots.pop(e.fd or "", None)
        out.results.append(result_name(ret))
        out.states.append(state)
    return out


def replay(scenario: Scenario, spec: Spec) -> list[str | None]:
    """The model's result per event ("0", "EIO", None, or "skipped")."""
    return run(scenario, spec).results


def container_of(scenario: Scenario, e: Event) -> str | None:
    """The container an event concerns (its own, or its fd's), None for the host's."""
    who = scenario.owners.get(e.fd or "") if e.fd else e.target
    return who if who and who != "host" else None


def results_missed(scenario: Scenario, r: Run) -> dict[tuple[str, str], int]:
    """The first mount of each container, and the open of each fd, whose stated result
    `r` did not give, by ("mount", container) and ("open", fd): from there on, whether
    that container is mounted, or that fd open, is not what the file says."""
    missed: dict[tuple[str, str], int] = {}
    for i, e in enumerate(scenario.events):
        if e.verb in ("mount", "open") and e.expect is not None and r.results[i] != e.expect:
            missed.setdefault((e.verb, (e.target if e.verb == "mount" else e.fd) or ""), i)
    return missed


def left_the_path(missed: dict[tuple[str, str], int], c: str | None, e: Event, i: int) -> bool:
    """Whether event `i` comes after a missed mount of its container `c` or a missed
    open of its fd (`results_missed`)."""
    return min(missed.get(("mount", c or ""), i), missed.get(("open", e.fd or ""), i)) < i


def replay_all(scenario: Scenario, specs: list[Spec]) -> list[Run]:
    """Run every spec.  A result stated on an environment event (wberror, evict: nobody's
    syscall, no result) is bad input, and so is an event that no spec can run, unless
    under every spec an earlier mount of its container, or the open of its fd, did not
    give the result the file states: a mount's result decides whether the container is
    mounted, an open's whether the fd is open, so the runs left the path the file
    describes, and that line is the finding (a volatile mount stated 0 but refused, so
    the container's next open cannot happen; an open stated 0 that a spec fails)."""
    for e in scenario.events:
        if e.expect is not None and e.verb in ENVIRONMENT:
            raise ScenarioError(
                scenario.source,
                e.line,
                f"= {e.expect}",
                f"{e.verb} is an environment event and has no result: remove '= {e.expect}'",
            )
    runs = [run(scenario, s) for s in specs]
    missed = [results_missed(scenario, r) for r in runs]
    for i, e in enumerate(scenario.events):
        c = container_of(scenario, e)
        if all(i in r.skipped for r in runs) and not all(left_the_path(m, c, e, i) for m in missed):
            reason = runs[0].skipped[i]
            if len(runs) > 1:
                reason += " (under every spec)"
            raise ScenarioError(scenario.source, e.line, str(e), f"event cannot happen: {reason}")
    return runs


def stated(scenario: Scenario, runs: list[Run]) -> int:
    """How many stated results the runs check (each stated line once per spec)."""
    return sum(e.expect is not None for e in scenario.events) * len(runs)


def mismatches(scenario: Scenario, runs: list[Run]) -> list[Mismatch]:
    """Every (line, spec) whose result is not the one the line states, in line order."""
    return [
        Mismatch(
            scenario.source,
            e.line,
            str(e),
            r.spec.name,
            e.expect,
            r.results[i],
            r.skipped.get(i, ""),
        )
        for i, e in enumerate(scenario.events)
        if e.expect is not None
        for r in runs
        if r.results[i] != e.expect
    ]
