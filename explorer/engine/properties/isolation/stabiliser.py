"""The viewer's stabiliser: the model's automorphisms that leave the viewer's own actions
where they are, as maps of the checked graph's states and of the c-view graph's nodes.

Such a permutation moves a pair of runs onto a pair of runs that the viewer tells
apart in the same way: the same inside actions flip, at the same lengths, after the
same numbers and kinds of removed outside actions (it renames only what the viewer
does not own: the other containers, their files, fds and events).  So the removal
search stores one pair of states per orbit, its least image (`store.pusher`), and
finds the same shortest A and fewest removals for every (kinds, flip) on fewer nodes:
about half at three containers, a sixth at four.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from explorer.engine.contract import Automorphisms, Model
from explorer.engine.properties.isolation.cview import CView
from explorer.engine.properties.isolation.split import Split
from explorer.engine.search import Exploration


@dataclass
class Stabiliser:
    """Per permutation other than the identity: state id -> its image, c-view node ->
    its image."""

    states: list[list[int]]
    nodes: list[list[int]]

    def orbit(self, i: int, j: int) -> int:
        """How many pairs of states the orbit of (i, j) holds."""
        if len(self.states) == 1:  # a swap: the pair, or the pair and its image
            im = self.states[0]
            return 1 if im[i] == i and im[j] == j else 2
        return len({(i, j), *((im[i], im[j]) for im in self.states)})


def stabiliser(ex: Exploration, model: Model, sp: Split, cview: CView) -> Stabiliser | None:
    """The viewer's stabiliser on `ex` (split for the viewer as `sp`), or None when the
    model has no automorphisms, only the identity fixes the viewer, or the graph is
    reduced or searched by cost."""
    auto = model.automorphisms()
    if auto is None or ex.reduced or ex.costed:
        return None
    aid_of: dict[Any, int] = {a: k for k, a in enumerate(sp.actions)}
    out = Stabiliser([], [])
    for g in auto.group():
        if g == auto.identity:
            continue
        moved = [aid_of.get(auto.translate_action(a, g), -1) for a in sp.actions]
        if any(sp.inside[k] and moved[k] != k for k in range(len(moved))):
            continue  # it moves the viewer
        if -1 in moved or any(
            sp.inside[m] != sp.inside[k] or sp.kind_bit[m] != sp.kind_bit[k]
            for k, m in enumerate(moved)
        ):
            return None  # not an automorphism of this split: search every pair
        nodes = _nodes(cview, moved)
        if nodes is None:
            return None
        out.states.append(_images(ex, auto, g))
        out.nodes.append(nodes)
    return out if out.states else None


def _nodes(cview: CView, moved: list[int]) -> list[int] | None:
    """Each c-view node's image: the node its view, moved, leads to (None if a moved
    view leads nowhere, which an automorphism never does)."""
    kids = cview.kids
    image = [-1] * len(kids)
    image[cview.start] = cview.start
    queue = [cview.start]
    for x in queue:
        there = kids[image[x]]
        for (aid, obs), y in kids[x].items():
            t = there.get((moved[aid], obs))
            if t is None or image[y] not in (-1, t):
                return None
            if image[y] < 0:
                image[y] = t
                queue.append(y)
    return image


def _images(ex: Exploration, auto: Automorphisms, g: int) -> list[int]:
    """Each state's image under g: read off the orbits of an unfolded graph, else
    found by moving every state."""
    if ex.orbits is not None:
        place = {p: k for k, p in enumerate(ex.orbits.group)}
        q = place.get(auto.portable(g))
        if q is not None:
            return ex.orbits.image(q)
    move, index = auto.mover(g), ex.index
    return list(map(index.__getitem__, map(move, ex.states)))
