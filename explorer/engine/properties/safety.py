"""Check a monitor on every bounded run: BFS over the product of the graph and the monitor.

The monitor (`explorer.engine.contract.Monitor`) carries its bookkeeping along each
run; a step with a non-empty reason, or a state its `after` judges, is a violation.  On
a graph reduced by symmetry, its `translate` carries the bookkeeping into the canonical
coordinates of the next state (a falsy bookkeeping, nothing to carry, is left as it
is).  The product is searched breadth first to the exploration's depth, so the first
violation found is a shortest one; all violating product transitions are counted.  The
witness is the least of the shortest violating runs in the model's order of actions
(explorer.engine.properties.least): on a graph without symmetry, the first one found.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Any

from explorer.engine.contract import Model, Monitor
from explorer.engine.limits import guard
from explorer.engine.partition import Transport, partitioned_bfs
from explorer.engine.properties.least import least_partitioned, least_path
from explorer.engine.search import Exploration, Step, realize, realize_steps
from explorer.engine.verdict import Verdict


def check(
    ex: Exploration,
    monitor: Monitor,
    model: Model,
    max_bytes: int | None = None,
    first_only: bool = False,
    depth: int | None = None,
) -> Verdict:
    """Holds iff no run of at most ex.max_depth steps makes the monitor complain.  On a
    graph searched by cost, `first_only` ends at the first violation's cost (the same
    witness, the counts that far), and `depth` bounds the runs' cost."""
    if ex.costed:
        return _check_costed(ex, monitor, model, max_bytes, first_only, depth)
    states, act, obs, dst, perm = ex.states, ex.action, ex.obs, ex.dst, ex.perm
    # The protocol's own `after` judges nothing: a monitor that keeps it costs no call.
    after = None if type(monitor).after is Monitor.after else monitor.after
    translate = monitor.translate if ex.reduced else None
    m0 = monitor.initial()
    seen: dict[tuple[int, Any], int] = {}
    parent: list[tuple[int, int]] = []  # product node -> (parent node, edge)
    nodes: list[tuple[int, Any]] = []
    bad: list[str] = []  # per product node: what `after` says of it
    for sid, d in enumerate(ex.depth):
        if d == 0:
            seen[(sid, m0)] = len(nodes)
            nodes.append((sid, m0))
            parent.append((-1, -1))
            bad.append("")
    frontier = list(range(len(nodes)))
    first: tuple[int, int, str] | None = None  # (node, edge, reason)
    moved: dict[tuple[Any, int], Any] = {}
    count = 0
    starts = [0]  # per level, its first product node
    step, out_edges = monitor.step, ex.out_edges
    for level in range(ex.max_depth):
        starts.append(len(nodes))
        nxt = []
        for n in frontier:
            sid, m = nodes[n]
            s = states[sid]
            for e in out_edges(sid):
                m2, reason = step(m, s, act[e], obs[e])
                if translate is not None and m2:
                    # Bookkeeping is a few bits: remember each translation rather than
                    # redo it on every edge.
                    tk = (m2, perm[e])
                    m3 = moved.get(tk)
                    if m3 is None:
                        m3 = moved[tk] = translate(m2, perm[e])
                    m2 = m3
                key = (dst[e], m2)
                k = seen.get(key)
                if k is None:
                    k = seen[key] = len(nodes)
                    if max_bytes is not None and not k & 0xFFF:
                        at = f"at {k:,} (state, monitor) pairs while expanding depth {level + 1}"
                        guard(k, level + 1, None, max_bytes, at)
                    nodes.append(key)
                    parent.append((n, e))
                    nxt.append(k)
                    # `after` depends on the node reached only: judge each node once.
                    bad.append(after(m2, states[key[0]]) if after is not None else "")
                if not reason and after is not None:
                    reason = bad[k]
                if reason:
                    count += 1
                    if first is None:
                        first = (n, e, reason)
        frontier = nxt
    verdict = Verdict(
        monitor.name, model.name, holds=first is None, violations=count, explored=len(nodes)
    )
    if first is not None:
        walk = (
            _RealRuns(ex, monitor, model, nodes, seen, bad, starts, moved) if ex.reduced else None
        )
        _show(verdict, model, ex, first, parent, walk, starts)
    return verdict


def _show(
    verdict: Verdict,
    model: Model,
    ex: Exploration,
    first: tuple[int, int, str],
    parent: list[tuple[int, int]],
    walk: _RealRuns | None,
    starts: list[int],
) -> None:
    """The verdict's witness, the least of the shortest violating runs, and its reason:
    on a graph searched up to symmetry, by a `walk` of the real runs beside the product;
    else the first one the check met (`first`, read back along the parents)."""
    if walk is not None:
        found = least_path(walk.roots(), walk.moves, bisect_right(starts, first[0]), walk.key)
        verdict.witness = [step for step, _ in found]
        verdict.reason = found[-1][1]
        return
    n, e, verdict.reason = first
    edges = [e]
    while parent[n][0] >= 0:
        n, e2 = parent[n]
        edges.append(e2)
    verdict.witness = realize(model, ex, edges[::-1])


class _RealRuns:
    """The real runs of a model whose graph was searched up to symmetry, in the model's
    order of actions, each beside the product node `check` filed it under.  An item is
    (real state, the permutation from its coordinates to its stored state's, product
    node); each item's permutation is its own state's canonical one, asked afresh (one
    composed along the edges misses the containers a host fd's value names)."""

    def __init__(self, ex, monitor, model, nodes, seen, bad, starts, moved) -> None:
        self.ex, self.monitor, self.model, self.nodes = ex, monitor, model, nodes
        self.seen, self.bad, self.starts, self.moved = seen, bad, starts, moved
        self.sym = model.symmetry
        self.by_action: dict[int, dict[Any, int]] = {}

    def roots(self) -> list[tuple[Any, int, int]]:
        m0 = self.monitor.initial()
        out = []
        for r in self.model.initial_states():
            c, q = self.sym.canonical(r)
            out.append((r, q, self.seen[(self.ex.index[c], m0)]))
        return out

    @staticmethod
    def key(item: tuple[Any, int, int]) -> int:
        return item[2]

    def moves(self, item: tuple[Any, int, int], k: int) -> Iterator[tuple]:
        """Each real action of the item's state, in the model's order: ((its step, the
        violation's reason), the item it leads to if its node is of depth k + 1, reason)."""
        ex, sym, monitor, seen, bad = self.ex, self.sym, self.monitor, self.seen, self.bad
        r, q, n = item
        sid, m = self.nodes[n]
        s = ex.states[sid]
        by_action = self.by_action.get(sid)
        if by_action is None:
            by_action = self.by_action[sid] = {ex.action[e]: e for e in ex.out_edges(sid)}
        for x, r2, o in self.model.successors(r):
            e = by_action[sym.translate_action(x, q)]
            m2, reason = monitor.step(m, s, ex.action[e], ex.obs[e])
            if m2:
                tk = (m2, ex.perm[e])
                m3 = self.moved.get(tk)
                if m3 is None:
                    m3 = self.moved[tk] = monitor.translate(m2, ex.perm[e])
                m2 = m3
            n2 = seen.get((ex.dst[e], m2))
            reason = reason or (bad[n2] if n2 is not None else "")
            deeper = n2 is not None and bisect_right(self.starts, n2) == k + 2
            yield (
                (Step(x, o), reason),
                (r2, sym.canonical(r2)[1], n2) if deeper else None,
                reason,
            )


def _check_costed(
    ex: Exploration,
    monitor: Monitor,
    model: Model,
    max_bytes: int | None,
    first_only: bool = False,
    depth: int | None = None,
) -> Verdict:
    """`check` on a graph searched by cost (explorer.engine.search): per level, the
    product nodes its free edges reach from the level's first nodes, breadth first; a
    violation's cost is its run's, the first of the least cost is the witness."""
    states, act, obs, dst, perm = ex.states, ex.action, ex.obs, ex.dst, ex.perm
    after = None if type(monitor).after is Monitor.after else monitor.after
    translate = monitor.translate if ex.reduced else None
    seen: dict[tuple[int, Any], int] = {}
    parent: list[tuple[int, int]] = []
    nodes: list[tuple[int, Any]] = []
    bad: list[str] = []
    frontier = [
        _add(seen, nodes, parent, bad, (sid, monitor.initial()), -1, -1, after, states, None, 0)
        for sid, d in enumerate(ex.depth)
        if d == 0
    ]
    first: tuple[int, int, int, str] | None = None  # (cost, node, edge, reason)
    moved: dict[tuple[Any, int], Any] = {}
    count = 0
    depth = ex.max_depth if depth is None else min(depth, ex.max_depth)
    for level in range(depth + 1):
        if first_only and first is not None and first[0] <= level:
            break  # every run of a lesser cost is checked: `first` stays the first
        queue, deferred = frontier, []
        k = 0
        while k < len(queue):
            n = queue[k]
            k += 1
            sid, m = nodes[n]
            s = states[sid]
            for e in ex.out_edges(sid):
                w = ex.cost[e]
                if w and level == depth:
                    continue
                m2, reason = monitor.step(m, s, act[e], obs[e])
                if translate is not None and m2:
                    tk = (m2, perm[e])
                    m3 = moved.get(tk)
                    if m3 is None:
                        m3 = moved[tk] = translate(m2, perm[e])
                    m2 = m3
                key = (dst[e], m2)
                if w:
                    deferred.append((n, e, key, reason))
                    continue
                j = seen.get(key)
                if j is None:
                    j = _add(seen, nodes, parent, bad, key, n, e, after, states, max_bytes, level)
                    queue.append(j)
                reason = reason or bad[j]
                if reason:
                    count += 1
                    if first is None or first[0] > level:
                        first = (level, n, e, reason)
        frontier = []
        if level == depth:
            break
        for n, e, key, reason in deferred:
            j = seen.get(key)
            if j is None:
                j = _add(seen, nodes, parent, bad, key, n, e, after, states, max_bytes, level)
                frontier.append(j)
            reason = reason or bad[j]
            if reason:
                count += 1
                if first is None:
                    first = (level + 1, n, e, reason)
    return _verdict(monitor, model, ex, first, parent, count, len(nodes))


def _verdict(monitor, model, ex, first, parent, count: int, explored: int) -> Verdict:
    """The verdict of a costed check, its witness read back along the parents."""
    verdict = Verdict(
        monitor.name, model.name, holds=first is None, violations=count, explored=explored
    )
    if first is not None:
        _, n, e, verdict.reason = first
        edges = [e]
        while parent[n][0] >= 0:
            n, e2 = parent[n]
            edges.append(e2)
        verdict.witness = realize(model, ex, edges[::-1])
    return verdict


def _add(seen, nodes, parent, bad, key, n, e, after, states, max_bytes, level) -> int:
    """A new product node `key`, reached from node `n` by edge `e`."""
    j = seen[key] = len(nodes)
    if max_bytes is not None and not j & 0xFFF:
        at = f"at {j:,} (state, monitor) pairs while expanding depth {level + 1}"
        guard(j, level + 1, None, max_bytes, at)
    nodes.append(key)
    parent.append((n, e))
    bad.append(after(key[1], states[key[0]]) if after is not None else "")
    return j


class Product(Model):
    """The model with the monitor's bookkeeping carried in its states.  A product is a
    model too: a search that takes a model (the partitioned one) checks the monitor by
    searching it.  Its states are (state, bookkeeping), the state canonical when the
    model has a symmetry (the product keeps none of its own); an edge observes the
    model's observation and the monitor's reason, "" where it judges nothing, in the
    order `check` meets them, so the first violation in bfs's order is `check`'s."""

    symmetry = None

    def __init__(self, model: Model, monitor: Monitor) -> None:
        self.model, self.monitor, self.name = model, monitor, model.name
        sym = model.symmetry
        self.canonical = sym.canonical if sym is not None else None
        self.after = None if type(monitor).after is Monitor.after else monitor.after
        self.moved: dict[tuple[Any, int], Any] = {}

    def initial_states(self) -> list[tuple[Any, Any]]:
        out: list[tuple[Any, Any]] = []
        m0 = self.monitor.initial()
        for s in self.model.initial_states():
            node = (self.canonical(s)[0] if self.canonical is not None else s, m0)
            if node not in out:
                out.append(node)
        return out

    def actions(self, node: tuple[Any, Any]) -> list[Any]:
        return [a for a, _, _ in self.successors(node)]

    def next_state(self, node: tuple[Any, Any], action: Any) -> tuple[Any, Any]:
        return next((t, o) for a, t, o in self.successors(node) if a == action)

    def successors(self, node: tuple[Any, Any]) -> list[tuple[Any, Any, Any]]:
        return [(a, node2, obs) for a, node2, obs, _ in self.moves(node)]

    def root(self, state: Any) -> tuple[Any, Any]:
        """The node of a real initial state."""
        s = self.canonical(state)[0] if self.canonical is not None else state
        return (s, self.monitor.initial())

    def moves(self, node: tuple[Any, Any]) -> list[tuple[Any, Any, Any, int]]:
        """`successors`, each with the permutation that took its state to the stored one."""
        s, m = node
        step, canonical, after = self.monitor.step, self.canonical, self.after
        out = []
        for a, t, o in self.model.successors(s):
            m2, reason = step(m, s, a, o)
            p = 0
            if canonical is not None:
                t, p = canonical(t)
                if m2:
                    m3 = self.moved.get((m2, p))
                    if m3 is None:
                        m3 = self.moved[(m2, p)] = self.monitor.translate(m2, p)
                    m2 = m3
            if not reason and after is not None:
                reason = after(m2, t)
            out.append((a, (t, m2), (o, reason), p))
        return out


def violates(obs: tuple[Any, str]) -> bool:
    """A product edge that violates the monitor (it gave a reason)."""
    return bool(obs[1])


def check_partitioned(
    model: Model,
    monitor: Monitor,
    depth: int,
    transport: Transport,
    max_bytes: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> Verdict:
    """`check`'s verdict (violations, explored pairs, the same first witness) from a
    partitioned search of the product; no graph is needed."""
    product = Product(model, monitor)
    run = partitioned_bfs(product, depth, transport, None, progress, max_bytes)
    count, path = run.first(violates)
    verdict = Verdict(
        monitor.name, model.name, holds=not path, violations=count, explored=run.n_states
    )
    if path and model.symmetry is not None:
        found = least_partitioned(model, product, run, len(path), violates)
        verdict.witness = [step for step, _ in found]
        verdict.reason = found[-1][1][1]
    elif path:
        verdict.reason = path[-1][1][1]
        verdict.witness = realize_steps(model, False, [(a, o, node[0]) for a, (o, _), node in path])
    return verdict
