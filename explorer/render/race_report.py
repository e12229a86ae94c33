"""Witnesses of a run with races (docs/model.md §8): a lane per thread, the step notation.

A verdict's run is shown as a timeline where overlapping calls stand side by side
(explorer.render.race_timeline) and written in the step notation, each step with what
its accesses did as a comment, ready for `explore replay --races FILE`
(explorer.domain.race_scenario).  report.json lists the steps with their thread and
how much of the call each takes.
"""

from __future__ import annotations

from typing import Any

from explorer.bridge.race_model import NotEnabled, RaceModel
from explorer.bridge.race_runs import notes
from explorer.checker.config import Config
from explorer.domain.race_scenario import call_text, format_race
from explorer.domain.race_world import PENDING, Call, Resume
from explorer.domain.scenario import result_name
from explorer.domain.vfs import Spec
from explorer.engine.search import Step
from explorer.engine.verdict import Verdict
from explorer.render.race_timeline import race_timeline


def is_race(steps: list[Step]) -> bool:
    """Whether a run's steps are steps of calls (a run with races)."""
    return bool(steps) and type(steps[0].action) in (Call, Resume)


def model_for(cfg: Config, steps: list[Step], name: str) -> RaceModel:
    """The model that gave `steps`: spec `name`'s, or the agreement reference's (a race
    agreement witness may be the reference's run)."""
    specs: list[Spec] = [s for s in cfg.specs if s.name == name]
    if cfg.against is not None:
        specs.append(cfg.against)
    for spec in specs:
        model = RaceModel(spec, cfg.bounds, cfg.options, cfg.threads)
        if replays(model, steps):
            return model
    return RaceModel(specs[0], cfg.bounds, cfg.options, cfg.threads)


def replays(model: RaceModel, steps: list[Step]) -> bool:
    state = model.layout.initial()
    for st in steps:
        try:
            state, obs = model.next_state(state, st.action)
        except NotEnabled:
            return False
        if obs != st.obs:
            return False
    return True


def scenario(cfg: Config, steps: list[Step], name: str) -> str:
    """The run in the step notation, each step's accesses as comments."""
    model = model_for(cfg, steps, name)
    run = [(s.action, s.obs) for s in steps]
    return "\n".join(format_race(model.layout, run, notes(model, run))) + "\n"


def witness_text(cfg: Config, v: Verdict) -> str:
    """A violated verdict's run (and run B of an isolation pair) as timelines and in the
    step notation."""
    title = f"{v.model}: {v.prop} violated"
    out = []
    runs = [("", v.witness)] + (
        [("Run B (the same view, another result): ", v.other)] if v.other else []
    )
    for label, steps in runs:
        model = model_for(cfg, steps, v.model)
        run = [(s.action, s.obs) for s in steps]
        mark = {len(run) - 1: v.reason} if not label else {}
        out.append(race_timeline(model.layout, run, mark, title=label + title))
        out.append(
            f"\n{label}As a race scenario (explore replay --races FILE --spec {model.name}"
            f"{_threads(cfg)}):\n\n"
        )
        out.append(scenario(cfg, steps, v.model) + "\n")
    return "".join(out).rstrip("\n") + "\n"


def _threads(cfg: Config) -> str:
    return f" --threads {cfg.threads}" if cfg.threads > 1 else ""


def steps_json(cfg: Config, steps: list[Step], name: str) -> list[dict[str, Any]]:
    """Each step: its call, actor and thread, what it takes of the call (`whole`: all of
    it; `begin`, `step`, `end`), and the call's result on the step that ends it."""
    model = model_for(cfg, steps, name)
    L, b = model.layout, model.bounds
    names: dict[int, str] = {}
    out = []
    for s in steps:
        a = s.action
        if type(a) is Call and a.event.verb == "open":
            names[a.event.arg] = f"fd{len(names) + 1}"
        if type(a) is Call:
            take = "begin" if s.obs is PENDING else "whole"
        else:
            take = "step" if s.obs is PENDING else "end"
        actor = b.actor(a.event)
        out.append(
            {
                "event": call_text(b, a.event, names),
                "actor": b.owner_name(actor) if actor >= 0 else "env",
                "thread": L.lane_name(a.lane),
                "step": take,
                "result": None if s.obs is PENDING else result_name(s.obs),
            }
        )
    return out


def verdict_json(cfg: Config, bounds, v: Verdict, d: dict[str, Any], isolation_json) -> dict:
    """report.json's verdict `d` completed with a run with races: its steps, the step
    notation, and an isolation verdict's groups written the same way."""
    for key, run in (("witness", v.witness), ("other", v.other)):
        if run:
            d[key] = steps_json(cfg, run, v.model)
            d["scenario" if key == "witness" else "other_scenario"] = scenario(cfg, run, v.model)
    if v.isolation is not None:
        d.update(
            isolation_json(
                bounds,
                v.isolation,
                lambda run: steps_json(cfg, run, v.model),
                lambda run: scenario(cfg, run, v.model),
            )
        )
    if v.agreement is not None:
        # The other spec has no run with this history: nothing to show beside it.
        d.setdefault("other", [])
        d.setdefault("other_scenario", "")
        d["against"] = v.agreement.against
    return d


def replay_text(rs, runs) -> str:
    """`explore replay --races`: each line with what it returned under each spec (`...`:
    the call goes on; blank: that spec's run stopped before), then where a spec's run
    stopped, and each spec's run as a timeline."""
    lines = [_line_text(ln) for ln in rs.lines]
    width = max(len(t) for t in lines) + 2
    cols = [r.spec.name for r in runs]
    cw = max(8, *(len(c) + 2 for c in cols))
    out = [f"{'':<{width}}" + "".join(f"{c:<{cw}}" for c in cols)]
    for k, text in enumerate(lines):
        got = [r.results[k] for r in runs]
        cells = "".join(f"{'' if g is None else g:<{cw}}" for g in got)
        differ = len({g for g in got if g not in (None, "...")}) > 1
        out.append((f"{text:<{width}}" + cells).rstrip() + ("  *" if differ else ""))
    for r in runs:
        if r.stopped is not None:
            k, why = r.stopped
            out.append(f"{r.spec.name}: stopped at line {rs.lines[k].n}: {why}")
    for r in runs:
        if r.played is not None:
            model_layout = RaceModel(r.spec, rs.calls.bounds, threads=rs.threads).layout
            out.append("")
            out.append(race_timeline(model_layout, r.played.steps, title=r.spec.name).rstrip())
    return "\n".join(out) + "\n"


def _line_text(ln) -> str:
    who = f"{ln.lane}: " if ln.lane else ""
    if ln.event is None:
        end = f"... = {ln.expect}" if ln.expect else "... end"
        return who + ("..." if ln.take == "step" else end)
    return who + str(ln.event) + (" ..." if ln.take == "begin" else "")
