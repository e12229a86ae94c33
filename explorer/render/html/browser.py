"""A spec's region (explorer.render.html.region) as the data the page's state browser
reads: states, edges, shortest-path pointers, and the monitors' bookkeeping along them.

The page does no decoding and no model arithmetic of its own.  Each state is its
field values; the texts of the values come in tables made by explorer.domain.show;
an edge names its event by a template in which `{fd}` stands for the fd name the path
gave its slot (the scenario language names fds in the order a run opens them); and a
monitor (open-before, no-loss, a user's property) is tabulated per edge: for each
bookkeeping value that can arrive along the region's edges, the next one and the
reason it gives for a violation.  So the page follows any path of the region exactly
as the checks follow a run.  Isolation and agreement compare two runs and have no
status at one state.

The layout (keys kept short: a page holds thousands of edges):

    v   state id -> its field values            (ids: the initial state is 0)
    e   state id -> [[template, slot, result, destination], ...]  every successor,
        in the model's order; a path is the list of the indices it takes
    k   state id -> {index: edge}   the edges known of a state not expanded (the ones
        on a shortest path)
    p   state id -> [parent id, index]   a shortest path, read backwards
    mon property -> {t: {"sid.index": {m: [m', reason]}}, d: [text of each m]}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from explorer.domain import show
from explorer.domain.scenario import format_run, result_name
from explorer.domain.vfs import Spec
from explorer.domain.world import FD_VERBS, Bounds, Event, State
from explorer.engine.contract import Model, Monitor
from explorer.render.html.region import Part
from explorer.render.timeline import SHOWN


class Interned:
    """Strings kept once in a list, referred to by index."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._ids: dict[Any, int] = {}

    def __call__(self, item: Any) -> int:
        i = self._ids.get(item)
        if i is None:
            i = self._ids[item] = len(self.items)
            self.items.append(item)
        return i


@lru_cache(maxsize=4096)
def template(bounds: Bounds, ev: Event) -> tuple[str, int]:
    """An event as a scenario line with `{fd}` for its fd's name, and whether it opens
    one (that open names it): `write {fd}`, `open {fd} host ovl1`, `mount ovl2`."""
    lead = [Event("open", ev.arg)] if ev.verb in FD_VERBS and ev.verb != "open" else []
    line = format_run(bounds, [*lead, ev])[-1]
    if not line.fd:
        return str(line), 0
    words = ["{fd}" if w == line.fd else w for w in str(line).split()]
    return " ".join(words), int(ev.verb == "open")


def field_table(bounds: Bounds) -> list[dict[str, Any]]:
    """The state's fields as the page lists them (explorer.domain.show.fields)."""
    return [
        {"g": f.group, "n": f.name, "i": f.index, "k": f.kind.name, "s": f.slot, "p": f.presence}
        for f in show.fields(bounds)
    ]


def value_texts(bounds: Bounds, spec: Spec, states: Iterable[State]) -> dict[str, dict]:
    """The text of every value the states hold, by kind of field: the page looks values
    up here instead of decoding them."""
    out: dict[str, dict[int, str]] = {}
    columns = list(zip(*states, strict=True))
    for f in show.fields(bounds):
        table = out.setdefault(f.kind.name, {})
        for v in set(columns[f.index]) - table.keys():
            table[v] = show.value_text(f, v, spec.errseq, bounds)
    return out


def slot_bits(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


def bookkeeping_text(name: str, bounds: Bounds) -> Callable[[Any], str]:
    """What a built-in monitor's bookkeeping means, in words; `{sN}` stands for the
    name of fd slot N (explorer.bridge.monitors keeps per-slot and per-file bits)."""
    if name.startswith("open-before-"):
        call = name.removeprefix("open-before-")

        def owed(m: int) -> str:
            fds = ", ".join(f"{{s{i}}}" for i in slot_bits(m))
            return f"must see an error at its next {call}: {fds}" if m else "no fd owes an error"

        return owed
    if name == "no-loss":

        def unreported(m: int) -> str:
            files = ", ".join(f"{bounds.owner_name(i)}'s file" for i in slot_bits(m))
            return f"errors not reported yet, on {files}" if m else "no error left unreported"

        return unreported
    return lambda m: f"bookkeeping {m!r}"


def monitor_tables(
    model: Model,
    monitor: Monitor,
    ids: dict[State, int],
    edges: Callable[[State], Iterable[tuple[int, Any, Any, State]]],
    reasons: Interned,
    describe: Callable[[Any], str],
) -> dict[str, Any]:
    """The monitor along every path of the region: for each edge and each bookkeeping
    value that reaches its source, the next value and the violation's reason (the
    step's, else what `after` says of the state reached, as the safety check does)."""
    after = None if type(monitor).after is Monitor.after else monitor.after
    values = Interned()
    init = next(iter(model.initial_states()))
    m0 = monitor.initial()
    todo = [(init, m0)]
    seen = {(init, m0)}
    table: dict[str, dict[int, list[int]]] = {}
    judged: dict[tuple[State, Any], str] = {}
    while todo:
        s, m = todo.pop()
        mid = values(m)
        for idx, a, o, t in edges(s):
            m2, reason = monitor.step(m, s, a, o)
            if not reason and after is not None:
                key = (t, m2)
                if key not in judged:
                    judged[key] = after(m2, t)
                reason = judged[key]
            table.setdefault(f"{ids[s]}.{idx}", {})[mid] = [values(m2), reasons(reason)]
            if (t, m2) not in seen:
                seen.add((t, m2))
                todo.append((t, m2))
    return {"t": table, "d": [describe(m) for m in values.items], "init": values(m0)}


def region_json(
    bounds: Bounds,
    spec: Spec,
    model: Model,
    part: Part,
    monitors: dict[str, Monitor],
    templates: Interned,
    reasons: Interned,
) -> dict[str, Any]:
    """The browser's data for one spec (the module's docstring has the layout)."""
    init = next(iter(model.initial_states()))
    ids: dict[State, int] = {init: 0}
    for s, succ in part.expanded.items():
        ids.setdefault(s, len(ids))
        for _, _, t in succ:
            ids.setdefault(t, len(ids))
    for s, (p, _, _) in part.parent.items():
        ids.setdefault(p, len(ids))
        ids.setdefault(s, len(ids))

    def edge(a: Event, o: Any, t: State) -> list[Any]:
        res = result_name(o) if a.verb in SHOWN else None
        return [
            templates(template(bounds, a)),
            a.arg if a.verb in FD_VERBS else -1,
            res or "",
            ids[t],
        ]

    known: dict[State, dict[int, tuple[Any, Any, State]]] = {}
    parent: dict[str, list[int]] = {}
    for s, (p, a, o) in part.parent.items():
        succ = part.expanded.get(p)
        idx = (
            next(i for i, (b, _, _) in enumerate(succ) if b == a)
            if succ is not None
            else list(model.actions(p)).index(a)
        )
        parent[str(ids[s])] = [ids[p], idx]
        if succ is None:
            known.setdefault(p, {})[idx] = (a, o, s)

    def edges_of(s: State) -> Iterable[tuple[int, Any, Any, State]]:
        succ = part.expanded.get(s)
        if succ is not None:
            return ((i, a, o, t) for i, (a, o, t) in enumerate(succ))
        return ((i, a, o, t) for i, (a, o, t) in known.get(s, {}).items())

    return {
        "whole": part.whole,
        "v": list(ids),
        "e": {str(ids[s]): [edge(*x) for x in succ] for s, succ in part.expanded.items()},
        "k": {
            str(ids[s]): {str(i): edge(*x) for i, x in sorted(es.items())}
            for s, es in known.items()
        },
        "p": parent,
        "mon": {
            name: monitor_tables(model, mon, ids, edges_of, reasons, bookkeeping_text(name, bounds))
            for name, mon in monitors.items()
        },
        "text": value_texts(bounds, spec, ids),
    }
