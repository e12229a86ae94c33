"""A run with calls in steps as a timeline: a lane per thread, a row per step.

    host.1              host.2              env
    ------------------------------------------------------------
 1  open fd1
 2  write fd1
 3                                          wberror host
 4  syncfs fd1 ...
 5  +
 6  |                   syncfs fd1 ...
 7  = EIO               |
 8                      +
 9                      = EIO

A call's first step writes it in its thread's lane, each further step of it a `+`,
and the step that ends it its result (`end` for a call without one); while a call
goes on, its lane shows `|` on the rows of other threads' steps, so overlapping calls
stand side by side.
A call taken in a row, no other thread's step between its steps, is one row, as
in the step notation (explorer.domain.race_scenario).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from explorer.domain.race_scenario import call_text, whole_calls
from explorer.domain.race_world import PENDING, Call, RaceLayout
from explorer.domain.scenario import result_name, shows_result
from explorer.render.timeline import WIDTH, wrap


def race_timeline(
    layout: RaceLayout,
    steps: Sequence[tuple[Any, Any]],
    marks: dict[int, str] | None = None,
    title: str = "",
) -> str:
    """Render one run; `marks` maps a step index to a footnote (its row gets a `<`)."""
    marks = marks or {}
    lanes = sorted({a.lane for a, _ in steps})
    width = max(16, min(24, (WIDTH - 6) // max(1, len(lanes))))
    out = wrap(title)
    out.append(("    " + "".join(f"{layout.lane_name(x):<{width}}" for x in lanes)).rstrip())
    out.append("    " + "-" * (width * len(lanes) - 2))
    whole = whole_calls(list(steps))
    row_of = _rows(len(steps), whole)
    marked = {row_of[k] for k in marks}
    names: dict[int, str] = {}
    going: set[int] = set()
    for k, (a, obs) in enumerate(steps):
        if type(a) is Call and a.event.verb == "open":
            names[a.event.arg] = f"fd{len(names) + 1}"
        if k and row_of[k] == row_of[k - 1]:
            continue  # a step of a call shown whole
        end_obs = steps[whole[k]][1] if k in whole else obs
        cells = {x: "|" for x in going}
        cells[a.lane] = _cell(layout, a, end_obs, names)
        if end_obs is PENDING:
            going.add(a.lane)
        else:
            going.discard(a.lane)
        row = f"{row_of[k]:>2}  " + "".join(f"{cells.get(x, ''):<{width}}" for x in lanes)
        out.append(row.rstrip() + ("  <" if row_of[k] in marked else ""))
    for k, note in sorted(marks.items()):
        out += wrap(f"row {row_of[k]}: {note}", "    < ", "      ")
    return "\n".join(out) + "\n"


def _rows(n: int, whole: dict[int, int]) -> list[int]:
    """Each step's row: a call shown whole is one row."""
    rows, row, k = [0] * n, 0, 0
    while k < n:
        row += 1
        end = whole.get(k, k)
        for j in range(k, end + 1):
            rows[j] = row
        k = end + 1
    return rows


def _cell(layout: RaceLayout, a: Any, obs: Any, names: dict[int, str]) -> str:
    """What a step writes in its lane."""
    verb = a.event.verb
    name = result_name(obs) if shows_result(verb, obs) else None
    if type(a) is Call:
        text = call_text(layout.bounds, a.event, names)
        return text + (" ..." if obs is PENDING else f" = {name}" if name is not None else "")
    if obs is PENDING:
        return "+"
    return f"= {name}" if name is not None else "end"
