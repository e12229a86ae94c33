"""The c-view graph the exact check builds (explorer.engine.properties.isolation.exact),
which prunes the removal searches: how far each node is from a conflict."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Flip(NamedTuple):
    """An inside action (its id in the split) and two results it gives after one c-view."""

    action: int
    result_a: Any
    result_b: Any


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
    hot: dict[Flip, set[int]] = field(default_factory=dict)  # flip -> nodes where it conflicts

    def distances(self, hot: set[int], depth: int) -> list[int]:
        """Per node, the fewest c-view events to one of `hot` (depth + 1: none)."""
        return to_conflict(self.kids, hot, depth)


def to_conflict(kids: list[dict[tuple[int, Any], int]], hot: set[int], depth: int) -> list[int]:
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


def cost_to_conflict(
    kids: list[dict[tuple[int, Any], int]], hot: set[int], depth: int, cost: list[int]
) -> list[int]:
    """Per c-view node, the least cost of the c-view moves to a node in `hot` (depth + 1:
    none), a free move adding nothing: breadth first, free moves to the front."""
    back: list[list[tuple[int, int]]] = [[] for _ in kids]
    for n, ks in enumerate(kids):
        for (aid, _o), k in ks.items():
            back[k].append((n, cost[aid]))
    dist = [depth + 1] * len(kids)
    queue = deque(sorted(hot))
    for n in queue:
        dist[n] = 0
    while queue:
        n = queue.popleft()
        for p, w in back[n]:
            d = dist[n] + w
            if d < dist[p]:
                dist[p] = d
                if w:
                    queue.append(p)
                else:
                    queue.appendleft(p)
    return dist
