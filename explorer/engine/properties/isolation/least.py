"""The least pair of runs of a flip and of a removal group, in the order of events.

Pairs are ordered by the longer run's length, then the sum of both lengths, then the
longer run (A) in the order of events, then the other (B) (docs/model.md §5; of two
runs of equal length, A is the lesser).  The exact check and the removal search find
the best lengths; the runs themselves are read back here by walks that take each
state's actions in the order the graph lists them (the model's order: on the graph
without symmetry that isolation searches, a run's edges compare as its events do).

Every prefix of a best pair is tight: each run's prefix is a shortest run to its state
among those with its c-view (else a shorter pair would exist), and for a removal pair
the prefix pair is a node of the removal search at its first level, with the most
removals.  So the walks enter only tight prefixes, A first (the least A that some B
completes), then B (the least B that completes that A); a dead end is remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from explorer.engine.properties.isolation.exact import ExactResult, Flip, members
from explorer.engine.properties.isolation.removal import Witness
from explorer.engine.properties.isolation.split import Split
from explorer.engine.properties.isolation.store import Store
from explorer.engine.properties.least import least_path
from explorer.engine.search import Exploration

#: A state's moves in the graph's order: (edge, action id, seen by the viewer, result, dst).
Move = tuple[int, int, bool, Any, int]


class Moves:
    """Each state's moves, in the order of its edges (built once per state asked)."""

    def __init__(self, sp: Split) -> None:
        self.sp = sp
        self.cache: dict[int, list[Move]] = {}

    def __call__(self, s: int) -> list[Move]:
        got = self.cache.get(s)
        if got is None:
            c, o = self.sp.cmoves[s] or {}, self.sp.omoves[s] or {}
            got = [(e, aid, True, r, t) for aid, (r, t, e) in c.items()]
            got += [(e, aid, False, None, t) for aid, (t, e) in o.items()]
            got.sort()
            self.cache[s] = got
        return got


def _dfs(root: Any, length: int, moves: Callable[[Any, int], Iterator[tuple]], key) -> list | None:
    """The least path of `length` moves from `root` whose last move hits, depth first
    in the moves' order; `key(item)` names what decides an item's future."""
    return least_path([root], moves, length, key) or None


# --- a flip of the exact check ----------------------------------------------------------


def least_conflict(
    ex: Exploration, sp: Split, found: ExactResult, flip: Flip, moves: Moves
) -> tuple[list[int], list[int]]:
    """The least pair of `flip` (whose best lengths the exact check found), as edges:
    the longer run first."""
    assert found.cview is not None
    kids = found.cview.kids
    la, total = found.flips[flip].lengths
    lb = total - la
    cache: dict[int, dict[int, int]] = {}

    def mem(x: int) -> dict[int, int]:
        got = cache.get(x)
        if got is None:
            got = cache[x] = members(found.nodes[x])
        return got

    def other(x: int, result: Any) -> bool:
        """Whether node x has a member at B's last length that gives the other result."""
        want = flip.result_b if result == flip.result_a else flip.result_a
        for u, n in mem(x).items():
            if n == lb - 1:
                c = sp.cmoves[u]
                m = c.get(flip.action) if c else None
                if m is not None and m[0] == want:
                    return True
        return False

    def steps(item: tuple[int, int], k: int) -> Iterator[tuple]:
        x, s = item
        for move in moves(s):
            _e, aid, seen, r, t = move
            if k + 1 == la:
                hit = aid == flip.action and r in (flip.result_a, flip.result_b) and other(x, r)
                yield (move, x), None, hit
                continue
            x2 = kids[x].get((aid, r)) if seen else x
            if x2 is not None and mem(x2).get(t) == k + 1:
                yield (move, x), (x2, t), False

    start = found.cview.start
    roots = [s for s, d in enumerate(ex.depth) if d == 0]
    a = next(p for s in roots if (p := _dfs((start, s), la, steps, lambda i: i)) is not None)
    run_a = [move[0] for move, _ in a]
    result_a = a[-1][0][3]
    result_b = flip.result_b if result_a == flip.result_a else flip.result_a
    # B follows A's c-view: its nodes, in order, and the seen moves between them.
    path = [start]
    views = []
    for (_e, aid, seen, r, _t), x in a[:-1]:
        if seen:
            views.append((aid, r))
            path.append(kids[x][(aid, r)])
    assert path[-1] == a[-1][1]

    def b_steps(item: tuple[int, int], k: int) -> Iterator[tuple]:
        t_at, s = item
        x = path[t_at]
        for e, aid, seen, r, t in moves(s):
            if k + 1 == lb:
                hit = t_at == len(views) and aid == flip.action and r == result_b
                yield e, None, hit
            elif not seen:
                if mem(x).get(t) == k + 1:
                    yield e, (t_at, t), False
            elif t_at < len(views) and (aid, r) == views[t_at]:
                if mem(path[t_at + 1]).get(t) == k + 1:
                    yield e, (t_at + 1, t), False

    b = next(p for s in roots if (p := _dfs((0, s), lb, b_steps, lambda i: i)) is not None)
    return run_a, b


def ex_aid(sp: Split, ex: Exploration, e: int) -> int:
    """The action id the split gave edge `e`."""
    s = ex.src[e]
    for aid, (_r, _t, e2) in (sp.cmoves[s] or {}).items():
        if e2 == e:
            return aid
    for aid, (_t, e2) in (sp.omoves[s] or {}).items():
        if e2 == e:
            return aid
    raise KeyError(e)


# --- a removal group ----------------------------------------------------------------


def least_removal(
    ex: Exploration,
    sp: Split,
    store: Store,
    mask: int,
    flips: set[tuple[int, Any, Any]],
    length: int,
    removals: int,
    moves: Moves,
) -> Witness:
    """The least removal pair that removes actions of exactly the kinds of `mask`, with
    A of `length` actions of which `removals` are removed, and ends in one of `flips`
    ((action id, result in A, result in B))."""
    cm, om, inside, bit = sp.cmoves, sp.omoves, sp.inside, sp.kind_bit
    final = {aid for aid, _, _ in flips}

    def configs_after(i: int, confs: frozenset, move: Move, k: int) -> frozenset:
        """The B configurations (B's state, kinds removed, removals) after A's `move`."""
        _e, aid, seen, r, ti = move
        out = set()
        for j, m, n in confs:
            if seen:
                got = (cm[j] or {}).get(aid)
                if got is not None and got[0] == r and store.tight(ti, got[1], m, k + 1, n):
                    out.add((got[1], m, n))
                continue
            m2 = m | bit[aid]
            if m2 & ~mask == 0 and n < removals and store.tight(ti, j, m2, k + 1, n + 1):
                out.add((j, m2, n + 1))
            kept = (om[j] or {}).get(aid)
            if kept is not None and store.tight(ti, kept[0], m, k + 1, n):
                out.add((kept[0], m, n))
        return frozenset(out)

    def flips_from(confs: frozenset, move: Move) -> bool:
        _e, aid, seen, r, _t = move
        if not (seen and inside[aid] and aid in final):
            return False
        for j, m, n in confs:
            got = (cm[j] or {}).get(aid)
            if m == mask and n == removals and got is not None and (aid, r, got[0]) in flips:
                return True
        return False

    def a_steps(item: tuple[int, frozenset], k: int) -> Iterator[tuple]:
        i, confs = item
        for move in moves(i):
            if k + 1 == length:
                yield move[0], None, flips_from(confs, move)
                continue
            nxt = configs_after(i, confs, move, k)
            yield move[0], (move[4], nxt) if nxt else None, False

    roots = [s for s, d in enumerate(ex.depth) if d == 0]
    run_a = next(
        p
        for s in roots
        if (p := _dfs((s, frozenset({(s, 0, 0)})), length, a_steps, lambda i: i)) is not None
    )
    run_b, gone = _least_b(ex, sp, store, mask, flips, run_a, removals)
    return Witness(length, removals, run_a, run_b, gone)


def _least_b(
    ex: Exploration,
    sp: Split,
    store: Store,
    mask: int,
    flips: set[tuple[int, Any, Any]],
    run_a: list[int],
    removals: int,
) -> tuple[list[int], list[int]]:
    """The least B for run A: every choice of which outside actions to remove, through
    tight nodes only; the least of those that flip (as B's edges), and what it removed."""
    cm, om, bit = sp.cmoves, sp.omoves, sp.kind_bit
    aids = [ex_aid(sp, ex, e) for e in run_a]
    done: list[tuple[list[int], list[int]]] = []

    def walk(t: int, j: int, m: int, n: int, b: list[int], gone: list[int]) -> None:
        e, aid = run_a[t], aids[t]
        i = ex.src[e]
        c = cm[i] or {}
        if t == len(run_a) - 1:
            got = (cm[j] or {}).get(aid)
            r = c[aid][0]
            if m == mask and n == removals and got is not None and (aid, r, got[0]) in flips:
                done.append(([*b, got[2]], gone))
            return
        ti = ex.dst[e]
        if aid in c:
            got = (cm[j] or {}).get(aid)
            if got is not None and got[0] == c[aid][0] and store.tight(ti, got[1], m, t + 1, n):
                walk(t + 1, got[1], m, n, [*b, got[2]], gone)
            return
        kept = (om[j] or {}).get(aid)
        if kept is not None and store.tight(ti, kept[0], m, t + 1, n):
            walk(t + 1, kept[0], m, n, [*b, kept[1]], gone)
        m2 = m | bit[aid]
        if m2 & ~mask == 0 and n < removals and store.tight(ti, j, m2, t + 1, n + 1):
            walk(t + 1, j, m2, n + 1, b, [*gone, t])

    s0 = ex.src[run_a[0]]
    walk(0, s0, 0, 0, [], [])
    return min(done)
