"""`explore claim --html FILE`: a campaign of claims as one page, in the spirit of
herd-www's campaigns (each test coloured by expected against got).

The table has a row per claim (and per property an `expect:` line asks about) and a
column per spec; a cell is the verdict with the runs that satisfy the condition out
of all runs (`S 1/16`), green when it is what the claim expects and red when not, and
links to the run shown for it: a run that satisfies the condition, or one that
refutes the expectation, step by step with the state after each step, as the main
report shows witnesses (explorer.render.html.witness).  Each claim lists herd7's
`States`: every outcome of the calls the condition names, with its runs.

A claim's world has its own bounds, so each (claim, spec) has a region of its own in
the page's state browser, named `CLAIM:SPEC`, holding the runs shown and their
successors.  Shortest paths are not given there: the claim's search is over its
programs, not the world's every run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from explorer import __version__
from explorer.bridge.model import ErrseqModel
from explorer.bridge.monitors import monitors
from explorer.domain.claim import ClaimVerdict
from explorer.domain.vfs import Spec
from explorer.domain.world import MOUNT_OPTIONS, Bounds
from explorer.engine.verdict import Step
from explorer.render import mail, timeline
from explorer.render.html import browser, region
from explorer.render.html.region import runs_of
from explorer.render.html.witness import RunView, lanes_of, run_json, views_of

if TYPE_CHECKING:
    from explorer.app.claim_states import StateCount
    from explorer.app.outcome import ClaimOutcome, Observation

SHORT = {ClaimVerdict.NEVER: "N", ClaimVerdict.SOMETIMES: "S", ClaimVerdict.ALWAYS: "A"}
#: An observation's States: the events the condition names, and each outcome.
States = Callable[["ClaimOutcome", "Observation"], "tuple[list[str], list[StateCount]]"]


def observation_cell(o: Observation) -> dict[str, Any]:
    if o.error:
        return {"text": "no run", "status": "bad", "title": o.error}
    total = o.satisfied + o.unsatisfied
    text = f"{SHORT[o.verdict]} {o.satisfied}/{total}"  # type: ignore[index]
    wanted = " or ".join(str(v) for v in o.expected)
    return {
        "text": text,
        "status": "ok" if o.ok else "bad",
        "title": f"{o.verdict}; expected {wanted}",
    }


def run_mail(world: Bounds, spec: Spec, title: str, steps: list[Step], lines: list) -> str:
    """A claim's run for mail: lanes, then the scenario in its trace form."""
    out = [timeline.timeline(world, steps, title=title, named=lines).rstrip("\n"), ""]
    out.append(f"As a scenario (explore replay FILE --spec {spec.name}):")
    out += ["", timeline.scenario_text(world, steps, named=lines).rstrip("\n")]
    runs = [(spec, mail.run_trace(world, spec, steps, lines))]
    return mail.traced("\n".join(out) + "\n", world, runs)


def claims_data(
    outcomes: list[ClaimOutcome],
    code: int,
    spec_of: Callable[[ClaimOutcome, str], Spec],
    states_of: States,
    summary: str = "",
) -> dict[str, Any]:
    """The page's data for a campaign of claims (see the module's docstring)."""
    templates, reasons = browser.Interned(), browser.Interned()
    reasons("")
    columns: list[str] = []
    claims: list[dict[str, Any]] = []
    witnesses: list[dict[str, Any]] = []
    regions: dict[str, Any] = {}
    for c in outcomes:
        entry: dict[str, Any] = {
            "name": c.claim.name,
            "file": c.claim.source,
            "question": list(c.claim.question),
            "conclusion": c.claim.conclusion or "",
            "checked": not c.not_checked,
            "reason": c.reason,
            "cells": {},
            "expects": {},
            "states": [],
        }
        claims.append(entry)
        if c.not_checked or c.bounds is None or c.world_bounds is None:
            continue
        world = c.world_bounds
        options = MOUNT_OPTIONS[c.bounds.mount_options]
        runs: dict[str, list] = {}
        for o in c.observations:
            if o.spec not in columns:
                columns.append(o.spec)
            cell = observation_cell(o)
            entry["cells"][o.spec] = cell
            if not o.error:
                names, found = states_of(c, o)
                entry["states"].append(
                    {
                        "spec": o.spec,
                        "events": names,
                        "outcomes": [[list(s.results), s.runs, s.satisfying] for s in found],
                    }
                )
            if o.run is None:
                continue
            spec = spec_of(c, o.spec)
            key = f"{c.claim.name}:{o.spec}"
            what = "satisfies" if o.run.satisfies else "does not satisfy"
            title = f"{o.spec}: a run that {what} the condition"
            view = RunView("the run", spec, o.run.steps, o.run.lines)
            lanes = lanes_of(world, [view])
            rj = run_json(world, options, lanes, view) | {"region": key}
            cell["witness"] = wid = f"claim/{c.claim.name}/{o.spec}"
            witnesses.append(
                {
                    "id": wid,
                    "spec": o.spec,
                    "property": f"claim {c.claim.name}",
                    "container": "",
                    "reason": title,
                    "pairs": [
                        {
                            "title": "",
                            "lanes": [timeline.lane_name(world, x) for x in lanes],
                            "runs": [rj],
                            "mail": run_mail(world, spec, title, o.run.steps, o.run.lines),
                        }
                    ],
                    "svg": "",
                }
            )
            runs.setdefault(o.spec, []).append([s.action for s in o.run.steps])
        for e in c.expects:
            x = e.expect
            got = "undecided" if e.undecided else "holds" if e.holds else f"fails {e.length}"
            cell = {
                "text": got,
                "status": "ok" if e.ok else "bad",
                "title": f"expect: {x.property}",
            }
            entry["expects"].setdefault(x.property, {})[x.spec] = cell
            if x.spec not in columns:
                columns.append(x.spec)
            bad = [v for v in e.verdicts if not v.holds]
            if not bad:
                continue
            v = bad[0]
            spec = spec_of(c, x.spec)
            by = {spec.name: spec}

            def lookup(name: str, c=c, by=by) -> Spec:
                return by.get(name) or spec_of(c, name)

            key = f"{c.claim.name}:{x.spec}"
            pairs = []
            for ptitle, views, text in views_of(world, v, lookup):
                lanes = lanes_of(world, views)
                rjs = [
                    run_json(world, options, lanes, rv)
                    | {"region": f"{c.claim.name}:{rv.spec.name}"}
                    for rv in views
                ]
                pairs.append(
                    {
                        "title": ptitle,
                        "lanes": [timeline.lane_name(world, ln) for ln in lanes],
                        "runs": rjs,
                        "mail": text,
                    }
                )
            cell["witness"] = wid = f"claim/{c.claim.name}/{x.spec}/{x.property}"
            witnesses.append(
                {
                    "id": wid,
                    "spec": x.spec,
                    "property": f"{x.property} (claim {c.claim.name})",
                    "container": "",
                    "reason": v.reason,
                    "pairs": pairs,
                    "svg": "",
                }
            )
            for name, actions in runs_of(v):
                runs.setdefault(name, []).append(actions)
        for name, rs in runs.items():
            spec = spec_of(c, name)
            model = ErrseqModel(spec, world, options)
            writer = browser.Writer(world, spec, model, monitors(model), templates, reasons)
            data = writer.json(region.build(model, rs))
            data["fields"] = browser.field_table(world)
            regions[f"{c.claim.name}:{name}"] = data
    return {
        "tool": f"errseq-explorer {__version__}",
        "run": f"explore claim: {len(outcomes)} claim{'s' if len(outcomes) != 1 else ''}",
        "exit": code,
        "claim_specs": columns,
        "claims": claims,
        "witnesses": witnesses,
        "browser": regions,
        "fields": [],
        "templates": templates.items,
        "reasons": reasons.items,
        "path_properties": ["open-before-syncfs", "open-before-fsync", "no-loss"],
        "summary": summary,
    }
