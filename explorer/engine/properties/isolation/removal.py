"""The removal witness search: run B is run A with some outside actions removed.

The exact check decides; this search presents its violations in the form a reader
grasps at once.  It is a self-composition whose nodes are (A's state, B's state, the
kinds removed), searched breadth first by A's length: both copies take inside,
environment and kept outside actions (an outside action may give another result in
B: that is not in the c-view), A alone takes a removed outside action.  A node whose
two copies are back in one state is dropped (A without the removals before it would
be a shorter A), and so is a node whose c-view class is farther from every conflict
than the depth leaves (`CView.to_conflict`): it could find no flip.

It runs twice over.  `removal_search` finds, per (kinds removed, flip), the shortest
A: which kinds explain each flip, and at what length.  Per node it keeps the fewest
removals, so that a node with a subset of another's kinds and no more removals, reached
no later, prunes it (most of the search is such nodes).  Pairs are ordered the other
way, shortest A and then the shortest B, the most removals (docs/model.md §5): so
`group_search` searches again for each group, removing only its kinds, to its length,
towards its flips' conflicts, keeping per node the most removals; its nodes (`Store`)
are what the walk that reads the least pair back goes through
(explorer.engine.properties.isolation.least).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from explorer.engine.limits import guard
from explorer.engine.properties.isolation.exact import CView, Flip
from explorer.engine.properties.isolation.split import Split
from explorer.engine.properties.isolation.stabiliser import Stabiliser
from explorer.engine.properties.isolation.store import Store, pusher, tail_pusher
from explorer.engine.search import Exploration


class Witness(NamedTuple):
    """A removal pair: A's length, the actions removed, both runs as edges, and the
    indices in A of the removed actions."""

    length: int
    removals: int
    run_a: list[int]
    run_b: list[int]
    removed: list[int]


#: (kinds mask, flip as (action id, result in A, result in B)) -> (A's length, removals)
Best = dict[tuple[int, tuple[int, Any, Any]], tuple[int, int]]


@dataclass
class RemovalResult:
    """The removal pairs found: per (mask of removed kinds, flip) the shortest A, and
    the fewest removals with it."""

    explored: int  # pair states reached (those of the last level are not stored)
    best: Best
    complete: int  # every removal pair with A of at most this many actions is in `best`
    # Per (mask, flip) the pair the search met first, where no walk reads the least back
    # (a graph searched by cost: explorer.engine.properties.isolation.costed).
    pairs: dict[tuple[int, tuple[int, Any, Any]], Witness] | None = None


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
    stab: Stabiliser | None = None,
) -> RemovalResult:
    """Per (kinds, flip) every removal pair's shortest A (and its fewest removals).

    It grows far faster than the exact check with each viewer the bounds add, and
    only presents violations the exact check has already proved, so `budget` caps its
    nodes: the search stops at the level that would pass it and keeps what it found in
    full.  With the exact check's `cview`, a pair whose c-view node is too far from
    every conflict to reach one within the depth is not stored.  With the viewer's
    stabiliser (`cview` given too), one pair of states per orbit is stored, and counted
    as its orbit's pairs, so the budget means what it does without."""
    far = cview.to_conflict if cview else None
    everything = (1 << len(sp.kinds)) - 1
    store = Store(len(sp.kinds))
    best, complete, tail = _search(
        ex, sp, store, cview, far, everything, ex.max_depth, budget, max_bytes, stab
    )
    return RemovalResult(tail, best, complete)


def group_search(
    ex: Exploration,
    sp: Split,
    cview: CView | None,
    mask: int,
    flips: set[tuple[int, Any, Any]],
    length: int,
    max_bytes: int | None = None,
) -> tuple[Store, int]:
    """The pairs that remove only `mask`'s kinds, up to A's `length`, towards `flips`,
    each node with its most removals; and the most removals of a pair of `length` that
    removes exactly `mask`'s kinds and ends in one of `flips`."""
    far = None
    if cview is not None:
        hot: set[int] = set()
        for f in flips:
            hot |= cview.hot.get(unoriented(f), set())
        far = cview.distances(hot, length)
    store = Store(len(sp.kinds), -1)
    best, _, _ = _search(ex, sp, store, cview, far, mask, length, None, max_bytes, None)
    return store, max(-best[(mask, f)][1] for f in flips if best.get((mask, f), (0,))[0] == length)


def _search(
    ex: Exploration,
    sp: Split,
    store: Store,
    cview: CView | None,
    far: list[int] | None,
    allowed: int,
    depth: int,
    budget: int | None,
    max_bytes: int | None,
    stab: Stabiliser | None,
) -> tuple[Best, int, int]:
    """One breadth-first search of the pairs to A's length `depth`, removing only the
    kinds of `allowed`: per (kinds, flip) the first level and the best score there;
    the levels it completed; the pairs it met, stored or of the last level (each
    orbit's pairs, with `stab`)."""
    out_at = sp.out_at
    w, sign, keys, score = store.w, store.sign, store.keys, store.score
    low = (1 << w) - 1
    kids = cview.kids if cview else None
    where: list[int] = []  # per node, its c-view node
    frontier = store.seed(ex, where, cview.start if cview else 0)
    nxt: list[int] = []
    if cview is None:
        stab = None  # a pair's image needs its c-view node's
    met = [0]  # with `stab`: the pairs of the orbits stored or in `tail`
    store_push = pusher(store, where, nxt, stab, met)
    # The last level is only looked at for flips: where no walk reads pairs back (the
    # fewest removals: sign 1), its pairs go to `tail`, each with its best score, and are
    # neither stored as nodes nor pruned by dominance (a dominated pair's flips are its
    # dominator's, with more kinds: no group keeps them).
    tail: dict[int, int] = {}
    push_tail = tail_pusher(tail, w, stab, met)

    def counted() -> int:
        return met[0] if stab is not None else len(keys) + len(tail)

    found: Best = {}
    complete = depth
    for level in range(depth):
        store.starts.append(len(keys))
        nxt.clear()
        room = depth - level - 2  # a node of the next level must still take a flip
        last = level == depth - 1  # only flips: a node of the next level is never expanded
        push = push_tail if sign > 0 and level == depth - 2 else store_push
        if last and sign > 0:
            _flips(tail, sp, w, level, found)
            break
        for n in frontier:
            if budget is not None and counted() > budget:
                complete = level  # witnesses of `level` events are all in; longer ones not
                break
            if max_bytes is not None and not n & 0xFFF:
                _guard(ex, len(keys), level + 1, max_bytes)
            key = keys[n]
            i, j, mask = key >> w + 32, key >> w & 0xFFFFFFFF, key & low
            r, x = score[n], where[n]
            kx = kids[x] if kids is not None else None
            _seen(sp, i, j, mask, r, kx, far, room, last, level, push, found)
            if last or (far is not None and far[x] > room):
                continue  # outside events stay in node x: none of them can lead to a flip
            oi_moves = out_at[i]
            if oi_moves:
                oj_moves = out_at[j] or _NONE
                _outside(sp, i, j, oi_moves, oj_moves, mask, r, x, level, push, allowed, sign)
        if complete < depth:
            break
        frontier = list(nxt)
    return {k: v for k, v in found.items() if v[0] <= complete}, complete, counted()


#: A state without moves of a kind (the split files None): nothing to iterate.
_NONE: dict = {}


def _seen(
    sp: Split,
    i: int,
    j: int,
    mask: int,
    r: int,
    kx: dict[tuple[int, Any], int] | None,
    far: list[int] | None,
    room: int,
    last: bool,
    level: int,
    push: Callable[..., None],
    found: Best,
) -> None:
    """The seen moves of node (i, j, mask): both runs take each (into c-view node
    kx[move], when it is within `room` of a conflict), or it flips."""
    seen_at, start, obs, dst = sp.seen_at, sp.start, sp.obs, sp.dst
    ci = seen_at[i]
    if not ci:
        return
    bi = start[i]
    if i == j:
        # Both runs in one state (nothing removed yet): every seen move agrees.
        if not last:
            for aid, off in ci.items():
                e = bi + off
                nx = kx[(aid, obs[e])] if kx is not None else 0
                if far is None or far[nx] <= room:
                    t = dst[e]
                    push(t, t, 0, r, nx, level)
        return
    cj = seen_at[j]
    if not cj:
        return
    bj = start[j]
    inside, settles = sp.inside, sp.settles
    for aid, off in ci.items():
        offj = cj.get(aid)
        if offj is None:
            continue
        ei, ej = bi + off, bj + offj
        oi, oj = obs[ei], obs[ej]
        if oi == oj:
            if last:
                continue
            nx = kx[(aid, oi)] if kx is not None else 0
            if far is None or far[nx] <= room:  # else no conflict within reach
                push(dst[ei], dst[ej], mask, r, nx, level)
        elif inside[aid] and settles(oi) and settles(oj):
            fk = (mask, (aid, oi, oj))
            old = found.get(fk)
            if old is None or (old[0] == level + 1 and r < old[1]):
                found[fk] = (level + 1, r)  # shortest A first, then the best score


def _outside(
    sp: Split,
    i: int,
    j: int,
    oi_moves: dict[int, int],
    oj_moves: dict[int, int],
    mask: int,
    r: int,
    x: int,
    level: int,
    push: Callable[..., None],
    allowed: int,
    sign: int,
) -> None:
    """A's outside moves from node (i, j, mask): each removed (B stays at `j`), if its
    kind may be, and each kept (B takes it too, where B can)."""
    start, dst, kind_bit = sp.start, sp.dst, sp.kind_bit
    bi, bj = start[i], start[j]
    diagonal = i == j
    for aid, off in oi_moves.items():
        ti = dst[bi + off]
        b = kind_bit[aid]
        if b & allowed:
            push(ti, j, mask | b, r + sign, x, level)
        if diagonal:
            push(ti, ti, mask, r, x, level)
            continue
        offj = oj_moves.get(aid)
        if offj is not None:
            push(ti, dst[bj + offj], mask, r, x, level)


def _flips(tail: dict[int, int], sp: Split, w: int, level: int, found: Best) -> None:
    """The flips of the pairs of the last level (`tail`: node -> fewest removals)."""
    seen_at, start, obs, inside, settles = sp.seen_at, sp.start, sp.obs, sp.inside, sp.settles
    low = (1 << w) - 1
    for key, r in tail.items():
        i, j, mask = key >> w + 32, key >> w & 0xFFFFFFFF, key & low
        ci, cj = seen_at[i], seen_at[j]
        if not ci or not cj:
            continue
        bi, bj = start[i], start[j]
        for aid, off in ci.items():
            offj = cj.get(aid)
            if offj is None:
                continue
            oi, oj = obs[bi + off], obs[bj + offj]
            if oi != oj and inside[aid] and settles(oi) and settles(oj):
                fk = (mask, (aid, oi, oj))
                old = found.get(fk)
                if old is None or (old[0] == level + 1 and r < old[1]):
                    found[fk] = (level + 1, r)


def _guard(ex: Exploration, pairs: int, events: int, max_bytes: int) -> None:
    at = (
        f"in isolation's removal witness search over {ex.n_states:,} distinct "
        f"states, at {pairs:,} pairs of runs of up to {events} events"
    )
    guard(pairs, events, None, max_bytes, at)
