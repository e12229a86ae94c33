"""The transition graph as a networkx DiGraph, built from the search's edge list.

Built after the search, from its flat lists: the search's loop stays free of networkx
objects.  Nodes are state ids with their depth and a short label from the model;
parallel events between the same two states share one edge whose `labels` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx

from explorer.engine.search import Exploration


def build(
    ex: Exploration,
    describe: Callable[[Any], str] = str,
    label: Callable[[Any, Any], str] = lambda a, o: f"{a} = {o}",
) -> nx.DiGraph:
    """Every recorded state and transition; `label(action, obs)` names an edge."""
    g: nx.DiGraph = nx.DiGraph()
    for sid, s in enumerate(ex.states):
        g.add_node(sid, depth=ex.depth[sid], label=describe(s))
    for e, (a, o) in enumerate(zip(ex.action, ex.obs, strict=True)):
        u, v = ex.src[e], ex.dst[e]
        if g.has_edge(u, v):
            g[u][v]["labels"].append(label(a, o))
        else:
            g.add_edge(u, v, labels=[label(a, o)])
    return g
