"""Isolation of one viewer, assembled: the parts run in order, flips become groups.

A *flip* is an inside action with two results after one view.  The exact check finds
every flip; the removal search explains flips by removing outside actions.  Removal
pairs are grouped by the kinds of the removed actions; a group of several kinds keeps
only the flips that no group of fewer kinds explains (removing one outside action may
make another fail, which drags its actor's next actions along: the flip belongs to
the first).  A flip of the exact check that no removal explains is reported in its
general form.  Groups are ordered by how many kinds, then by the model's `kind_rank`.
Every pair shown is the least of its kind (explorer.engine.properties.isolation.least:
shortest first, then in the order of events), and the verdict's witness is the least of
the pairs the audit (`allow`) does not accept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from explorer.engine.contract import Model, Observers, Role
from explorer.engine.properties.isolation.costed import removal_costed
from explorer.engine.properties.isolation.exact import ExactResult, subset_construction
from explorer.engine.properties.isolation.least import Moves, least_conflict, least_removal
from explorer.engine.properties.isolation.oracle import self_composition
from explorer.engine.properties.isolation.removal import (
    RemovalResult,
    group_search,
    removal_search,
    unoriented,
)
from explorer.engine.properties.isolation.split import Split, split_graph
from explorer.engine.properties.isolation.stabiliser import stabiliser
from explorer.engine.search import Exploration, Step, bfs
from explorer.engine.unfold import UpTo, UpToCosted, unfoldable, unfolded_bfs
from explorer.engine.verdict import IsolationResult, RemovalGroup, ReorderedPair, Verdict

#: The exact checks by name: the subset construction, and the self-composition oracle.
METHODS: dict[str, Callable[[Exploration, Split, int | None], ExactResult]] = {
    "subset": subset_construction,
    "product": self_composition,
}


class ObservedModel(Model[Any, Any, Any], Observers[Any], Protocol):
    """What the isolation check asks of a model: a Model that answers the Observers'."""


def representatives(model: Observers) -> list[int]:
    """One viewer per class of interchangeable viewers (`Observers.viewer_class`)."""
    seen: dict[Any, int] = {}
    for v in model.viewers():
        seen.setdefault(model.viewer_class(v), v)
    return sorted(seen.values())


def full_graph(
    model: Model,
    depth: int,
    max_states: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    max_bytes: int | None = None,
    levels: Callable[[list[int]], None] | None = None,
    unfold: bool = False,
) -> Exploration:
    """The exploration isolation is checked on.  It fixes one viewer, which breaks the
    symmetry between viewers: an exploration up to their permutations cannot answer
    it, so this one stores every state.  With `unfold`, a model that has automorphisms
    is searched up to them and the graph unfolded from that (explorer.engine.unfold:
    the same graph, found without stepping every state).  `levels`: see `bfs`."""
    auto = unfoldable(model) if unfold else None
    if auto is not None:
        return unfolded_bfs(model, auto, depth, max_states, progress, max_bytes, levels)
    if model.symmetry is not None:
        costed = type(model).cost is not Model.cost
        model = UpToCosted(model, None) if costed else UpTo(model, None)
    return bfs(model, depth, max_states, progress, max_bytes, levels)


def check(
    ex: Exploration,
    model: ObservedModel,
    viewer: int,
    allow: frozenset[str] = frozenset(),
    method: str = "subset",
    budget: int | None = None,
    max_bytes: int | None = None,
) -> Verdict:
    """Isolation of `viewer`; violations caused only by `allow` kinds pass.

    The verdict is exact whatever `budget` (the exact check decides it); the budget
    only caps the removal search that presents witnesses by kind.  `method` picks the
    exact check (METHODS).  `max_bytes` is the memory guard, checked in every phase:
    after the search the split and the two checks hold as much again.
    """
    if ex.reduced:
        ex = full_graph(model, ex.max_depth, max_bytes=max_bytes, unfold=True)
    sp = split_graph(ex, model, viewer, max_bytes)
    found = METHODS[method](ex, sp, max_bytes)
    # every removal pair is a violation of the exact check: none there, none here
    if not found.flips:
        rem = RemovalResult(0, {}, ex.max_depth)
    elif ex.costed:
        rem = removal_costed(ex, sp, budget, max_bytes, found.cview)
    else:
        stab = stabiliser(ex, model, sp, found.cview) if found.cview is not None else None
        rem = removal_search(ex, sp, budget, found.cview, max_bytes, stab)
    moves = Moves(sp)
    keyed = _groups(ex, model, sp, found, rem, allow, moves, max_bytes)
    general = _general(ex, model, viewer, sp, found, rem, allow, moves)
    groups = [g for _, g in keyed]
    presented: list[tuple[tuple, RemovalGroup | ReorderedPair]] = list(keyed)
    if general is not None:
        presented.append(general)
    failing = [(k, p) for k, p in presented if not p.allowed]
    shown = min(failing or presented, key=lambda kp: kp[0], default=(None, None))[1]
    shortest = min((c.lengths for c in found.flips.values()), default=None)
    result = IsolationResult(
        viewer,
        groups,
        general[1] if general is not None else None,
        shown,
        shortest,
        found.explored,
        rem.explored,
        rem.complete,
    )
    v = Verdict(
        "isolation",
        model.name,
        holds=not failing,
        violations=len(found.conflicts),
        explored=found.explored + rem.explored,
        isolation=result,
    )
    if shown is not None:
        v.witness, v.other = shown.witness, shown.other
    return v


def _steps(ex: Exploration, edges: Sequence[int]) -> list[Step]:
    return [Step(ex.action[e], ex.obs[e], ex.edge_cost(e)) for e in edges]


def order(run_a: list[int], run_b: list[int]) -> tuple:
    """A pair's place in the order of pairs (docs/model.md §5): the longer run's length,
    the sum, then the longer run and the other in the order of events (on the graph
    isolation searches, a run's edges compare as its events do); `run_a` is the longer
    or, of two equally long, the lesser."""
    return (len(run_a), len(run_a) + len(run_b), run_a, run_b)


def _cost(ex: Exploration, run: list[int]) -> int:
    return sum(ex.cost[e] for e in run)


def _groups(
    ex: Exploration,
    model: ObservedModel,
    sp: Split,
    found: ExactResult,
    rem: RemovalResult,
    allow: frozenset[str],
    moves: Moves,
    max_bytes: int | None,
) -> list[tuple[tuple, RemovalGroup]]:
    """Per set of removed kinds, the least pair among the flips it explains with the
    fewest kinds, each with its place in the order of pairs; by kinds."""
    fewest: dict[Any, int] = {}
    for mask, flip in rem.best:
        fewest[flip] = min(fewest.get(flip, 99), mask.bit_count())
    by_mask: dict[int, set[tuple[int, Any, Any]]] = {}
    for mask, flip in rem.best:
        if mask.bit_count() == fewest[flip]:
            by_mask.setdefault(mask, set()).add(flip)
    rank = model.kind_rank
    groups = []
    for mask, flips in by_mask.items():
        length = min(rem.best[(mask, f)][0] for f in flips)
        flips = {f for f in flips if rem.best[(mask, f)][0] == length}
        if rem.pairs is not None:  # by cost: the pairs the search met first
            pairs = [rem.pairs[(mask, f)] for f in flips]
            rec = min(pairs, key=lambda p: (p.removals, p.run_a, p.run_b))
        else:
            store, removals = group_search(ex, sp, found.cview, mask, flips, length, max_bytes)
            rec = least_removal(ex, sp, store, mask, flips, length, removals, moves)
        kinds = sp.kinds_of(mask, rank)
        w, o = _steps(ex, rec.run_a), _steps(ex, rec.run_b)
        allowed = set(kinds) <= allow
        group = RemovalGroup(kinds, w, o, rec.removed, [len(w) - 1, len(o) - 1], allowed)
        # By cost (races on) the pairs shown are as the searches met them, not the least:
        # the first group, by kinds, stands for them all (docs/model.md §5).
        key = (
            (0, len(kinds), [rank(k) for k in kinds]) if ex.costed else order(rec.run_a, rec.run_b)
        )
        groups.append((key, group))
    groups.sort(key=lambda kg: (len(kg[1].kinds), [rank(k) for k in kg[1].kinds], kg[1].kinds))
    return groups


def _general(
    ex: Exploration,
    model: ObservedModel,
    viewer: int,
    sp: Split,
    found: ExactResult,
    rem: RemovalResult,
    allow: frozenset[str],
    moves: Moves,
) -> tuple[tuple, ReorderedPair] | None:
    """The least flip of the exact check that no removal explains, in general form: the
    longer run first, the outside actions off a longest common subsequence marked."""
    explained = {unoriented(flip) for _m, flip in rem.best}
    uncovered = [(c.lengths, f) for f, c in found.flips.items() if f not in explained]
    if not uncovered:
        return None
    shortest = min(lengths for lengths, _ in uncovered)
    least = [f for lengths, f in uncovered if lengths == shortest]
    if ex.costed:  # by cost: the pairs the exact check met first, the longer run first
        met = [(c.run_a, c.run_b) for c in (found.flips[f] for f in least)]
        runs = [(a, b) if _cost(ex, a) >= _cost(ex, b) else (b, a) for a, b in met]
    else:
        runs = [least_conflict(ex, sp, found, f, moves) for f in least]
    e1, e2 = min(runs, key=lambda r: order(*r))
    w, o = _steps(ex, e1), _steps(ex, e2)
    out_w = [i for i, s in enumerate(w) if model.role(s.action, viewer) is Role.OUTSIDE]
    out_o = [i for i, s in enumerate(o) if model.role(s.action, viewer) is Role.OUTSIDE]
    ua, ub = _lcs_unmatched([w[i].action for i in out_w], [o[i].action for i in out_o])
    removed, added = [out_w[i] for i in ua], [out_o[i] for i in ub]
    kinds = sorted(
        {model.kind(w[i].action) for i in removed} | {model.kind(o[i].action) for i in added},
        key=lambda k: (model.kind_rank(k), k),
    )
    allowed = bool(kinds) and set(kinds) <= allow
    capped = rem.complete < ex.max_depth
    pair = ReorderedPair(kinds, w, o, removed, added, [len(w) - 1, len(o) - 1], allowed, capped)
    return ((1,) if ex.costed else order(e1, e2)), pair


def _lcs_unmatched(a: list[Any], b: list[Any]) -> tuple[list[int], list[int]]:
    """Indices of `a` and of `b` outside one longest common subsequence."""
    n, m = len(a), len(b)
    t = [[0] * (m + 1) for _ in range(n + 1)]
    for x in range(n - 1, -1, -1):
        for y in range(m - 1, -1, -1):
            t[x][y] = t[x + 1][y + 1] + 1 if a[x] == b[y] else max(t[x + 1][y], t[x][y + 1])
    ua, ub, x, y = [], [], 0, 0
    while x < n and y < m:
        if a[x] == b[y]:
            x, y = x + 1, y + 1
        elif t[x + 1][y] >= t[x][y + 1]:
            ua.append(x)
            x += 1
        else:
            ub.append(y)
            y += 1
    return ua + list(range(x, n)), ub + list(range(y, m))
