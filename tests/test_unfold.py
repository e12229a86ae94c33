"""The whole graph unfolded from a search up to the containers' permutations is the graph
the search without symmetry finds (explorer.engine.unfold, docs/performance.md).

Isolation is checked on it in every run with symmetry, so an unfolded graph that lost,
added or moved one edge would change a verdict: these tests compare the two graphs
state by state and edge by edge, and check the container permutations are what the
unfolding assumes (each moves every run onto a run).
"""

from __future__ import annotations

import itertools

import pytest

from explorer.bridge.model import ErrseqModel
from explorer.bridge.race_model import RaceModel
from explorer.bridge.symmetry import ContainerSymmetry, Symmetry
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.world import EIO, ENOSPC, NORMAL, VOLATILE, Bounds
from explorer.engine.properties.isolation import full_graph
from explorer.engine.search import Exploration, bfs
from explorer.engine.unfold import unfold, unfoldable, unfolded_bfs

GRID = [
    (Bounds(1, 2, 1), 7),
    (Bounds(2, 2, 0), 7),
    (Bounds(2, 2, 1), 7),
    (Bounds(2, 1, 2), 6),
    (Bounds(2, 3, 0), 6),
    (Bounds(3, 1, 0), 6),
    (Bounds(3, 2, 0), 7),
    (Bounds(2, 1, 1, (EIO, ENOSPC)), 6),
]


def edge_set(ex: Exploration) -> set[tuple]:
    return {
        (ex.states[sid], ex.action[e], ex.obs[e], ex.states[ex.dst[e]])
        for sid in range(ex.n_states)
        for e in ex.out_edges(sid)
    }


def assert_well_formed(ex: Exploration) -> None:
    """What the rest of the checker reads off an exploration: ids by depth, expanded
    states a prefix, each state's out-edges a slice of its own, shortest parents."""
    assert ex.depth == sorted(ex.depth)
    expanded = [ex.edge_start[s] >= 0 for s in range(ex.n_states)]
    assert expanded == sorted(expanded, reverse=True)
    assert all(expanded[s] == (ex.depth[s] < ex.max_depth) for s in range(ex.n_states))
    for sid in range(ex.n_states):
        assert all(ex.src[e] == sid for e in ex.out_edges(sid))
        assert ex.index[ex.states[sid]] == sid
        e = ex.parent(sid)
        if ex.depth[sid] == 0:
            assert e == -1
        else:
            assert ex.dst[e] == sid and ex.depth[ex.src[e]] == ex.depth[sid] - 1
    assert len(ex.perm) == len(ex.dst) == len(ex.src) == len(ex.action) == len(ex.obs)


@pytest.mark.parametrize(
    "bounds,depth", GRID, ids=[f"{b.mounts}m{b.fds}f{b.host_fds}h" for b, _ in GRID]
)
def test_unfolded_graph_is_the_full_graph(bounds: Bounds, depth: int) -> None:
    for name in builtin_names():
        model = ErrseqModel(load_spec(name), bounds)
        full = bfs(model, depth)
        auto = model.automorphisms()
        assert auto is not None
        got = unfolded_bfs(model, auto, depth)
        assert set(got.states) == set(full.states), name
        assert got.n_edges == full.n_edges, name
        assert {s: got.depth[got.index[s]] for s in got.states} == {
            s: full.depth[full.index[s]] for s in full.states
        }, name
        assert edge_set(got) == edge_set(full), name
        assert not got.reduced and got.max_depth == depth
        assert_well_formed(got)


def test_one_mount_option_and_a_single_container() -> None:
    """Volatile mounts only, and one container (a group of one: every state its own)."""
    for bounds, options in ((Bounds(2, 2, 1), (VOLATILE,)), (Bounds(1, 2, 0), (NORMAL,))):
        model = ErrseqModel(load_spec("vivek-v3-seen"), bounds, options)
        full = bfs(model, 6)
        got = unfolded_bfs(model, model.automorphisms(), 6)
        assert edge_set(got) == edge_set(full)
        assert_well_formed(got)


def test_full_graph_unfolds_only_when_asked() -> None:
    """The checker unfolds in runs with symmetry; --no-symmetry keeps the plain search,
    the independent one the report-invariance tests compare against."""
    model = ErrseqModel(load_spec("amir"), Bounds(3, 1, 0))
    plain = full_graph(model, 5)
    unfolded = full_graph(model, 5, unfold=True)
    assert edge_set(plain) == edge_set(unfolded)
    # the plain search numbers states in discovery order: an initial state, then its
    # successors in the order of events; the unfolded one orbit by orbit
    assert plain.states != unfolded.states


def test_limits_count_the_whole_graph() -> None:
    """--max-states counts the unfolded graph's states, as the plain search does."""
    from explorer.engine.limits import SearchLimit

    model = ErrseqModel(load_spec("plain"), Bounds(3, 1, 0))
    n = bfs(model, 5).n_states
    with pytest.raises(SearchLimit):
        unfolded_bfs(model, model.automorphisms(), 5, max_states=n - 1)
    assert unfolded_bfs(model, model.automorphisms(), 5, max_states=n).n_states == n


def test_levels_see_the_whole_graph_grow() -> None:
    model = ErrseqModel(load_spec("plain"), Bounds(2, 2, 1))
    seen: list[list[int]] = []
    ex = unfolded_bfs(model, model.automorphisms(), 6, levels=lambda s: seen.append(list(s)))
    per_depth = [ex.depth.count(d) for d in range(7)]
    assert seen[-1] == per_depth
    assert [len(s) for s in seen] == list(range(2, 8))


def test_container_permutations_move_runs_onto_runs() -> None:
    """What the unfolding assumes, checked directly: each container permutation moves a
    reachable state's successors onto the moved state's (fd-slot sorting does not: an
    open takes the lowest free slot)."""
    b = Bounds(3, 2, 1)
    model = ErrseqModel(load_spec("jeff-split"), b)
    auto = model.automorphisms()
    group = auto.group()
    assert len(group) == 6 and group[0] == auto.identity
    assert len({auto.portable(g) for g in group}) == 6
    ex = bfs(model, 5)
    for s in ex.states[:: max(1, ex.n_states // 300)]:
        succ = {(a, o, t) for a, t, o in model.successors(s)}
        for g in group:
            move = auto.mover(g)
            moved = {(auto.translate_action(a, g), o, move(t)) for a, o, t in succ}
            assert moved == {(a, o, t) for a, t, o in model.successors(move(s))}


def test_container_canonical_form() -> None:
    b = Bounds(3, 2, 0)
    auto = ContainerSymmetry(b)
    ex = bfs(ErrseqModel(load_spec("plain"), b), 5)
    for s in ex.states:
        rep, p = auto.canonical(s)
        assert auto.mover(p)(s) == rep
        # one representative per orbit: every moved state has the same one
        assert {auto.canonical(auto.mover(g)(s))[0] for g in auto.group()} == {rep}


def test_a_model_searched_with_both_symmetries_keeps_their_order_pairs_apart() -> None:
    """The stepper's memo keeps each symmetry's order pairs in a slot of its own: one
    model searched up to the full symmetry and up to the containers' finds both graphs
    as two fresh models do, in either order."""
    b, d = Bounds(3, 2, 0), 6
    spec = load_spec("vivek-v3")

    def fresh(sym_cls):
        m = ErrseqModel(spec, b)
        return bfs(_Under(m, sym_cls(b)), d)

    want = {cls: fresh(cls) for cls in (Symmetry, ContainerSymmetry)}
    for order in itertools.permutations((Symmetry, ContainerSymmetry)):
        m = ErrseqModel(spec, b)
        for cls in order:
            got = bfs(_Under(m, cls(b)), d)
            assert set(got.states) == set(want[cls].states), (order, cls)
            assert got.n_edges == want[cls].n_edges


class _Under(ErrseqModel):
    """`model` searched up to `sym`, its stepper (and memo) shared."""

    def __init__(self, model: ErrseqModel, sym) -> None:
        self.__dict__.update(model.__dict__)
        self.symmetry = sym


def test_what_cannot_be_unfolded() -> None:
    """Host fds that may hold a container's file name containers in their values, and
    a race model's actions may cost nothing: both are searched state by state."""
    model = ErrseqModel(load_spec("plain"), Bounds(2, 1, 1, host_files="any"))
    assert model.automorphisms() is None and unfoldable(model) is None
    assert full_graph(model, 4, unfold=True).n_states == bfs(model, 4).n_states
    race = RaceModel(load_spec("plain"), Bounds(2, 1, 0), (NORMAL, VOLATILE), 1, False)
    assert unfoldable(race) is None


def test_unfold_of_a_graph_without_edges_beyond_its_initial_state() -> None:
    model = ErrseqModel(load_spec("plain"), Bounds(2, 1, 0))
    auto = model.automorphisms()
    ex = unfold(bfs(_Under(model, auto), 0), auto)
    assert ex.n_states == 1 and ex.n_edges == 0 and ex.parent(0) == -1


@pytest.mark.parametrize("bounds,depth", [(Bounds(3, 2, 0), 7), (Bounds(2, 2, 1), 7)])
def test_orbits_say_where_each_state_came_from(bounds: Bounds, depth: int) -> None:
    """An unfolded graph's `orbits`: each state's image under a group element, and
    shapes that are equal only when two states' out-edges carry the same actions."""
    model = ErrseqModel(load_spec("vivek-v3-seen"), bounds)
    auto = model.automorphisms()
    ex = unfolded_bfs(model, auto, depth)
    orbits = ex.orbits
    assert orbits is not None and len(orbits.group) == len(auto.group())
    for q, p in enumerate(orbits.group):
        move = auto.mover(auto.local(p))
        assert orbits.image(q) == [ex.index[move(s)] for s in ex.states]
    actions: dict[int, tuple] = {}
    for sid in range(ex.n_states):
        shape = orbits.shape[sid]
        if ex.edge_start[sid] < 0:
            assert shape == -1
            continue
        acts = tuple(ex.action[e] for e in ex.out_edges(sid))
        assert actions.setdefault(shape, acts) == acts
    assert orbits.labels == set(zip(ex.action, ex.obs, strict=True))


def test_the_split_read_by_shapes_is_the_split() -> None:
    """The split files one state per shape on an unfolded graph: the same as filing
    every state, action ids, kinds and results that vary included."""
    import dataclasses

    from explorer.engine.properties.isolation import split_graph

    for name in ("plain", "amir", "jeff-split"):
        model = ErrseqModel(load_spec(name), Bounds(3, 2, 0))
        ex = unfolded_bfs(model, model.automorphisms(), 7)
        plain = dataclasses.replace(ex, orbits=None)
        for viewer in (0, 2):
            a, b = split_graph(ex, model, viewer), split_graph(plain, model, viewer)
            for f in ("seen_at", "out_at", "inside", "kind_bit", "kinds", "actions", "varies"):
                assert getattr(a, f) == getattr(b, f), (name, viewer, f)


def test_levels_are_told_while_the_search_goes_on() -> None:
    """The whole graph's sizes reach `levels` depth by depth, while the search up to the
    containers' permutations is still going: a projection of the memory guard stops it
    there, as it stops a search without symmetry, not after the deepest depth."""

    class Stop(Exception):
        pass

    model = ErrseqModel(load_spec("amir"), Bounds(3, 1, 0))
    full = bfs(model, 8)
    want = [full.depth.count(d) for d in range(9)]
    calls: list[list[int]] = []

    def stop_at_three(sizes: list[int]) -> None:
        calls.append(list(sizes))
        if len(sizes) == 4:
            raise Stop

    with pytest.raises(Stop):
        unfolded_bfs(model, model.automorphisms(), 8, levels=stop_at_three)
    assert calls == [want[:2], want[:3], want[:4]]


def test_progress_counts_the_whole_graph() -> None:
    """The progress line follows the worlds found, not the representatives."""
    model = ErrseqModel(load_spec("plain"), Bounds(3, 1, 0))
    seen: list[tuple[int, int, int]] = []
    ex = unfolded_bfs(model, model.automorphisms(), 6, progress=lambda *a: seen.append(a))
    full = bfs(model, 6)
    assert [d for d, _, _ in seen] == list(range(1, 7))
    assert seen[-1][1] == full.n_states == ex.n_states
    states_by_depth = [sum(full.depth.count(k) for k in range(d + 1)) for d in range(1, 7)]
    assert [n for _, n, _ in seen] == states_by_depth
