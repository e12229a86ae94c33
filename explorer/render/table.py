"""The replay table: one row per scenario line, one result column per spec.

Plain text that pastes into a mail: results are shown where they can differ
(mount, fsync, syncfs; other syscalls always return 0 in the model) and on every
line that states its result, `-` marks an event a spec had to skip (the reason is
footnoted), `*` marks a row on which the specs disagree and `!` one on which a spec's
result is not the stated one.  A `stated` column appears when the scenario states
results.
"""

from __future__ import annotations

from explorer.checker.results import SKIPPED, Mismatch, Run
from explorer.domain.scenario import SHOWN, Event, Scenario


def cell(e: Event, result: str | None) -> str:
    if result == SKIPPED:
        return "-"
    if result is None or (e.verb not in SHOWN and result == "0" and e.expect is None):
        return ""
    return result


def replay_table(scenario: Scenario, runs: list[Run], missed: list[Mismatch]) -> str:
    """Render the runs of one scenario side by side; `missed` marks the rows with `!`."""
    has_stated = any(e.expect is not None for e in scenario.events)
    names = (["stated"] if has_stated else []) + [r.spec.name for r in runs]
    events = [str(e) for e in scenario.events]
    ev_w = max(len("event"), *(len(e) for e in events))
    stated_cells = [[e.expect or "" for e in scenario.events]] if has_stated else []
    cells_by_col = stated_cells + [
        [cell(e, r.results[i]) for i, e in enumerate(scenario.events)] for r in runs
    ]
    col_w = [
        max(len(n), 3, *(len(c) for c in col)) for n, col in zip(names, cells_by_col, strict=True)
    ]
    bad_lines = {m.line for m in missed}
    lines = []
    head = f"{'':>3}  {'event':<{ev_w}}  " + "  ".join(
        f"{n:<{w}}" for n, w in zip(names, col_w, strict=True)
    )
    lines.append(head.rstrip())
    lines.append("-" * len(head.rstrip()))
    differ_any = False
    for i, e in enumerate(scenario.events):
        cells = [cell(e, r.results[i]) for r in runs]
        differ = len(set(cells)) > 1
        differ_any |= differ
        shown = ([e.expect or ""] if has_stated else []) + cells
        row = f"{e.line:>3}  {events[i]:<{ev_w}}  " + "  ".join(
            f"{c:<{w}}" for c, w in zip(shown, col_w, strict=True)
        )
        marks = ("*" if differ else " ") + (" !" if e.line in bad_lines else "")
        lines.append(f"{row.rstrip()}  {marks.rstrip()}".rstrip())
    notes = [
        f"- line {scenario.events[i].line} under {r.spec.name}: {reason}"
        for r in runs
        for i, reason in sorted(r.skipped.items())
    ]
    if differ_any or bad_lines:
        lines.append("")
    if differ_any:
        lines.append("* the specs disagree on this line")
    if bad_lines:
        lines.append("! a result is not the stated one")
    if notes:
        lines.append("")
        lines.append("skipped (cannot happen under that spec):")
        lines.extend(notes)
    return "\n".join(lines) + "\n"


def replay_json(scenario: Scenario, runs: list[Run], missed: list[Mismatch]) -> dict:
    """Everything the table says, for machines."""
    return {
        "scenario": scenario.source,
        "specs": [r.spec.name for r in runs],
        "events": [
            {
                "line": e.line,
                "event": str(e),
                "stated": e.expect,
                "results": {r.spec.name: r.results[i] for r in runs},
                "skipped": {r.spec.name: r.skipped[i] for r in runs if i in r.skipped},
            }
            for i, e in enumerate(scenario.events)
        ],
        "mismatches": [m.as_json() for m in missed],
    }


def summary(checked: int, missed: list[Mismatch]) -> str:
    """The verdict on the stated results: how many were checked, and each one not met."""
    if not checked:
        return ""
    if not missed:
        return f"stated results: {checked} checked, all hold\n"
    head = f"stated results: {checked} checked, {len(missed)} not met:"
    return "\n".join([head, *(str(m) for m in missed)]) + "\n"
