"""The partitioned search is the single-process search, exactly (issue 16): the same
states in the same order, the same edges and parent pointers, hence the same shortest
witnesses; and the monitors' and agreement's products searched over partitions give
the graph checks' verdicts.  Partitions here live in this process (`InProcess`);
tests/test_ray.py runs them as Ray actors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from explorer.bridge.model import ErrseqModel
from explorer.checker.properties import monitors
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.world import Bounds
from explorer.engine.contract import Model
from explorer.engine.limits import SearchLimit
from explorer.engine.partition import InProcess, gather, of_ints, owner, partitioned_bfs
from explorer.engine.properties import agreement, safety
from explorer.engine.search import Exploration, bfs

FIELDS = ("states", "index", "depth", "parent_edge", "edge_start", "src", "action", "obs")
FIELDS += ("dst", "perm", "reduced", "max_depth")

#: (spec, bounds, depth): mounts 1-3, depths 4-8, host fds 0 and 1.
GRID = [
    ("plain", Bounds(1, 2, 1), 8),
    ("mainline", Bounds(2, 2, 0), 6),
    ("vivek-v3-seen", Bounds(2, 1, 1), 7),
    ("amir", Bounds(3, 1, 0), 5),
    ("jeff-split", Bounds(2, 2, 1), 5),
    ("v5.11", Bounds(3, 1, 1), 4),
]


def same(ex: Exploration, ref: Exploration) -> list[str]:
    return [f for f in FIELDS if getattr(ex, f) != getattr(ref, f)]


@pytest.mark.parametrize("symmetry", [False, True], ids=["full", "symmetry"])
@pytest.mark.parametrize("spec,bounds,depth", GRID)
def test_the_partitioned_graph_is_bfs_s_graph(spec, bounds, depth, symmetry):
    model = ErrseqModel(load_spec(spec), bounds, symmetry=symmetry)
    ref = bfs(model, depth)
    for parts in (1, 2, 3, 4):
        run = partitioned_bfs(model, depth, InProcess(parts))
        assert (run.n_states, run.n_edges) == (ref.n_states, ref.n_edges)
        assert same(gather(run, model.symmetry), ref) == [], parts
        # each partition holds a share, not a copy
        held = [len(w.states) for w in run.transport.workers]  # type: ignore[attr-defined]
        assert sum(held) == ref.n_states and (parts == 1 or max(held) < ref.n_states)


def test_every_shortest_path_is_bfs_s():
    model = ErrseqModel(load_spec("vivek-v3"), Bounds(2, 2, 1))
    ref = bfs(model, 6)
    run = partitioned_bfs(model, 6, InProcess(3))
    for w in run.transport.workers:  # type: ignore[attr-defined]
        for lid, s in enumerate(w.states):
            path = run.path(w.part, lid)
            want = [
                (ref.action[e], ref.obs[e], ref.states[ref.dst[e]])
                for e in ref.path_to(ref.index[s])
            ]
            assert path == want


class Diamond(Model):
    """0 reaches A (its action 0) and B (its action 1); B reaches T by its action 0, A
    only by its action 1.  bfs files T under A, ranked first.  With 2 partitions A lives
    in partition 1 and B in 0, so T's owner hears B's claim (the lower action index)
    first and must still take A's."""

    name = "diamond"
    A, B, T, OTHER = 11, 10, 20, 30

    def initial_states(self):
        return [0]

    def actions(self, s):
        return {0: [0, 1], self.A: [0, 1], self.B: [0]}.get(s, [])

    def next_state(self, s, a):
        moves = {(0, 0): self.A, (0, 1): self.B, (self.A, 0): self.OTHER}
        return moves.get((s, a), self.T), a


def test_a_state_reached_from_two_partitions_takes_the_first_discoverer_as_parent():
    d = Diamond()
    assert (owner(d.A, 2, True), owner(d.B, 2, True)) == (1, 0)  # the order that tests keys
    ref = bfs(d, 3)
    assert ref.src[ref.parent_edge[ref.index[d.T]]] == ref.index[d.A]
    for parts in (2, 3, 4, 5):
        run = partitioned_bfs(d, 3, InProcess(parts))
        assert same(gather(run), ref) == [], parts


@pytest.mark.slow
@pytest.mark.parametrize("symmetry", [False, True], ids=["full", "symmetry"])
def test_monitor_and_agreement_products_give_the_graph_checks_verdicts(symmetry):
    """Verdict equality covers holds, violations, explored pairs, reason and the witness
    itself (steps and results)."""
    for bounds, depth in [(Bounds(2, 2, 1), 6), (Bounds(3, 1, 0), 5), (Bounds(1, 2, 1), 7)]:
        ref_model = ErrseqModel(load_spec("plain"), bounds, symmetry=symmetry)
        ref_ex = bfs(ref_model, depth)
        for name in builtin_names():
            model = ErrseqModel(load_spec(name), bounds, symmetry=symmetry)
            ex = bfs(model, depth)
            for parts in (1, 3):
                for prop, mon in monitors(model).items():
                    want = safety.check(ex, mon, model)
                    got = safety.check_partitioned(model, mon, depth, InProcess(parts))
                    assert got == want, (name, prop, parts)
                want = agreement.check(ex, ref_ex, model, ref_model)
                got = agreement.check_partitioned(model, ref_model, depth, InProcess(parts))
                assert got == want, (name, parts)


def test_violations_exist_on_the_grid_so_the_witness_comparison_means_something():
    bounds = Bounds(2, 2, 1)
    model = ErrseqModel(load_spec("mainline"), bounds)
    v = safety.check_partitioned(model, monitors(model)["open-before-syncfs"], 6, InProcess(2))
    assert not v.holds and len(v.witness) == 5 and v.violations > 0  # docs/model.md: 5 events


def test_the_owner_of_a_state_is_the_same_in_every_process():
    """Python's hash of a str changes per process; the owner must not.  A state holding
    one tuple twice (one object) must go where an equal state of two copies goes."""
    shared = (1, 2)
    states = [(0, 1, 2, 3), ("ovl", 1), (shared, shared), ((1, 2), (1, 2)), ((1, 2), 3, (4,))]
    assert owner(states[2], 7) == owner(states[3], 7)
    assert [of_ints(s) for s in states] == [True, False, True, True, True]
    code = (
        "from explorer.engine.partition import of_ints, owner;"
        f"print([(owner(s, 7), owner(s, 7, of_ints(s))) for s in {states!r}])"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert seen == {f"{[(owner(s, 7), owner(s, 7, of_ints(s))) for s in states]}\n"}


def test_a_partition_s_memory_guard_names_its_share():
    model = ErrseqModel(load_spec("plain"), Bounds(3, 2, 1))  # 16,890 states: 4,096 each
    with pytest.raises(SearchLimit) as info:
        partitioned_bfs(model, 8, InProcess(2), max_bytes=1)
    assert "in partition 1 of 2 while expanding depth" in str(info.value)
    assert info.value.flag == "--max-memory"


def test_max_states_stops_where_bfs_stops():
    model = ErrseqModel(load_spec("plain"), Bounds(2, 2, 1))
    with pytest.raises(SearchLimit) as want:
        bfs(model, 8, max_states=500)
    with pytest.raises(SearchLimit) as got:
        partitioned_bfs(model, 8, InProcess(3), max_states=500)
    assert str(got.value) == str(want.value)
