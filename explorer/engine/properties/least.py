"""The least of the shortest runs that end in a violation, in the model's order of actions.

A witness is defined by the runs alone (docs/model.md §5): of the shortest runs that
violate a property, the least when runs are compared action by action, each state's
actions in the order the model lists them (`Model.successors`).  A breadth-first search
that expands every state in the order it was first reached, and its actions in that
order, meets exactly that run first: the product checks on a graph without symmetry
keep it as it is.  A graph reduced by a symmetry is ordered by its canonical states,
not by the real ones, so there the witness is looked for again here: a depth-first walk
of the real runs, actions in the model's order, that follows the check's product along
each run and enters only the product nodes at the depth the run has reached (a prefix of
a shortest violating run is a shortest run to its node).  A node with no violation at the
right distance is remembered as dead; the walk visits each node of the first levels at
most once, and usually goes straight to the witness.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from explorer.engine.contract import Model
from explorer.engine.partition import Partitioned
from explorer.engine.search import Step

T = TypeVar("T")

#: moves(item, k) -> for each next action in order: (label, the next item if its product
#: node lies at depth k + 1 (else None), whether this move ends a violating run).
Moves = Callable[[T, int], Iterable[tuple[Any, "T | None", Any]]]


def least_path(roots: Iterable[T], moves: Moves, length: int, key: Callable[[T], Hashable]) -> list:
    """The labels of the least path of `length` moves from one of `roots` (in their
    order) whose last move violates (its `hit` is true); [] when there is none.  `key`
    names an item's product node: whether a violation lies at a given distance depends
    on it alone."""
    dead: set[Hashable] = set()

    def walk(item: T, k: int) -> list | None:
        last = k + 1 == length
        for label, nxt, hit in moves(item, k):
            if last:
                if hit:
                    return [label]
                continue
            if nxt is None or key(nxt) in dead:
                continue
            rest = walk(nxt, k + 1)
            if rest is not None:
                return [label, *rest]
        dead.add(key(item))
        return None

    for root in roots:
        found = walk(root, 0)
        if found is not None:
            return found
    return []


class Walked(Protocol):
    """A product searched over partitions, as `least_partitioned` walks it: the node a
    real initial state starts in, and each node's moves with the permutation that took
    the model's side of the successor to its stored form."""

    def root(self, state: Any) -> Hashable: ...
    def moves(self, node: Any) -> list[tuple[Any, Any, Any, int]]: ...


def least_partitioned(
    model: Model, product: Walked, run: Partitioned, length: int, flagged: Callable[[Any], Any]
) -> list[tuple[Step, Any]]:
    """`least_path` on a product searched up to the model's symmetry over partitions:
    the real runs of `model` beside the product nodes, whose depths the partitions
    tell.  Each step comes with the product edge's observation."""
    sym = model.symmetry
    assert sym is not None, "without a symmetry the first violation found is the least"
    roots = []
    for r in model.initial_states():
        roots.append((r, sym.canonical(r)[1], product.root(r)))

    def moves(item: tuple[Any, int, Any], k: int) -> Iterator[tuple]:
        r, q, node = item
        by_action = {a: (node2, obs, p) for a, node2, obs, p in product.moves(node)}
        real = []
        for x, r2, o in model.successors(r):
            move = by_action.get(sym.translate_action(x, q))
            if move is not None:  # (a pair of models moves by the actions both enable)
                real.append((x, r2, o, move))
        depths = run.levels([node2 for _, _, _, (node2, _, _) in real])
        for (x, r2, o, (node2, obs, _p)), d in zip(real, depths, strict=True):
            nxt = (r2, sym.canonical(r2)[1], node2) if d == k + 1 else None
            yield (Step(x, o), obs), nxt, flagged(obs)

    return least_path(roots, moves, length, lambda item: item[2])
