"""The exact isolation check: a subset construction over the viewer's view (c-view).

The c-view of a run is its inside and environment actions in order, with the results
of the inside ones.  A node is the set of graph states that runs with one c-view
reach, each with the length of the shortest such run; outside actions move within a
node (its closure, shortest lengths first, never beyond the depth), inside and
environment actions move from node to node, one successor per result.  Two members
that give different results for one inside action are a conflict: a violation.
Keeping only the shortest length per state loses nothing (a continuation of a longer
run is one of the shorter run too), so the check is exact within the bounds.  A run as
long as the depth takes no further action, so no member is that long: most states of
a node would be, and none of them can flip anything.  On a graph searched by cost
(explorer.engine.search) a length is a cost: a free action adds nothing, members may
be as long as the depth, and they still take free actions.

It also returns the c-view graph it built (`CView`), which prunes the removal search.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from explorer.engine.limits import guard
from explorer.engine.properties.isolation.cview import CView, Flip, to_conflict
from explorer.engine.properties.isolation.split import Split
from explorer.engine.search import Exploration


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
    odst: list[tuple[int, ...]],
    depth: int,
) -> dict[int, int]:
    """`seeds` closed under outside moves (`odst`: each state's outside moves' dsts),
    shortest lengths first, short of `depth`: state -> length of its shortest run."""
    length = dict(seeds)
    buckets: list[list[int]] = [[] for _ in range(depth + 1)]
    for s, n in seeds.items():
        buckets[n].append(s)
    for n in range(depth - 1):
        n1 = n + 1
        nxt = buckets[n1]
        for s in buckets[n]:
            if length[s] != n:
                continue
            for t in odst[s]:
                if length.get(t, _FAR) > n1:
                    length[t] = n1
                    nxt.append(t)
    return length


def _close_costed(
    seeds: dict[int, int],
    sp: Split,
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
    out_at, start, dst = sp.out_at, sp.start, sp.dst
    buckets: list[list[int]] = [[] for _ in range(depth + 1)]
    for s, n in seeds.items():
        buckets[n].append(s)
    for n in range(depth + 1):
        for s in buckets[n]:
            if length[s] != n:
                continue
            o = out_at[s]
            if o:
                b = start[s]
                for aid, off in o.items():
                    e = b + off
                    t = dst[e]
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
        sp, depth = self.sp, self.ex.max_depth
        seen_at, start, obs, dst, cost = sp.seen_at, sp.start, sp.obs, sp.dst, sp.cost
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
                c = seen_at[s]
                off = c.get(aid) if c and n + w <= depth else None
                if off is None:
                    continue
                e = start[s] + off
                t = dst[e]
                if obs[e] == o and seeds.get(t, _FAR) > n + w:
                    seeds[t], par[t] = n + w, (pnid, s, e)
        _close_costed(seeds, self.sp, depth, cost, par, nid)
        self.cache[nid] = par
        return par


def subset_construction(ex: Exploration, sp: Split, max_bytes: int | None = None) -> ExactResult:
    """Every conflict of the split graph, and the shortest pair of runs of each flip."""
    depth = ex.max_depth
    inside, varies, cost = sp.inside, sp.varies, sp.cost
    seen, odst = _flat(sp)
    costed = ex.costed
    # Each node: its members (sid, length) as the packed key that interns it (a dict again
    # when it is expanded, once), and its creator (parent node, action, result).
    nodes: list[bytes] = []
    creators: list[tuple[int, int, Any] | None] = []
    index: dict[bytes, int] = {}
    closed: dict[bytes, int] = {}  # seeds -> node: equal seeds, equal closure
    kids: list[dict[tuple[int, Any], int]] = []
    hot: set[int] = set()  # nodes with a conflict
    hot_by: dict[Flip, set[int]] = {}  # the same, per flip
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
            _guard(ex, nid, max_bytes)
        closure = _close_costed(seeds, sp, depth, cost) if costed else _close(seeds, odst, depth)
        key = _pack(closure)
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
    # A member as long as `last` takes one more action: a flip, or nothing.  By cost, a
    # member takes every action that keeps its run within the depth (`top`).
    last, top = (depth + 1, depth) if costed else (depth - 1, depth - 1)
    watched = [v and i for v, i in zip(varies, inside, strict=True)]  # results may differ
    while queue:
        nid = queue.popleft()
        length = members(nodes[nid])
        visits += len(length)
        kn = kids[nid]
        by_key, results = _scan(length, seen, last, top, watched, sp.settles)
        for aid, obs in results.items():
            if len(obs) > 1:
                hot.add(nid)
                by_obs = _moves_of(length, sp, depth, cost, aid)
                by_obs = {o: m for o, m in by_obs.items() if o in obs}
                _conflict(nid, aid, by_obs, parents, states, flips, best_of, cost)
                for o1, o2 in _pairs(by_obs):
                    hot_by.setdefault(Flip(aid, o1, o2), set()).add(nid)
        for (aid, o), seeds in by_key.items():
            kn[(aid, o)] = add(seeds, (nid, aid, o))
    # With free moves a node's distance in c-view moves says nothing of the cost left
    # (explorer.engine.properties.isolation.costed measures it by cost).
    far = [0] * len(kids) if costed else to_conflict(kids, hot, depth)
    cview = CView(root, kids, far, hot_by)
    return ExactResult(len(nodes), states, flips, cview, visits, nodes)


def _scan(
    length: dict[int, int],
    seen: list[tuple[tuple[tuple[int, Any], int, int], ...]],
    last: int,
    top: int,
    watched: list[bool],
    settles: Callable[[Any], bool],
) -> tuple[dict[tuple[int, Any], dict[int, int]], dict[int, set[Any]]]:
    """One pass over a node's members' moves: the seeds of every (action, result), state
    -> length, none beyond `top`; and per `watched` inside action the settled results
    met (a member as long as `last` only tells those)."""
    by_key: dict[tuple[int, Any], dict[int, int]] = {}
    ends: set[tuple[int, Any]] = set()  # the watched moves of the longest members
    for s, n in length.items():
        if n < last:
            for key, t, w in seen[s]:
                n1 = n + w
                if n1 > top:
                    continue
                sd = by_key.get(key)
                if sd is None:
                    by_key[key] = {t: n1}
                elif sd.get(t, _FAR) > n1:
                    sd[t] = n1
        else:
            for key, _t, _w in seen[s]:
                if watched[key[0]]:
                    ends.add(key)
    results: dict[int, set[Any]] = {}
    for aid, o in ends.union(by_key):
        if watched[aid] and settles(o):
            results.setdefault(aid, set()).add(o)
    return by_key, results


def _guard(ex: Exploration, nid: int, max_bytes: int) -> None:
    at = (
        f"in isolation's exact check of {ex.n_states:,} distinct states to depth "
        f"{ex.max_depth}, at {nid:,} c-view classes"
    )
    guard(nid, ex.max_depth, None, max_bytes, at)


#: A member's move in the subset construction: (state, its length, (result, dst, edge)).
_Move = tuple[int, int, tuple[Any, int, int]]


def _moves_of(
    length: dict[int, int],
    sp: Split,
    depth: int,
    cost: list[int],
    aid: int,
) -> dict[Any, list[_Move]]:
    """A node's members' moves by one action, by result: obs -> [(s, n, (obs, t, e))]."""
    by_obs: dict[Any, list[_Move]] = {}
    w = cost[aid]
    seen_at, start, obs, dst = sp.seen_at, sp.start, sp.obs, sp.dst
    for s, n in length.items():
        c = seen_at[s]
        off = c.get(aid) if c and n + w <= depth else None
        if off is not None:
            e = start[s] + off
            by_obs.setdefault(obs[e], []).append((s, n, (obs[e], dst[e], e)))
    return by_obs


def _flat(sp: Split) -> tuple[list[tuple], list[tuple[int, ...]]]:
    """Per state, its seen moves as ((aid, result), dst, cost) and its outside moves'
    dsts: flat tuples, walked for every member of every node.  The (aid, result) pairs
    are few: each is one object, shared by every move that has it."""
    cost, start, obs, dst = sp.cost, sp.start, sp.obs, sp.dst
    seen: list[tuple] = []
    odst: list[tuple[int, ...]] = []
    shared: dict[tuple[int, Any], tuple[int, Any]] = {}
    key = shared.setdefault
    for c, o, b in zip(sp.seen_at, sp.out_at, start, strict=True):
        if c:
            moves = []
            for a, f in c.items():
                k = (a, obs[b + f])
                moves.append((key(k, k), dst[b + f], cost[a]))
            seen.append(tuple(moves))
        else:
            seen.append(())
        odst.append(tuple(dst[b + f] for f in o.values()) if o else ())
    return seen, odst


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


def _pairs(by_obs: dict[Any, Any]) -> list[tuple[Any, Any]]:
    """Every two results of an action (each pair once, ordered by repr, as `Flip`)."""
    obs = sorted(by_obs, key=repr)
    return [(o1, o2) for x, o1 in enumerate(obs) for o2 in obs[x + 1 :]]


def _subset_path(parents: _Parents, nid: int, sid: int) -> list[int]:
    """Edges of the shortest run with this node's c-view that ends in `sid`."""
    edges: list[int] = []
    while True:
        pn, ps, e = parents[nid][sid]
        if e < 0:
            return edges[::-1]
        edges.append(e)
        nid, sid = pn, ps
