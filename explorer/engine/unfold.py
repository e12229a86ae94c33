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
    ex = Exploration(max_depth=r.max_depth)
    after = [[at[auto.compose(g, h)] for h in group] for g in group]
    ex.orbits = Orbits([auto.portable(g) for g in group], after)
    new = _states(r, ex, [auto.mover(g) for g in group], max_states, max_bytes, levels)
    _edges(r, ex, auto, new)
    ex.perm = [0] * len(ex.dst)
    # Parent edges are found when asked (`Exploration.parent`), from the representatives'.
    ex.orbits.up = [
        (r.src[e], e - r.edge_start[r.src[e]], at[r.perm[e]]) if e >= 0 else None
        for e in r.parent_edge
    ]
    return ex


def _states(
    r: Exploration,
    ex: Exploration,
    movers: list[Callable[[Any], Any]],
    max_states: int | None,
    max_bytes: int | None,
    levels: Callable[[list[int]], None] | None,
) -> list[Sequence[int]]:
    """Store each representative's orbit in `ex` (its states, depths, index and
    `orbits`); per representative, the group elements that met a state first."""
    assert ex.orbits is not None
    states, depths = ex.states, ex.depth
    orbit, rep_of, element = ex.orbits.members, ex.orbits.rep, ex.orbits.element
    new: list[Sequence[int]] = []
    everyone = range(len(movers))
    sizes: list[int] = []
    for rid, s in enumerate(r.states):
        d = r.depth[rid]
        if d == len(sizes):
            if levels is not None and len(sizes) > 1:
                levels(sizes)
            sizes.append(0)
        moved = [move(s) for move in movers]
        members = dict.fromkeys(moved)  # orbits never meet: only s's own can repeat
        base, n = len(states), len(members)
        _limits(base, n, d, max_states, max_bytes)
        if n == len(moved):  # no group element but the identity fixes s: the usual case
            orbit.append(range(base, base + n))
            new.append(everyone)
        else:
            met = {t: base + k for k, t in enumerate(members)}
            orbit.append([met[t] for t in moved])
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
    orbit[:] = [
        ids[o.start : o.stop] if isinstance(o, range) else [ids[i] for i in o] for o in orbit
    ]
    ex.index = dict(zip(states, ids, strict=True))
    return new


def _edges(r: Exploration, ex: Exploration, auto: Automorphisms, new: list[Sequence[int]]) -> None:
    """Each state's out-edges: its representative's, moved by its group element; and
    the shapes and labels of `ex.orbits`."""
    assert ex.orbits is not None
    group, orbits = auto.group(), ex.orbits
    at = {g: k for k, g in enumerate(group)}
    # An edge of a representative carries p (its raw target, moved by p, is the stored
    # target); moved by g, the raw target is the stored one moved by p^-1 then g.  So an
    # edge's targets for every element at once are picked out of its target's orbit.
    raw = [[at[auto.compose(auto.inverse(p), g)] for g in group] for p in group]
    pick = [_picker(row) for row in raw]
    edge_start = ex.edge_start = [-1] * len(ex.states)
    src, act, obs, dst, orbit = ex.src, ex.action, ex.obs, ex.dst, orbits.members
    translated: dict[Any, tuple[Any, ...]] = {}  # action -> moved by each group element
    shapes: dict[tuple, int] = {}  # a representative's actions -> the first of its shapes
    shape = orbits.shape
    sid = 0
    for rid in range(r.n_states):
        if r.edge_start[rid] < 0:
            break  # expanded representatives are a prefix: so are their orbits
        edges = r.out_edges(rid)
        lo, hi = edges.start, edges.stop
        acts = r.action[lo:hi]
        first = shapes.setdefault(tuple(acts), len(shapes) * len(group))
        shape.extend([first + k for k in new[rid]])
        trs = []
        for a in acts:
            tr = translated.get(a)
            if tr is None:
                tr = translated[a] = tuple(auto.translate_action(a, g) for g in group)
            trs.append(tr)
        by_member = list(zip(*trs, strict=True)) or [()] * len(group)
        picked = [pick[at[p]](orbit[t]) for t, p in zip(r.dst[lo:hi], r.perm[lo:hi], strict=True)]
        to_member = list(zip(*picked, strict=True)) or [()] * len(group)
        outs, n = r.obs[lo:hi], hi - lo
        for k in new[rid]:
            edge_start[sid] = len(dst)
            dst.extend(to_member[k])
            act.extend(by_member[k])
            obs.extend(outs)
            src.extend([sid] * n)
            sid += 1
    shape.extend([-1] * (len(ex.states) - len(shape)))
    orbits.labels = {
        (tr, o) for a, o in set(zip(r.action, r.obs, strict=True)) for tr in translated[a]
    }


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
