"""Each witness of a run as the page shows it: its runs as lanes (one per actor), each
step a path index into the spec's state browser, the marks a reader needs (the events
run B lacks, the call whose result differs, the step that violates), and the text for
mail.

An isolation verdict is shown as its pairs of runs: the pair the verdict names first,
then every other group of removed kinds, then the general form; each pair's two runs
side by side.  An agreement verdict is one run under both specs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from explorer.domain import world
from explorer.domain.scenario import Event as Line
from explorer.domain.scenario import format_run
from explorer.domain.vfs import Spec
from explorer.domain.world import ENVIRONMENT, Bounds
from explorer.engine.verdict import ReorderedPair, Step, Verdict
from explorer.render import mail, pair, timeline

#: What a step's mark means, for the page's legend.
GONE, ADDED, DIFFERS, VIOLATES = "gone", "added", "differs", "violates"


@dataclass
class RunView:
    """One run of a witness: its spec, its steps, their fd names and marks."""

    label: str
    spec: Spec
    steps: Sequence[Step]
    names: Sequence[Line]
    marks: dict[int, str] = field(default_factory=dict)


def path_of(
    bounds: Bounds, spec: Spec, options: tuple[int, ...], steps: Sequence[Step]
) -> list[int]:
    """The run as the index of each event among the enabled events of its state (the
    browser's successors are in that order)."""
    out = []
    for st, before in zip(
        steps, [bounds.initial(), *mail.replay_states(bounds, spec, steps)], strict=False
    ):
        out.append(world.enabled(bounds, before, options).index(st.action))
    return out


def run_json(bounds: Bounds, options: tuple[int, ...], lanes: list[int], run: RunView) -> dict:
    steps = []
    for i, (st, line) in enumerate(zip(run.steps, run.names, strict=True)):
        actor = bounds.actor(st.action)
        text = timeline.lane_text(str(line), st.action.verb, st.obs, actor == ENVIRONMENT)
        col = lanes.index(actor) if actor in lanes else len(lanes) - 1
        steps.append(
            [text, col, run.marks.get(i, ""), mail.line_text(line, st.action.verb, st.obs)]
        )
    return {
        "label": run.label,
        "spec": run.spec.name,
        "path": path_of(bounds, run.spec, options, run.steps),
        "steps": steps,
    }


def pair_views(bounds: Bounds, spec: Spec, p: pair.Pair) -> list[RunView]:
    general = isinstance(p, ReorderedPair)
    a, b = pair.run_names(bounds, p.witness, p.other, None if general else p.removed)
    ia, ib = p.differs_at
    added = p.added if isinstance(p, ReorderedPair) else []
    marks_a = {i: GONE for i in p.removed} | {ia: DIFFERS}
    marks_b = {i: ADDED for i in added} | {ib: DIFFERS}
    return [
        RunView(f"run A ({pair.events(len(p.witness))})", spec, p.witness, a, marks_a),
        RunView(f"run B ({pair.events(len(p.other))})", spec, p.other, b, marks_b),
    ]


def pair_text(bounds: Bounds, spec: Spec, p: pair.Pair, container: str) -> str:
    """A pair for mail: its sentence, both runs as lanes, and as scenarios in their
    trace form (the fields each step changed, as comments)."""
    views = pair_views(bounds, spec, p)
    out = mail.wrap(pair.sentence(bounds, p)) + ["", pair.pair_block(bounds, p, container)]
    out.append(f"Run A as a scenario (explore replay FILE --spec {spec.name}):")
    out += ["    " + s for s in pair.scenario_lines(views[0].steps, views[0].names)]
    out.append("Run B:")
    out += ["    " + s for s in pair.scenario_lines(views[1].steps, views[1].names)]
    runs = [(spec, mail.run_trace(bounds, spec, v.steps, v.names)) for v in views]
    return mail.traced("\n".join(out) + "\n", bounds, runs)


def views_of(
    bounds: Bounds, v: Verdict, specs: Callable[[str], Spec]
) -> list[tuple[str, list[RunView], str]]:
    """The witness's pairs of runs (one entry for a property other than isolation):
    (title, runs, mail text).  The first is the verdict's own witness."""
    spec = specs(v.model)
    text = mail.traced_witness(bounds, v, specs)
    if v.isolation is not None:
        res = v.isolation
        container = bounds.owner_name(res.viewer)
        pairs = [p for p in [res.shown, *res.groups, res.general] if p is not None]
        seen: list[Any] = []
        out = []
        for p in pairs:
            if any(p is q for q in seen):
                continue
            seen.append(p)
            kinds = "+".join(p.kinds) or "outside events"
            what = (
                pair.CAPPED
                if isinstance(p, ReorderedPair) and p.capped
                else ("not a removal" if isinstance(p, ReorderedPair) else kinds)
            )
            mail_text = text if p is res.shown else pair_text(bounds, spec, p, container)
            out.append(
                (
                    f"{what}{' (allowed)' if p.allowed else ''}",
                    pair_views(bounds, spec, p),
                    mail_text,
                )
            )
        return out
    names = format_run(bounds, [s.action for s in v.witness])
    last = len(v.witness) - 1
    if v.agreement is not None and v.other:
        ref = specs(v.agreement.against)
        runs = [
            RunView(f"under {spec.name}", spec, v.witness, names, {last: DIFFERS}),
            RunView(f"under {ref.name}", ref, v.other, names, {last: DIFFERS}),
        ]
        return [("the same run under both specs", runs, text)]
    return [("", [RunView("the run", spec, v.witness, names, {last: VIOLATES})], text)]


def lanes_of(bounds: Bounds, runs: Sequence[RunView]) -> list[int]:
    return timeline.lanes_of(bounds, [r.steps for r in runs])
