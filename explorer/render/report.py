"""Everything the terminal says, as files: out/<spec>/<property>.{txt,dot,svg}, report.json.

The JSON is the machine-readable twin of the terminal (CI audits read it, and
`explore conform --witness` replays its witnesses on real kernels): configuration and,
per verdict, the outcome, the witness as events with results and as a scenario for
`explore replay`.  It says what the runs are, never how they were searched: the same
command gives the same bytes with or without symmetry, with any number of workers or
partitions (docs/model.md §5 defines the witnesses by the runs alone).  What depends on
the search goes to timings.json: the time taken, and what the searches stored (states,
transitions and how often each event fired, counted on the graph searched, and each
check's product states and violating transitions).  Paths are relative to --out.  The
layout is explorer/schemas/report.schema.json; `SCHEMA` names its version.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from explorer import __version__
from explorer.bridge.model import ErrseqModel
from explorer.checker.config import Config
from explorer.checker.results import Outcome
from explorer.domain.scenario import format_run, result_name, shows_result
from explorer.domain.vfs import Spec
from explorer.domain.world import EIO, ERRNO_NAMES, NORMAL, VOLATILE, Bounds
from explorer.engine.search import Exploration
from explorer.engine.verdict import IsolationResult, Step, Verdict
from explorer.render import dot, mail, pair, race_report, timeline, timings
from explorer.render.html import INDEX, index_html
from explorer.render.outdir import REPORT, SUMMARY, TIMINGS, OutDir, spec_folders

SCHEMA = "errseq-explorer/report/2"


def steps_json(bounds: Bounds, steps: list[Step]) -> list[dict[str, Any]]:
    named = format_run(bounds, [s.action for s in steps])
    return [
        {
            "event": str(ev),
            "actor": bounds.owner_name(bounds.actor(s.action))
            if bounds.actor(s.action) >= 0
            else "env",
            "result": result_name(s.obs),
        }
        for s, ev in zip(steps, named, strict=True)
    ]


def viewer(bounds: Bounds, v: Verdict) -> str:
    """The container an isolation verdict is about, "" for the other properties."""
    return bounds.owner_name(v.isolation.viewer) if v.isolation is not None else ""


def title(v: Verdict) -> str:
    return f"{v.model}: {v.prop} violated"


def witness_text(bounds: Bounds, v: Verdict, cfg: Config | None = None) -> str:
    """The timeline of a violated verdict, and the same run in the scenario language
    (with races, `cfg`'s: a lane per thread and the step notation)."""
    if cfg is not None and race_report.is_race(v.witness):
        return race_report.witness_text(cfg, v)
    if v.prop == "isolation":
        return pair.pair_text(bounds, v)
    if v.prop.startswith("agreement"):
        against = v.agreement.against if v.agreement is not None else ""
        body = timeline.compare(bounds, v.witness, v.other, (v.model, against), title(v))
    else:
        body = timeline.timeline(bounds, v.witness, {len(v.witness) - 1: v.reason}, title=title(v))
    return (
        body
        + f"\nAs a scenario (explore replay FILE --spec {v.model}):\n\n"
        + timeline.scenario_text(bounds, v.witness)
    )


def witness_picture(bounds: Bounds, v: Verdict):
    if v.prop == "isolation":
        return pair.pair_dot(bounds, v)
    marks = {len(v.witness) - 1: v.reason}
    if v.prop.startswith("agreement"):
        against = v.agreement.against if v.agreement is not None else ""
        marks = {
            len(v.witness) - 1: f"{v.model} {result_name(v.witness[-1].obs)}, "
            f"{against} {result_name(v.other[-1].obs)}"
        }
    return dot.witness_dot(bounds, v.witness, marks, title(v))


#: Each spec's searched model and graph, by spec name (--full-graph draws them).
Graphs = Mapping[str, tuple[ErrseqModel, Exploration]]


def write_outputs(
    outcome: Outcome,
    target: OutDir,
    exit_code: int = 0,
    graphs: Graphs | None = None,
    trace: bool = False,
) -> tuple[dict[tuple[str, str, str], list[str]], dict[str, Any]]:
    """Write the run's files into `target`: every violated verdict's (in their trace
    form with `trace`), each spec's whole state graph when `graphs` are given,
    report.json, timings.json, summary.txt and index.html (explorer.render.mail,
    explorer.render.html); return the files by (spec, property, container) and the
    report.

    Everything is written to a staging folder first, so that `target` is left as it
    was when a path the run needs is taken (OutDir.commit)."""
    staged = target.staging()
    drawing = dot.Drawing([])
    try:
        # `dot` draws the pictures while the rest is written; the page waits for them
        files, drawing = write_witnesses(outcome, staged, graphs, trace)
        data = report(outcome, files, exit_code)
        write_report(data, staged / REPORT)
        write_report(timings.timings(outcome), staged / TIMINGS)
        (staged / SUMMARY).write_text(mail.summary_text(outcome, files))
        (staged / INDEX).write_text(index_html(outcome, files, staged, drawing.wait))
        drawing.wait()
        target.commit(staged)
    finally:
        drawing.stop()  # an error on the way: no `dot` left writing here
        target.discard(staged)
    return files, data


def write_witnesses(
    outcome: Outcome, out_dir: Path, graphs: Graphs | None = None, trace: bool = False
) -> tuple[dict[tuple[str, str, str], list[str]], dot.Drawing]:
    """Write every violated verdict's files under `out_dir` (and each spec's graph, for
    --full-graph); return their paths relative to it, by (spec, property, container),
    and the `dot` process drawing their pictures (its `wait` puts the .svg in place)."""
    bounds = outcome.config.bounds
    specs = mail.specs_of(outcome.config)
    files: dict[tuple[str, str, str], list[str]] = {}
    svgs: list[Path] = []  # pictures to render once everything is written
    folders = spec_folders(r.spec.name for r in outcome.results)
    for r in outcome.results:
        d = out_dir / folders[r.spec.name]
        for prop, verdicts in r.verdicts.items():
            for v in verdicts:
                if v.holds and not v.witness:
                    continue
                d.mkdir(parents=True, exist_ok=True)
                who = viewer(bounds, v)
                stem = prop if not who or len(verdicts) == 1 else f"{prop}-{who}"
                txt = d / f"{stem}.txt"
                text = witness_text(bounds, v, outcome.config)
                if trace and not race_report.is_race(v.witness):
                    text = mail.traced(text, bounds, mail.witness_runs(bounds, v, specs))
                txt.write_text(text)
                written = [txt]
                if not race_report.is_race(v.witness):  # a picture has no lane per thread
                    written += dot.save(witness_picture(bounds, v), d / f"{stem}.dot", svgs)
                files[(r.spec.name, prop, who)] = [
                    p.relative_to(out_dir).as_posix() for p in written
                ]
        if graphs is not None and r.spec.name in graphs:
            from explorer.engine import graph

            model, ex = graphs[r.spec.name]
            d.mkdir(parents=True, exist_ok=True)
            g = graph.build(ex, model.describe, lambda a, o: _edge_label(bounds, a, o))
            # DOT only, as --full-graph says: dot needs many minutes to lay out a graph
            # of thousands of states.
            (d / "graph.dot").write_text(dot.state_graph_dot(g).source)
    return files, dot.Drawing(svgs)


def _edge_label(bounds: Bounds, action, obs) -> str:
    ev = (
        format_run(bounds, [action])[0]
        if action.verb not in ("write", "fsync", "syncfs", "close")
        else None
    )
    text = str(ev) if ev is not None else f"{action.verb} slot{action.arg + 1}"
    res = result_name(obs)
    return text + (f" = {res}" if shows_result(action.verb, obs) else "")


def verdict_json(
    bounds: Bounds, v: Verdict, files: list[str], cfg: Config | None = None
) -> dict[str, Any]:
    d: dict[str, Any] = {
        "spec": v.model,
        "property": v.prop,
        "holds": None if v.undecided else v.holds,
        "length": v.length if v.witness else None,
        "reason": pair.reason(bounds, v) if v.isolation is not None else v.reason,
        "files": files,
    }
    if v.decided is not None:
        # The memory guard kept the check below the run's depth (0: not decided at all).
        d["decided_depth"] = v.decided
        d["limit"] = v.limit
    if cfg is not None and race_report.is_race(v.witness):
        return race_report.verdict_json(cfg, bounds, v, d, isolation_json)
    if v.witness:
        d["witness"] = steps_json(bounds, v.witness)
        d["scenario"] = timeline.scenario_text(bounds, v.witness)
    if v.other:
        d["other"] = steps_json(bounds, v.other)
        d["other_scenario"] = timeline.scenario_text(bounds, v.other)
    if v.isolation is not None:
        d.update(isolation_json(bounds, v.isolation))
    if v.agreement is not None:
        d["against"] = v.agreement.against
        d["classes"] = v.agreement.classes
    return d


def isolation_json(
    bounds: Bounds,
    result: IsolationResult,
    steps: Callable[[list[Step]], list[dict[str, Any]]] | None = None,
    scenario: Callable[[list[Step]], str] | None = None,
) -> dict[str, Any]:
    """An isolation verdict's groups, general form and figures (its runs written by
    `steps` and `scenario`: by default as events and scenarios without races)."""
    steps = steps or (lambda run: steps_json(bounds, run))
    scenario = scenario or (lambda run: timeline.scenario_text(bounds, run))
    general = result.general
    return {
        "container": bounds.owner_name(result.viewer),
        "groups": [
            {
                "kinds": g.kinds,
                "allowed": g.allowed,
                "removed": g.removed,
                "differs_at": g.differs_at,
                "witness": steps(g.witness),
                "other": steps(g.other),
                "scenario": scenario(g.witness),
                "other_scenario": scenario(g.other),
            }
            for g in result.groups
        ],
        "general": None
        if general is None
        else {
            "witness": steps(general.witness),
            "other": steps(general.other),
            "capped": general.capped,
        },
        "shortest": list(result.shortest) if result.shortest else None,
        "removal_complete": result.removal_complete,
    }


def spec_sources(spec: Spec) -> dict[str, str]:
    """The sha256 of every file that defines the spec: its class's and its bases' (amir's
    behaviour is also mainline's, v5.11's and v5.10's code).  Built-ins are named by
    their place in the package, a user's file by its path from the working folder."""
    out: dict[str, str] = {}
    for cls in type(spec).__mro__:
        if not (isinstance(cls, type) and issubclass(cls, Spec)) or cls is Spec:
            continue
        module = sys.modules.get(cls.__module__)
        path = getattr(module, "__file__", None)
        if path is None or cls.__module__ == "explorer.domain.catalog":  # a renaming subclass
            continue
        if cls.__module__.split(".")[0] == "specs":
            name = cls.__module__.replace(".", "/") + ".py"
        else:
            rel = os.path.relpath(path)
            name = path if rel.startswith("..") else Path(rel).as_posix()
        out[name] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return dict(sorted(out.items()))


def property_source(prop: object) -> dict[str, str]:
    """A user property's file (its path from the working folder) and its sha256."""
    path = getattr(sys.modules.get(type(prop).__module__), "__file__", None) or ""
    rel = os.path.relpath(path)
    name = path if rel.startswith("..") else Path(rel).as_posix()
    return {name: hashlib.sha256(Path(path).read_bytes()).hexdigest()}


def report(outcome: Outcome, files: dict, exit_code: int) -> dict[str, Any]:
    """The report: the same for the same command, whatever the machine's speed or -j."""
    cfg = outcome.config
    b = cfg.bounds
    verdicts = [
        verdict_json(b, v, files.get((r.spec.name, prop, viewer(b, v)), []), cfg)
        for r in outcome.results
        for prop in cfg.properties
        for v in r.verdicts.get(prop, [])
    ]
    extra: dict[str, Any] = {}
    if cfg.user_properties:
        extra["property_sources"] = {
            name: property_source(prop) for name, prop in cfg.user_properties.items()
        }
    return {
        "schema": SCHEMA,
        "tool": f"errseq-explorer {__version__}",
        "config": {
            "mounts": b.mounts,
            "fds": b.fds,
            "host_fds": b.host_fds,
            "depth": cfg.depth,
            "mount_options": [
                n for n, o in (("normal", NORMAL), ("volatile", VOLATILE)) if o in cfg.options
            ],
            "specs": [s.name for s in cfg.specs],
            "properties": list(cfg.properties),
            "against": cfg.against.name if cfg.against else None,
            "allow": sorted(cfg.allow),
            "containers": None if cfg.viewers is None else [b.owner_name(c) for c in cfg.viewers],
            "isolation_budget": cfg.isolation_budget,
            "max_states": cfg.max_states,
            "max_memory": cfg.max_memory,
            **model_options_json(cfg),
        },
        "spec_sources": {s.name: spec_sources(s) for s in cfg.specs},
        **extra,
        "notes": outcome.notes,
        "verdicts": verdicts,
        "witnesses": witnesses(verdicts),
        "exit": exit_code,
    }


def model_options_json(cfg: Config) -> dict[str, Any]:
    """The model's options (--errnos, --counter-bits, --host-files), each only when the
    run departs from its default: a default run's report stays what it always was."""
    b = cfg.bounds
    out: dict[str, Any] = {}
    if b.errnos != (EIO,):
        out["errnos"] = [ERRNO_NAMES[e] for e in b.errnos]
    if cfg.counter_bits is not None:
        out["counter_bits"] = cfg.counter_bits
    if b.host_any:
        out["host_files"] = b.host_files
    if cfg.races:
        out["races"] = True
        out["threads"] = cfg.threads
    return out


def witnesses(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every run worth replaying on a real kernel: each violation's witness (both runs of
    an isolation pair, since both are runs of the same spec)."""
    out = []
    for v in verdicts:
        if v["holds"] or "scenario" not in v:
            continue
        out.append(
            {
                "spec": v["spec"],
                "property": v["property"],
                "run": "witness",
                "scenario": v["scenario"],
            }
        )
        if v["property"] == "isolation" and "other_scenario" in v:
            out.append(
                {
                    "spec": v["spec"],
                    "property": v["property"],
                    "run": "other",
                    "scenario": v["other_scenario"],
                }
            )
    return out


def write_report(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")
