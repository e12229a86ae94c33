"""Breadth-first search over every bounded action sequence of a model.

The model is an `explorer.engine.contract.Model`: initial states, enabled actions,
next state (or all successors at once), and an optional symmetry.  Nothing here knows
what a state means.  Each distinct state is expanded once, at its shortest depth;
states first reached at `depth` are kept but not expanded, so every walk of at most
`depth` actions is a walk of the recorded graph.  Parent pointers give a shortest
path to every state.  Edges are recorded in expansion order, so a state's out-edges
are one contiguous slice (`out_edges`).

A model whose actions may cost 0 (`Model.cost`) is searched by cost: level d holds the
states whose cheapest run costs d, found breadth first along free actions from the
states a costly action first reached; a state of the last level is expanded along its
free actions only.  Every run of cost at most `depth` is then a walk of the graph, and
parent pointers give a cheapest path to every state, breadth first among equals.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from explorer.engine.contract import Model
from explorer.engine.limits import guard, paused_gc


@dataclass
class Step:
    """One action of a run, its observation (what it returned) and its cost (what it
    adds to the run's length: 1 unless the model says otherwise)."""

    action: Any
    obs: Any
    cost: int = 1


@dataclass
class Orbits:
    """How an unfolded exploration's states came from a search up to automorphisms
    (explorer.engine.unfold).  Group elements are named by their place in `group` (the
    automorphisms' permutations, `Symmetry.portable`).  Each state is `members[r][k]`
    for the representative r = `rep[s]` and the element k = `element[s]`, the first to
    move r onto it; its out-edges are r's, moved by k, so two states of one `shape`
    (-1: not expanded) have the same actions on their out-edges, in one order."""

    group: list[Any]
    then: list[list[int]]  # then[k][q]: the place of element k followed by element q
    rep: list[int] = field(default_factory=list)
    element: list[int] = field(default_factory=list)
    members: list[Sequence[int]] = field(default_factory=list)
    shape: list[int] = field(default_factory=list)
    labels: set[tuple[Any, Any]] = field(default_factory=set)  # every edge's (action, result)
    # per representative, its parent edge in the search up to automorphisms: (its
    # source, its place among the source's out-edges, its permutation's place), or None
    up: list[tuple[int, int, int] | None] = field(default_factory=list)

    def parent(self, ex: Exploration, s: int) -> int:
        """An edge into state s from the depth before it (-1 for an initial state): the
        representative's parent edge, moved as s was."""
        up = self.up[self.rep[s]]
        if up is None:
            return -1
        q, j, p = up
        source = self.members[q][self.then[p][self.element[s]]]
        edges = ex.out_edges(source)
        if ex.dst[edges.start + j] == s:  # moved by the element that made the source
            return edges.start + j
        return ex.dst.index(s, edges.start, edges.stop)

    def image(self, q: int) -> list[int]:
        """Each state's image under element q."""
        members, then = self.members, self.then
        return [members[r][then[k][q]] for r, k in zip(self.rep, self.element, strict=True)]


@dataclass
class Exploration:
    """What a search found: states, the edge list, depths and parent pointers (and
    `orbits`, when it was unfolded from a search up to automorphisms)."""

    states: list[Any] = field(default_factory=list)
    index: dict[Any, int] = field(default_factory=dict)
    depth: list[int] = field(default_factory=list)
    parent_edge: list[int] = field(default_factory=list)  # -1 for an initial state (`parent`)
    edge_start: list[int] = field(default_factory=list)  # per state; -1 if not expanded
    src: list[int] = field(default_factory=list)
    action: list[Any] = field(default_factory=list)
    obs: list[Any] = field(default_factory=list)
    dst: list[int] = field(default_factory=list)
    perm: list[int] = field(default_factory=list)  # symmetry: raw successor -> dst coords
    cost: bytearray = field(default_factory=bytearray)  # per edge, when `costed`
    costed: bool = False  # some actions cost 0: `depth` is a state's least cost
    reduced: bool = False  # states are canonical representatives
    max_depth: int = 0
    seconds: float = 0.0
    orbits: Orbits | None = None

    def edge_cost(self, e: int) -> int:
        """What edge `e` adds to a run's length (1 unless the model says otherwise)."""
        return self.cost[e] if self.costed else 1

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_edges(self) -> int:
        return len(self.dst)

    def out_edges(self, sid: int) -> range:
        """Indices of the edges leaving `sid` (empty if it was not expanded)."""
        start = self.edge_start[sid]
        if start < 0:
            return range(0)
        # Expanded states are a prefix of the ids (BFS order), so the next one starts ours.
        nxt = sid + 1
        end = self.edge_start[nxt] if nxt < len(self.edge_start) else -1
        return range(start, end if end >= 0 else len(self.dst))

    def parent(self, sid: int) -> int:
        """The edge into `sid` on a shortest path to it, -1 for an initial state; an
        unfolded exploration keeps no `parent_edge` and finds it in its orbits."""
        if self.orbits is not None:
            return self.orbits.parent(self, sid)
        return self.parent_edge[sid]

    def path_to(self, sid: int) -> list[int]:
        """Edge indices of a shortest path from an initial state to `sid`."""
        edges = []
        e = self.parent(sid)
        while e >= 0:
            edges.append(e)
            e = self.parent(self.src[e])
        return edges[::-1]


@paused_gc()
def bfs(
    model: Model,
    depth: int,
    max_states: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    max_bytes: int | None = None,
    levels: Callable[[list[int]], None] | None = None,
    into: Exploration | None = None,
) -> Exploration:
    """Explore every sequence of at most `depth` actions; expand each state once.

    A model that declares a symmetry is searched up to it: only canonical states are
    stored, and each edge keeps the permutation that took its raw successor to the
    stored one.  `levels`, if given, is called after each depth with the number of
    states of every depth so far (it may stop the search by raising, e.g. a
    `limits.Projection` that foresees the guard).  `into`, an empty exploration, is
    filled instead of a new one (for a `levels` that reads the search so far).
    """
    if type(model).cost is not Model.cost:
        assert into is None, "a search by cost fills an exploration of its own"
        return _bfs_costed(model, depth, max_states, progress, max_bytes, levels)
    t0 = time.perf_counter()
    ex = into if into is not None else Exploration()
    ex.max_depth = depth
    index, states, depths = ex.index, ex.states, ex.depth
    parent_edge, edge_start = ex.parent_edge, ex.edge_start
    src, act, obs, dst = ex.src, ex.action, ex.obs, ex.dst
    canonical = model.symmetry.canonical if model.symmetry is not None else None
    ex.reduced = canonical is not None
    frontier = _initial(model, ex)
    perm = ex.perm
    successors = model.successors
    sizes = [len(states)]
    for d in range(depth):
        nxt: list[int] = []
        for sid in frontier:
            s = states[sid]
            edge_start[sid] = len(dst)
            if canonical is None:
                for a, t, o in successors(s):
                    tid = index.get(t)
                    if tid is None:
                        tid = len(states)
                        _limit(tid, d + 1, max_states, max_bytes)
                        index[t] = tid
                        states.append(t)
                        depths.append(d + 1)
                        parent_edge.append(len(dst))
                        edge_start.append(-1)
                        nxt.append(tid)
                    src.append(sid)
                    perm.append(0)
                    act.append(a)
                    obs.append(o)
                    dst.append(tid)
                continue
            # The model makes its successors canonical: it knows what each step wrote.
            for a, t, p, o in model.canonical_successors(s):
                tid = index.get(t)
                if tid is None:
                    _limit(len(states), d + 1, max_states, max_bytes)
                    tid = _new(ex, t, d + 1, len(dst))
                    nxt.append(tid)
                src.append(sid)
                perm.append(p)
                act.append(a)
                obs.append(o)
                dst.append(tid)
            if progress is not None and not sid & 0x3FFF:
                progress(d + 1, len(states), len(dst))
        frontier = nxt
        if not frontier:
            break
        if levels is not None:
            sizes.append(len(nxt))
            levels(sizes)
    ex.seconds = time.perf_counter() - t0
    return ex


def _initial(model: Model, ex: Exploration) -> list[int]:
    """Store the model's initial states (canonical ones with a symmetry); their ids."""
    canonical = model.symmetry.canonical if model.symmetry is not None else None
    out = []
    for s in model.initial_states():
        if canonical is not None:
            s = canonical(s)[0]
        if s not in ex.index:
            out.append(_new(ex, s, 0, -1))
    return out


def _new(ex: Exploration, s: Any, d: int, parent: int) -> int:
    sid = ex.index[s] = len(ex.states)
    ex.states.append(s)
    ex.depth.append(d)
    ex.parent_edge.append(parent)
    ex.edge_start.append(-1)
    return sid


def _bfs_costed(
    model: Model,
    depth: int,
    max_states: int | None,
    progress: Callable[[int, int, int], None] | None,
    max_bytes: int | None,
    levels: Callable[[list[int]], None] | None,
) -> Exploration:
    """`bfs` by cost: per level, a breadth-first closure along free actions; the costly
    edges to new states are resolved after it (a state it reaches is one of its level)."""
    t0 = time.perf_counter()
    ex = Exploration(max_depth=depth, costed=True)
    ex.reduced = model.symmetry is not None
    canonical = model.symmetry.canonical if model.symmetry is not None else None
    index, states, edge_start = ex.index, ex.states, ex.edge_start
    src, act, obs, dst, perm, ecost = ex.src, ex.action, ex.obs, ex.dst, ex.perm, ex.cost
    cost_of = model.cost
    frontier = _initial(model, ex)
    sizes = [len(frontier)]
    for d in range(depth + 1):
        queue, deferred = frontier, []
        successors = model.successors if d < depth else model.free_successors
        k = 0
        while k < len(queue):
            sid = queue[k]
            k += 1
            edge_start[sid] = len(dst)
            for a, t, o in successors(states[sid]):
                w = cost_of(a)
                p = 0
                if canonical is not None:
                    t, p = canonical(t)
                tid = index.get(t)
                if tid is None:
                    if w:
                        tid = -1
                        deferred.append((len(dst), t))
                    else:
                        _limit(len(states), d, max_states, max_bytes)
                        tid = _new(ex, t, d, len(dst))
                        queue.append(tid)
                src.append(sid)
                perm.append(p)
                act.append(a)
                obs.append(o)
                dst.append(tid)
                ecost.append(w)
            if progress is not None and not sid & 0x3FFF:
                progress(d + 1, len(states), len(dst))
        frontier = []
        for e, t in deferred:
            tid = index.get(t)
            if tid is None:
                _limit(len(states), d + 1, max_states, max_bytes)
                tid = _new(ex, t, d + 1, e)
                frontier.append(tid)
            dst[e] = tid
        if not frontier:
            break
        if levels is not None:
            sizes.append(len(frontier))
            levels(sizes)
    ex.seconds = time.perf_counter() - t0
    return ex


def _limit(n: int, d: int, max_states: int | None, max_bytes: int | None) -> None:
    """The search's limits, as `bfs` checks them, before state `n` is stored."""
    if max_states is not None and n >= max_states:
        guard(n, d, max_states, None)
    if max_bytes is not None and not n & 0xFFF:
        guard(n, d, None, max_bytes)


def realize(model: Model, ex: Exploration, edges: list[int]) -> list[Step]:
    """The real run behind a path of recorded edges, as Steps of real actions.

    Without symmetry this is the recorded path.  With it, each recorded action is in
    the canonical coordinates of its source; the run is replayed from the real initial
    state, translating each action back through the current permutation.
    """
    path = [(ex.action[e], ex.obs[e], ex.states[ex.dst[e]]) for e in edges]
    return realize_steps(model, ex.reduced, path)


def realize_steps(model: Model, reduced: bool, path: list[tuple[Any, Any, Any]]) -> list[Step]:
    """`realize` of a path given as (action, observation, destination state) triples,
    wherever it was recorded (a partitioned search keeps no `Exploration`)."""
    costed = type(model).cost is not Model.cost
    if not reduced:
        return [Step(a, o, model.cost(a) if costed else 1) for a, o, _ in path]
    sym = model.symmetry
    assert sym is not None, "a reduced exploration comes from a model with a symmetry"
    r = next(iter(model.initial_states()))
    _, p = sym.canonical(r)
    steps = []
    for action, obs, state in path:
        a = sym.translate_action(action, sym.inverse(p))
        r, o = model.next_state(r, a)
        c, p = sym.canonical(r)
        if c != state or o != obs:
            raise AssertionError("a witness on canonical states did not replay on real states")
        steps.append(Step(a, o, model.cost(a) if costed else 1))
    return steps
