"""The removal witness search on a graph searched by cost (the races mode).

A run's length there is its cost: a free move stays in the level being expanded.  The
least pairs of explorer.engine.properties.isolation.least walk levels of moves, which
free moves do not have, so this search keeps, per node, the parent of its first best
run, and a group shows the pair its search met first: the shortest A by cost, then the
fewest removals (docs/model.md §5, "Which witness is shown").  As without costs, a pair
is dropped when its c-view node is too far from every conflict for the cost left; here
the distance is a cost too (`cost_to_conflict`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from explorer.engine.limits import guard
from explorer.engine.properties.isolation.cview import CView, cost_to_conflict
from explorer.engine.properties.isolation.removal import RemovalResult, Witness
from explorer.engine.properties.isolation.split import Split
from explorer.engine.search import Exploration


def removal_costed(
    ex: Exploration,
    sp: Split,
    budget: int | None,
    max_bytes: int | None,
    cview: CView | None = None,
) -> RemovalResult:
    """`removal_search` on a graph searched by cost: A's length is the cost of its run,
    a free move stays in the level being expanded (appended to it); with the exact
    check's `cview`, a pair that cannot reach a conflict within the cost left is not
    stored."""
    depth = ex.max_depth
    inside, kind_bit, cost = sp.inside, sp.kind_bit, sp.cost
    seen_at, out_at, start, obs, dst = sp.seen_at, sp.out_at, sp.start, sp.obs, sp.dst
    w = len(sp.kinds)
    low = (1 << w) - 1
    kids = cview.kids if cview is not None else None
    far = None
    if cview is not None:
        hot = set().union(*cview.hot.values())
        far = cost_to_conflict(cview.kids, hot, depth, cost)
    nodes = _Nodes(ex, w, cview.start if cview is not None else 0)
    keys, removed, nxt, where = nodes.keys, nodes.removed, nodes.nxt, nodes.where
    push = _pusher(nodes)
    found: dict[tuple[int, tuple[int, Any, Any]], tuple[int, int, int, int, int]] = {}
    complete = depth
    frontier = list(nxt)
    # A node may be expanded before a run with fewer removals reaches it in its own
    # level: no node changes parent here (its witness may remove more than it need).
    nodes.level_start[0] = 1 << 62
    for level in range(depth + 1):
        nxt.clear()
        k = 0
        while k < len(frontier):
            n = frontier[k]
            k += 1
            if budget is not None and len(keys) > budget:
                complete = level - 1
                break
            if max_bytes is not None and not n & 0xFFF:
                _guard(ex, len(keys), level + 1, max_bytes)
            key = keys[n]
            i, j, mask = key >> w + 32, key >> w & 0xFFFFFFFF, key & low
            r, x = removed[n], where[n]
            targets = (frontier, nxt if level < depth else None)  # by cost: 0, 1
            bi, bj = start[i], start[j]
            cj = seen_at[j] or _NONE
            for aid, off in (seen_at[i] or _NONE).items():
                offj = cj.get(aid)
                into = targets[cost[aid]]
                if offj is None or into is None:
                    continue
                ei, ej = bi + off, bj + offj
                oi, oj, ti, tj = obs[ei], obs[ej], dst[ei], dst[ej]
                if oi == oj:
                    nx = kids[x][(aid, oi)] if kids is not None else 0
                    if far is None or level + cost[aid] + far[nx] <= depth:
                        push(ti, tj, mask, r, n, ei, ej, nx, into)
                elif inside[aid] and sp.settles(oi) and sp.settles(oj):
                    fk = (mask, (aid, oi, oj))
                    rec = (level + cost[aid], r, n, ei, ej)
                    old = found.get(fk)
                    if old is None or rec[:2] < old[:2]:
                        found[fk] = rec
            oj_moves = out_at[j] or _NONE
            for aid, off in (out_at[i] or _NONE).items():
                into = targets[cost[aid]]
                if into is None or (far is not None and level + cost[aid] + far[x] > depth):
                    continue  # an outside move stays in node x: no conflict within reach
                ei = bi + off
                ti = dst[ei]
                push(ti, j, mask | kind_bit[aid], r + 1, n, ei, -1, x, into)
                if (offj := oj_moves.get(aid)) is not None:
                    push(ti, dst[bj + offj], mask, r, n, ei, bj + offj, x, into)
        if complete < depth:
            break
        frontier = list(nxt)
    pairs = _witnesses(found, nodes.parent, complete)
    best = {k: (p.length, p.removals) for k, p in pairs.items()}
    return RemovalResult(len(keys), best, complete, pairs)


#: A state without moves of a kind (the split files None): nothing to iterate.
_NONE: dict = {}


def _guard(ex: Exploration, pairs: int, events: int, max_bytes: int) -> None:
    at = (
        f"in isolation's removal witness search over {ex.n_states:,} distinct "
        f"states, at {pairs:,} pairs of runs of up to {events} calls"
    )
    guard(pairs, events, None, max_bytes, at)


class _Nodes:
    """The nodes of the removal search, by id: key, events removed, parent (node, edge
    in A, edge in B or -1), c-view node; the ids of each key; per pair of states the
    masks reached (with their removals); the level being built (`nxt`, from id
    `level_start[0]` on), seeded with the initial pairs (i, i, no kinds removed)."""

    def __init__(self, ex: Exploration, w: int, start: int) -> None:
        self.w = w
        self.keys: list[int] = []
        self.removed: list[int] = []
        self.parent: list[tuple[int, int, int]] = []
        self.where: list[int] = []
        self.index: dict[int, int] = {}
        self.masks: dict[int, list[tuple[int, int]]] = {}  # i << 32 | j -> [(mask, removed)]
        self.level_start = [0]
        self.nxt: list[int] = []
        for sid, d in enumerate(ex.depth):
            if d == 0:
                key = (sid << 32 | sid) << w
                self.index[key] = len(self.keys)
                self.nxt.append(len(self.keys))
                self.keys.append(key)
                self.removed.append(0)
                self.parent.append((-1, -1, -1))
                self.where.append(start)


def _pusher(nodes: _Nodes) -> Callable[..., None]:
    """`push` over `nodes`, its lists bound once: it runs for every move of the search."""
    keys, removed, parent, where = nodes.keys, nodes.removed, nodes.parent, nodes.where
    index, masks, level_start, nxt, w = (
        nodes.index,
        nodes.masks,
        nodes.level_start,
        nodes.nxt,
        nodes.w,
    )

    def push(
        i: int,
        j: int,
        mask: int,
        r: int,
        n: int,
        ea: int,
        eb: int,
        x: int,
        into: list[int] | None = None,
    ) -> None:
        """Add the node (i, j, mask) of the next level (in c-view node `x`), reached from
        node `n` by edges `ea` in A and `eb` in B, or give it a parent with fewer
        removals.  `into`: the level it goes to, when not the next one."""
        if i == j and mask:
            # Both runs are back in one state: whatever was removed made no difference,
            # and (i, i, 0) at a level no later finds everything this node would.
            return
        pair = i << 32 | j
        key = pair << w | mask
        k = index.get(key)
        if k is None:
            # Dominated: the same two states were reached no later, with a subset of these
            # kinds removed and no more events removed.  Every flip found from here would
            # be found from there at the same length or sooner, with fewer kinds (and a
            # group is reported only with the fewest kinds), so it would add nothing.
            known = masks.get(pair)
            if known is None:
                masks[pair] = [(mask, r)]
            else:
                for m2, r2 in known:
                    if m2 & mask == m2 and r2 <= r:
                        return
                known.append((mask, r))
            index[key] = len(keys)
            (nxt if into is None else into).append(len(keys))
            keys.append(key)
            removed.append(r)
            parent.append((n, ea, eb))
            where.append(x)
        elif k >= level_start[0] and r < removed[k]:
            removed[k] = r
            parent[k] = (n, ea, eb)

    return push


def _witnesses(
    found: dict[tuple[int, tuple[int, Any, Any]], tuple[int, int, int, int, int]],
    parent: list[tuple[int, int, int]],
    complete: int,
) -> dict[tuple[int, tuple[int, Any, Any]], Witness]:
    """The best removal pair of each (kinds mask, flip) found, its runs read back along
    the parents; none longer than `complete` (found before the budget ran out, but
    maybe not the best of its key)."""
    best: dict[tuple[int, tuple[int, Any, Any]], Witness] = {}
    for (mask, flip), (la, r, n, ei, ej) in found.items():
        if la > complete:
            continue
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
        removed = sorted(len(a_edges) - 1 - g for g in gone)
        best[(mask, flip)] = Witness(la, r, a_edges, b_edges, removed)
    return best
