"""timings.json: what report.json leaves out because it depends on how the run was
made (explorer.render.report writes both)."""

from __future__ import annotations

from typing import Any

from explorer.checker.results import Outcome, SpecResult
from explorer.domain.world import Bounds
from explorer.engine.verdict import Verdict

TIMINGS_SCHEMA = "errseq-explorer/timings/2"


def timings(outcome: Outcome) -> dict[str, Any]:
    """What report.json leaves out because it depends on how the run was made: the time
    taken, and what the searches stored (with symmetry, classes of states: a run's
    figures are not a count of its runs' states, which a class cannot give, since an
    open takes its owner's lowest free fd and so one fd's run is not another's)."""
    b = outcome.config.bounds
    return {
        "schema": TIMINGS_SCHEMA,
        "seconds": round(outcome.seconds, 3),
        "symmetry": outcome.config.symmetry,
        "searched": outcome.searched,
        "specs": {
            r.spec.name: {
                "search_seconds": round(r.search_seconds, 4),
                "seconds": round(r.seconds, 4),
                **spec_json(r),
            }
            for r in outcome.results
        },
        "verdicts": [
            effort_json(b, v) for r in outcome.results for vs in r.verdicts.values() for v in vs
        ],
    }


def effort_json(bounds: Bounds, v: Verdict) -> dict[str, Any]:
    """A check's figures that depend on the graph it searched: product states, violating
    transitions (isolation: states in a conflict), and isolation's two searches."""
    d: dict[str, Any] = {"spec": v.model, "property": v.prop}
    if v.isolation is not None:
        d["container"] = bounds.owner_name(v.isolation.viewer)
    d["explored"], d["violations"] = v.explored, v.violations
    if v.isolation is not None:
        d["product_states"] = {
            "general": v.isolation.exact_states,
            "removal": v.isolation.removal_states,
        }
    return d


def spec_json(r: SpecResult) -> dict[str, Any]:
    return {
        "states": r.states,
        "transitions": r.transitions,
        "coverage": dict(sorted(r.coverage.items())),
    }
