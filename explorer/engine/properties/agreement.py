"""Agreement: two models give the same observation for every action of every run
enabled in both.  BFS over pairs of states that moved by the same actions; the first
pair of differing observations ends a shortest witness, the least in the model's order
of actions (explorer.engine.properties.least) on graphs without symmetry, and looked
for again along the real runs on graphs reduced by one.

On graphs reduced by symmetry the two sides may be stored in different canonical
coordinates, so a product node also carries the permutation R between them (index k
of b's state is index R[k] of a's); an action of a is rewritten through R before it
is looked up in b.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from explorer.engine.contract import Model, Symmetry
from explorer.engine.limits import guard
from explorer.engine.partition import Transport, partitioned_bfs
from explorer.engine.properties.least import least_partitioned, least_path
from explorer.engine.search import Exploration, Step, realize, realize_steps
from explorer.engine.verdict import AgreementResult, Verdict


def check(
    a: Exploration,
    b: Exploration,
    model_a: Model,
    model_b: Model,
    classify: Callable[[Any, Any, Any], Hashable] | None = None,
    max_bytes: int | None = None,
) -> Verdict:
    """Compare `a` against `b` (explored with the same bounds and depth).

    With `classify(action, obs_a, obs_b)`, the shortest witness of every class of
    difference is kept too, in the verdict's `agreement.classes`.
    """
    assert not (a.costed or b.costed), "agreement pairs runs action for action: no costs"
    reduced = a.reduced or b.reduced
    sym = model_a.symmetry
    assert not reduced or sym is not None, (
        "a reduced exploration comes from a model with a symmetry"
    )
    ident = sym.identity if sym is not None and reduced else 0
    in_a = _in_a(sym, model_b.symmetry)
    start = [(i, j, ident) for i in _initial(a) for j in _initial(b)]
    seen = {p: k for k, p in enumerate(start)}
    nodes = list(start)
    parent: list[tuple[int, int, int]] = [(-1, -1, -1)] * len(start)
    frontier = list(range(len(start)))
    first = None
    count = 0
    firsts: dict[Hashable, tuple[int, int, int]] = {}
    adjacency: dict[int, dict] = {}
    step_r: dict[tuple[int, int, int], int] = {}
    translated: dict[int, dict] = {}
    starts = [0]  # per level, its first node
    for level in range(min(a.max_depth, b.max_depth)):
        starts.append(len(nodes))
        nxt = []
        for n in frontier:
            i, j, r = nodes[n]
            adj_b = adjacency.get(j)
            if adj_b is None:
                adj_b = adjacency[j] = {b.action[e]: e for e in b.out_edges(j)}
            # Actions of a rewritten into b's coordinates, remembered per permutation
            # (rewriting costs more than looking it up); the identity needs none.
            tr = translated.setdefault(r, {}) if reduced and r != ident else None
            for ea in a.out_edges(i):
                x = a.action[ea]
                if tr is not None and sym is not None:
                    y = tr.get(x)
                    if y is None:
                        y = tr[x] = sym.translate_action(x, r)
                    eb = adj_b.get(y)
                else:
                    eb = adj_b.get(x)
                if eb is None:
                    continue
                if a.obs[ea] != b.obs[eb]:
                    count += 1
                    if first is None:
                        first = (n, ea, eb)
                    if classify is not None:
                        firsts.setdefault(classify(x, a.obs[ea], b.obs[eb]), (n, ea, eb))
                r2 = 0
                if reduced and sym is not None:
                    k = (a.perm[ea], r, b.perm[eb])
                    got = step_r.get(k)
                    if got is None:
                        inv = sym.inverse(a.perm[ea])
                        got = step_r[k] = sym.compose(sym.compose(inv, r), in_a(b.perm[eb]))
                    r2 = got
                key = (a.dst[ea], b.dst[eb], r2)
                if key not in seen:
                    seen[key] = len(nodes)
                    if max_bytes is not None and not len(nodes) & 0xFFF:
                        _guard(len(nodes), level + 1, max_bytes)
                    nodes.append(key)
                    parent.append((n, ea, eb))
                    nxt.append(seen[key])
        frontier = nxt
    searched = (parent, nodes, seen, starts, step_r, in_a)
    return _conclude(a, b, model_a, model_b, classify, first, firsts, searched, count)


def _conclude(
    a: Exploration,
    b: Exploration,
    model_a: Model,
    model_b: Model,
    classify: Callable[[Any, Any, Any], Hashable] | None,
    first: tuple[int, int, int] | None,
    firsts: dict[Hashable, tuple[int, int, int]],
    searched: tuple,
    count: int,
) -> Verdict:
    """`check`'s verdict from what its search `searched`: each witness read back along the
    parents, or on graphs searched up to symmetry walked beside the pairs (the least)."""
    parent, nodes, seen, starts, step_r, in_a = searched
    if first is None:
        return _verdict(model_a, model_b, None, {}, count, len(nodes))
    if not (a.reduced or b.reduced):
        classes = {k: _runs(a, model_a, model_b, parent, f) for k, f in firsts.items()}
        least = _runs(a, model_a, model_b, parent, first)
        return _verdict(model_a, model_b, least, classes, count, len(nodes))
    walk = _RealPairs(a, b, model_a, model_b, nodes, seen, starts, step_r, in_a)
    runs = {k: walk.least(bisect_right(starts, f[0]), classify, k) for k, f in firsts.items()}
    least = walk.least(bisect_right(starts, first[0]), None, None)
    return _verdict(model_a, model_b, least, runs, count, len(nodes))


def _verdict(
    model_a: Model,
    model_b: Model,
    first: tuple[list[Step], list[Step]] | None,
    classes: dict[Hashable, tuple[list[Step], list[Step]]],
    count: int,
    explored: int,
) -> Verdict:
    """The verdict of `check`: `first` is the witness (a's run and b's), `classes` the
    least witness of each class of difference."""
    name_b = model_b.name
    v = Verdict(
        f"agreement-{name_b}",
        model_a.name,
        holds=first is None,
        violations=count,
        explored=explored,
    )
    if first is not None:
        v.witness, v.other = first
        v.reason = f"{model_a.name} and {name_b} return different results"
        v.agreement = AgreementResult(name_b, classes)
    return v


def _initial(ex: Exploration) -> list[int]:
    return [sid for sid, d in enumerate(ex.depth) if d == 0]


def _in_a(sym: Symmetry | None, sym_b: Symmetry | None) -> Callable[[int], int]:
    """b's permutation ids as ids of a's symmetry: two models number the permutations
    they meet each in its own order, so an id of b's goes by its portable form."""
    if sym is None or sym_b is None or sym_b is sym:
        return lambda p: p
    return lambda p: sym.local(sym_b.portable(p))


def _guard(pairs: int, depth: int, max_bytes: int) -> None:
    at = f"at {pairs:,} state pairs of the agreement product while expanding depth {depth}"
    guard(pairs, depth, None, max_bytes, at)


class _RealPairs:
    """The real runs of model a, in its order of actions, beside the pair nodes `check`
    filed them under, on graphs reduced by a symmetry.  An item is (a's real state, the
    permutation from its coordinates to its stored state's, pair node)."""

    def __init__(self, a, b, model_a, model_b, nodes, seen, starts, step_r, in_a) -> None:
        self.a, self.b, self.model_a, self.model_b = a, b, model_a, model_b
        self.nodes, self.seen, self.starts, self.step_r, self.in_a = (
            nodes,
            seen,
            starts,
            step_r,
            in_a,
        )
        self.sym = model_a.symmetry
        self.out: dict[tuple[int, int], dict[Any, int]] = {}

    def edges(self, side: int, sid: int) -> dict[Any, int]:
        """A stored state's out-edges by action (side 0: a's graph, 1: b's)."""
        by = self.out.get((side, sid))
        if by is None:
            ex = self.b if side else self.a
            by = self.out[(side, sid)] = {ex.action[e]: e for e in ex.out_edges(sid)}
        return by

    def least(self, length: int, classify, cls) -> tuple[list[Step], list[Step]]:
        """The least run of `length` actions whose last one differs (in class `cls` of
        `classify`, when given), and the same actions stepped under b."""
        sym = self.sym
        b0 = self.b.index[sym.canonical(next(iter(self.model_b.initial_states())))[0]]
        roots = []
        for r in self.model_a.initial_states():
            c, q = sym.canonical(r)
            roots.append((r, q, self.seen[(self.a.index[c], b0, sym.identity)]))

        def moves(item, k: int) -> Iterator[tuple]:
            a, b = self.a, self.b
            r, q, n = item
            i, j, rr = self.nodes[n]
            by_a, by_b = self.edges(0, i), self.edges(1, j)
            for x, r2, o in self.model_a.successors(r):
                ea = by_a[sym.translate_action(x, q)]
                y = a.action[ea] if rr == sym.identity else sym.translate_action(a.action[ea], rr)
                eb = by_b.get(y)
                if eb is None:
                    continue
                ob = b.obs[eb]
                hit = o != ob and (classify is None or classify(x, o, ob) == cls)
                r3 = self.relative(a.perm[ea], rr, b.perm[eb])
                n2 = self.seen.get((a.dst[ea], b.dst[eb], r3))
                deeper = n2 is not None and bisect_right(self.starts, n2) == k + 2
                nxt = (r2, sym.compose(q, a.perm[ea]), n2) if deeper else None
                yield Step(x, o), nxt, hit

        run = least_path(roots, moves, length, lambda item: item[2])
        return _with_b(run, self.model_b)

    def relative(self, pa: int, r: int, pb: int) -> int:
        """The permutation between the two sides after a move (`check`'s r2)."""
        k = (pa, r, pb)
        got = self.step_r.get(k)
        if got is None:
            sym = self.sym
            got = self.step_r[k] = sym.compose(sym.compose(sym.inverse(pa), r), self.in_a(pb))
        return got


def _runs(a: Exploration, model_a: Model, model_b: Model, parent: list, last: tuple[int, int, int]):
    """The real run of a ending in `last`, and the same actions stepped under b."""
    n, ea, _ = last
    edges = [ea]
    while parent[n][0] >= 0:
        n, pa, _ = parent[n]
        edges.append(pa)
    return _with_b(realize(model_a, a, edges[::-1]), model_b)


def _with_b(run_a: list[Step], model_b: Model) -> tuple[list[Step], list[Step]]:
    """The run of a, and the same actions stepped under b."""
    s = next(iter(model_b.initial_states()))
    run_b = []
    for st in run_a:
        s, o = model_b.next_state(s, st.action)
        run_b.append(Step(st.action, o))
    return run_a, run_b


class Pair(Model):
    """Two models moved by the same actions, as one model: a product is a model too, so a
    search that takes a model (the partitioned one) checks agreement by searching it.
    Its states are `check`'s product nodes (a's state, b's state, the permutation
    between their coordinates, in its portable form: a node may be filed in another
    process), its edges observe (a's result, b's result), in the order `check` meets
    them."""

    symmetry = None

    def __init__(self, model_a: Model, model_b: Model) -> None:
        self.a, self.b, self.name = model_a, model_b, model_a.name
        self.sym = model_a.symmetry
        self.ident = self.sym.identity if self.sym is not None else 0

    def _canonical(self, s: Any) -> tuple[Any, int]:
        return self.sym.canonical(s) if self.sym is not None else (s, 0)

    def initial_states(self) -> list[tuple[Any, Any, Hashable]]:
        def firsts(model: Model) -> list[Any]:
            out: list[Any] = []
            for s in model.initial_states():
                c = self._canonical(s)[0]
                if c not in out:
                    out.append(c)
            return out

        r = self.sym.portable(self.ident) if self.sym is not None else 0
        return [(i, j, r) for i in firsts(self.a) for j in firsts(self.b)]

    def actions(self, node: tuple[Any, Any, int]) -> list[Any]:
        return [x for x, _, _ in self.successors(node)]

    def next_state(self, node: tuple[Any, Any, int], action: Any) -> tuple[Any, Any]:
        return next((t, o) for x, t, o in self.successors(node) if x == action)

    def successors(self, node: tuple[Any, Any, int]) -> list[tuple[Any, Any, Any]]:
        return [(x, node2, obs) for x, node2, obs, _ in self.moves(node)]

    def root(self, state: Any) -> tuple[Any, Any, Hashable]:
        """The node of a real initial state of a (paired with b's first)."""
        r = self.sym.portable(self.ident) if self.sym is not None else 0
        b0 = next(iter(self.b.initial_states()))
        return (self._canonical(state)[0], self._canonical(b0)[0], r)

    def moves(self, node: tuple[Any, Any, int]) -> list[tuple[Any, Any, Any, int]]:
        """`successors`, each with the permutation that took a's state to the stored one."""
        i, j, r = node
        sym = self.sym
        if sym is not None:
            r = sym.local(r)
        in_b = {}
        for y, tb, ob in self.b.successors(j):
            in_b[y] = (*self._canonical(tb), ob)
        out = []
        for x, ta, oa in self.a.successors(i):
            ta, pa = self._canonical(ta)
            y = sym.translate_action(x, r) if sym is not None and r != self.ident else x
            hit = in_b.get(y)
            if hit is None:
                continue
            tb, pb, ob = hit
            r2: Any = 0
            if sym is not None:
                r2 = sym.portable(sym.compose(sym.compose(sym.inverse(pa), r), pb))
            out.append((x, (ta, tb, r2), (oa, ob), pa))
        return out


def differs(obs: tuple[Any, Any]) -> bool:
    """A pair edge where the two models return different results."""
    return obs[0] != obs[1]


def check_partitioned(
    model_a: Model,
    model_b: Model,
    depth: int,
    transport: Transport,
    max_bytes: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> Verdict:
    """`check`'s verdict (differences, explored pairs, the same first witness) from a
    partitioned search of the pair; no graph is needed."""
    pair = Pair(model_a, model_b)
    run = partitioned_bfs(pair, depth, transport, None, progress, max_bytes)
    count, path = run.first(differs)
    name_b = model_b.name
    v = Verdict(
        f"agreement-{name_b}", model_a.name, holds=not path, violations=count, explored=run.n_states
    )
    if path and model_a.symmetry is not None:
        found = least_partitioned(model_a, pair, run, len(path), differs)
        v.witness, v.other = _with_b([step for step, _ in found], model_b)
    elif path:
        real = [(x, oa, node[0]) for x, (oa, _), node in path]
        v.witness, v.other = _with_b(realize_steps(model_a, False, real), model_b)
    if path:
        v.reason = f"{model_a.name} and {name_b} return different results"
        v.agreement = AgreementResult(name_b, {})
    return v
