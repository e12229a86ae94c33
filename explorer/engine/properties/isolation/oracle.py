"""The self-composition: the other exact isolation check, kept as a test oracle.

Two copies of a run move together on inside and environment actions and separately on
outside ones; with a depth bound per run, a node is (state, state, length, length),
pruned by Pareto dominance of the two lengths.  It decides what the subset
construction decides (the tests compare them on every spec), and enumerates every
pair of runs' states and lengths where the subset construction keeps a few hundred
c-view classes: far slower (docs/architecture.md has the figures).
"""

from __future__ import annotations

from explorer.engine.limits import guard
from explorer.engine.properties.isolation.exact import Conflict, ExactResult, Flip
from explorer.engine.properties.isolation.split import Split
from explorer.engine.search import Exploration


def self_composition(ex: Exploration, sp: Split, max_bytes: int | None = None) -> ExactResult:
    """Pairs (s1, s2, l1, l2), unordered, pruned by Pareto dominance of the lengths."""
    depth = ex.max_depth
    cm, om, inside, cost = sp.cmoves, sp.omoves, sp.inside, sp.cost
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
    flips: dict[Flip, Conflict] = {}
    best_of: dict[Flip, tuple[int, int]] = {}
    for total in range(2 * depth + 1):
        for n in buckets[total]:  # a free move pushes into this bucket: read it whole
            i, j, li, lj = nodes[n]
            if li <= depth and lj <= depth:
                cj = cm[j] or {}
                for aid, (oi, ti, ei) in (cm[i] or {}).items():
                    m = cj.get(aid)
                    w = cost[aid]
                    if m is None or li + w > depth or lj + w > depth:
                        continue
                    oj, tj, ej = m
                    if oi == oj:
                        push(ti, tj, li + w, lj + w, (n, ei, ej))
                    elif inside[aid] and sp.settles(oi) and sp.settles(oj):
                        states.add(i)
                        states.add(j)
                        key = (max(li, lj) + w, li + lj + 2 * w)
                        lo, hi = (oi, oj) if repr(oi) <= repr(oj) else (oj, oi)
                        flip = Flip(aid, lo, hi)
                        if flip not in best_of or key < best_of[flip]:
                            best_of[flip] = key
                            r1, r2 = _product_path(nodes, parent, n)
                            flips[flip] = Conflict(key, r1 + [ei], r2 + [ej])
            for aid, (t, e) in (om[i] or {}).items():
                if li + cost[aid] <= depth:
                    push(t, j, li + cost[aid], lj, (n, e, -1))
            for aid, (t, e) in (om[j] or {}).items():
                if lj + cost[aid] <= depth:
                    push(i, t, li, lj + cost[aid], (n, -1, e))
    return ExactResult(len(nodes), states, flips)


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
