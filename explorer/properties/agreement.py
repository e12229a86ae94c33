"""Agreement: two models give the same observation for every action of every run
enabled in both.  BFS over pairs of states that moved by the same actions; the first
pair of differing observations is a shortest witness.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from explorer.properties.verdict import Step, Verdict
from explorer.search import Exploration


def _adjacency(ex: Exploration, sid: int) -> dict:
    return {ex.action[e]: e for e in ex.out_edges(sid)}


def check(
    a: Exploration,
    b: Exploration,
    name_a: str,
    name_b: str,
    classify: Callable[[Any, Any, Any], Hashable] | None = None,
) -> Verdict:
    """Compare `a` against `b` (explored with the same bounds and depth).

    With `classify(action, obs_a, obs_b)`, the shortest witness of every class of
    difference is kept too, in `extra["classes"]` (for `explore diff`).
    """
    start = [
        (i, j) for i, da in enumerate(a.depth) if da == 0 for j, db in enumerate(b.depth) if db == 0
    ]
    seen = {p: k for k, p in enumerate(start)}
    nodes = list(start)
    parent: list[tuple[int, int, int]] = [(-1, -1, -1)] * len(start)
    frontier = list(range(len(start)))
    first = None
    count = 0
    firsts: dict[Hashable, tuple[int, int, int]] = {}
    for _ in range(min(a.max_depth, b.max_depth)):
        nxt = []
        for n in frontier:
            i, j = nodes[n]
            adj_b = _adjacency(b, j)
            for ea in a.out_edges(i):
                eb = adj_b.get(a.action[ea])
                if eb is None:
                    continue
                if a.obs[ea] != b.obs[eb]:
                    count += 1
                    if first is None:
                        first = (n, ea, eb)
                    if classify is not None:
                        firsts.setdefault(classify(a.action[ea], a.obs[ea], b.obs[eb]), (n, ea, eb))
                key = (a.dst[ea], b.dst[eb])
                if key not in seen:
                    seen[key] = len(nodes)
                    nodes.append(key)
                    parent.append((n, ea, eb))
                    nxt.append(seen[key])
        frontier = nxt
    v = Verdict(
        f"agreement-{name_b}", name_a, holds=first is None, violations=count, explored=len(nodes)
    )
    if first is not None:
        v.witness, v.other = _runs(a, b, parent, first)
        v.reason = f"{name_a} and {name_b} return different results"
        v.extra["against"] = name_b
        v.extra["classes"] = {k: _runs(a, b, parent, f) for k, f in firsts.items()}
    return v


def _runs(a: Exploration, b: Exploration, parent: list, last: tuple[int, int, int]):
    """The two runs (same actions, each spec's observations) ending in `last`."""
    n, ea, eb = last
    pairs = [(ea, eb)]
    while parent[n][0] >= 0:
        n, pa, pb = parent[n]
        pairs.append((pa, pb))
    pairs.reverse()
    return (
        [Step(a.action[x], a.obs[x]) for x, _ in pairs],
        [Step(b.action[y], b.obs[y]) for _, y in pairs],
    )
