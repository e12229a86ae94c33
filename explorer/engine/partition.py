"""Breadth-first search with its states partitioned over P workers by a stable hash.

The search is level-synchronous: each worker (a `Partition`, explorer.engine.worker)
expands its share of level d, sends every successor to the worker that owns it (one
batch per owner and level), and the owners file the new states of level d+1.  A worker
keeps its partition's states, depths, parent edges and out-edges; nothing else holds
the graph.

The result is the single-process `search.bfs`, exactly: `bfs` numbers the states of
level d+1 in first-discovery order (level d's order, then each state's action order).
Here each new state's key is the least (rank of a parent in level d, index of the
action in that parent's successors) over everyone who reached it; the driver sorts the
keys of the level, the ranks it hands back order the next frontier, and the key's
parent is the parent edge.  So state ids, edges and parent pointers, and with them the
shortest witnesses, are `bfs`'s (`gather` assembles the `Exploration` to show it).

How the driver reaches the workers is a `Transport`: `InProcess` here (the tests, no
other dependency); a transport over Ray actors lives outside the engine.  A state's
owner comes from a hash that is the same in every process (`owner`).
"""

from __future__ import annotations

import functools
import heapq
import time
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Protocol

from explorer.engine.contract import Model, Symmetry
from explorer.engine.limits import guard
from explorer.engine.search import Exploration
from explorer.engine.worker import Partition, of_ints, owner


class Transport(Protocol):
    """How the driver reaches P partitions.  `start` builds partition i with `make(i)`
    where it will live.  `call` runs one method on every partition, partition i with
    `args[i]`, and returns per partition a list of handles on what it gave back: one,
    or with `returns` n the n parts of the tuple it gave.  A handle may be passed as an
    argument of a later call (a transport may move it from worker to worker without
    the driver); `fetch` turns handles into values; `ask` calls one partition."""

    parts: int

    def start(self, make: Callable[[int], Partition]) -> None: ...
    def call(
        self, method: str, args: list[tuple], returns: int | None = None
    ) -> list[list[Any]]: ...
    def fetch(self, handles: list[Any]) -> list[Any]: ...
    def ask(self, part: int, method: str, *args: Any) -> Any: ...


class InProcess:
    """P partitions in this process: the partitioned search without any other machinery."""

    def __init__(self, parts: int) -> None:
        self.parts = parts
        self.workers: list[Partition] = []

    def start(self, make: Callable[[int], Partition]) -> None:
        self.workers = [make(i) for i in range(self.parts)]

    def call(self, method: str, args: list[tuple], returns: int | None = None) -> list[list[Any]]:
        out = []
        for w, a in zip(self.workers, args, strict=True):
            r = getattr(w, method)(*a)
            out.append([r] if returns is None else list(r))
        return out

    def fetch(self, handles: list[Any]) -> list[Any]:
        return list(handles)

    def ask(self, part: int, method: str, *args: Any) -> Any:
        return getattr(self.workers[part], method)(*args)


@dataclass
class Partitioned:
    """A finished partitioned search: its figures, and the transport that holds it."""

    transport: Transport
    reduced: bool
    max_depth: int
    level_sizes: list[int] = field(default_factory=list)
    n_states: int = 0
    n_edges: int = 0
    seconds: float = 0.0

    def fold(self, fn: Callable[[list[Any], list[Any]], Any]) -> list[Any]:
        t = self.transport
        return t.fetch([h[0] for h in t.call("fold", [(fn,)] * t.parts)])

    def coverage(self, fn: Callable[[list[Any], list[Any]], Counter]) -> Counter:
        total: Counter = Counter()
        for c in self.fold(fn):
            total.update(c)
        return total

    def first(self, flagged: Callable[[Any], bool]) -> tuple[int, list[tuple[Any, Any, Any]]]:
        """How many edges `flagged` marks, and a shortest path ending in the first of them
        in bfs's order, as (action, observation, destination state) from an initial state
        (empty when none is marked)."""
        t = self.transport
        found = t.fetch([h[0] for h in t.call("first", [(flagged,)] * t.parts)])
        count = sum(c for c, _ in found)
        best = min(((b, part) for part, (_, b) in enumerate(found) if b is not None), default=None)
        if best is None:
            return count, []
        (_, _, i, lid), part = best
        return count, self.path(part, lid) + [self._edge(part, lid, i)]

    def path(self, part: int, lid: int) -> list[tuple[Any, Any, Any]]:
        """The shortest path bfs records to the state (part, lid), from the parent edges."""
        t, parts = self.transport, self.transport.parts
        steps = []
        while True:
            pref, i = t.ask(part, "step_back", lid)
            if pref < 0:
                break
            ppart, plid = pref % parts, pref // parts
            steps.append(self._edge(ppart, plid, i))
            part, lid = ppart, plid
        return steps[::-1]

    def _edge(self, part: int, lid: int, i: int) -> tuple[Any, Any, Any]:
        t = self.transport
        a, o, ref = t.ask(part, "edge", lid, i)
        return a, o, t.ask(ref % t.parts, "state", ref // t.parts)


def partitioned_bfs(
    model: Model,
    depth: int,
    transport: Transport,
    max_states: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    max_bytes: int | None = None,
    kind: type[Partition] = Partition,
) -> Partitioned:
    """`search.bfs` over `transport.parts` partitions (same states, edges, witnesses).

    `max_bytes` is each partition's memory guard; `kind` the partitions' class (a
    benchmark's measures what it sends).  A model whose states travel between
    processes has states that mean the same in each (a symmetry's permutations
    included: `Symmetry.portable`)."""
    t0 = time.perf_counter()
    parts = transport.parts
    canonical = model.symmetry.canonical if model.symmetry is not None else None
    initial: list[Any] = []
    for s in model.initial_states():
        if canonical is not None:
            s = canonical(s)[0]
        if s not in initial:
            initial.append(s)
    # The initial states show what states are made of (a model's states share a layout).
    ints = all(of_ints(s) for s in initial)
    transport.start(
        functools.partial(
            kind, parts=parts, model=model, depth=depth, max_bytes=max_bytes, ints=ints
        )
    )
    seeds: list[list[tuple[int, Any]]] = [[] for _ in range(parts)]
    for rank, s in enumerate(initial):
        seeds[owner(s, parts, ints)].append((rank, s))
    transport.fetch([h[0] for h in transport.call("seed", [(s,) for s in seeds])])
    run = Partitioned(transport, canonical is not None, depth, [len(initial)])
    total = len(initial)
    for d in range(depth):
        out = transport.call("expand", [()] * parts, returns=parts)
        filed = transport.call(
            "receive",
            [(d + 1, *(out[i][j] for i in range(parts))) for j in range(parts)],
            returns=parts + 1,
        )
        keys = transport.fetch([f[0] for f in filed])
        ranks = _ranks(keys)
        new = sum(len(k) for k in keys)
        if max_states is not None and total + new > max_states:
            guard(max_states, d + 1, max_states, None)
        total += new
        held = transport.fetch(
            [
                h[0]
                for h in transport.call(
                    "settle",
                    [(ranks[i], *(filed[j][1 + i] for j in range(parts))) for i in range(parts)],
                )
            ]
        )
        assert sum(held) == total
        if progress is not None:
            progress(
                d + 1,
                total,
                sum(
                    c[1]
                    for c in transport.fetch([h[0] for h in transport.call("counts", [()] * parts)])
                ),
            )
        if not new:
            break
        run.level_sizes.append(new)
    counts = transport.fetch([h[0] for h in transport.call("counts", [()] * parts)])
    run.n_states = sum(c[0] for c in counts)
    run.n_edges = sum(c[1] for c in counts)
    run.seconds = time.perf_counter() - t0
    return run


def _ranks(keys: list[array]) -> list[array]:
    """Each key's position among all of them (keys are distinct), per partition; each
    partition's keys come sorted, so one merge ranks them (8 bytes a key each way)."""
    ranks = [array("q") for _ in keys]
    tagged = [zip(ks, repeat(j)) for j, ks in enumerate(keys)]
    for r, (_, j) in enumerate(heapq.merge(*tagged)):
        ranks[j].append(r)
    return ranks


def gather(run: Partitioned, symmetry: Symmetry | None = None) -> Exploration:
    """The whole graph in one `Exploration`, numbered as `bfs` numbers it, its
    permutations in the ids of `symmetry` (the model's, in this process)."""
    t = run.transport
    parts = t.parts
    held = t.fetch([h[0] for h in t.call("export", [()] * parts)])
    offset = [0]
    for n in run.level_sizes:
        offset.append(offset[-1] + n)

    def gid(part: int, lid: int) -> int:
        return offset[held[part][1][lid]] + held[part][2][lid]

    n = sum(len(h[0]) for h in held)
    ex = Exploration(max_depth=run.max_depth, reduced=run.reduced)
    ex.states = [None] * n
    ex.depth = [0] * n
    ex.parent_edge = [-1] * n
    ex.edge_start = [-1] * n
    out: list[list[tuple[Any, Any, int, int]] | None] = [None] * n
    parent: list[tuple[int, int] | None] = [None] * n
    for part, (states, level, _, parents, edges) in enumerate(held):
        for lid, s in enumerate(states):
            g = gid(part, lid)
            ex.states[g], ex.depth[g] = s, level[lid]
            pref, i = parents[lid]
            parent[g] = None if pref < 0 else (gid(pref % parts, pref // parts), i)
            out[g] = edges[lid]
    ex.index = {s: g for g, s in enumerate(ex.states)}
    for g in range(n):
        edges = out[g]
        if edges is None:
            continue
        ex.edge_start[g] = len(ex.dst)
        for a, o, p, ref in edges:
            ex.src.append(g)
            ex.action.append(a)
            ex.obs.append(o)
            ex.perm.append(symmetry.local(p) if symmetry is not None else p)
            ex.dst.append(gid(ref % parts, ref // parts))
    for g, pe in enumerate(parent):
        if pe is not None:
            ex.parent_edge[g] = ex.edge_start[pe[0]] + pe[1]
    return ex


__all__ = [
    "InProcess",
    "Partition",
    "Partitioned",
    "Transport",
    "gather",
    "of_ints",
    "owner",
    "partitioned_bfs",
]
