"""The whole graph of a model, unfolded from its search up to automorphisms.

A property that fixes one part of the state (isolation fixes a viewer) needs every
state, not one per class.  When the model's `Automorphisms` move each run onto a run,
the graph searched up to them holds everything: each state of the whole graph is a
representative moved by a group element, and its out-edges are the representative's,
moved the same way (the action translated, the observation unchanged, the target a
moved representative too).  So the model is stepped only for the representatives,
and each other state costs a few list look-ups per edge.

The result is the graph `bfs` finds without symmetry, with the same states, depths
and edges; it numbers states orbit by orbit instead of in discovery order, and lists
a state's out-edges in its representative's order.  Depths still never decrease
along the ids, so expanded states are a prefix and each state's out-edges one
contiguous slice; a state's parent edge is found when asked, its representative's
moved (`Exploration.parent`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from explorer.engine.contract import Automorphisms, Model, Symmetry
from explorer.engine.limits import guard
from explorer.engine.search import Exploration, Orbits, bfs


class UpTo(Model):
    """`model` searched up to `symmetry` instead of its own (None: up to nothing), and
    nothing else changed."""

    def __init__(self, model: Model, symmetry: Symmetry | None) -> None:
        self.model, self.name, self.symmetry = model, model.name, symmetry

    def initial_states(self):
        return self.model.initial_states()

    def actions(self, state):
        return self.model.actions(state)

    def next_state(self, state, action):
        return self.model.next_state(state, action)

    def successors(self, state):
        return self.model.successors(state)

    def canonical_successors(self, state, symmetry=None):
        return self.model.canonical_successors(state, self.symmetry)


class UpToCosted(UpTo):
    """`UpTo` of a model whose actions have costs."""

    def cost(self, action):
        return self.model.cost(action)

    def free_successors(self, state):
        return self.model.free_successors(state)


def unfoldable(model: Model) -> Automorphisms | None:
    """The automorphisms to unfold `model`'s graph from, or None where it must be
    searched state by state (no automorphisms, or actions that cost 0)."""
    if type(model).cost is not Model.cost:
        return None
    return model.automorphisms()


def unfolded_bfs(
    model: Model,
    auto: Automorphisms,
    depth: int,
    max_states: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    max_bytes: int | None = None,
    levels: Callable[[list[int]], None] | None = None,
) -> Exploration:
    """`bfs(model, depth, ...)` without symmetry, found by searching up to `auto` and
    unfolding each depth as the search completes it, so that the limits, `levels` and
    `progress` (once a depth) see the whole graph grow as they would in that search."""
    t0 = time.perf_counter()
    r = Exploration()
    out = _Unfolder(r, auto, max_states, max_bytes, levels)

    def level(sizes: list[int]) -> None:
        out.states()
        out.edges(r.n_states - sizes[-1])  # the representatives expanded so far
        if progress is not None:
            progress(len(sizes) - 1, out.ex.n_states, out.ex.n_edges)
        out.level()

    r = bfs(UpTo(model, auto), depth, None, None, max_bytes, level, into=r)
    ex = out.finish()
    ex.seconds = time.perf_counter() - t0
    return ex


def unfold(
    r: Exploration,
    auto: Automorphisms,
    max_states: int | None = None,
    max_bytes: int | None = None,
    levels: Callable[[list[int]], None] | None = None,
) -> Exploration:
    """The whole graph of `r`, a finished search up to `auto` (see the module's
    docstring)."""
    return _Unfolder(r, auto, max_states, max_bytes, levels).finish()


class _Unfolder:
    """The whole graph of a search up to automorphisms, unfolded as far as that search
    has gone: each new representative's orbit (`states`), then the out-edges of each
    representative expanded (`edges`), in the order of the representatives, so the
    states are numbered orbit by orbit and each one's edges are a slice of its own."""

    def __init__(
        self,
        r: Exploration,
        auto: Automorphisms,
        max_states: int | None,
        max_bytes: int | None,
        levels: Callable[[list[int]], None] | None,
    ) -> None:
        self.r, self.auto = r, auto
        self.limits, self.levels = (max_states, max_bytes), levels
        self.group = group = auto.group()
        self.at = at = {g: k for k, g in enumerate(group)}
        self.movers = [auto.mover(g) for g in group]
        after = [[at[auto.compose(g, h)] for h in group] for g in group]
        orbits = Orbits([auto.portable(g) for g in group], after)
        self.ex = Exploration(max_depth=r.max_depth, orbits=orbits)
        # An edge of a representative carries p (its raw target, moved by p, is the
        # stored target); moved by g, the raw target is the stored one moved by p^-1
        # then g.  So an edge's targets for every element at once are picked out of its
        # target's orbit.
        raw = [[at[auto.compose(auto.inverse(p), g)] for g in group] for p in group]
        self.pick = [_picker(row) for row in raw]
        self.new: list[Sequence[int]] = []  # per representative: elements that met a state first
        self.sizes: list[int] = []  # states of the whole graph per depth
        self.translated: dict[Any, tuple[Any, ...]] = {}  # action -> moved by each element
        self.shapes: dict[tuple, int] = {}  # a representative's actions -> its first shape
        self.done = 0  # representatives whose edges are unfolded

    def states(self) -> None:
        """The orbits of the representatives found since the last call."""
        r, ex = self.r, self.ex
        orbits = ex.orbits
        assert orbits is not None
        states, depths, index, new = ex.states, ex.depth, ex.index, self.new
        orbit, rep_of, element = orbits.members, orbits.rep, orbits.element
        movers, sizes = self.movers, self.sizes
        everyone = range(len(movers))
        for rid in range(len(orbit), r.n_states):
            s, d = r.states[rid], r.depth[rid]
            moved = [move(s) for move in movers]
            members = dict.fromkeys(moved)  # orbits never meet: only s's own can repeat
            base, n = len(states), len(members)
            _limits(base, n, d, *self.limits)
            ids = list(range(base, base + n))  # one int per state, shared by its in-edges
            if n == len(moved):  # no element but the identity fixes s: the usual case
                orbit.append(ids)
                new.append(everyone)
            else:
                met = dict(zip(members, ids, strict=True))
                orbit.append([met[t] for t in moved])
                new.append([moved.index(t) for t in members])
            index.update(zip(members, ids, strict=True))
            rep_of.extend([rid] * n)
            element.extend(new[-1])
            states.extend(members)
            depths.extend([d] * n)
            while len(sizes) <= d:
                sizes.append(0)
            sizes[d] += n

    def edges(self, until: int) -> None:
        """The out-edges of the states of representatives `done` .. `until` - 1, all
        expanded, their targets' orbits already stored."""
        r, ex, group, at, pick = self.r, self.ex, self.group, self.at, self.pick
        orbits = ex.orbits
        assert orbits is not None
        edge_start, src, act, obs, dst = ex.edge_start, ex.src, ex.action, ex.obs, ex.dst
        orbit, shape, new, translated = orbits.members, orbits.shape, self.new, self.translated
        edge_start.extend([-1] * (len(ex.states) - len(edge_start)))
        sid = len(shape)
        for rid in range(self.done, until):
            edges = r.out_edges(rid)
            lo, hi = edges.start, edges.stop
            acts = r.action[lo:hi]
            first = self.shapes.setdefault(tuple(acts), len(self.shapes) * len(group))
            shape.extend([first + k for k in new[rid]])
            trs = []
            for a in acts:
                tr = translated.get(a)
                if tr is None:
                    tr = translated[a] = tuple(self.auto.translate_action(a, g) for g in group)
                trs.append(tr)
            by_member = list(zip(*trs, strict=True)) or [()] * len(group)
            targets = zip(r.dst[lo:hi], r.perm[lo:hi], strict=True)
            picked = [pick[at[p]](orbit[t]) for t, p in targets]
            to_member = list(zip(*picked, strict=True)) or [()] * len(group)
            outs, n = r.obs[lo:hi], hi - lo
            for k in new[rid]:
                edge_start[sid] = len(dst)
                dst.extend(to_member[k])
                act.extend(by_member[k])
                obs.extend(outs)
                src.extend([sid] * n)
                sid += 1
        self.done = max(self.done, until)

    def level(self) -> None:
        """Tell `levels` the whole graph's states per depth so far."""
        if self.levels is not None and len(self.sizes) > 1:
            self.levels(list(self.sizes))

    def finish(self) -> Exploration:
        """The rest, once the search up to automorphisms is done."""
        r, ex = self.r, self.ex
        orbits = ex.orbits
        assert orbits is not None
        ex.max_depth = r.max_depth
        self.states()
        expanded = next((rid for rid in range(r.n_states) if r.edge_start[rid] < 0), r.n_states)
        self.edges(expanded)
        ex.edge_start.extend([-1] * (len(ex.states) - len(ex.edge_start)))
        orbits.shape.extend([-1] * (len(ex.states) - len(orbits.shape)))
        translated = self.translated
        orbits.labels = {
            (tr, o) for a, o in set(zip(r.action, r.obs, strict=True)) for tr in translated[a]
        }
        ex.perm = [0] * len(ex.dst)
        # Parent edges are found when asked (`Exploration.parent`), from the representatives'.
        at = self.at
        orbits.up = [
            (r.src[e], e - r.edge_start[r.src[e]], at[r.perm[e]]) if e >= 0 else None
            for e in r.parent_edge
        ]
        return ex


def _limits(n: int, more: int, d: int, max_states: int | None, max_bytes: int | None) -> None:
    """The search's limits (`search._limit`) before states n .. n + more - 1 are stored."""
    if max_states is not None and n + more > max_states:
        guard(max_states, d, max_states, None)
    if max_bytes is not None and n >> 12 != (n + more) >> 12:
        guard(n, d, None, max_bytes)


def _picker(ids: list[int]) -> Callable[[Sequence[int]], tuple[int, ...]]:
    """`itemgetter(*ids)`, a tuple even of one id."""
    if len(ids) == 1:
        only = ids[0]
        return lambda row: (row[only],)
    return itemgetter(*ids)
