"""A spec's region (explorer.checker.results.Region) as the data the page's state browser
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

from explorer.checker.results import Region
from explorer.domain import show
from explorer.domain.scenario import format_run, result_name, shows_result
from explorer.domain.vfs import Spec
from explorer.domain.world import FD_VERBS, Bounds, Event, State
from explorer.engine.contract import Model, Monitor


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


class Writer:
    """Regions of one spec as the browser's data (the module's docstring has the
    layout).  It keeps state ids and the monitors' bookkeeping values, so that the
    fragments a served browser asks for (explorer.render.html.serve) add to what the
    page already holds."""

    def __init__(
        self,
        bounds: Bounds,
        spec: Spec,
        model: Model,
        monitors: dict[str, Monitor],
        templates: Interned,
        reasons: Interned,
    ) -> None:
        self.bounds, self.spec, self.model, self.monitors = bounds, spec, model, monitors
        self.templates, self.reasons = templates, reasons
        self.init = next(iter(model.initial_states()))
        self.ids: dict[State, int] = {self.init: 0}
        self.states: list[State] = [self.init]  # by id
        self.values = {name: Interned() for name in monitors}
        self.describe = {name: bookkeeping_text(name, bounds) for name in monitors}

    def _id(self, s: State) -> int:
        i = self.ids.get(s)
        if i is None:
            i = self.ids[s] = len(self.ids)
            self.states.append(s)
        return i

    def _edge(self, a: Event, o: Any, t: State) -> list[Any]:
        res = result_name(o) if shows_result(a.verb, o) else None
        slot = a.arg if a.verb in FD_VERBS else -1
        return [self.templates(template(self.bounds, a)), slot, res or "", self._id(t)]

    def json(self, part: Region) -> dict[str, Any]:
        """The data of `part`: its states' values, edges, parent pointers, and each
        monitor tabulated along every path through it from the initial state."""
        mine = [self.init]
        for s, succ in part.expanded.items():
            mine.append(s)
            mine += [t for _, _, t in succ]
        for s, (p, _, _) in part.parent.items():
            mine += [p, s]
        for s in mine:
            self._id(s)
        known: dict[State, dict[int, tuple[Any, Any, State]]] = {}
        parent: dict[str, list[int]] = {}
        for s, (p, a, o) in part.parent.items():
            here = part.expanded.get(p)
            if here is not None:
                idx = next(i for i, (b, _, _) in enumerate(here) if b == a)
            else:
                idx = list(self.model.actions(p)).index(a)
                known.setdefault(p, {})[idx] = (a, o, s)
            parent[str(self.ids[s])] = [self.ids[p], idx]

        listed: dict[State, list[tuple[str, Any, Any, State]]] = {}

        def edges_of(s: State) -> list[tuple[str, Any, Any, State]]:
            """`s`'s edges the region holds, each with its key in the monitors' tables."""
            got = listed.get(s)
            if got is None:
                succ = part.expanded.get(s)
                pairs = enumerate(succ) if succ is not None else known.get(s, {}).items()
                sid = self.ids[s]
                got = listed[s] = [(f"{sid}.{i}", a, o, t) for i, (a, o, t) in pairs]
            return got

        ids = self.ids
        return {
            "whole": part.whole,
            "v": {str(ids[s]): s for s in dict.fromkeys(mine)},
            "e": {str(ids[s]): [self._edge(*x) for x in succ] for s, succ in part.expanded.items()},
            "k": {
                str(ids[s]): {str(i): self._edge(*x) for i, x in sorted(es.items())}
                for s, es in known.items()
            },
            "p": parent,
            "mon": {name: self._monitor(name, edges_of) for name in self.monitors},
            "text": value_texts(self.bounds, self.spec, dict.fromkeys(mine)),
        }

    def _monitor(
        self, name: str, edges: Callable[[State], list[tuple[str, Any, Any, State]]]
    ) -> dict[str, Any]:
        """The monitor along every path of the region: for each edge and each bookkeeping
        value that reaches its source, the next value and the violation's reason (the
        step's, else what `after` says of the state reached, as the safety check does)."""
        monitor, values, reasons = self.monitors[name], self.values[name], self.reasons
        after = None if type(monitor).after is Monitor.after else monitor.after
        step = monitor.step
        m0 = monitor.initial()
        todo = [(self.init, m0)]
        seen = {(self.init, m0)}
        table: dict[str, dict[int, list[int]]] = {}
        judged: dict[tuple[State, Any], str] = {}
        while todo:
            s, m = todo.pop()
            mid = values(m)
            for key, a, o, t in edges(s):
                m2, reason = step(m, s, a, o)
                node = (t, m2)
                if not reason and after is not None:
                    reason = judged.get(node)  # type: ignore[assignment]
                    if reason is None:
                        reason = judged[node] = after(m2, t)
                row = table.get(key)
                if row is None:
                    row = table[key] = {}
                row[mid] = [values(m2), reasons(reason)]
                if node not in seen:
                    seen.add(node)
                    todo.append(node)
        texts = {str(i): self.describe[name](m) for i, m in enumerate(values.items)}
        return {"t": table, "d": texts, "init": values(m0)}
