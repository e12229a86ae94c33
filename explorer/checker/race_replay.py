"""`explore replay --races`: a run in the step notation taken step by step under each spec.

A race scenario (explorer.domain.race_scenario) says which thread takes each step.
Under a spec where a step cannot be taken as written (its call has to wait, ends
sooner, or goes on longer: another spec's calls need not take as many steps), the
spec's run stops there, with the reason; the lines after it have no result under it.
A line's stated result is checked under every spec replayed, as in `explore replay`.

A witness file the main job writes with races ends with its run after an 'As a race
scenario' line (and run B of an isolation pair after its own): `race_scenarios_in`
reads those parts, keeping the file's line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from explorer.bridge.race_model import RaceModel
from explorer.bridge.race_runs import Played, play
from explorer.checker.replay import WITNESS_RE
from explorer.checker.results import SKIPPED, Mismatch
from explorer.domain.race_scenario import RaceScenario, parse_race
from explorer.domain.scenario import ScenarioError
from explorer.domain.vfs import Spec
from explorer.domain.world import NORMAL, VOLATILE

# The lines a race witness's runs follow (written by explorer.render.race_report).
RACE_WITNESS_RE = re.compile(r"^(Run B .*: )?As a race scenario \(explore replay --races\b.*\):$")


@dataclass
class RaceRun:
    """A race scenario under one spec: each line's result ("...": the call goes on),
    and where the run stopped, if it did (line index, reason)."""

    spec: Spec
    results: list[str | None] = field(default_factory=list)
    stopped: tuple[int, str] | None = None
    played: Played | None = None


def race_scenarios_in(text: str, source: str) -> list[RaceScenario]:
    """A race scenario file's one scenario, or a race witness file's runs: each the
    block of lines after an 'As a race scenario' line."""
    lines = text.splitlines()
    starts = [i for i, ln in enumerate(lines) if RACE_WITNESS_RE.match(ln.strip())]
    if not starts:
        atomic = next((n for n, ln in enumerate(lines, 1) if WITNESS_RE.match(ln.strip())), 0)
        if atomic:
            raise ScenarioError(
                source,
                atomic,
                "As a scenario",
                "a witness of a run without races: replay it without --races",
            )
        return [parse_race(text, source)]
    out = []
    for k, start in enumerate(starts):
        i = start + 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        end = i
        while end < len(lines) and lines[end].strip():
            end += 1
        body = [ln if i <= n < end else "" for n, ln in enumerate(lines)]
        name = source if len(starts) == 1 else f"{source} (run {'AB'[k]})"
        out.append(parse_race("\n".join(body), name))
    return out


def replay_races(rs: RaceScenario, specs: list[Spec], threads: int = 1) -> list[RaceRun]:
    """Each spec's run of `rs`, stopping where a step cannot be taken as written."""
    out = []
    for spec in specs:
        model = RaceModel(spec, rs.calls.bounds, (NORMAL, VOLATILE), max(threads, rs.threads))
        run = RaceRun(spec)
        try:
            run.played = play(model, rs)
            run.results = list(run.played.results)
        except ScenarioError as exc:
            i = next(k for k, ln in enumerate(rs.lines) if ln.n == exc.line)
            partial = _upto(model, rs, i)
            run.results = partial + [None] * (len(rs.lines) - len(partial))
            run.stopped = (i, exc.reason)
        out.append(run)
    if all(r.stopped is not None and r.stopped[0] == out[0].stopped[0] for r in out):  # type: ignore[index]
        i, reason = out[0].stopped  # type: ignore[misc]
        ln = rs.lines[i]
        raise ScenarioError(
            rs.source, ln.n, ln.lane or str(ln.event or ""), f"under every spec: {reason}"
        )
    return out


def _upto(model: RaceModel, rs: RaceScenario, i: int) -> list[str | None]:
    """The results of the lines before line `i` (the ones that could be taken)."""
    head = RaceScenario(rs.source, rs.lines[:i], rs.calls, rs.threads, rs.lanes)
    return list(play(model, head).results) if i else []


def race_mismatches(rs: RaceScenario, runs: list[RaceRun]) -> list[Mismatch]:
    """Every stated result a spec does not give (a line after its run stopped too)."""
    out = []
    for k, ln in enumerate(rs.lines):
        if ln.expect is None:
            continue
        for r in runs:
            got = r.results[k]
            if got == ln.expect:
                continue
            what = str(ln.event) if ln.event is not None else f"{ln.lane}: ..."
            if r.stopped is not None and k >= r.stopped[0]:
                why = f"its run stopped at line {rs.lines[r.stopped[0]].n}: {r.stopped[1]}"
                out.append(Mismatch(rs.source, ln.n, what, r.spec.name, ln.expect, SKIPPED, why))
            else:
                out.append(Mismatch(rs.source, ln.n, what, r.spec.name, ln.expect, got))
    return out
