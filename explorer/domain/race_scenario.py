"""The step notation (docs/model.md §2 and §8): a run with calls in steps, line by line.

A race scenario is a scenario (explorer.domain.scenario) whose lines may name the
thread that takes them and say how much of the call they take:

    host.1: open fd1 host        a whole call: every one of its steps, in a row
    host.1: write fd1
    env: wberror host            the environment's call on host's file (lane env.host)
    host.1: syncfs fd1 ...       the call begins: its first step only
    host.2: syncfs fd1 ...
    host.1: ...                  its next step; the call goes on
    host.2: ...
    host.1: ... = EIO            the step that ends it, with its result
    host.2: ... = EIO
    env.host: ... end            the step that ends a call that returns nothing

A thread is ACTOR.K (`ovl1.2`, `host.1`) or, for the environment, `env` on the line
that begins its call and `env.FILE` on the lines that go on with it.  A line without a
thread is a whole call on its actor's first thread, so every scenario is a race
scenario.  `# ...` comments (the tool writes what each step's accesses did there) are
ignored.  `explore replay --races` takes every step as written and checks each
stated result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from explorer.domain.layout import Bounds
from explorer.domain.layout import Event as WorldEvent
from explorer.domain.race_world import PENDING, Call, RaceLayout
from explorer.domain.scenario import (
    CONTAINER_RE,
    Event,
    Scenario,
    ScenarioError,
    _validate,
    format_run,
    parse_line,
    result_name,
    shows_result,
)

LANE_RE = re.compile(r"^\s*(env(?:\.(?:host|ovl\d+))?|(?:host|ovl\d+)\.\d+)\s*:(.*)$")
GOES_ON = "..."


@dataclass(frozen=True)
class Line:
    """One line: its thread (None: the actor's first), and what it takes: a whole call
    ("whole"), a call's first step ("begin"), a step in the middle ("step") or the
    step that ends a call ("end").  `event` is the call a whole or begin line makes;
    `expect` a stated result."""

    n: int
    lane: str | None
    take: str
    event: Event | None = None
    expect: str | None = None


@dataclass
class RaceScenario:
    """A parsed race scenario: its lines, and the scenario of its calls (for the fd
    names and the world's bounds), with the threads each actor needs."""

    source: str
    lines: list[Line]
    calls: Scenario
    threads: int = 1
    lanes: dict[str, list[int]] = field(default_factory=dict)  # lane -> indices of lines


def parse_race(text: str, source: str = "<stdin>") -> RaceScenario:
    """Parse a race scenario; ScenarioError (file, line, token, reason) on the first bad line."""
    lines: list[Line] = []
    for n, raw in enumerate(text.splitlines(), 1):
        body = raw.split("#", 1)[0]
        if not body.strip():
            continue
        m = LANE_RE.match(body)
        lane, rest = (m.group(1), m.group(2)) if m else (None, body)
        if lane is None and ":" in body.split("=")[0]:
            tok = body.split(":")[0].strip()
            raise ScenarioError(source, n, tok, "not a thread: ACTOR.K (host.1, ovl2.1) or env")
        lines.append(_line(source, n, lane, rest))
    if not lines:
        raise ScenarioError(source, 0, "", "the scenario has no events")
    calls = _validate(source, [ln.event for ln in lines if ln.event is not None])
    return _threads(source, lines, calls)


def _line(source: str, n: int, lane: str | None, rest: str) -> Line:
    text, _, result = rest.partition("=")
    words = text.split()
    expect = result.strip() or None
    if words and words[0] == GOES_ON:
        if lane is None or lane == "env":
            raise ScenarioError(
                source, n, GOES_ON, "a step names its thread (host.1: ..., env.host: ...)"
            )
        if words[1:] == ["end"] or (expect is not None and len(words) == 1):
            return Line(n, lane, "end", expect=expect)
        if len(words) > 1:
            raise ScenarioError(source, n, words[1], "a step is '...', '... = RESULT' or '... end'")
        return Line(n, lane, "step")
    begin = bool(words) and words[-1] == GOES_ON
    if begin:
        if expect is not None:
            raise ScenarioError(source, n, "=", "a call that goes on has no result yet")
        rest = " ".join(words[:-1])
    if lane is not None and lane.startswith("env."):
        raise ScenarioError(source, n, lane, "a call of the environment begins on 'env:'")
    ev = parse_line(source, n, rest)
    if ev is None:
        raise ScenarioError(source, n, "", "no event on this line")
    return Line(n, lane, "begin" if begin else "whole", ev, ev.expect)


def _threads(source: str, lines: list[Line], calls: Scenario) -> RaceScenario:
    """Check that each line's thread is its call's actor's, and count the threads."""
    threads = 1
    lanes: dict[str, list[int]] = {}
    for i, ln in enumerate(lines):
        if ln.event is None or ln.lane is None:
            continue
        actor = _actor(calls, ln.event)
        if ln.lane == "env":
            if actor != "env":
                raise ScenarioError(source, ln.n, "env", f"'{ln.event}' is not the environment's")
            continue
        who, k = ln.lane.rsplit(".", 1)
        if who != actor:
            raise ScenarioError(source, ln.n, ln.lane, f"'{ln.event}' is {actor}'s call")
        if CONTAINER_RE.match(who) and int(who[3:]) > calls.bounds.mounts:
            raise ScenarioError(source, ln.n, ln.lane, "no such container in the scenario")
        threads = max(threads, int(k))
        lanes.setdefault(ln.lane, []).append(i)
    return RaceScenario(source, lines, calls, threads, lanes)


def _actor(calls: Scenario, e: Event) -> str:
    """Who makes a call: its container, the host, or env (wberror, evict)."""
    if e.verb in ("wberror", "evict"):
        return "env"
    if e.verb == "sync":
        return "host"
    if e.verb in ("mount", "umount", "open"):
        return e.target or ""
    return calls.owners.get(e.fd or "", "")


def format_race(
    layout: RaceLayout,
    steps: list[tuple[Any, object]],
    notes: list[str] | None = None,
    fd_names: list[str] | None = None,
) -> list[str]:
    """A run of Call and Resume steps (with their observations) in the step notation:
    a call none of whose steps another thread's step separates is one whole-call line.
    `notes`, one per step: what its accesses did, written as comments (a whole call's
    joined).  `fd_names`: the names the opens give their fds, in order (default fd1,
    fd2, ...)."""
    b = layout.bounds
    given = iter(fd_names or ())
    names: dict[int, str] = {}
    whole = whole_calls(steps)
    out: list[str] = []
    for k, (a, obs) in enumerate(steps):
        ev: WorldEvent = a.event
        lane = layout.lane_name(a.lane)
        note = notes[k] if notes else ""
        if type(a) is Call:
            if ev.verb == "open":
                names[ev.arg] = next(given, None) or f"fd{len(names) + 1}"
            call = call_text(b, ev, names)
            who = "env" if lane.startswith("env") else lane
            if k in whole:
                end = whole[k]
                text = f"{who}: {call}" + _result(steps[end][1], ev.verb)
                if notes:
                    note = "; ".join(x for x in notes[k : end + 1] if x)
            elif obs is PENDING:
                text = f"{who}: {call} ..."
            else:
                text = f"{who}: {call}" + _result(obs, ev.verb)
        elif any(k > c and k <= e for c, e in whole.items()):
            continue
        elif obs is PENDING:
            text = f"{lane}: ..."
        else:
            text = f"{lane}: ... " + (_result(obs, ev.verb).lstrip() or "end")
        out.append(f"{text:<32}# {note}" if note else text)
    return out


def whole_calls(steps: list[tuple[Any, object]]) -> dict[int, int]:
    """Calls taken in a row, no other thread's step between their first and last: the
    index of the first -> the index of the last."""
    out: dict[int, int] = {}
    k = 0
    while k < len(steps):
        a, _ = steps[k]
        if type(a) is Call:
            j = k
            while steps[j][1] is PENDING and j + 1 < len(steps) and steps[j + 1][0].lane == a.lane:
                j += 1
            if steps[j][1] is not PENDING:
                out[k] = j
                k = j + 1
                continue
        k += 1
    return out


def call_text(b: Bounds, ev: WorldEvent, names: dict[int, str]) -> str:
    """A call as its scenario line, its fd by the run's name for it."""
    if ev.verb == "open":
        owner = b.owner(ev.arg)
        file = b.owner_name(ev.ino) if ev.ino >= 0 and ev.ino != owner else None
        return str(Event("open", fd=names[ev.arg], target=b.owner_name(owner), file=file))
    if ev.verb in ("write", "fsync", "syncfs", "close"):
        return f"{ev.verb} {names.get(ev.arg, f'slot{ev.arg + 1}')}"
    return str(format_run(b, [ev])[0])


def _result(obs: object, verb: str = "syncfs") -> str:
    """A call's result as its line shows it (as in a scenario: `shows_result`)."""
    return f" = {result_name(obs)}" if shows_result(verb, obs) else ""  # type: ignore[arg-type]
