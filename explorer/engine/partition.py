"""Breadth-first search with its states partitioned over P workers by a stable hash.

The search is level-synchronous: each worker (a `Partition`) expands its share of level
d, sends every successor to the worker that owns it (one batch per owner and level),
and the owners file the new states of level d+1.  A worker keeps its partition's
states, depths, parent edges and out-edges; nothing else holds the graph.

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
import hashlib
import heapq
import io
import pickle
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Protocol

from explorer.engine.contract import Model, Symmetry
from explorer.engine.limits import guard
from explorer.engine.search import Exploration

#: A key is (rank of the parent in its level) << SHIFT | (index of the action).
SHIFT = 32


def owner(state: Any, parts: int, of_ints: bool = False) -> int:
    """The partition that stores `state`: the same in every process and on every machine.

    Python's `hash` of ints and of tuples of them is (CPython, 64 bits), and costs a
    third of the pickled form's hash; a str's, None's and others' change from process to
    process, so states holding anything but ints and tuples (`of_ints` False) go by
    their pickled form (without the memo, which would write a tuple met twice in one
    state, one object, unlike two equal ones)."""
    if parts == 1:
        return 0
    if of_ints:
        return hash(state) % parts
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    pickler.fast = True
    pickler.dump(state)
    digest = hashlib.blake2b(buf.getvalue(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % parts


def of_ints(value: Any) -> bool:
    """Whether `value` is built of ints (bools aside) and tuples only."""
    if type(value) is int:
        return True
    return type(value) is tuple and all(of_ints(v) for v in value)


class Partition:
    """One worker's share of the search: the states it owns and their out-edges.

    A state is named across partitions by its ref, `local id * parts + partition`.
    """

    def __init__(
        self,
        part: int,
        parts: int,
        model: Model,
        depth: int,
        max_bytes: int | None = None,
        ints: bool = False,
    ) -> None:
        self.part, self.parts, self.model, self.max_bytes = part, parts, model, max_bytes
        self.ints = ints  # states are built of ints and tuples: `owner` may use `hash`
        sym = model.symmetry
        self.canonical = sym.canonical if sym is not None else None
        self.index: dict[Any, int] = {}
        self.states: list[Any] = []
        # Per state and per edge, numbers in arrays: 8 bytes each, where a list holds a
        # pointer and an int object (36 bytes) for each.
        self.level = array("h")
        self.rank = array("q")  # position in its level, in bfs's order
        self.parent_ref = array("q")  # -1: an initial state
        self.parent_act = array("q")  # the index of the action that reached it first
        self.key: dict[int, int] = {}  # while a level is filed: the least key seen
        self.edge_start = array("q")  # -1: not expanded
        self.expanded: list[int] = []  # in expansion order: their edges follow one another
        self.act: list[Any] = []
        self.obs: list[Any] = []
        self.perm = array("q")
        self.dst = array("q")  # refs
        self.frontier: list[int] = []
        self.new: list[int] = []  # the level being filed, in arrival order
        # per owner, the edges awaiting their dst: (edge, position in the batch sent)
        self.sent: list[list[tuple[int, int]]] = [[] for _ in range(parts)]

    def ref(self, lid: int) -> int:
        return lid * self.parts + self.part

    def seed(self, states: list[tuple[int, Any]]) -> None:
        """The initial states this partition owns, with their rank in level 0."""
        for rank, s in states:
            lid = self._add(s, 0, -1, -1)
            self.rank[lid] = rank
            self.frontier.append(lid)

    def _add(self, s: Any, level: int, pref: int, i: int) -> int:
        lid = len(self.states)
        self.index[s] = lid
        self.states.append(s)
        self.level.append(level)
        self.rank.append(-1)
        self.parent_ref.append(pref)
        self.parent_act.append(i)
        self.edge_start.append(-1)
        return lid

    def expand(self) -> tuple[list[tuple[Any, int, int]], ...]:
        """Expand this partition's frontier; one batch of (state, key, parent ref) per owner.

        A successor goes once per owner and level, with its first key (the least: the
        frontier is in rank order, actions in their order); one this partition owns and
        holds already is not sent at all."""
        parts, me = self.parts, self.part
        batches: list[list[tuple[Any, int, int]]] = [[] for _ in range(parts)]
        placed: list[dict[Any, int]] = [{} for _ in range(parts)]
        sent = self.sent = [[] for _ in range(parts)]
        canonical, successors, index = self.canonical, self.model.successors, self.index
        ints = self.ints
        act, obs, perm, dst = self.act, self.obs, self.perm, self.dst
        for lid in self.frontier:
            self.expanded.append(lid)
            self.edge_start[lid] = len(dst)
            base = self.rank[lid] << SHIFT
            pref = self.ref(lid)
            for i, (a, t, o) in enumerate(successors(self.states[lid])):
                p = 0
                if canonical is not None:
                    t, p = canonical(t)
                act.append(a)
                obs.append(o)
                perm.append(p)
                w = owner(t, parts, ints)
                if w == me:
                    held = index.get(t)
                    if held is not None:
                        dst.append(held * parts + me)
                        continue
                at = placed[w].get(t)
                if at is None:
                    at = placed[w][t] = len(batches[w])
                    batches[w].append((t, base | i, pref))
                sent[w].append((len(dst), at))
                dst.append(-1)
        return tuple(batches)

    def receive(
        self, level: int, *batches: list[tuple[Any, int, int]]
    ) -> tuple[array | list[int], ...]:
        """File the successors sent to this partition: the new states' keys in increasing
        order (for the driver to rank), then per sender the refs of what it sent, in its
        order."""
        index = self.index
        key = self.key = {}
        mask = (1 << SHIFT) - 1
        new = self.new = []
        replies: list[list[int]] = []  # small ints pickle shorter in a list than in an array
        for batch in batches:
            refs = []
            for t, k, pref in batch:
                lid = index.get(t)
                if lid is None:
                    lid = self._add(t, level, pref, k & mask)
                    key[lid] = k
                    new.append(lid)
                    n = len(self.states)
                    if self.max_bytes is not None and not n & 0xFFF:
                        where = (
                            f"at {n:,} distinct states in partition {self.part + 1} of "
                            f"{self.parts} while expanding depth {level}"
                        )
                        guard(n, level, None, self.max_bytes, where)
                elif k < key.get(lid, k):  # a state of this level, reached earlier
                    key[lid] = k
                    self.parent_ref[lid], self.parent_act[lid] = pref, k & mask
                refs.append(lid * self.parts + self.part)
            replies.append(refs)
        new.sort(key=key.__getitem__)  # the driver merges sorted runs
        return (array("q", [key[lid] for lid in new]), *replies)

    def settle(self, ranks: Iterable[int], *replies: list[int]) -> int:
        """Take the new states' ranks (the next frontier, in bfs's order) and the refs
        the owners gave the successors sent; return the states held."""
        for lid, r in zip(self.new, ranks, strict=True):
            self.rank[lid] = r
        self.frontier = sorted(self.new, key=self.rank.__getitem__)
        self.new, self.key = [], {}
        dst = self.dst
        for w, refs in enumerate(replies):
            for e, at in self.sent[w]:
                dst[e] = refs[at]
        self.sent = [[] for _ in range(self.parts)]
        return len(self.states)

    # --- questions after the search ---------------------------------------------------

    def counts(self) -> tuple[int, int]:
        return len(self.states), len(self.dst)

    def fold(self, fn: Callable[[list[Any], list[Any]], Any]) -> Any:
        """`fn(actions, observations)` of this partition's edges (coverage, say)."""
        return fn(self.act, self.obs)

    def out_slices(self) -> list[tuple[int, int, int]]:
        """(state, first edge, end) of every expanded state, in expansion order."""
        starts = [self.edge_start[lid] for lid in self.expanded] + [len(self.dst)]
        return [(lid, starts[k], starts[k + 1]) for k, lid in enumerate(self.expanded)]

    def first(self, flagged: Callable[[Any], bool]) -> tuple[int, tuple[int, int, int, int] | None]:
        """How many edges have an observation `flagged` marks (a violation), and the first
        of them in bfs's order: (level, rank, action index, source)."""
        count = 0
        best: tuple[int, int, int, int] | None = None
        obs = self.obs
        for lid, start, end in self.out_slices():
            for e in range(start, end):
                if flagged(obs[e]):
                    count += 1
                    cand = (self.level[lid], self.rank[lid], e - start, lid)
                    if best is None or cand < best:
                        best = cand
        return count, best

    def step_back(self, lid: int) -> tuple[int, int]:
        """The parent ref of a state and the index of the action that first reached it."""
        return self.parent_ref[lid], self.parent_act[lid]

    def edge(self, lid: int, i: int) -> tuple[Any, Any, int]:
        """The action, observation and destination ref of a state's i-th out-edge."""
        e = self.edge_start[lid] + i
        return self.act[e], self.obs[e], self.dst[e]

    def state(self, lid: int) -> Any:
        return self.states[lid]

    def export(self) -> tuple[list, list, list, list, list]:
        """Everything held, for `gather` (tests, small runs): per state its level, rank,
        parent and out-edges (None if not expanded) as (action, obs, perm, dst ref)."""
        sym = self.model.symmetry
        out: list[list | None] = [None] * len(self.states)
        for lid, start, end in self.out_slices():
            out[lid] = [
                (self.act[e], self.obs[e], sym.portable(self.perm[e]) if sym else 0, self.dst[e])
                for e in range(start, end)
            ]
        parents = list(zip(self.parent_ref, self.parent_act, strict=True))
        return self.states, list(self.level), list(self.rank), parents, out


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
        if out[g] is None:
            continue
        ex.edge_start[g] = len(ex.dst)
        for a, o, p, ref in out[g]:  # type: ignore[union-attr]
            ex.src.append(g)
            ex.action.append(a)
            ex.obs.append(o)
            ex.perm.append(symmetry.local(p) if symmetry is not None else p)
            ex.dst.append(gid(ref % parts, ref // parts))
    for g, pe in enumerate(parent):
        if pe is not None:
            ex.parent_edge[g] = ex.edge_start[pe[0]] + pe[1]
    return ex
