"""Witnesses as plain-text timelines, one lane per container, like the seed's.

    ovl1                    ovl2                    env
    ------------------------------------------------------------------
    mount = 0
    open fd1
    write fd1
                                                    wberror ovl1
                            mount = 0
    ...

Lanes: every container that acts, then `host` and `env` (wberror, evict) when used.
The lane width shrinks to fit 72 columns for two containers with host and env.
Results are shown for mount, fsync and syncfs (the only calls that can fail in the
model); a marked step gets `<` in the margin and a footnote.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from explorer.domain.scenario import SHOWN as SHOWN  # the calls whose result a line always shows
from explorer.domain.scenario import Event, format_run, result_name, shows_result
from explorer.domain.world import ENVIRONMENT, Bounds
from explorer.engine.verdict import Step

WIDTH = 72


def lane_text(line: str, verb: str, obs: int | None, owner_shown: bool) -> str:
    """An event as written in its lane: the container is the lane, so it is dropped."""
    words = line.split()
    if not owner_shown and verb in ("mount", "umount", "open"):
        # The owner's word goes (`mount ovl1`, `open fd1 host`); the file a host fd opens
        # on a container stays (`open fd3 host ovl1` reads `open fd3 ovl1` in the host lane).
        at = 1 if verb != "open" else 2
        words = words[:at] + words[at + 1 :]
    text = " ".join(words)
    if shows_result(verb, obs):
        text += f" = {result_name(obs)}"
    return text


def lanes_of(bounds: Bounds, runs: Sequence[Sequence[Step]]) -> list[int]:
    actors = {bounds.actor(st.action) for run in runs for st in run}
    lanes = [c for c in range(bounds.mounts) if c in actors]
    if 0 not in lanes:
        lanes.insert(0, 0)
    if bounds.host in actors:
        lanes.append(bounds.host)
    if ENVIRONMENT in actors:
        lanes.append(ENVIRONMENT)
    return lanes


def lane_name(bounds: Bounds, lane: int) -> str:
    return "env" if lane == ENVIRONMENT else bounds.owner_name(lane)


def timeline(
    bounds: Bounds,
    steps: Sequence[Step],
    marks: dict[int, str] | None = None,
    lanes: list[int] | None = None,
    title: str = "",
    named: Sequence[Event] | None = None,
) -> str:
    """Render one run; `marks` maps a step index to a footnote (the step gets a `<`).
    `named` are the run's events as scenario lines (default: a fresh fd name per open,
    `format_run`); a claim's run keeps the claim's fd names."""
    marks = marks or {}
    lanes = lanes or lanes_of(bounds, [steps])
    width = max(18, min(24, (WIDTH - 6) // len(lanes)))
    lines = wrap(title)
    head = "    " + "".join(f"{lane_name(bounds, lane):<{width}}" for lane in lanes)
    lines.append(head.rstrip())
    lines.append("    " + "-" * (width * len(lanes) - 2))
    if named is None:
        named = format_run(bounds, [st.action for st in steps])
    for i, (st, ev) in enumerate(zip(steps, named, strict=True)):
        actor = bounds.actor(st.action)
        col = lanes.index(actor) if actor in lanes else len(lanes) - 1
        text = lane_text(str(ev), st.action.verb, st.obs, actor == ENVIRONMENT)
        row = f"{i + 1:>2}  " + " " * (width * col) + text
        if i in marks:
            row = f"{row:<{4 + width * len(lanes)}}".rstrip() + "  <"
        lines.append(row.rstrip())
    for i, note in sorted(marks.items()):
        lines += wrap(f"step {i + 1}: {note}", "    < ", "      ")
    return "\n".join(lines) + "\n"


def wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    """`text` in lines of at most WIDTH columns (a mail's), the first after `first`."""
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest)


def scenario_text(
    bounds: Bounds, steps: Sequence[Step], header: str = "", named: Sequence[Event] | None = None
) -> str:
    """The run in the scenario language, ready for `explore replay` (`named` as in
    `timeline`)."""
    out = [f"# {line}" for line in header.splitlines()] if header else []
    if named is None:
        named = format_run(bounds, [st.action for st in steps])
    for st, ev in zip(steps, named, strict=True):
        res = result_name(st.obs)
        out.append(f"{ev}" + (f" = {res}" if shows_result(st.action.verb, st.obs) else ""))
    return "\n".join(out) + "\n"


def compare(
    bounds: Bounds,
    steps: Sequence[Step],
    other: Sequence[Step],
    names: tuple[str, str],
    title: str = "",
) -> str:
    """The same run under two specs: events in lanes, one result column per spec."""
    lanes = lanes_of(bounds, [steps])
    res_w = max(5, *(len(n) + 1 for n in names))
    width = max(14, min(24, (WIDTH - 4 - 2 * res_w) // len(lanes)))
    lines = wrap(title)
    head = "    " + "".join(f"{lane_name(bounds, x):<{width}}" for x in lanes)
    head += "".join(f"{n:<{res_w}}" for n in names)
    lines.append(head.rstrip())
    lines.append("    " + "-" * (width * len(lanes) + 2 * res_w - 1))
    named = format_run(bounds, [st.action for st in steps])
    for i, (a, b, ev) in enumerate(zip(steps, other, named, strict=True)):
        actor = bounds.actor(a.action)
        col = lanes.index(actor)
        text = lane_text(str(ev), a.action.verb, None, actor == ENVIRONMENT)
        cells = ""
        if a.obs != b.obs or any(shows_result(a.action.verb, x.obs) for x in (a, b)):
            cells = "".join(f"{result_name(x.obs) or '':<{res_w}}" for x in (a, b))
        row = f"{i + 1:>2}  " + f"{' ' * (width * col) + text:<{width * len(lanes)}}" + cells
        if a.obs != b.obs:
            row = row.rstrip() + "  <"
        lines.append(row.rstrip())
    return "\n".join(lines) + "\n"
