"""The replay table: one row per scenario line, one result column per spec.

Plain text that pastes into a mail: results are shown where they can differ
(mount, fsync, syncfs; other syscalls always return 0 in the model), `-` marks an
event a spec had to skip (the reason is footnoted) and `*` marks a row on which the
specs disagree.
"""

from __future__ import annotations

from explorer.render.timeline import SHOWN
from explorer.replay import SKIPPED, Run
from explorer.scenario import Scenario


def cell(verb: str, result: str | None) -> str:
    if result == SKIPPED:
        return "-"
    if result is None or (verb not in SHOWN and result == "0"):
        return ""
    return result


def replay_table(scenario: Scenario, runs: list[Run]) -> str:
    """Render the runs of one scenario side by side."""
    names = [r.spec.name for r in runs]
    events = [str(e) for e in scenario.events]
    ev_w = max(len("event"), *(len(e) for e in events))
    col_w = [max(len(n), 3) for n in names]
    lines = []
    head = f"{'':>3}  {'event':<{ev_w}}  " + "  ".join(
        f"{n:<{w}}" for n, w in zip(names, col_w, strict=False)
    )
    lines.append(head.rstrip())
    lines.append("-" * len(head.rstrip()))
    for i, e in enumerate(scenario.events):
        cells = [cell(e.verb, r.results[i]) for r in runs]
        differ = len({c for c in cells}) > 1
        row = f"{e.line:>3}  {events[i]:<{ev_w}}  " + "  ".join(
            f"{c:<{w}}" for c, w in zip(cells, col_w, strict=False)
        )
        lines.append((row.rstrip() + ("  *" if differ else "")).rstrip())
    notes = [
        f"- line {scenario.events[i].line} under {r.spec.name}: {reason}"
        for r in runs
        for i, reason in sorted(r.skipped.items())
    ]
    if any(
        len({cell(e.verb, r.results[i]) for r in runs}) > 1 for i, e in enumerate(scenario.events)
    ):
        lines.append("")
        lines.append("* the specs disagree on this line")
    if notes:
        lines.append("")
        lines.append("skipped (cannot happen under that spec):")
        lines.extend(notes)
    return "\n".join(lines) + "\n"


def replay_json(scenario: Scenario, runs: list[Run]) -> dict:
    """Everything the table says, for machines."""
    return {
        "scenario": scenario.source,
        "specs": [r.spec.name for r in runs],
        "events": [
            {
                "line": e.line,
                "event": str(e),
                "results": {r.spec.name: r.results[i] for r in runs},
                "skipped": {r.spec.name: r.skipped[i] for r in runs if i in r.skipped},
            }
            for i, e in enumerate(scenario.events)
        ],
    }
