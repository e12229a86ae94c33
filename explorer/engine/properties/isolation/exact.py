"""The exact isolation check: a subset construction over the viewer's view (c-view).

The c-view of a run is its inside and environment actions in order, with the results
of the inside ones.  A node is the set of graph states that runs with one c-view
reach, each with the length of the shortest such run; outside actions move within a
node (its closure, shortest lengths first, never beyond the depth), inside and
environment actions move from node to node, one successor per result.  Two members
that give different results for one inside action are a conflict: a violation.
Keeping only the shortest length per state loses nothing (a continuation of a longer
run is one of the shorter run too), so the check is exact within the bounds.

It also returns the c-view graph it built (`CView`), which prunes the removal search.
"""

from __future__ import annotations

from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from explorer.engine.limits import guard
from explorer.engine.properties.isolation.split import Split
from explorer.engine.search import Exploration


class Flip(NamedTuple):
    """An inside action (its id in the split) and two results it gives after one c-view."""

    action: int
    result_a: Any
    result_b: Any


class Conflict(NamedTuple):
    """The shortest pair of runs of a flip: (longer run, sum of both), and their edges."""

    lengths: tuple[int, int]
    run_a: list[int]
    run_b: list[int]


@dataclass
class ExactResult:
    """What the exact check found, and the figures the benchmarks read."""

    explored: int  # nodes (c-view classes; state pairs for the self-composition)
    conflicts: set[int]  # graph states in a conflict (the violations counted)
    flips: dict[Flip, Conflict]  # flip (results ordered by repr) -> its shortest pair
    cview: CView | None = None  # the c-view graph, for pruning the removal search
    visits: int = 0  # members of the expanded nodes: the work done
    nodes: list[bytes] = field(default_factory=list)  # each node's members, packed


@dataclass
class CView:
    """The c-view graph the subset construction built, for pruning the removal search.

    Two runs with one c-view end in members of one node, and so do their continuations
    by the same inside and environment events: a pair of runs can only reach a conflict
    in as many of those events as its node's `to_conflict`, or more.
    """

    start: int  # the node of the empty c-view
    kids: list[dict[tuple[int, Any], int]]  # node -> (aid, result) -> node
    to_conflict: list[int]  # node -> fewest c-view events to a node with a conflict


def _to_conflict(kids: list[dict[tuple[int, Any], int]], hot: set[int], depth: int) -> list[int]:
    """Per node, the fewest c-view moves to a node in `hot` (depth + 1: none)."""
    back: list[list[int]] = [[] for _ in kids]
    for n, ks in enumerate(kids):
        for k in set(ks.values()):
            back[k].append(n)
    dist = [depth + 1] * len(kids)
    frontier = sorted(hot)
    for n in frontier:
        dist[n] = 0
    d = 0
    while frontier and d < depth:
        d += 1
        nxt = []
        for n in frontier:
            for p in back[n]:
                if dist[p] > d:
                    dist[p] = d
                    nxt.append(p)
        frontier = nxt
    return dist


#: Longer than any run: the length of a state not (yet) in a node.
_FAR = 1 << 30


def _pack(length: dict[int, int]) -> bytes:
    """A set of (state, length) as sorted 8-byte words: the subset construction interns
    hundreds of thousands of these, and as frozensets of tuples they would be a large
    part of its memory (docs/performance.md)."""
    return array("Q", sorted([s << 16 | n for s, n in length.items()])).tobytes()


def members(key: bytes) -> dict[int, int]:
    """A node's members, state -> length of the shortest run, from its packed form."""
    words = array("Q")
    words.frombytes(key)
    return {w >> 16: w & 0xFFFF for w in words}


def _close(
    seeds: dict[int, int],
    omoves: list[dict[int, tuple[int, int]] | None],
    depth: int,
    cost: list[int],
    par: dict[int, tuple[int, int, int]] | None = None,
    nid: int = -1,
) -> dict[int, int]:
    """`seeds` closed under outside moves, shortest lengths first, never beyond `depth`:
    state -> length of its shortest run (a free move, `cost` 0, stays in its bucket,
    which the loop is still reading).  With `par`, also each member's parent (node
    `nid`, the member it came from, the edge) for the states the closure adds."""
    length = dict(seeds)
    buckets: list[list[int]] = [[] for _ in range(depth + 1)]
    for s, n in seeds.items():
        buckets[n].append(s)
    for n in range(depth + 1):
        for s in buckets[n]:
            if length[s] != n:
                continue
            o = omoves[s]
            if o:
                for aid, (t, e) in o.items():
                    n1 = n + cost[aid]
                    if n1 <= depth and length.get(t, _FAR) > n1:
                        length[t] = n1
                        buckets[n1].append(t)
                        if par is not None:
                            par[t] = (nid, s, e)
    return length


class _Parents:
    """Per node, sid -> (parent node, parent member, edge): the edge that reached each
    member first (-1 for an initial state).  Kept for the few nodes a witness passes
    through only: a node's parents are rebuilt on demand by redoing its creation (its
    creator's moves in member order, then the closure), which gives the same parents
    as the first time.  Keeping them for every node would be a 3-tuple per member, most
    of the check's memory."""

    def __init__(
        self,
        ex: Exploration,
        sp: Split,
        nodes: list[bytes],
        creators: list[tuple[int, int, Any] | None],
        start: list[int],
    ) -> None:
        self.ex, self.sp, self.nodes, self.creators, self.start = ex, sp, nodes, creators, start
        self.cache: dict[int, dict[int, tuple[int, int, int]]] = {}

    def __getitem__(self, nid: int) -> dict[int, tuple[int, int, int]]:
        par = self.cache.get(nid)
        if par is not None:
            return par
        depth, cm, cost = self.ex.max_depth, self.sp.cmoves, self.sp.cost
        creator = self.creators[nid]
        seeds: dict[int, int] = {}
        par = {}
        if creator is None:
            for s in self.start:
                seeds[s], par[s] = 0, (-1, -1, -1)
        else:
            pnid, aid, o = creator
            w = cost[aid]
            for s, n in members(self.nodes[pnid]).items():
                c = cm[s]
                m = c.get(aid) if c and n + w <= depth else None
                if m is not None and m[0] == o and seeds.get(m[1], _FAR) > n + w:
                    seeds[m[1]], par[m[1]] = n + w, (pnid, s, m[2])
        _close(seeds, self.sp.omoves, depth, cost, par, nid)
        self.cache[nid] = par
        return par


def subset_construction(ex: Exploration, sp: Split, max_bytes: int | None = None) -> ExactResult:
    """Every conflict of the split graph, and the shortest pair of runs of each flip."""
    depth = ex.max_depth
    cm, om, inside, varies, cost = sp.cmoves, sp.omoves, sp.inside, sp.varies, sp.cost
    # Each node: its members (sid, length) as the packed key that interns it (a dict again
    # when it is expanded, once), and its creator (parent node, action, result).
    nodes: list[bytes] = []
    creators: list[tuple[int, int, Any] | None] = []
    index: dict[bytes, int] = {}
    closed: dict[bytes, int] = {}  # seeds -> node: equal seeds, equal closure
    kids: list[dict[tuple[int, Any], int]] = []
    hot: set[int] = set()  # nodes with a conflict
    queue: deque[int] = deque()

    def add(seeds: dict[int, int], creator: tuple[int, int, Any] | None) -> int:
        """Close `seeds` under outside events (shortest lengths first) and intern it.
        Most seeds recur (docs/performance.md): those skip the closure."""
        seeds_key = _pack(seeds)
        known = closed.get(seeds_key)
        if known is not None:
            return known
        nid = len(nodes)
        if max_bytes is not None and not nid & 0xFF:  # a node holds hundreds of members
            at = (
                f"in isolation's exact check of {ex.n_states:,} distinct states to depth "
                f"{depth}, at {nid:,} c-view classes"
            )
            guard(nid, depth, None, max_bytes, at)
        key = _pack(_close(seeds, om, depth, cost))
        got = index.get(key)
        if got is not None:
            closed[seeds_key] = got
            return got
        closed[seeds_key] = index[key] = nid
        nodes.append(key)
        creators.append(creator)
        kids.append({})
        queue.append(nid)
        return nid

    start = [sid for sid, d in enumerate(ex.depth) if d == 0]
    root = add({s: 0 for s in start}, None)
    parents = _Parents(ex, sp, nodes, creators, start)
    states: set[int] = set()
    flips: dict[Flip, Conflict] = {}
    best_of: dict[tuple[int, Any, Any], tuple[int, int]] = {}
    visits = 0
    while queue:
        nid = queue.popleft()
        length = members(nodes[nid])
        visits += len(length)
        kn = kids[nid]
        for aid, lst in _moves(length, cm, depth, cost).items():
            o0 = lst[0][2][0]
            by_obs: dict[Any, list[_Move]] | None = None
            if varies[aid]:  # else one result everywhere: the common case
                for mv in lst:
                    if mv[2][0] != o0:
                        by_obs = {}
                        for m in lst:
                            by_obs.setdefault(m[2][0], []).append(m)
                        settled = {o: m for o, m in by_obs.items() if sp.settles(o)}
                        if inside[aid] and len(settled) > 1:
                            hot.add(nid)
                            _conflict(nid, aid, settled, parents, states, flips, best_of, cost)
                        break
            if by_obs is None:
                by_obs = {o0: lst}
            w = cost[aid]
            for o, items in by_obs.items():
                seeds: dict[int, int] = {}
                for _s, n, (_o, t, _e) in items:
                    if seeds.get(t, _FAR) > n + w:
                        seeds[t] = n + w
                kn[(aid, o)] = add(seeds, (nid, aid, o))
    # With free moves a node's distance in c-view moves says nothing of the cost left.
    far = [0] * len(kids) if ex.costed else _to_conflict(kids, hot, depth)
    cview = CView(root, kids, far)
    return ExactResult(len(nodes), states, flips, cview, visits, nodes)


#: A member's move in the subset construction: (state, its length, (result, dst, edge)).
_Move = tuple[int, int, tuple[Any, int, int]]


def _moves(
    length: dict[int, int],
    cm: list[dict[int, tuple[Any, int, int]] | None],
    depth: int,
    cost: list[int],
) -> dict[int, list[_Move]]:
    """A node's members' moves by action: aid -> [(s, n, (obs, t, e))], members in order."""
    moves: dict[int, list[_Move]] = {}
    for s, n in length.items():
        c = cm[s]
        if c and n <= depth:
            for aid, m in c.items():
                if n + cost[aid] > depth:
                    continue
                lst = moves.get(aid)
                if lst is None:
                    moves[aid] = [(s, n, m)]
                else:
                    lst.append((s, n, m))
    return moves


def _conflict(
    nid: int,
    aid: int,
    by_obs: dict[Any, list[_Move]],
    parents: _Parents,
    states: set[int],
    flips: dict[Flip, Conflict],
    best_of: dict,
    cost: list[int],
) -> None:
    """Record the conflicting states and the shortest flips of one node for one inside
    action (every member with a result is in conflict with those of the others)."""
    obs_list = sorted(by_obs, key=repr)
    for lst in by_obs.values():
        states.update([m[0] for m in lst])
    # the shortest member of each result, then every two results
    shortest = {o: min(by_obs[o], key=lambda m: m[1]) for o in obs_list}
    for x, o1 in enumerate(obs_list):
        for o2 in obs_list[x + 1 :]:
            m1, m2 = shortest[o1], shortest[o2]
            l1, l2 = m1[1] + cost[aid], m2[1] + cost[aid]
            key = (max(l1, l2), l1 + l2)
            flip = Flip(aid, o1, o2)
            if flip in best_of and best_of[flip] <= key:
                continue
            best_of[flip] = key
            flips[flip] = Conflict(
                key,
                _subset_path(parents, nid, m1[0]) + [m1[2][2]],
                _subset_path(parents, nid, m2[0]) + [m2[2][2]],
            )


def _subset_path(parents: _Parents, nid: int, sid: int) -> list[int]:
    """Edges of the shortest run with this node's c-view that ends in `sid`."""
    edges: list[int] = []
    while True:
        pn, ps, e = parents[nid][sid]
        if e < 0:
            return edges[::-1]
        edges.append(e)
        nid, sid = pn, ps
