"""Breadth-first search over every bounded event sequence of a model.

The engine's whole contract with a model (as in Stateright's StateMachine):

    initial_states() -> iterable of hashable states
    actions(state)   -> the actions enabled in `state`
    next_state(state, action) -> (successor, observation)

and, optionally, `successors(state) -> [(action, successor, observation), ...]`, the
same thing in one call, which a model may offer because it is faster.

Nothing here knows what a state means.  Each distinct state is expanded once, at
its shortest depth; states first reached at `depth` are kept but not expanded, so
every walk of at most `depth` actions is a walk of the recorded graph.  Parent
pointers give a shortest path to every state.  Edges are recorded in expansion
order, so a state's out-edges are one contiguous slice (`out_edges`).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol


class Model(Protocol):
    def initial_states(self) -> Iterable[Hashable]: ...
    def actions(self, state: Any) -> Iterable[Any]: ...
    def next_state(self, state: Any, action: Any) -> tuple[Any, Any]: ...


class SearchLimit(RuntimeError):
    """A search stopped before it would exhaust the machine; says how far it got."""

    def __init__(
        self, states: int, depth: int, limit: str, flag: str, hint: str = "", where: str = ""
    ) -> None:
        self.states, self.depth = states, depth
        self.limit, self.flag, self.hint, self.where = limit, flag, hint, where
        # `where`: a check after the search says what it was doing and what it had counted
        # (the states of its own product, not the graph's).
        at = where or f"at {states:,} distinct states while expanding depth {depth}"
        super().__init__(f"stopped {at}: {limit}; lower --depth or --mounts, or raise {flag}{hint}")

    def amended(self, limit: str = "", hint: str = "") -> SearchLimit:
        """The same stop, with more said of the limit and of the way out (a caller that
        knows the run's shape adds it)."""
        return SearchLimit(
            self.states, self.depth, self.limit + limit, self.flag, self.hint + hint, self.where
        )

    def __reduce__(self):
        """Rebuilt from its fields: a worker process sends it back to the parent by pickle."""
        return SearchLimit, (self.states, self.depth, self.limit, self.flag, self.hint, self.where)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Searches and checks build millions of small tuples and no reference cycles; the
    cyclic collector only slows them down, the more so the more graphs are alive (up to
    25% measured on `bfs` with an earlier exploration still held, 1.4x on isolation at
    3 containers), so pause it.  Also a decorator (`@paused_gc()`)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def rss_bytes() -> int:
    """Resident memory of this process (Linux), 0 where unknown."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def default_memory_limit() -> int:
    """Three quarters of the machine's memory: the guard stops well before the OOM killer."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 3 // 4
    except (ValueError, OSError):
        return 1 << 62


def guard(
    states: int, depth: int, max_states: int | None, max_bytes: int | None, where: str = ""
) -> None:
    """Raise SearchLimit when a bound is crossed (call every few thousand states);
    `where` names the phase and what it counts, for the checks that run after a search."""
    if max_states is not None and states >= max_states:
        raise SearchLimit(
            states, depth, f"--max-states {max_states:,} reached", "--max-states", where=where
        )
    if max_bytes is not None:
        rss = rss_bytes()
        if rss >= max_bytes:
            raise SearchLimit(
                states,
                depth,
                f"memory {rss / 2**30:.2f} GiB reached the {max_bytes / 2**30:.2f} GiB guard",
                "--max-memory",
                where=where,
            )


@dataclass
class Exploration:
    """What a search found: states, the edge list, depths and parent pointers."""

    states: list[Any] = field(default_factory=list)
    index: dict[Any, int] = field(default_factory=dict)
    depth: list[int] = field(default_factory=list)
    parent_edge: list[int] = field(default_factory=list)  # -1 for an initial state
    edge_start: list[int] = field(default_factory=list)  # per state; -1 if not expanded
    src: list[int] = field(default_factory=list)
    action: list[Any] = field(default_factory=list)
    obs: list[Any] = field(default_factory=list)
    dst: list[int] = field(default_factory=list)
    perm: list[int] = field(default_factory=list)  # symmetry: raw successor -> dst coords
    reduced: bool = False  # states are canonical representatives
    max_depth: int = 0
    seconds: float = 0.0

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_edges(self) -> int:
        return len(self.dst)

    def out_edges(self, sid: int) -> range:
        """Indices of the edges leaving `sid` (empty if it was not expanded)."""
        start = self.edge_start[sid]
        if start < 0:
            return range(0)
        # Expanded states are a prefix of the ids (BFS order), so the next one starts ours.
        nxt = sid + 1
        end = self.edge_start[nxt] if nxt < len(self.edge_start) else -1
        return range(start, end if end >= 0 else len(self.dst))

    def path_to(self, sid: int) -> list[int]:
        """Edge indices of a shortest path from an initial state to `sid`."""
        edges = []
        e = self.parent_edge[sid]
        while e >= 0:
            edges.append(e)
            e = self.parent_edge[self.src[e]]
        return edges[::-1]


@paused_gc()
def bfs(
    model: Model,
    depth: int,
    max_states: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    max_bytes: int | None = None,
) -> Exploration:
    """Explore every sequence of at most `depth` actions; expand each state once.

    A model that offers `canonical(state) -> (representative, permutation id)` is
    searched up to symmetry: only representatives are stored, and each edge keeps the
    permutation that took its raw successor to the stored one.
    """
    t0 = time.perf_counter()
    ex = Exploration(max_depth=depth)
    index, states, depths = ex.index, ex.states, ex.depth
    parent_edge, edge_start = ex.parent_edge, ex.edge_start
    src, act, obs, dst = ex.src, ex.action, ex.obs, ex.dst
    frontier: list[int] = []
    canonical = getattr(model, "canonical", None)
    ex.reduced = canonical is not None
    for s in model.initial_states():
        if canonical is not None:
            s = canonical(s)[0]
        if s not in index:
            index[s] = len(states)
            frontier.append(len(states))
            states.append(s)
            depths.append(0)
            parent_edge.append(-1)
            edge_start.append(-1)
    perm = ex.perm
    successors = getattr(model, "successors", None)
    if successors is None:
        actions, next_state = model.actions, model.next_state

        def successors(s: Any) -> list[tuple[Any, Any, Any]]:
            return [(a, *next_state(s, a)) for a in actions(s)]

    for d in range(depth):
        nxt: list[int] = []
        for sid in frontier:
            s = states[sid]
            edge_start[sid] = len(dst)
            for a, t, o in successors(s):
                p = 0
                if canonical is not None:
                    t, p = canonical(t)
                tid = index.get(t)
                if tid is None:
                    tid = len(states)
                    if max_states is not None and tid >= max_states:
                        guard(tid, d + 1, max_states, None)
                    if max_bytes is not None and not tid & 0xFFF:
                        guard(tid, d + 1, None, max_bytes)
                    index[t] = tid
                    states.append(t)
                    depths.append(d + 1)
                    parent_edge.append(len(dst))
                    edge_start.append(-1)
                    nxt.append(tid)
                src.append(sid)
                perm.append(p)
                act.append(a)
                obs.append(o)
                dst.append(tid)
            if progress is not None and not sid & 0x3FFF:
                progress(d + 1, len(states), len(dst))
        frontier = nxt
        if not frontier:
            break
    ex.seconds = time.perf_counter() - t0
    return ex


def realize(model: Any, ex: Exploration, edges: list[int]) -> list[Any]:
    """The real run behind a path of recorded edges, as Steps of real actions.

    Without symmetry this is the recorded path.  With it, each recorded action is in
    the canonical coordinates of its source; the run is replayed from the real initial
    state, translating each action back through the current permutation.
    """
    from explorer.engine.verdict import Step

    if not ex.reduced:
        return [Step(ex.action[e], ex.obs[e]) for e in edges]
    r = next(iter(model.initial_states()))
    _, p = model.canonical(r)
    steps = []
    for e in edges:
        a = model.translate_action(ex.action[e], model.inverse(p))
        r, o = model.next_state(r, a)
        c, p = model.canonical(r)
        if c != ex.states[ex.dst[e]] or o != ex.obs[e]:
            raise AssertionError("a witness on canonical states did not replay on real states")
        steps.append(Step(a, o))
    return steps
