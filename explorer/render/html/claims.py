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
the page's state browser, named `CLAIM:SPEC` (explorer.checker.region.for_claims:
the runs shown and their successors, without shortest paths, since the claim's search
is over its programs, not the world's every run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from explorer import __version__
from explorer.bridge.model import ErrseqModel
from explorer.checker.properties import monitors
from explorer.domain.claim import ClaimVerdict
from explorer.domain.vfs import Spec
from explorer.domain.world import MOUNT_OPTIONS, Bounds
from explorer.engine.verdict import Step
from explorer.render import mail, timeline
from explorer.render.html import browser
from explorer.render.html.witness import RunView, lanes_of, run_json, views_of

if TYPE_CHECKING:
    from explorer.checker.results import ClaimOutcome, ExpectOutcome, Observation, Region

SHORT = {ClaimVerdict.NEVER: "N", ClaimVerdict.SOMETIMES: "S", ClaimVerdict.ALWAYS: "A"}
#: A claim's spec by the name the claim or the command line gives it.
SpecOf = Callable[["ClaimOutcome", str], Spec]


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
    spec_of: SpecOf,
    regions: Mapping[str, Region],
    summary: str = "",
) -> dict[str, Any]:
    """The page's data for a campaign of claims (see the module's docstring);
    `regions` are the browser's, by `CLAIM:SPEC`."""
    columns: list[str] = []
    claims: list[dict[str, Any]] = []
    witnesses: list[dict[str, Any]] = []
    for c in outcomes:
        entry = claim_entry(c)
        claims.append(entry)
        if c.not_checked or c.bounds is None or c.world_bounds is None:
            continue
        for o in c.observations:
            columns += [o.spec] if o.spec not in columns else []
            cell = entry["cells"][o.spec] = observation_cell(o)
            if o.run is not None and o.run.race is None:  # a race run: text only
                witnesses.append(observation_witness(c, o, spec_of(c, o.spec)))
                cell["witness"] = witnesses[-1]["id"]
        for e in c.expects:
            columns += [e.expect.spec] if e.expect.spec not in columns else []
            cell = entry["expects"].setdefault(e.expect.property, {})[e.expect.spec] = expect_cell(
                e
            )
            w = expect_witness(c, e, spec_of)
            if w is not None:
                witnesses.append(w)
                cell["witness"] = w["id"]
    data, templates, reasons = browsers(outcomes, spec_of, regions)
    return {
        "tool": f"errseq-explorer {__version__}",
        "run": f"explore claim: {len(outcomes)} claim{'s' if len(outcomes) != 1 else ''}",
        "exit": code,
        "claim_specs": columns,
        "claims": claims,
        "witnesses": witnesses,
        "browser": data,
        "fields": [],
        "templates": templates,
        "reasons": reasons,
        "path_properties": ["open-before-syncfs", "open-before-fsync", "no-loss"],
        "summary": summary,
    }


def claim_entry(c: ClaimOutcome) -> dict[str, Any]:
    """A claim's row and section: its question, conclusion and each spec's States."""
    return {
        "name": c.claim.name,
        "file": c.claim.source,
        "question": list(c.claim.question),
        "conclusion": c.claim.conclusion or "",
        "checked": not c.not_checked,
        "reason": c.reason,
        "cells": {},
        "expects": {},
        "states": [
            {
                "spec": o.spec,
                "events": o.outcomes.events,
                "outcomes": [[list(s.results), s.runs, s.satisfying] for s in o.outcomes.counts],
            }
            for o in c.observations
            if o.outcomes is not None
        ],
    }


def expect_cell(e: ExpectOutcome) -> dict[str, Any]:
    got = "undecided" if e.undecided else "holds" if e.holds else f"fails {e.length}"
    return {"text": got, "status": "ok" if e.ok else "bad", "title": f"expect: {e.expect.property}"}


def observation_witness(c: ClaimOutcome, o: Observation, spec: Spec) -> dict[str, Any]:
    """The run shown for an observation, as the page shows a witness."""
    assert o.run is not None and c.world_bounds is not None and c.bounds is not None
    world, options = c.world_bounds, MOUNT_OPTIONS[c.bounds.mount_options]
    what = "satisfies" if o.run.satisfies else "does not satisfy"
    title = f"{o.spec}: a run that {what} the condition"
    view = RunView("the run", spec, o.run.steps, o.run.lines)
    lanes = lanes_of(world, [view])
    return {
        "id": f"claim/{c.claim.name}/{o.spec}",
        "spec": o.spec,
        "property": f"claim {c.claim.name}",
        "container": "",
        "reason": title,
        "pairs": [
            {
                "title": "",
                "lanes": [timeline.lane_name(world, x) for x in lanes],
                "runs": [
                    run_json(world, options, lanes, view) | {"region": f"{c.claim.name}:{o.spec}"}
                ],
                "mail": run_mail(world, spec, title, o.run.steps, o.run.lines),
            }
        ],
        "svg": "",
    }


def expect_witness(c: ClaimOutcome, e: ExpectOutcome, spec_of: SpecOf) -> dict[str, Any] | None:
    """The witness of an `expect:` line whose property fails, as the main report's."""
    bad = [v for v in e.verdicts if not v.holds]
    if not bad or c.world_bounds is None or c.bounds is None or e.config is not None:
        return None  # with races on (a config kept): the text shows the witness
    v, x = bad[0], e.expect
    world, options = c.world_bounds, MOUNT_OPTIONS[c.bounds.mount_options]
    pairs = []
    for title, views, text in views_of(world, v, lambda name: spec_of(c, name)):
        lanes = lanes_of(world, views)
        runs = [
            run_json(world, options, lanes, rv) | {"region": f"{c.claim.name}:{rv.spec.name}"}
            for rv in views
        ]
        lane_names = [timeline.lane_name(world, ln) for ln in lanes]
        pairs.append({"title": title, "lanes": lane_names, "runs": runs, "mail": text})
    return {
        "id": f"claim/{c.claim.name}/{x.spec}/{x.property}",
        "spec": x.spec,
        "property": f"{x.property} (claim {c.claim.name})",
        "container": "",
        "reason": v.reason,
        "pairs": pairs,
        "svg": "",
    }


def browsers(
    outcomes: list[ClaimOutcome], spec_of: SpecOf, regions: Mapping[str, Region]
) -> tuple[dict[str, Any], list, list]:
    """Each (claim, spec) region as the browser's data, with the fields of its world."""
    templates, reasons = browser.Interned(), browser.Interned()
    reasons("")
    by = {c.claim.name: c for c in outcomes}
    out: dict[str, Any] = {}
    for key, region in regions.items():
        name, _, spec_name = key.partition(":")
        c = by[name]
        assert c.world_bounds is not None and c.bounds is not None
        world, spec = c.world_bounds, spec_of(c, spec_name)
        model = ErrseqModel(spec, world, MOUNT_OPTIONS[c.bounds.mount_options])
        writer = browser.Writer(world, spec, model, monitors(model), templates, reasons)
        out[key] = writer.json(region) | {"fields": browser.field_table(world)}
    return out, templates.items, reasons.items
