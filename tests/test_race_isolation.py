"""Isolation with races on (docs/model.md §5 "With races on", §8): the subset
construction searched by cost against the self-composition oracle, and the runs without
overlap, which are runs with races too (§8), kept."""

from __future__ import annotations

import pytest

from explorer.bridge.model import ErrseqModel
from explorer.bridge.race_model import RaceModel
from explorer.domain.catalog import load_spec
from explorer.domain.world import Bounds
from explorer.engine.properties import isolation
from explorer.engine.search import bfs

SPECS = ["plain", "mainline", "v5.11", "vivek-v3-seen", "amir", "jeff-split"]


@pytest.mark.parametrize(
    ("bounds", "depth"),
    [(Bounds(2, 1, 1), 5), pytest.param(Bounds(2, 2, 1), 6, marks=pytest.mark.slow)],
)
@pytest.mark.parametrize("spec", SPECS)
def test_the_exact_check_by_cost_agrees_with_the_oracle(spec: str, bounds: Bounds, depth: int):
    """Both checks search pairs of runs by cost, the oracle state pair by state pair: the
    same verdict, conflicting states and best lengths."""
    model = RaceModel(load_spec(spec), bounds)
    ex = bfs(model, depth)
    assert ex.costed
    a = isolation.check(ex, model, 0, method="subset")
    b = isolation.check(ex, model, 0, method="product")
    assert (a.holds, a.violations, a.isolation.shortest) == (
        b.holds,
        b.violations,
        b.isolation.shortest,
    )
    if not a.holds:
        assert a.witness and a.isolation.groups or a.isolation.general


@pytest.mark.parametrize("spec", SPECS)
def test_a_flip_without_races_is_one_with_races(spec: str) -> None:
    """Runs whose calls never overlap are runs with races on: where isolation fails
    without races, it fails with them, in no more calls."""
    bounds, depth = Bounds(2, 1, 1), 6
    atomic = ErrseqModel(load_spec(spec), bounds)
    plain = isolation.check(bfs(atomic, depth), atomic, 0)
    model = RaceModel(load_spec(spec), bounds)
    raced = isolation.check(bfs(model, depth), model, 0)
    if not plain.holds:
        assert not raced.holds
        assert raced.isolation.shortest <= plain.isolation.shortest


@pytest.mark.parametrize("spec", ["mainline", "amir", "vivek-v3-seen"])
def test_pruning_by_cost_to_a_conflict_keeps_every_removal_pair(spec: str) -> None:
    """A pair is dropped only when its c-view node costs more than the depth leaves to
    reach a conflict: per (kinds, flip) the same shortest A and fewest removals as the
    unpruned search, from fewer pairs."""
    from explorer.engine.properties.isolation.costed import removal_costed

    model = RaceModel(load_spec(spec), Bounds(2, 2, 1))
    ex = bfs(model, 6)
    sp = isolation.split_graph(ex, model, 0)
    found = isolation.subset_construction(ex, sp)
    pruned = removal_costed(ex, sp, None, None, found.cview)
    full = removal_costed(ex, sp, None, None)
    assert pruned.best == full.best
    assert bool(full.best) == bool(found.flips)
    if found.flips:
        assert pruned.explored < full.explored
