"""Isolation's split (explorer.engine.properties.isolation.split): states share layouts,
and every state's moves read through its layout are exactly its out-edges, filed by the
viewer's role of each action (docs/model.md §5: inside and environment moves are seen,
the others are outside)."""

from __future__ import annotations

import pytest

from explorer.bridge.model import ErrseqModel
from explorer.bridge.race_model import RaceModel
from explorer.domain.catalog import load_spec
from explorer.domain.world import NORMAL, VOLATILE, Bounds
from explorer.engine.contract import Role
from explorer.engine.properties import isolation
from explorer.engine.search import bfs

GRID = [
    ("plain", Bounds(mounts=2, fds=2, host_fds=0), 7, 0),
    ("vivek-v3-seen", Bounds(mounts=2, fds=2, host_fds=1), 6, 1),
    ("mainline", Bounds(mounts=3, fds=1, host_fds=0), 6, 2),
    ("jeff-split", Bounds(mounts=3, fds=2, host_fds=0), 5, 0),
]


@pytest.mark.parametrize(("spec", "bounds", "depth", "viewer"), GRID)
def test_each_state_reads_its_own_out_edges_through_its_layout(spec, bounds, depth, viewer):
    model = ErrseqModel(load_spec(spec), bounds, (NORMAL, VOLATILE))
    ex = bfs(model, depth)
    sp = isolation.split_graph(ex, model, viewer)
    cm, om = sp.cmoves, sp.omoves
    shared: dict[tuple, tuple] = {}
    for s in range(ex.n_states):
        seen, outside = {}, {}
        for e in ex.out_edges(s):
            a = ex.action[e]
            if model.role(a, viewer) is Role.OUTSIDE:
                outside[a] = (ex.dst[e], e)
            else:
                seen[a] = (ex.obs[e], ex.dst[e], e)
        if not seen and not outside:
            assert cm[s] is None and om[s] is None
            continue
        assert {sp.actions[aid]: m for aid, m in (cm[s] or {}).items()} == seen
        assert {sp.actions[aid]: m for aid, m in (om[s] or {}).items()} == outside
        # the same edge order as the graph's (the walks take a state's moves in it)
        assert [m[-1] for m in (cm[s] or {}).values()] == sorted(m[-1] for m in seen.values())
        # states that enable the same actions in one order share one layout
        lay = shared.setdefault(tuple(ex.action[e] for e in ex.out_edges(s)), (sp.seen_at[s],))
        assert lay[0] is sp.seen_at[s]
    assert len(shared) < ex.n_states


def test_a_graph_searched_by_cost_reads_its_free_moves_through_its_layout():
    model = RaceModel(load_spec("plain"), Bounds(mounts=2, fds=1, host_fds=0), (NORMAL,), 2)
    ex = bfs(model, 4)
    assert ex.costed
    sp = isolation.split_graph(ex, model, 0)
    for s in range(ex.n_states):
        for aid, (_r, t, e) in (sp.cmoves[s] or {}).items():
            assert ex.action[e] == sp.actions[aid] and ex.dst[e] == t and ex.src[e] == s
            assert sp.cost[aid] == ex.edge_cost(e)
        for aid, (t, e) in (sp.omoves[s] or {}).items():
            assert ex.action[e] == sp.actions[aid] and ex.dst[e] == t and ex.src[e] == s
