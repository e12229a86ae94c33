"""The witness of a failed `expect:` line in `explore claim --json`: a run's steps and
scenario, or with races on (the check's Config kept) its steps and the step notation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explorer.domain.world import Bounds
from explorer.engine.verdict import Verdict
from explorer.render import race_report, report, timeline

if TYPE_CHECKING:
    from explorer.checker.config import Config


def witness_json(bounds: Bounds, v: Verdict, cfg: Config | None) -> dict[str, Any]:
    if cfg is not None:
        out: dict[str, Any] = {}
        for key, run in (("witness", v.witness), ("other", v.other)):
            if run:
                out[key] = race_report.steps_json(cfg, run, v.model)
                name = "scenario" if key == "witness" else "other_scenario"
                out[name] = race_report.scenario(cfg, run, v.model)
        return out
    out = {
        "witness": report.steps_json(bounds, v.witness),
        "scenario": timeline.scenario_text(bounds, v.witness),
    }
    if v.other:
        out["other_scenario"] = timeline.scenario_text(bounds, v.other)
    return out
