"""The removal witness search: run B is run A with some outside actions removed.

The exact check decides; this search presents its violations in the form a reader
grasps at once.  It is a self-composition whose nodes are (A's state, B's state, the
kinds removed), searched breadth first by A's length: both copies take inside,
environment and kept outside actions (an outside action may give another result in
B: that is not in the c-view), A alone takes a removed outside action.  Per node the
most removed actions are kept (pairs are ordered shortest A first, then the shorter
B: docs/model.md §5), and per (kinds, flip) the best (A's length, removals) found.
A node whose two copies are back in one state is dropped (A without the removals
before it would be a shorter A), and so is a node whose c-view class is farther from
every conflict than the depth leaves (`CView.to_conflict`): it could find no flip.

A flip is grouped under the fewest kinds that explain it, and most flips are
explained by one kind: the search first removes actions of one kind only, then, for
the flips nothing explained yet, any kinds, pruned by the distance to those flips'
conflicts alone.  Each phase keeps its nodes (`Store`) for the walk that reads the
least pair of a group back (explorer.engine.properties.isolation.least).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from explorer.engine.limits import guard
from explorer.engine.properties.isolation.exact import CView, Flip
from explorer.engine.properties.isolation.split import Split
from explorer.engine.search import Exploration


class Witness(NamedTuple):
    """A removal pair: A's length, the actions removed, both runs as edges, and the
    indices in A of the removed actions."""

    length: int
    removals: int
    run_a: list[int]
    run_b: list[int]
    removed: list[int]


@dataclass
class Store:
    """One phase's pair nodes: node (i, j, mask) is the int (i << 32 | j) << w | mask,
    its id is its place in `keys`; `removed` per node the most actions removed on a
    shortest A to it; `starts` the first id of each level (A's length); `most` the
    largest number of kinds the phase removed."""

    w: int
    most: int
    keys: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)
    starts: list[int] = field(default_factory=list)

    def tight(self, i: int, j: int, mask: int, level: int, removed: int) -> bool:
        """Whether (i, j, mask) was first reached at `level`, `removed` its most removals:
        every prefix of a best pair is such a node."""
        n = self.index.get((i << 32 | j) << self.w | mask)
        return (
            n is not None
            and self.removed[n] == removed
            and bisect_right(self.starts, n) - 1 == level
        )


#: (kinds mask, flip as (action id, result in A, result in B)) -> (A's length, removals)
Best = dict[tuple[int, tuple[int, Any, Any]], tuple[int, int]]


@dataclass
class RemovalResult:
    """The removal pairs found: per (mask of removed kinds, flip) the shortest A and
    then the most removals; every phase's nodes."""

    explored: int  # pair states stored
    best: Best
    complete: int  # every removal pair with A of at most this many actions is in `best`
    stores: list[Store] = field(default_factory=list)


def unoriented(flip: tuple[int, Any, Any]) -> Flip:
    """A flip of this search (results in A, B) as the exact check names it."""
    aid, oa, ob = flip
    return Flip(aid, *sorted((oa, ob), key=repr))


def removal_search(
    ex: Exploration,
    sp: Split,
    budget: int | None = None,
    cview: CView | None = None,
    max_bytes: int | None = None,
) -> RemovalResult:
    """Every removal pair's best (A's length, removals) per (kinds, flip), by phases:
    one kind removed, then any kinds for the flips still unexplained.

    It grows far faster than the exact check with each viewer the bounds add, and
    only presents violations the exact check has already proved, so `budget` caps its
    nodes: the search stops at the level that would pass it and keeps what it found in
    full.  Without the exact check's `cview` it is one phase, unpruned (the tests'
    reference)."""
    w = len(sp.kinds)
    if cview is None:
        return _phase(ex, sp, Store(w, w), None, None, budget, max_bytes)
    rem = _phase(ex, sp, Store(w, 1), cview, cview.to_conflict, budget, max_bytes)
    # A flip is oriented (A's result, B's): each way round may need other kinds.
    explained = {f for _, f in rem.best}
    left = [
        nodes
        for (aid, o1, o2), nodes in cview.hot.items()
        if (aid, o1, o2) not in explained or (aid, o2, o1) not in explained
    ]
    if not left or rem.complete < ex.max_depth or w < 2:
        return rem
    far = cview.distances(set().union(*left), ex.max_depth)
    more = budget - rem.explored if budget is not None else None
    rest = _phase(ex, sp, Store(w, w), cview, far, more, max_bytes)
    for key, got in rest.best.items():
        if bin(key[0]).count("1") > 1:
            rem.best[key] = got
    rem.stores += rest.stores
    rem.explored += rest.explored
    if rest.complete < rem.complete:  # the budget ran out in the second phase
        rem.complete = rest.complete
        rem.best = {k: v for k, v in rem.best.items() if v[0] <= rest.complete}
    return rem


def _phase(
    ex: Exploration,
    sp: Split,
    store: Store,
    cview: CView | None,
    far: list[int] | None,
    budget: int | None,
    max_bytes: int | None,
) -> RemovalResult:
    """One breadth-first search of the pairs, removing at most `store.most` kinds."""
    depth = ex.max_depth
    cm, om, inside, kind_bit = sp.cmoves, sp.omoves, sp.inside, sp.kind_bit
    w, most = store.w, store.most
    low = (1 << w) - 1
    kids = cview.kids if cview else None
    keys, removed, index = store.keys, store.removed, store.index
    where: list[int] = []  # per node, its c-view node
    start = cview.start if cview else 0
    frontier: list[int] = []
    for sid, d in enumerate(ex.depth):
        if d == 0:
            index[(sid << 32 | sid) << w] = len(keys)
            frontier.append(len(keys))
            keys.append((sid << 32 | sid) << w)
            removed.append(0)
            where.append(start)
    store.starts.append(0)
    nxt: list[int] = []
    push = _pusher(store, where, nxt)
    found: Best = {}
    complete = depth
    for level in range(depth):
        store.starts.append(len(keys))
        nxt.clear()
        room = depth - level - 2  # a node of the next level must still take a flip
        last = level == depth - 1  # only flips: a node of the next level is never expanded
        for n in frontier:
            if budget is not None and len(keys) > budget:
                complete = level  # witnesses of `level` events are all in; longer ones not
                break
            if max_bytes is not None and not n & 0xFFF:
                _guard(ex, len(keys), level + 1, max_bytes)
            key = keys[n]
            i, j, mask = key >> w + 32, key >> w & 0xFFFFFFFF, key & low
            r, x = removed[n], where[n]
            kx = kids[x] if kids is not None else None
            cj = cm[j] or {}
            for aid, (oi, ti, _ei) in (cm[i] or {}).items():
                m = cj.get(aid)
                if m is None:
                    continue
                oj, tj, _ej = m
                if oi == oj:
                    if last:
                        continue
                    nx = kx[(aid, oi)] if kx is not None else 0
                    if far is None or far[nx] <= room:  # else no conflict within reach
                        push(ti, tj, mask, r, nx, level)
                elif inside[aid]:
                    fk = (mask, (aid, oi, oj))
                    old = found.get(fk)
                    if old is None or (old[0] == level + 1 and old[1] < r):
                        found[fk] = (level + 1, r)  # shortest A first, then most removals
            if last or (far is not None and far[x] > room):
                continue  # outside events stay in node x: none of them can lead to a flip
            oj_moves = om[j] or {}
            for aid, (ti, _ei) in (om[i] or {}).items():
                more = mask | kind_bit[aid]
                if more == mask or bin(more).count("1") <= most:
                    push(ti, j, more, r + 1, x, level)
                m2 = oj_moves.get(aid)
                if m2 is not None:
                    push(ti, m2[0], mask, r, x, level)
        if complete < depth:
            break
        frontier = list(nxt)
    best = {k: v for k, v in found.items() if v[0] <= complete}
    return RemovalResult(len(keys), best, complete, [store])


def _guard(ex: Exploration, pairs: int, events: int, max_bytes: int) -> None:
    at = (
        f"in isolation's removal witness search over {ex.n_states:,} distinct "
        f"states, at {pairs:,} pairs of runs of up to {events} events"
    )
    guard(pairs, events, None, max_bytes, at)


def _pusher(store: Store, where: list[int], nxt: list[int]) -> Callable[..., None]:
    """`push` over a store, its lists bound once: it runs for every move of the search;
    `nxt` collects the level being built."""
    keys, removed, index, w, starts = store.keys, store.removed, store.index, store.w, store.starts
    masks: dict[int, list[tuple[int, int, int]]] = {}  # i << 32 | j -> [(mask, removed, level)]

    def push(i: int, j: int, mask: int, r: int, x: int, level: int) -> None:
        """Add the node (i, j, mask) of level + 1 (in c-view node `x`) with `r` actions
        removed, or raise its removals when a run with more reaches it in its level."""
        if i == j and mask:
            # Both runs are back in one state: A without the actions removed so far would
            # be a shorter A with the same B, so no best pair passes through here.
            return
        pair = i << 32 | j
        key = pair << w | mask
        k = index.get(key)
        if k is None:
            # Dominated: the same two states were reached with a subset of these kinds
            # removed and at least as many actions removed, at an earlier level or with
            # more removals.  Whatever this node finds, that one finds with a shorter A
            # or a shorter B and no more kinds (a group keeps only the fewest kinds).  A
            # tie of the same level and removals is kept: the order of events decides.
            known = masks.get(pair)
            if known is None:
                masks[pair] = [(mask, r, level)]
            else:
                for m2, r2, l2 in known:
                    if m2 & mask == m2 and r2 >= r and (l2 < level or r2 > r):
                        return
                known.append((mask, r, level))
            index[key] = len(keys)
            nxt.append(len(keys))
            keys.append(key)
            removed.append(r)
            where.append(x)
        elif k >= starts[-1] and r > removed[k]:
            removed[k] = r

    return push
