"""Isolation (MODEL.md §5): what a container sees must not depend on what it cannot see.

For a container c (the *viewer*) every event is inside c, environment or outside c.
The c-view of a run is its inside and environment events in order, with the results
of the inside ones.  Isolation is violated when two runs (each of at most
`ex.max_depth` events) have the same c-view up to an inside call that returns
different results.

Two searches over the recorded graph, both exact within the bounds:

- The *general* check decides whether any violation exists and finds the shortest
  pair (the longer run as short as possible, then the sum of both).  It is a subset
  construction over the c-view: a node is the set of graph states reachable by runs
  with one c-view, each with the length of the shortest such run; outside events
  move inside a node (its closure), inside and environment events move between
  nodes.  Two members of a node that give different results for one inside call are
  a violation.  (A self-composition, `method="product"`, is kept for comparison: it
  gives the same answers and is slower here; docs/architecture.md has the figures.)
- The *removal* check looks for the form a reader grasps at once: run A, and run B
  that is A with some outside events removed.  It is a self-composition where both
  copies move together on inside, environment and kept outside events, and A alone
  on a removed outside event, remembering the kinds removed.  Witnesses are grouped
  by those kinds; per group the shortest A, then the fewest removed events.

A *flip* is an inside call (the action) with its two results.  A group of several
kinds is reported only for flips that no group of fewer kinds explains; a flip of
the general check that no removal explains is reported in its general form.

The engine knows nothing of errseq: it asks the model only `classify`, `kind`,
`actor` and `actor_name`, and reads the exploration's edges.
"""

from __future__ import annotations

import errno
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from explorer.engine.contract import Model, Role
from explorer.engine.limits import guard
from explorer.engine.search import Exploration, Step, bfs
from explorer.engine.verdict import Verdict


def representatives(model: Any) -> list[int]:
    """One viewer per class of interchangeable containers.

    Sound when the bounds and mount options treat every container alike (they do:
    `Bounds` gives each the same fds and the options apply to all) and the specs never
    single out a container by index; a model may say otherwise with `viewer_class`.
    """
    seen: dict[Any, int] = {}
    for v in model.viewers():
        seen.setdefault(model.viewer_class(v), v)
    return sorted(seen.values())


# --- the graph, split for one viewer ------------------------------------------------


@dataclass
class _Split:
    """Per expanded state: inside/env moves by action id, outside moves by action id."""

    cmoves: list[dict[int, tuple[Any, int, int]] | None]  # aid -> (obs, dst, edge)
    omoves: list[dict[int, tuple[int, int]] | None]  # aid -> (dst, edge)
    inside: list[bool]  # per aid
    kind_bit: list[int]  # per aid (outside ones), a bit of KIND
    kinds: list[str]  # bit index -> kind
    actions: list[Any]  # aid -> action


def _split(ex: Exploration, model: Any, viewer: int, max_bytes: int | None = None) -> _Split:
    aid_of: dict[Any, int] = {}
    actions: list[Any] = []
    inside: list[bool] = []
    kind_bit: list[int] = []
    kinds: list[str] = []
    kind_index: dict[str, int] = {}
    outside: list[bool] = []
    cm: list[dict[int, tuple[Any, int, int]] | None] = [None] * ex.n_states
    om: list[dict[int, tuple[int, int]] | None] = [None] * ex.n_states
    act, obs, dst = ex.action, ex.obs, ex.dst
    for sid in range(ex.n_states):
        if max_bytes is not None and not sid & 0xFFF:
            at = (
                f"in isolation's split of the full graph ({ex.n_states:,} distinct states to "
                f"depth {ex.max_depth}), at its state {sid:,}"
            )
            guard(sid, ex.depth[sid], None, max_bytes, at)
        edges = ex.out_edges(sid)
        if not edges:
            continue
        c: dict[int, tuple[Any, int, int]] = {}
        o: dict[int, tuple[int, int]] = {}
        for e in edges:
            a = act[e]
            aid = aid_of.get(a)
            if aid is None:
                aid = aid_of[a] = len(actions)
                actions.append(a)
                role = model.role(a, viewer)
                inside.append(role is Role.INSIDE)
                outside.append(role is Role.OUTSIDE)
                bit = 0
                if role is Role.OUTSIDE:
                    k = model.kind(a)
                    if k not in kind_index:
                        kind_index[k] = len(kinds)
                        kinds.append(k)
                    bit = 1 << kind_index[k]
                kind_bit.append(bit)
            if outside[aid]:
                o[aid] = (dst[e], e)
            else:
                c[aid] = (obs[e], dst[e], e)
        cm[sid], om[sid] = c, o
    return _Split(cm, om, inside, kind_bit, kinds, actions)


def _kinds_of(model: Any, sp: _Split, mask: int) -> list[str]:
    kinds = (k for i, k in enumerate(sp.kinds) if mask >> i & 1)
    return sorted(kinds, key=lambda k: (model.kind_rank(k), k))


# --- the general check: subset construction over the c-view ---------------------------


@dataclass
class _General:
    """What the general check found."""

    explored: int
    states: set[int]  # graph states in a conflict (see `check`: the violations counted)
    # flip (aid, lo obs, hi obs) -> (key, edges of run 1, edges of run 2)
    flips: dict[tuple[int, Any, Any], tuple[tuple[int, int], list[int], list[int]]]
    cview: _CView | None = None  # the subset construction's nodes, for `_removal`
    visits: int = 0  # members of the expanded nodes: the work, for bench_isolation.py


@dataclass
class _CView:
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


def _pack(length: dict[int, int]) -> bytes:
    """A set of (state, length) as sorted 8-byte words: the subset construction interns
    hundreds of thousands of these, and as frozensets of tuples they were a third of its
    memory (1.4 GB at mounts 3, depth 12)."""
    return array("Q", sorted(s << 16 | n for s, n in length.items())).tobytes()


def _unpack(key: bytes) -> dict[int, int]:
    words = array("Q")
    words.frombytes(key)
    return {w >> 16: w & 0xFFFF for w in words}


def _general_subset(ex: Exploration, sp: _Split, max_bytes: int | None = None) -> _General:
    depth = ex.max_depth
    cm, om, inside = sp.cmoves, sp.omoves, sp.inside
    # Each node: its members (sid, length) as the packed key that interns it (a dict again
    # when it is expanded, once), and sid -> parent (node, sid, edge), the edge that
    # reached the member (-1 for the initial state).
    members: list[bytes] = []
    parents: list[dict[int, tuple[int, int, int]]] = []
    index: dict[bytes, int] = {}
    closed: dict[bytes, int] = {}  # seeds -> node: equal seeds, equal closure
    kids: list[dict[tuple[int, Any], int]] = []
    hot: set[int] = set()  # nodes with a conflict
    queue: deque[int] = deque()

    def add(seeds: dict[int, int], spar: dict[int, tuple[int, int, int]]) -> int:
        """Close `seeds` under outside events (shortest lengths first) and intern it.
        Most seeds recur (4 in 5 at 3 containers): those skip the closure."""
        seeds_key = _pack(seeds)
        known = closed.get(seeds_key)
        if known is not None:
            return known
        length = dict(seeds)
        par = dict(spar)
        buckets: list[list[int]] = [[] for _ in range(depth + 1)]
        for s, n in seeds.items():
            buckets[n].append(s)
        nid = len(members)
        if max_bytes is not None and not nid & 0xFF:  # a node holds hundreds of members
            at = (
                f"in isolation's exact check of {ex.n_states:,} distinct states to depth "
                f"{depth}, at {nid:,} c-view classes"
            )
            guard(nid, depth, None, max_bytes, at)
        for n in range(depth):
            for s in buckets[n]:
                if length[s] != n:
                    continue
                for _aid, (t, e) in (om[s] or {}).items():
                    if t not in length or length[t] > n + 1:
                        length[t] = n + 1
                        par[t] = (nid, s, e)
                        buckets[n + 1].append(t)
        key = _pack(length)
        if key in index:
            closed[seeds_key] = index[key]
            return index[key]
        closed[seeds_key] = index[key] = nid
        members.append(key)
        parents.append(par)
        kids.append({})
        queue.append(nid)
        return nid

    start = [sid for sid, d in enumerate(ex.depth) if d == 0]
    root = add({s: 0 for s in start}, {s: (-1, -1, -1) for s in start})
    states: set[int] = set()
    flips: dict[tuple[int, Any, Any], tuple[tuple[int, int], list[int], list[int]]] = {}
    best_of: dict[tuple[int, Any, Any], tuple[int, int]] = {}
    visits = 0
    while queue:
        nid = queue.popleft()
        length = _unpack(members[nid])
        visits += len(length)
        moves: dict[int, list[_Move]] = {}  # aid -> [(s, n, (obs, t, e))]
        for s, n in length.items():
            if n < depth and cm[s]:
                for aid, m in cm[s].items():  # type: ignore[union-attr]
                    lst = moves.get(aid)
                    if lst is None:
                        moves[aid] = [(s, n, m)]
                    else:
                        lst.append((s, n, m))
        for aid, lst in moves.items():
            o0 = lst[0][2][0]
            if all(m[2][0] == o0 for m in lst):  # one result: the common case
                by_obs = {o0: lst}
            else:
                by_obs = {}
                for m in lst:
                    by_obs.setdefault(m[2][0], []).append(m)
                if inside[aid]:
                    hot.add(nid)
                    _conflict(nid, aid, by_obs, parents, states, flips, best_of)
            for o, items in by_obs.items():
                seeds: dict[int, int] = {}
                spar: dict[int, tuple[int, int, int]] = {}
                for s, n, (_o, t, e) in items:
                    if t not in seeds or seeds[t] > n + 1:
                        seeds[t] = n + 1
                        spar[t] = (nid, s, e)
                kids[nid][(aid, o)] = add(seeds, spar)
    cview = _CView(root, kids, _to_conflict(kids, hot, depth))
    return _General(len(members), states, flips, cview, visits)


#: A member's move in the subset construction: (state, its length, (result, dst, edge)).
_Move = tuple[int, int, tuple[Any, int, int]]


def _conflict(
    nid: int,
    aid: int,
    by_obs: dict[Any, list[_Move]],
    parents: list[dict[int, tuple[int, int, int]]],
    states: set[int],
    flips: dict,
    best_of: dict,
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
            l1, l2 = m1[1] + 1, m2[1] + 1
            key = (max(l1, l2), l1 + l2)
            flip = (aid, o1, o2)
            if flip in best_of and best_of[flip] <= key:
                continue
            best_of[flip] = key
            flips[flip] = (
                key,
                _subset_path(parents, nid, m1[0]) + [m1[2][2]],
                _subset_path(parents, nid, m2[0]) + [m2[2][2]],
            )


def _subset_path(parents: list[dict[int, tuple[int, int, int]]], nid: int, sid: int) -> list[int]:
    """Edges of the shortest run with this node's c-view that ends in `sid`."""
    edges: list[int] = []
    while True:
        pn, ps, e = parents[nid][sid]
        if e < 0:
            return edges[::-1]
        edges.append(e)
        nid, sid = pn, ps


# --- the general check, second method: self-composition with both run lengths ---------


def _general_product(ex: Exploration, sp: _Split, max_bytes: int | None = None) -> _General:
    """Pairs (s1, s2, l1, l2), unordered, pruned by Pareto dominance of the lengths."""
    depth = ex.max_depth
    cm, om, inside = sp.cmoves, sp.omoves, sp.inside
    nodes: list[tuple[int, int, int, int]] = []
    parent: list[tuple[int, int, int, bool]] = []  # (node, edge of first, edge of second, swapped)
    front: dict[tuple[int, int], list[tuple[int, int]]] = {}
    buckets: list[list[int]] = [[] for _ in range(2 * depth + 1)]

    def push(i: int, j: int, li: int, lj: int, par: tuple[int, int, int]) -> None:
        swap = i > j or (i == j and li > lj)
        if swap:
            i, j, li, lj = j, i, lj, li
        seen = front.setdefault((i, j), [])
        for a, b in seen:
            if a <= li and b <= lj:
                return
        seen.append((li, lj))
        if max_bytes is not None and not len(nodes) & 0xFFF:
            at = (
                f"in isolation's exact check (self-composition) of {ex.n_states:,} distinct "
                f"states to depth {depth}, at {len(nodes):,} state pairs"
            )
            guard(len(nodes), li + lj, None, max_bytes, at)
        buckets[li + lj].append(len(nodes))
        nodes.append((i, j, li, lj))
        parent.append((*par, swap))

    for sid, d in enumerate(ex.depth):
        if d == 0:
            push(sid, sid, 0, 0, (-1, -1, -1))
    states: set[int] = set()
    flips: dict = {}
    best_of: dict = {}
    for total in range(2 * depth + 1):
        for n in buckets[total]:
            i, j, li, lj = nodes[n]
            if li < depth and lj < depth:
                cj = cm[j] or {}
                for aid, (oi, ti, ei) in (cm[i] or {}).items():
                    m = cj.get(aid)
                    if m is None:
                        continue
                    oj, tj, ej = m
                    if oi == oj:
                        push(ti, tj, li + 1, lj + 1, (n, ei, ej))
                    elif inside[aid]:
                        states.add(i)
                        states.add(j)
                        key = (max(li, lj) + 1, li + lj + 2)
                        lo, hi = (oi, oj) if repr(oi) <= repr(oj) else (oj, oi)
                        flip = (aid, lo, hi)
                        if flip not in best_of or key < best_of[flip]:
                            best_of[flip] = key
                            r1, r2 = _product_path(nodes, parent, n)
                            flips[flip] = (key, r1 + [ei], r2 + [ej])
            if li < depth:
                for _aid, (t, e) in (om[i] or {}).items():
                    push(t, j, li + 1, lj, (n, e, -1))
            if lj < depth:
                for _aid, (t, e) in (om[j] or {}).items():
                    push(i, t, li, lj + 1, (n, -1, e))
    return _General(len(nodes), states, flips)


def _product_path(
    nodes: list[tuple[int, int, int, int]], parent: list[tuple[int, int, int, bool]], n: int
) -> tuple[list[int], list[int]]:
    """The two runs (edges) reaching product node `n`, in `n`'s orientation."""
    runs: tuple[list[int], list[int]] = ([], [])
    flip = False  # does the current node's first coordinate stand for the final second?
    while parent[n][0] >= 0:
        pn, e1, e2, swap = parent[n]
        pflip = flip ^ swap
        if e1 >= 0:
            runs[1 if pflip else 0].append(e1)
        if e2 >= 0:
            runs[0 if pflip else 1].append(e2)
        flip, n = pflip, pn
    return runs[0][::-1], runs[1][::-1]


GENERAL = {"subset": _general_subset, "product": _general_product}


# --- the removal check: run B is run A minus some outside events ----------------------


@dataclass
class _Removal:
    explored: int
    # (mask, flip=(aid, obs A, obs B)) -> (lenA, removed, A edges, B edges, removed indices)
    best: dict[tuple[int, tuple[int, Any, Any]], tuple[int, int, list[int], list[int], list[int]]]
    complete: int  # every removal witness with A of at most this many events is here


def _removal(
    ex: Exploration,
    sp: _Split,
    budget: int | None = None,
    cview: _CView | None = None,
    max_bytes: int | None = None,
) -> _Removal:
    """Self-composition A >= B, by A's length; per key the fewest removed events.

    It grows far faster than the general check (10x per container), and only presents
    violations the general check has already proved, so `budget` caps its nodes: the
    search stops at the level that would pass it and keeps what it found in full.
    With the general check's `cview`, a pair whose c-view node is too far from every
    conflict to reach one within the depth is not stored: it could find no flip.
    """
    depth = ex.max_depth
    cm, om, inside, kind_bit = sp.cmoves, sp.omoves, sp.inside, sp.kind_bit
    keys: list[tuple[int, int, int]] = []
    removed: list[int] = []
    parent: list[tuple[int, int, int]] = []  # (node, edge in A, edge in B or -1)
    index: dict[tuple[int, int, int], int] = {}
    # Per node, its c-view node, and how far a c-view node may be from a conflict.
    kids = cview.kids if cview else None
    far = cview.to_conflict if cview else None
    where: list[int] = []
    frontier: list[int] = []
    for sid, d in enumerate(ex.depth):
        if d == 0:
            index[(sid, sid, 0)] = len(keys)
            frontier.append(len(keys))
            keys.append((sid, sid, 0))
            removed.append(0)
            parent.append((-1, -1, -1))
            where.append(cview.start if cview else 0)
    found: dict[tuple[int, tuple[int, Any, Any]], tuple[int, int, int, int, int]] = {}
    masks: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (i, j) -> [(mask, removed)]
    level_start = [0]  # id of the first node of the level being built
    nxt: list[int] = []

    def push(key: tuple[int, int, int], r: int, par: tuple[int, int, int], x: int) -> None:
        """Add a node of the next level (in c-view node `x`), or give it a parent with
        fewer removals."""
        if key[0] == key[1] and key[2]:
            # Both runs are back in one state: whatever was removed made no difference,
            # and (i, i, 0) at a level no later finds everything this node would.
            return
        k = index.get(key)
        if k is None:
            # Dominated: the same two states were reached no later, with a subset of these
            # kinds removed and no more events removed.  Every flip found from here would
            # be found from there at the same length or sooner, with fewer kinds (and a
            # group is reported only with the fewest kinds), so it would add nothing.
            pair = key[:2]
            for m2, r2 in masks.get(pair, ()):
                if m2 & key[2] == m2 and r2 <= r:
                    return
            masks.setdefault(pair, []).append((key[2], r))
            index[key] = len(keys)
            nxt.append(len(keys))
            keys.append(key)
            removed.append(r)
            parent.append(par)
            where.append(x)
        elif k >= level_start[0] and r < removed[k]:
            removed[k] = r
            parent[k] = par

    complete = depth
    for level in range(depth):
        nxt.clear()
        level_start[0] = len(keys)
        room = depth - level - 2  # a node of the next level must still take a flip
        last = level == depth - 1  # only flips: a node of the next level is never expanded
        for n in frontier:
            if budget is not None and len(keys) > budget:
                complete = level  # witnesses of `level` events are all in; longer ones not
                break
            if max_bytes is not None and not n & 0xFFF:
                at = (
                    f"in isolation's removal witness search over {ex.n_states:,} distinct "
                    f"states, at {len(keys):,} pairs of runs of up to {level + 1} events"
                )
                guard(len(keys), level + 1, None, max_bytes, at)
            i, j, mask = keys[n]
            r, x = removed[n], where[n]
            kx = kids[x] if kids is not None else None
            cj = cm[j] or {}
            for aid, (oi, ti, ei) in (cm[i] or {}).items():
                m = cj.get(aid)
                if m is None:
                    continue
                oj, tj, ej = m
                if oi == oj:
                    if last:
                        continue
                    nx = kx[(aid, oi)] if kx is not None else 0
                    if far is None or far[nx] <= room:  # else no conflict within reach
                        push((ti, tj, mask), r, (n, ei, ej), nx)
                elif inside[aid]:
                    fk = (mask, (aid, oi, oj))
                    rec = (level + 1, r, n, ei, ej)
                    old = found.get(fk)
                    if old is None or rec[:2] < old[:2]:
                        found[fk] = rec
            if last or (far is not None and far[x] > room):
                continue  # outside events stay in node x: none of them can lead to a flip
            oj_moves = om[j] or {}
            for aid, (ti, ei) in (om[i] or {}).items():
                push((ti, j, mask | kind_bit[aid]), r + 1, (n, ei, -1), x)
                m2 = oj_moves.get(aid)
                if m2 is not None:
                    push((ti, m2[0], mask), r, (n, ei, m2[1]), x)
        if complete < depth:
            break
        frontier = list(nxt)
    best = {}
    for fk, (la, r, n, ei, ej) in found.items():
        if la > complete:
            continue  # found before the budget ran out, but maybe not the best of its key
        a_edges, b_edges, gone = [ei], [ej], []
        while parent[n][0] >= 0:
            pn, ea, eb = parent[n]
            a_edges.append(ea)
            if eb >= 0:
                b_edges.append(eb)
            else:
                gone.append(len(a_edges) - 1)
            n = pn
        a_edges.reverse()
        b_edges.reverse()
        best[fk] = (la, r, a_edges, b_edges, sorted(len(a_edges) - 1 - g for g in gone))
    return _Removal(len(keys), best, complete)


# --- putting it together ---------------------------------------------------------------


def _steps(ex: Exploration, edges: Sequence[int]) -> list[Step]:
    return [Step(ex.action[e], ex.obs[e]) for e in edges]


def _result(obs: Any) -> str:
    """0 -> "0", -5 -> "EIO": errno names are the OS's, not the model's."""
    if isinstance(obs, int) and obs < 0:
        return errno.errorcode.get(-obs, str(obs))
    return str(obs)


def _who(model: Any, action: Any) -> str:
    return f"{model.actor_name(model.actor(action))}'s {model.kind(action)}"


def _reason(model: Any, witness: list[Step], other: list[Step], removed: list[int]) -> str:
    what = ", ".join(_who(model, witness[i].action) for i in removed) or "nothing"
    last = witness[-1]
    call = model.describe_step(witness, len(witness) - 1)
    return (
        f"remove {what} and {call} returns {_result(other[-1].obs)} instead of {_result(last.obs)}"
    )


def _lcs_unmatched(a: list[Any], b: list[Any]) -> tuple[list[int], list[int]]:
    """Indices of `a` and of `b` outside one longest common subsequence."""
    n, m = len(a), len(b)
    t = [[0] * (m + 1) for _ in range(n + 1)]
    for x in range(n - 1, -1, -1):
        for y in range(m - 1, -1, -1):
            t[x][y] = t[x + 1][y + 1] + 1 if a[x] == b[y] else max(t[x + 1][y], t[x][y + 1])
    ua, ub, x, y = [], [], 0, 0
    while x < n and y < m:
        if a[x] == b[y]:
            x, y = x + 1, y + 1
        elif t[x + 1][y] >= t[x][y + 1]:
            ua.append(x)
            x += 1
        else:
            ub.append(y)
            y += 1
    return ua + list(range(x, n)), ub + list(range(y, m))


def _general_form(
    ex: Exploration, model: Any, viewer: int, e1: list[int], e2: list[int], allow: frozenset[str]
) -> dict[str, Any]:
    """A pair that no removal explains: the longer run first, unmatched outside events marked."""
    if len(e2) > len(e1):
        e1, e2 = e2, e1
    w, o = _steps(ex, e1), _steps(ex, e2)
    out_w = [i for i, s in enumerate(w) if model.role(s.action, viewer) is Role.OUTSIDE]
    out_o = [i for i, s in enumerate(o) if model.role(s.action, viewer) is Role.OUTSIDE]
    ua, ub = _lcs_unmatched([w[i].action for i in out_w], [o[i].action for i in out_o])
    removed, added = [out_w[i] for i in ua], [out_o[i] for i in ub]
    kinds = sorted(
        {model.kind(w[i].action) for i in removed} | {model.kind(o[i].action) for i in added},
        key=lambda k: (model.kind_rank(k), k),
    )
    return {
        "kinds": kinds,
        "witness": w,
        "other": o,
        "removed": removed,
        "added": added,
        "differs_at": [len(w) - 1, len(o) - 1],
        "allowed": bool(kinds) and set(kinds) <= allow,
    }


class _Unreduced(Model):
    """A model without its symmetry (and nothing else changed)."""

    def __init__(self, model: Model) -> None:
        self.model, self.name = model, model.name

    def initial_states(self):
        return self.model.initial_states()

    def actions(self, state):
        return self.model.actions(state)

    def next_state(self, state, action):
        return self.model.next_state(state, action)

    def successors(self, state):
        return self.model.successors(state)


def full_graph(
    model: Model, depth: int, max_states: int | None = None, progress=None, max_bytes=None
) -> Exploration:
    """The exploration isolation is checked on.  It fixes one viewer, which breaks the
    symmetry between viewers: an exploration up to their permutations cannot answer
    it, so this one stores every state (the graphs are small)."""
    plain = model if model.symmetry is None else _Unreduced(model)
    return bfs(plain, depth, max_states, progress, max_bytes)


def check(
    ex: Exploration,
    model: Any,
    viewer: int,
    allow: frozenset[str] = frozenset(),
    method: str = "subset",
    budget: int | None = None,
    max_bytes: int | None = None,
) -> Verdict:
    """Isolation of container `viewer`; violations caused only by `allow` kinds pass.

    The verdict is exact whatever `budget` (the general check decides it); the budget
    only caps the removal search that presents witnesses by kind (see `_removal`).
    `max_bytes` is the memory guard (search.guard), checked in every phase: after the
    search the split and the two checks hold as much again.
    """
    if ex.reduced:
        ex = full_graph(model, ex.max_depth, max_bytes=max_bytes)
    sp = _split(ex, model, viewer, max_bytes)
    gen = GENERAL[method](ex, sp, max_bytes)
    # every removal pair is a violation of the general check: none there, none here
    rem = (
        _removal(ex, sp, budget, gen.cview, max_bytes)
        if gen.flips
        else _Removal(0, {}, ex.max_depth)
    )
    # per flip, the fewest kinds that explain it; a group keeps the flips it explains best
    fewest: dict[tuple[int, Any, Any], int] = {}
    for mask, flip in rem.best:
        fewest[flip] = min(fewest.get(flip, 99), mask.bit_count())
    by_mask: dict[int, tuple[int, int, list[int], list[int], list[int]]] = {}
    for (mask, flip), rec in rem.best.items():
        if mask.bit_count() == fewest[flip]:
            old = by_mask.get(mask)
            if old is None or rec[:2] < old[:2]:
                by_mask[mask] = rec
    groups = []
    for mask, (_la, _r, ae, be, gone) in by_mask.items():
        kinds = _kinds_of(model, sp, mask)
        w, o = _steps(ex, ae), _steps(ex, be)
        groups.append(
            {
                "kinds": kinds,
                "witness": w,
                "other": o,
                "removed": gone,
                "differs_at": [len(w) - 1, len(o) - 1],
                "allowed": set(kinds) <= allow,
                "reason": _reason(model, w, o, gone),
            }
        )
    rank = model.kind_rank
    groups.sort(key=lambda g: (len(g["kinds"]), [rank(k) for k in g["kinds"]], len(g["witness"])))
    explained = {(aid, *sorted((oa, ob), key=repr)) for (_m, (aid, oa, ob)) in rem.best}
    general = None
    uncovered = [(rec[0], f) for f, rec in gen.flips.items() if f not in explained]
    if uncovered:
        _key, flip = min(uncovered, key=lambda x: x[0])
        _k, e1, e2 = gen.flips[flip]
        general = _general_form(ex, model, viewer, e1, e2, allow)
        general["capped"] = rem.complete < ex.max_depth
        how = (
            f"no removal of up to {rem.complete} events found: search capped"
            if general["capped"]
            else "not a removal"
        )
        general["reason"] = (
            f"runs that differ in {', '.join(general['kinds']) or 'outside events'} "
            f"({how}) give {_who(model, general['witness'][-1].action)} "
            f"{_result(general['witness'][-1].obs)} and {_result(general['other'][-1].obs)}"
        )
    failing = [g for g in groups if not g["allowed"]]
    if general is not None and not general["allowed"]:
        failing.append(general)
    shown = failing[0] if failing else (groups[0] if groups else general)
    shortest = min((rec[0] for rec in gen.flips.values()), default=None)
    v = Verdict(
        "isolation",
        model.name,
        holds=not failing,
        violations=len(gen.states),
        explored=gen.explored + rem.explored,
        extra={
            "container": model.actor_name(viewer),
            "groups": groups,
            "general": general,
            "shortest": list(shortest) if shortest else None,
            "product_states": {"general": gen.explored, "removal": rem.explored},
            "removal_complete": rem.complete,
        },
    )
    if shown is not None:
        v.witness, v.other, v.reason = shown["witness"], shown["other"], shown["reason"]
    return v
