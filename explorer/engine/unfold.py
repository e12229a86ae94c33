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
contiguous slice, and each state's parent edge is its first in-edge, from the depth
before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from explorer.engine.contract import Automorphisms, Model
from explorer.engine.limits import guard
from explorer.engine.search import Exploration, Orbits, bfs


class _UpTo(Model):
    """A model searched up to `auto`, and nothing else changed."""

    def __init__(self, model: Model, auto: Automorphisms) -> None:
        self.model, self.name, self.symmetry = model, model.name, auto

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
    unfolding.  The limits count the whole graph's states; `progress` follows the
    search up to `auto`."""
    t0 = time.perf_counter()
    reduced = bfs(_UpTo(model, auto), depth, None, progress, max_bytes)
    ex = unfold(reduced, auto, max_states, max_bytes, levels)
    ex.seconds = time.perf_counter() - t0
    return ex


def unfold(
    r: Exploration,
    auto: Automorphisms,
    max_states: int | None = None,
    max_bytes: int | None = None,
    levels: Callable[[list[int]], None] | None = None,
) -> Exploration:
    """The whole graph of `r`, a search up to `auto` (see the module's docstring)."""
    group = auto.group()
    at = {g: k for k, g in enumerate(group)}
    movers = [auto.mover(g) for g in group]
    # An edge of a representative carries p (its raw target, moved by p, is the stored
    # target); moved by g, the raw target is the stored one moved by p^-1 then g.
    inverse = [at[auto.inverse(g)] for g in group]
    raw_then = [[at[auto.compose(group[inverse[q]], g)] for q in range(len(group))] for g in group]

    ex = Exploration(max_depth=r.max_depth)
    states, depths = ex.states, ex.depth
    after = [[at[auto.compose(g, h)] for h in group] for g in group]
    ex.orbits = orbits = Orbits([auto.portable(g) for g in group], after)
    # Per representative: the id of its state moved by each group element, and the
    # group elements that met a state of the orbit first (orbits never meet).
    orbit: list[Sequence[int]] = orbits.members
    rep_of, element = orbits.rep, orbits.element
    new: list[Sequence[int]] = []
    everyone = range(len(group))
    sizes: list[int] = []
    for rid, s in enumerate(r.states):
        d = r.depth[rid]
        if d == len(sizes):
            if levels is not None and len(sizes) > 1:
                levels(sizes)
            sizes.append(0)
        moved = [move(s) for move in movers]
        members = dict.fromkeys(moved)
        base, n = len(states), len(members)
        _limits(base, n, d, max_states, max_bytes)
        if n == len(moved):  # no group element but the identity fixes s: the usual case
            orbit.append(range(base, base + n))
            new.append(everyone)
        else:
            ids = {t: base + k for k, t in enumerate(members)}
            orbit.append([ids[t] for t in moved])
            new.append([moved.index(t) for t in members])
        rep_of.extend([rid] * n)
        element.extend(new[-1])
        states.extend(members)
        depths.extend([d] * n)
        sizes[d] += n
    if levels is not None and len(sizes) > 1:
        levels(sizes)
    # One int object per state, shared by every edge into it (a range would make one
    # per edge: about a tenth of the graph's memory).
    ids = list(range(len(states)))
    orbit[:] = [ids[o.start : o.stop] if type(o) is range else [ids[i] for i in o] for o in orbit]
    ex.index = dict(zip(states, ids, strict=True))

    edge_start = ex.edge_start = [-1] * len(states)
    src, act, obs, dst = ex.src, ex.action, ex.obs, ex.dst
    # An edge's target, moved by each group element in turn: picked out of the target's
    # orbit by the edge's p, for every element at once (then its columns per element).
    pick = [_picker([raw_then[k][q] for k in range(len(group))]) for q in range(len(group))]
    translated: dict[Any, tuple[Any, ...]] = {}  # action -> moved by each group element
    shapes: dict[tuple, int] = {}  # a representative's actions -> the first of its shapes
    shape = orbits.shape
    translate = auto.translate_action
    sid = 0
    for rid in range(r.n_states):
        if r.edge_start[rid] < 0:
            break  # expanded representatives are a prefix: so are their orbits
        edges = r.out_edges(rid)
        lo, hi = edges.start, edges.stop
        n = hi - lo
        acts = r.action[lo:hi]
        first = shapes.setdefault(tuple(acts), len(shapes) * len(group))
        shape.extend([first + k for k in new[rid]])
        if not n:
            for _ in new[rid]:
                edge_start[sid] = len(dst)
                sid += 1
            continue
        outs = r.obs[lo:hi]
        trs = []
        for a in acts:
            tr = translated.get(a)
            if tr is None:
                tr = translated[a] = tuple(translate(a, g) for g in group)
            trs.append(tr)
        by_member = list(zip(*trs, strict=True))
        picked = [pick[at[p]](orbit[t]) for t, p in zip(r.dst[lo:hi], r.perm[lo:hi], strict=True)]
        to_member = list(zip(*picked, strict=True))
        for k in new[rid]:
            edge_start[sid] = len(dst)
            dst.extend(to_member[k])
            act.extend(by_member[k])
            obs.extend(outs)
            src.extend([sid] * n)
            sid += 1
    shape.extend([-1] * (len(states) - len(shape)))
    orbits.labels = {
        (tr, o) for a, o in set(zip(r.action, r.obs, strict=True)) for tr in translated[a]
    }
    ex.perm = [0] * len(dst)
    into = dict(zip(reversed(dst), range(len(dst) - 1, -1, -1), strict=True))
    ex.parent_edge = [into.get(k, -1) if d else -1 for k, d in enumerate(depths)]
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
