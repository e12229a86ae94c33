"""Check a monitor on every bounded run: BFS over the product of the graph and the monitor.

A monitor is `initial() -> m` and `step(m, s, action, obs, t) -> (m', reason)`, where
a non-empty reason marks the step as a violation.  The product is searched breadth
first over the recorded transitions, to the exploration's depth, so the first
violation found is a shortest one; all violating product transitions are counted.
"""

from __future__ import annotations

from typing import Any, Protocol

from explorer.properties.verdict import Step, Verdict
from explorer.search import Exploration


class Monitor(Protocol):
    name: str

    def initial(self) -> Any: ...
    def step(self, m: Any, s: Any, action: Any, obs: Any, t: Any) -> tuple[Any, str]: ...


def check(ex: Exploration, monitor: Monitor, model_name: str) -> Verdict:
    """Holds iff no run of at most ex.max_depth steps makes the monitor complain."""
    states, act, obs, dst = ex.states, ex.action, ex.obs, ex.dst
    m0 = monitor.initial()
    seen: dict[tuple[int, Any], int] = {}
    parent: list[tuple[int, int]] = []  # product node -> (parent node, edge)
    nodes: list[tuple[int, Any]] = []
    for sid, d in enumerate(ex.depth):
        if d == 0:
            seen[(sid, m0)] = len(nodes)
            nodes.append((sid, m0))
            parent.append((-1, -1))
    frontier = list(range(len(nodes)))
    first: tuple[int, int, str] | None = None  # (node, edge, reason)
    count = 0
    for _ in range(ex.max_depth):
        nxt = []
        for n in frontier:
            sid, m = nodes[n]
            s = states[sid]
            for e in ex.out_edges(sid):
                t = dst[e]
                m2, reason = monitor.step(m, s, act[e], obs[e], states[t])
                if reason:
                    count += 1
                    if first is None:
                        first = (n, e, reason)
                key = (t, m2)
                if key not in seen:
                    seen[key] = len(nodes)
                    nodes.append(key)
                    parent.append((n, e))
                    nxt.append(seen[key])
        frontier = nxt
    verdict = Verdict(
        monitor.name, model_name, holds=first is None, violations=count, explored=len(nodes)
    )
    if first is not None:
        n, e, verdict.reason = first
        edges = [e]
        while parent[n][0] >= 0:
            n, e2 = parent[n]
            edges.append(e2)
        verdict.witness = [Step(act[i], obs[i]) for i in reversed(edges)]
    return verdict
