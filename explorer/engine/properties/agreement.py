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

from explorer.engine.contract import Model
from explorer.engine.limits import guard
from explorer.engine.search import Exploration, Step, realize
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
    reduced = a.reduced or b.reduced
    sym = model_a.symmetry
    if reduced:
        assert sym is not None, "a reduced exploration comes from a model with a symmetry"
    ident = sym.identity if sym is not None and reduced else 0
    start = [
        (i, j, ident)
        for i, da in enumerate(a.depth)
        if da == 0
        for j, db in enumerate(b.depth)
        if db == 0
    ]
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
            # (rewriting was a third of the check's time); the identity needs none.
            tr = None
            if reduced and r != ident:
                tr = translated.get(r)
                if tr is None:
                    tr = translated[r] = {}
            for ea in a.out_edges(i):
                x = a.action[ea]
                if tr is not None:
                    y = tr.get(x)
                    if y is None:
                        y = tr[x] = sym.translate_action(x, r)  # type: ignore[union-attr]
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
                if reduced:
                    k = (a.perm[ea], r, b.perm[eb])
                    r2 = step_r.get(k)
                    if r2 is None:
                        inv = sym.inverse(a.perm[ea])  # type: ignore[union-attr]
                        r2 = step_r[k] = sym.compose(sym.compose(inv, r), b.perm[eb])  # type: ignore[union-attr]
                key = (a.dst[ea], b.dst[eb], r2)
                if key not in seen:
                    seen[key] = len(nodes)
                    if max_bytes is not None and not len(nodes) & 0xFFF:
                        at = (
                            f"at {len(nodes):,} state pairs of the agreement product while "
                            f"expanding depth {level + 1}"
                        )
                        guard(len(nodes), level + 1, None, max_bytes, at)
                    nodes.append(key)
                    parent.append((n, ea, eb))
                    nxt.append(seen[key])
        frontier = nxt
    name_b = model_b.name
    v = Verdict(
        f"agreement-{name_b}",
        model_a.name,
        holds=first is None,
        violations=count,
        explored=len(nodes),
    )
    if first is not None:
        v.witness, v.other = _runs(a, model_a, model_b, parent, first)
        v.reason = f"{model_a.name} and {name_b} return different results"
        classes = {k: _runs(a, model_a, model_b, parent, f) for k, f in firsts.items()}
        v.agreement = AgreementResult(name_b, classes)
    return v


def _runs(a: Exploration, model_a: Model, model_b: Model, parent: list, last: tuple[int, int, int]):
    """The real run of a ending in `last`, and the same actions stepped under b."""
    n, ea, _ = last
    edges = [ea]
    while parent[n][0] >= 0:
        n, pa, _ = parent[n]
        edges.append(pa)
    run_a = realize(model_a, a, edges[::-1])
    s = next(iter(model_b.initial_states()))
    run_b = []
    for st in run_a:
        s, o = model_b.next_state(s, st.action)
        run_b.append(Step(st.action, o))
    return run_a, run_b
