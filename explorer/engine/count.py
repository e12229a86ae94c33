"""Count the paths of an exploration exactly, without enumerating them.

A model whose states carry how many actions led to them (a counter, or program
positions that only move forward) has a layered graph: every edge goes from one BFS
level to the next.  The number of paths from the initial states to a state is then
the sum over its in-edges of its sources' numbers, computed once per state in BFS
order (Python ints: millions of paths cost nothing).  Parallel edges count once each,
so a graph reduced by a symmetry, which keeps one edge per action of the
representative, counts the paths of the unreduced graph ending in each class, as
long as the marked states are closed under the symmetry.

A grid walk: from (0, 0), step right or up, at most 4 steps; the paths to (2, 2)
are C(4, 2) = 6, and the paths of exactly 4 steps 2**4 = 16:

>>> from explorer.engine.contract import Model
>>> from explorer.engine.search import bfs
>>> class Grid(Model[tuple[int, int], str, None]):
...     name = "grid"
...     def initial_states(self):
...         return [(0, 0)]
...     def actions(self, s):
...         return ["right", "up"] if sum(s) < 4 else []
...     def next_state(self, s, a):
...         return ((s[0] + 1, s[1]) if a == "right" else (s[0], s[1] + 1)), None
>>> ex = bfs(Grid(), depth=4)
>>> count(ex, lambda s: s == (2, 2))
6
>>> count(ex, lambda s: sum(s) == 4)
16
>>> count(ex, lambda s: True)  # every path, the empty one included: 1 + 2 + 4 + 8 + 16
31

Paths are what a model means by runs only when two paths never spell the same
sequence of what happens.  Given `label` (what an action records), `paths` checks
that the search has one initial state and that no state has two out-edges with the
same label; then paths and label sequences correspond one to one, and the counts
are counts of distinct sequences.  A model that reaches one sequence by two routes
(the grid's steps both labelled "step") is refused rather than counted twice:

>>> paths(ex, label=lambda a: "step")
Traceback (most recent call last):
...
explorer.engine.count.Ambiguous: state 0 has two out-edges labelled 'step': a sequence would be counted once per route
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from explorer.engine.search import Exploration


class NotLayered(ValueError):
    """An edge that does not go one BFS level down: paths cannot be counted level by
    level (the graph has a cycle, or a state reached by paths of several lengths)."""


class Ambiguous(ValueError):
    """Two paths spell the same label sequence: counting paths would count it twice."""


def paths(ex: Exploration, label: Callable[[Any], Hashable] | None = None) -> list[int]:
    """Per state id, the number of paths from an initial state to it (an initial state
    counts its empty path).  Raises NotLayered when some edge does not go from a
    level to the next one; with `label`, Ambiguous when a path count would not be
    the number of distinct label sequences (see the module's docstring)."""
    n = ex.n_states
    count = [0] * n
    depth, src, dst = ex.depth, ex.src, ex.dst
    for sid in range(n):
        if depth[sid] == 0:
            count[sid] = 1
    if label is not None:
        unambiguous(ex, label)
    # Expanded states are a prefix of the ids, in BFS order, and each state's
    # out-edges one slice: a state's count is final before its edges are followed.
    for e in range(ex.n_edges):
        s, t = src[e], dst[e]
        if depth[t] != depth[s] + 1:
            raise NotLayered(
                f"edge {e} goes from level {depth[s]} to level {depth[t]}: the states "
                "do not carry the number of actions that led to them"
            )
        count[t] += count[s]
    return count


def unambiguous(ex: Exploration, label: Callable[[Any], Hashable]) -> None:
    """Raise Ambiguous unless the search has one initial state and each state's
    out-edges carry distinct labels (a state's out-edges are one slice)."""
    if sum(1 for d in ex.depth if d == 0) > 1:
        raise Ambiguous("several initial states: one sequence may start from each")
    for sid in range(ex.n_states):
        seen: set[Hashable] = set()
        for e in ex.out_edges(sid):
            key = label(ex.action[e])
            if key in seen:
                raise Ambiguous(
                    f"state {sid} has two out-edges labelled {key!r}: a sequence would "
                    "be counted once per route"
                )
            seen.add(key)


def count(ex: Exploration, marked: Callable[[Any], bool]) -> int:
    """The number of paths from an initial state to a state `marked` says yes to."""
    per_state = paths(ex)
    return sum(c for c, s in zip(per_state, ex.states, strict=True) if c and marked(s))


def weighted(ex: Exploration, weight: Callable[[Any], int]) -> int:
    """The sum over paths from an initial state of `weight` of the state each ends in."""
    per_state = paths(ex)
    return sum(c * weight(s) for c, s in zip(per_state, ex.states, strict=True) if c)
