"""Agreement: two models give the same observation for every action of every run
enabled in both.  BFS over pairs of states that moved by the same actions; the first
pair of differing observations is a shortest witness.

On graphs reduced by symmetry the two sides may be stored in different canonical
coordinates, so a product node also carries the permutation R between them (index k
of b's state is index R[k] of a's); an action of a is rewritten through R before it
is looked up in b.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from explorer.engine.contract import Model, Symmetry
from explorer.engine.limits import guard
from explorer.engine.partition import Transport, partitioned_bfs
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
    if reduced:
        assert sym is not None, "a reduced exploration comes from a model with a symmetry"
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
    for level in range(min(a.max_depth, b.max_depth)):
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
    return _verdict(a, model_a, model_b, parent, first, firsts, count, len(nodes))


def _verdict(
    a: Exploration,
    model_a: Model,
    model_b: Model,
    parent: list[tuple[int, int, int]],
    first: tuple[int, int, int] | None,
    firsts: dict[Hashable, tuple[int, int, int]],
    count: int,
    explored: int,
) -> Verdict:
    """The verdict of `check`, its witnesses replayed on real states."""
    name_b = model_b.name
    v = Verdict(
        f"agreement-{name_b}",
        model_a.name,
        holds=first is None,
        violations=count,
        explored=explored,
    )
    if first is not None:
        v.witness, v.other = _runs(a, model_a, model_b, parent, first)
        v.reason = f"{model_a.name} and {name_b} return different results"
        classes = {k: _runs(a, model_a, model_b, parent, f) for k, f in firsts.items()}
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
            out.append((x, (ta, tb, r2), (oa, ob)))
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
    run = partitioned_bfs(Pair(model_a, model_b), depth, transport, None, progress, max_bytes)
    count, path = run.first(differs)
    name_b = model_b.name
    v = Verdict(
        f"agreement-{name_b}", model_a.name, holds=not path, violations=count, explored=run.n_states
    )
    if path:
        real = [(x, oa, node[0]) for x, (oa, _), node in path]
        run_a = realize_steps(model_a, model_a.symmetry is not None, real)
        v.witness, v.other = _with_b(run_a, model_b)
        v.reason = f"{model_a.name} and {name_b} return different results"
        v.agreement = AgreementResult(name_b, {})
    return v
