"""The removal search's pairs of states: how they are stored (`Store`), and how a move
adds one (`pusher`, and `tail_pusher` for the last level, which is only looked at).

A pair is dropped where both runs are back in one state with something removed, and
where another pair of the same two states, reached no later with a subset of its kinds
removed and a score no worse, dominates it.  With the viewer's stabiliser
(explorer.engine.properties.isolation.stabiliser) each pair is stored as its least
image, and counted as its orbit's pairs.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from explorer.engine.properties.isolation.stabiliser import Stabiliser
from explorer.engine.search import Exploration


@dataclass
class Store:
    """A search's pair nodes: node (i, j, mask) is the int (i << 32 | j) << w | mask,
    its id its place in `keys`; `score` per node its removals on a shortest A to it,
    the fewest (sign 1) or the most (sign -1, stored negated: the least score is
    kept); `starts` the first id of each level (A's length)."""

    w: int
    sign: int = 1
    keys: list[int] = field(default_factory=list)
    score: list[int] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)
    starts: list[int] = field(default_factory=list)

    def seed(self, ex: Exploration, where: list[int], start: int) -> list[int]:
        """The first level: each initial state paired with itself, nothing removed (in
        c-view node `start`); their ids."""
        first = []
        for sid, d in enumerate(ex.depth):
            if d == 0:
                key = (sid << 32 | sid) << self.w
                self.index[key] = len(self.keys)
                first.append(len(self.keys))
                self.keys.append(key)
                self.score.append(0)
                where.append(start)
        self.starts.append(0)
        return first

    def tight(self, i: int, j: int, mask: int, level: int, removed: int) -> bool:
        """Whether (i, j, mask) was first reached at `level` with `removed` its best
        removals: every prefix of a best pair is such a node."""
        n = self.index.get((i << 32 | j) << self.w | mask)
        return (
            n is not None
            and self.score[n] == self.sign * removed
            and bisect_right(self.starts, n) - 1 == level
        )


def pusher(
    store: Store,
    where: list[int],
    nxt: list[int],
    stab: Stabiliser | None = None,
    met: list[int] | None = None,
) -> Callable[..., None]:
    """`push` over a store, its lists bound once: it runs for every move of the search;
    `nxt` collects the level being built.  With `stab`, each pair is stored as its
    least image under the viewer's stabiliser, `met[0]` counting its orbit's pairs."""
    keys, score, index, w, starts = store.keys, store.score, store.index, store.w, store.starts
    moves = list(zip(stab.states, stab.nodes, strict=True)) if stab is not None else []
    orbit = stab.orbit if stab is not None else None
    ties = store.sign < 0  # a walk reads least pairs back from here: keep equal ones
    # i << 32 | j -> (mask, score, level) of its first node, a list of them from its second
    masks: dict[int, Any] = {}
    new_key, new_node, new_score, new_where = keys.append, nxt.append, score.append, where.append

    def push(i: int, j: int, mask: int, r: int, x: int, level: int) -> None:
        """Add the node (i, j, mask) of level + 1 (in c-view node `x`) with score `r`,
        or lower its score when a better run reaches it in its level."""
        if i == j and mask:
            # Both runs are back in one state: A without the actions removed so far would
            # be a shorter A with the same B, so no best pair passes through here.
            return
        pair = i << 32 | j
        if moves:
            i0, j0, x0 = i, j, x
            for im, xm in moves:
                image = im[i0] << 32 | im[j0]
                if image < pair:
                    pair, x = image, xm[x0]
            i, j = pair >> 32, pair & 0xFFFFFFFF
        key = pair << w | mask
        k = index.get(key)
        if k is not None:
            if k >= starts[-1] and r < score[k]:
                score[k] = r
            return
        if i != j:  # one state twice has one node (nothing removed): nothing dominates it
            # Dominated: the same two states were reached no later with a subset of these
            # kinds removed and a score no worse.  Whatever this node finds, that one
            # finds with no longer an A, no worse a score and no more kinds (a group
            # keeps only the fewest kinds).  Where least pairs are read back, a tie (the
            # same level and score) is kept: the order of events decides between them.
            known = masks.get(pair)
            if known is None:
                masks[pair] = (mask, r, level)
            else:
                if type(known) is tuple:
                    known = masks[pair] = [known]
                for m2, r2, l2 in known:
                    if m2 & mask == m2 and r2 <= r and (not ties or l2 < level or r2 < r):
                        return
                known.append((mask, r, level))
        if orbit is not None and met is not None:
            met[0] += orbit(i, j)
        n = len(keys)
        index[key] = n
        new_node(n)
        new_key(key)
        new_score(r)
        new_where(x)

    return push


def tail_pusher(
    tail: dict[int, int], w: int, stab: Stabiliser | None = None, met: list[int] | None = None
) -> Callable[..., None]:
    """`push` into the last level's `tail` (node -> fewest removals); with `stab`, of
    each pair's least image, `met[0]` counting its orbit's pairs."""
    if stab is None or met is None:

        def push_tail(i: int, j: int, mask: int, r: int, x: int, level: int) -> None:
            if i != j:
                key = (i << 32 | j) << w | mask
                if tail.get(key, r + 1) > r:
                    tail[key] = r

        return push_tail

    images, orbit = stab.states, stab.orbit

    def push_least_tail(i: int, j: int, mask: int, r: int, x: int, level: int) -> None:
        if i != j:
            pair = i << 32 | j
            for im in images:
                k = im[i] << 32 | im[j]
                if k < pair:
                    pair = k
            key = pair << w | mask
            old = tail.get(key)
            if old is None:
                tail[key] = r
                met[0] += orbit(i, j)
            elif old > r:
                tail[key] = r

    return push_least_tail
