"""The removal search on the viewer's stabiliser (one pair of states per orbit) finds what
the search over every pair finds (explorer.engine.properties.isolation.stabiliser).

A permutation of the other containers moves a pair of runs onto a pair with the same
flips, lengths, kinds and removals, so the shortest A and the fewest removals of
every (kinds, flip) must come out the same; counted as whole orbits, the pairs met
are the same budget, so the search stops at the same level.
"""

from __future__ import annotations

import pytest

from explorer.bridge.model import ErrseqModel
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.world import Bounds
from explorer.engine.properties import isolation
from explorer.engine.properties.isolation import assemble
from explorer.engine.properties.isolation.exact import subset_construction
from explorer.engine.properties.isolation.removal import removal_search
from explorer.engine.properties.isolation.stabiliser import stabiliser

GRID = [(Bounds(3, 2, 0), 8), (Bounds(3, 1, 1), 8), (Bounds(4, 1, 0), 7)]


def parts(name: str, bounds: Bounds, depth: int, viewer: int = 0):
    model = ErrseqModel(load_spec(name), bounds)
    ex = isolation.full_graph(model, depth, unfold=True)
    sp = isolation.split_graph(ex, model, viewer)
    found = subset_construction(ex, sp, None)
    return model, ex, sp, found


@pytest.mark.parametrize("bounds,depth", GRID, ids=[f"m{b.mounts}d{d}" for b, d in GRID])
def test_the_same_pairs_up_to_permutation(bounds: Bounds, depth: int) -> None:
    for name in builtin_names():
        model, ex, sp, found = parts(name, bounds, depth)
        if not found.flips:
            continue
        stab = stabiliser(ex, model, sp, found.cview)
        # the other containers' orders but the identity: 1 at three containers, 5 at four
        assert stab is not None and len(stab.states) == {3: 1, 4: 5}[bounds.mounts]
        full = removal_search(ex, sp, None, found.cview)
        least = removal_search(ex, sp, None, found.cview, None, stab)
        assert least.best == full.best, name
        assert least.complete == full.complete == depth
        # every orbit counted whole: the pairs met are the search's own, give or take
        # the dominated pairs an order of search keeps or drops
        assert abs(least.explored - full.explored) <= full.explored // 100 + 2, name


def test_a_budget_stops_both_within_a_level_of_each_other() -> None:
    """The budget is checked before each stored pair is expanded: counted orbit by
    orbit, the count passes it at another pair than in a search of every pair, so the
    level it stops at may be one later or earlier (docs/model.md §5); what both found
    up to the shorter is the same."""
    model, ex, sp, found = parts("vivek-v3-seen", Bounds(3, 2, 0), 9)
    stab = stabiliser(ex, model, sp, found.cview)
    for budget in (500, 1_000, 2_000, 5_000, 10_000):
        full = removal_search(ex, sp, budget, found.cview)
        least = removal_search(ex, sp, budget, found.cview, None, stab)
        assert full.complete < 9, "the budget must cut the search for this test to mean much"
        assert abs(least.complete - full.complete) <= 1, budget
        upto = min(least.complete, full.complete)
        assert {k: v for k, v in least.best.items() if v[0] <= upto} == {
            k: v for k, v in full.best.items() if v[0] <= upto
        }, budget


def test_images_are_permutations_that_keep_the_viewer() -> None:
    model, ex, sp, found = parts("plain", Bounds(3, 2, 0), 7)
    stab = stabiliser(ex, model, sp, found.cview)
    assert stab is not None
    for im, xm in zip(stab.states, stab.nodes, strict=True):
        assert sorted(im) == list(range(ex.n_states))
        assert im != list(range(ex.n_states))
        reached = [x for x in xm if x >= 0]
        assert len(set(reached)) == len(reached)  # no two views move onto one
        # a state and its image: the same depth, and the viewer's own events unmoved
        for s in range(0, ex.n_states, 97):
            assert ex.depth[im[s]] == ex.depth[s]
            mine = {
                ex.action[e] for e in ex.out_edges(s) if sp.inside[sp.actions.index(ex.action[e])]
            }
            theirs = {
                ex.action[e]
                for e in ex.out_edges(im[s])
                if sp.inside[sp.actions.index(ex.action[e])]
            }
            assert mine == theirs


def test_no_stabiliser_without_other_interchangeable_containers() -> None:
    """Two containers: fixing one fixes the other, so only the identity is left."""
    model, ex, sp, found = parts("plain", Bounds(2, 2, 1), 7)
    assert stabiliser(ex, model, sp, found.cview) is None


@pytest.mark.parametrize("name", ["plain", "vivek-v3-seen", "amir", "jeff-split"])
def test_verdicts_do_not_change(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole check, groups and witnesses included, with and without the stabiliser."""
    model = ErrseqModel(load_spec(name), Bounds(3, 2, 0))
    ex = isolation.full_graph(model, 8, unfold=True)
    with_it = isolation.check(ex, model, 0, budget=30_000)
    monkeypatch.setattr(assemble, "stabiliser", lambda *a: None)
    without = isolation.check(ex, model, 0, budget=30_000)
    assert with_it.isolation is not None and without.isolation is not None
    a, b = with_it.isolation, without.isolation
    assert (a.groups, a.general, a.shown, a.shortest, a.removal_complete) == (
        b.groups,
        b.general,
        b.shown,
        b.shortest,
        b.removal_complete,
    )
    assert with_it.holds == without.holds and with_it.violations == without.violations
