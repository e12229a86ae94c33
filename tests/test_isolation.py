"""The isolation property (docs/model.md §5): the seed, soundness, exactness, audit mode."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import graphviz
import pytest

from explorer.bridge.model import ErrseqModel
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.world import NORMAL, VOLATILE, Bounds
from explorer.engine.contract import Role
from explorer.engine.properties import isolation
from explorer.engine.search import Exploration, bfs
from explorer.engine.verdict import Step, Verdict
from explorer.render import dot, pair

ISOLATED = str(Path(__file__).with_name("isolated_spec.py"))
B2 = Bounds(mounts=2, fds=2, host_fds=0)


@cache
def explored(spec: str, bounds: Bounds, depth: int) -> tuple[ErrseqModel, Exploration]:
    model = ErrseqModel(load_spec(spec), bounds, (NORMAL, VOLATILE))
    return model, bfs(model, depth)


@cache
def verdict(spec: str, bounds: Bounds = B2, depth: int = 8, viewer: int = 0) -> Verdict:
    model, ex = explored(spec, bounds, depth)
    return isolation.check(ex, model, viewer)


def lines(bounds: Bounds, steps: list[Step]) -> list[str]:
    from explorer.render.timeline import scenario_text

    return scenario_text(bounds, steps).splitlines()


# --- (1) the seed ---------------------------------------------------------------------


def test_seed_found_under_vivek_v3_seen() -> None:
    v = verdict("vivek-v3-seen")
    assert not v.holds
    assert B2.owner_name(v.isolation.viewer) == "ovl1"
    mount = [g for g in v.isolation.groups if g.kinds == ["mount"]]
    assert mount, v.isolation.groups
    g = mount[0]
    # the verdict shows the seed-like case first
    assert v.witness is g.witness and v.other is g.other
    w, o = g.witness, g.other
    assert [(w[i].action.verb, w[i].action.arg) for i in g.removed] == [("mount", 1)]
    assert lines(B2, w) == [
        "mount ovl1 = 0",
        "open fd1 ovl1",
        "write fd1",
        "wberror ovl1",
        "mount ovl2 = 0",  # ovl2's mount marks the upper error SEEN...
        "open fd2 ovl1",  # ...so fd2 samples it as already seen
        "syncfs fd2 = 0",  # and misses it
    ]
    assert lines(B2, o)[-1] == "syncfs fd2 = EIO"  # without ovl2's mount it gets it
    assert pair.reason(B2, v).startswith("remove ovl2's mount")
    text = pair.pair_text(B2, v)
    assert "remove ovl2's mount and fd2's syncfs returns EIO instead of 0" in text


# --- (2) every reported pair is two real runs ---------------------------------------


def replay(model: ErrseqModel, steps: list[Step]) -> None:
    """Run `steps` through the model; every event enabled, every result as shown."""
    (s,) = model.initial_states()
    for st in steps:
        assert st.action in model.actions(s), st
        s, obs = model.next_state(s, st.action)
        assert obs == st.obs, st


def view(model: ErrseqModel, steps: list[Step], viewer: int) -> list[tuple]:
    out: list[tuple] = []
    for st in steps:
        role = model.role(st.action, viewer)
        if role is Role.INSIDE:
            out.append((st.action, st.obs))
        elif role is Role.ENVIRONMENT:
            out.append((st.action,))
    return out


def assert_sound(model: ErrseqModel, p, viewer: int, depth: int, removal: bool) -> None:
    w, o = p.witness, p.other
    assert 0 < len(w) <= depth and 0 < len(o) <= depth
    replay(model, w)
    replay(model, o)
    assert model.role(w[-1].action, viewer) is Role.INSIDE
    assert w[-1].action == o[-1].action and w[-1].obs != o[-1].obs
    assert view(model, w[:-1], viewer) == view(model, o[:-1], viewer)
    assert p.differs_at == [len(w) - 1, len(o) - 1]
    if removal:
        gone = set(p.removed)
        assert all(model.role(w[i].action, viewer) is Role.OUTSIDE for i in gone)
        assert [w[i].action for i in range(len(w)) if i not in gone] == [s.action for s in o]
        assert sorted({model.kind(w[i].action) for i in gone}) == sorted(p.kinds)


@pytest.mark.parametrize("spec", [*builtin_names(), ISOLATED])
@pytest.mark.parametrize("viewer", [0, 1])
def test_every_reported_pair_replays(spec: str, viewer: int) -> None:
    model, ex = explored(spec, B2, 8)
    v = verdict(spec, B2, 8, viewer)
    for g in v.isolation.groups:
        assert_sound(model, g, viewer, 8, removal=True)
    if v.isolation.general is not None:
        assert_sound(model, v.isolation.general, viewer, 8, removal=False)
    if not v.holds:
        assert v.witness and v.other and pair.reason(B2, v)
    # exact: a violation is always reported in some form
    assert (v.violations > 0) == bool(v.isolation.groups or v.isolation.general)


# --- (3) a spec isolated by construction ------------------------------------------


@pytest.mark.parametrize(("bounds", "depth"), [(B2, 8), (Bounds(2, 1, 1), 7), (Bounds(3, 1, 0), 7)])
def test_isolated_spec_holds(bounds: Bounds, depth: int) -> None:
    model, ex = explored(ISOLATED, bounds, depth)
    v = isolation.check(ex, model, 0)
    assert v.holds and v.violations == 0
    assert not v.isolation.groups and v.isolation.general is None and not v.witness
    # not vacuous: containers do get errors from syncfs and fsync
    failing = {a.verb for a, o in zip(ex.action, ex.obs, strict=True) if o}
    assert {"syncfs", "fsync"} <= failing


# --- (4) brute force over every sequence agrees -------------------------------------


def brute_force(model: ErrseqModel, viewer: int, depth: int) -> tuple[int, int] | None:
    """Shortest conflicting pair (longer run, sum), enumerating every run directly."""
    return brute_force_all(model, viewer, depth)[0]


def brute_force_all(
    model: ErrseqModel, viewer: int, depth: int
) -> tuple[tuple[int, int] | None, int]:
    """Shortest conflicting pair, and how many states are in a conflict (the states
    where a call gives a result that another run with the same c-view does not)."""
    results: dict[tuple, dict] = {}  # (c-view before the call, call) -> result -> shortest run
    where: dict[tuple, dict] = {}  # (c-view before the call, call) -> result -> states

    def go(s, cview: tuple, n: int) -> None:
        if n == depth:
            return
        for a in model.actions(s):
            t, obs = model.next_state(s, a)
            role = model.role(a, viewer)
            if role is Role.INSIDE:
                best = results.setdefault((cview, a), {})
                best[obs] = min(best.get(obs, n + 1), n + 1)
                where.setdefault((cview, a), {}).setdefault(obs, set()).add(s)
                go(t, (*cview, (a, obs)), n + 1)
            elif role is Role.ENVIRONMENT:
                go(t, (*cview, (a,)), n + 1)
            else:
                go(t, cview, n + 1)

    for s0 in model.initial_states():
        go(s0, (), 0)
    found = []
    for best in results.values():
        if len(best) > 1:
            l1, l2 = sorted(best.values())[:2]
            found.append((max(l1, l2), l1 + l2))
    conflicting = {s for by in where.values() if len(by) > 1 for ss in by.values() for s in ss}
    return min(found, default=None), len(conflicting)


TINY = [(Bounds(2, 1, 0), 5), (Bounds(2, 1, 1), 5), (Bounds(2, 1, 0), 6)]


@pytest.mark.parametrize(("bounds", "depth"), TINY)
@pytest.mark.parametrize("spec", [*builtin_names(), ISOLATED])
def test_brute_force_agrees(spec: str, bounds: Bounds, depth: int) -> None:
    model, ex = explored(spec, bounds, depth)
    v = isolation.check(ex, model, 0)
    expected, conflicting = brute_force_all(model, 0, depth)
    got = tuple(v.isolation.shortest) if v.isolation.shortest else None
    assert got == expected
    assert v.holds == (expected is None)
    assert v.violations == conflicting  # states in a conflict, counted both ways


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["plain", "vivek-v3-seen", "amir"])
def test_brute_force_agrees_on_the_seed_bounds(spec: str) -> None:
    model, ex = explored(spec, B2, 7)
    v = isolation.check(ex, model, 0)
    expected = brute_force(model, 0, 7)
    assert (tuple(v.isolation.shortest) if v.isolation.shortest else None) == expected
    if spec == "vivek-v3-seen":
        assert expected == (7, 13)


@pytest.mark.parametrize("spec", builtin_names())
def test_self_composition_agrees_with_subset(spec: str) -> None:
    model, ex = explored(spec, B2, 7)
    a = isolation.check(ex, model, 0, method="subset")
    b = isolation.check(ex, model, 0, method="product")
    assert (a.holds, a.violations, a.isolation.shortest) == (
        b.holds,
        b.violations,
        b.isolation.shortest,
    )


# --- (5) the plain baseline ----------------------------------------------------------


def test_plain_interferes_only_through_syncfs() -> None:
    # By hand, under plain (containers are directories, the VFS rules of docs/model.md §4):
    #   mount ovl1, mount ovl2, open fd1 ovl2, write fd1, wberror ovl2: the upper sb has an
    #   unseen error.  ovl2's `syncfs fd1` (EIO) does check_and_advance on upper.s_wb_err and
    #   marks it SEEN.  Then ovl1 opens fd2: errseq_sample returns the error value when
    #   SEEN, 0 when unseen.  So ovl1's `syncfs fd2` returns 0 after ovl2's syncfs, EIO
    #   without it: 8 events in run A, 7 in run B.  mount/umount change nothing in plain,
    #   open samples without side effects, fsync advances only the file's own wb_err (no
    #   one outside ovl1 can open ovl1's file), close and write and sync touch no errseq:
    #   syncfs is the only kind that can flip what ovl1 sees.
    v = verdict("plain")
    assert not v.holds
    assert [g.kinds for g in v.isolation.groups] == [["syncfs"]]
    assert v.isolation.general is None
    g = v.isolation.groups[0]
    assert (len(g.witness), len(g.other)) == (8, 7)
    assert [g.witness[i].action.verb for i in g.removed] == ["syncfs"]


def test_mount_group_comes_first_and_groups_are_minimal() -> None:
    v = verdict("vivek-v3-seen")
    kinds = [g.kinds for g in v.isolation.groups]
    assert kinds[0] == ["mount"] and ["syncfs"] in kinds
    # a combination appears only after every single kind
    sizes = [len(k) for k in kinds]
    assert sizes == sorted(sizes)


# --- (6) audit mode ------------------------------------------------------------------


def test_allow_syncfs_accepts_plain_but_not_the_seed() -> None:
    model, ex = explored("plain", B2, 8)
    v = isolation.check(ex, model, 0, frozenset({"syncfs"}))
    assert v.holds
    assert [g.allowed for g in v.isolation.groups] == [True]
    assert v.witness  # the accepted case is still reported
    model, ex = explored("vivek-v3-seen", B2, 8)
    v = isolation.check(ex, model, 0, frozenset({"syncfs"}))
    assert not v.holds
    assert v.isolation.groups[0].kinds == ["mount"] and not v.isolation.groups[0].allowed
    assert v.witness is v.isolation.groups[0].witness


# --- representatives and rendering ---------------------------------------------------


def test_containers_are_interchangeable() -> None:
    for spec in builtin_names():
        a, b = verdict(spec, viewer=0), verdict(spec, viewer=1)
        assert (a.holds, a.isolation.shortest, a.violations) == (
            b.holds,
            b.isolation.shortest,
            b.violations,
        )
        assert [g.kinds for g in a.isolation.groups] == [g.kinds for g in b.isolation.groups]
    model, _ = explored("plain", B2, 8)
    assert isolation.representatives(model) == [0]


@pytest.mark.parametrize("spec", builtin_names())
def test_pair_text_fits_a_mail(spec: str, tmp_path: Path) -> None:
    v = verdict(spec)
    text = pair.pair_text(B2, v)
    assert max(len(line) for line in text.splitlines()) <= 72, text
    for g in v.isolation.groups:
        block = pair.pair_block(B2, g, "ovl1")
        assert max(len(line) for line in block.splitlines()) <= 72, block
        assert block.count("!") >= 2  # the differing call, in both runs
    g = pair.pair_dot(B2, v)
    assert isinstance(g, graphviz.Digraph)
    written = dot.save(g, tmp_path / "isolation.dot")
    assert written[0].read_text().startswith("digraph")
    if not v.holds:
        assert "ovl1" in g.source and "run B" in g.source


def test_symmetry_reduced_exploration_is_checked_unreduced() -> None:
    model = ErrseqModel(load_spec("vivek-v3-seen"), B2, (NORMAL, VOLATILE), symmetry=True)
    ex = bfs(model, 8)
    assert ex.reduced  # the check is handed a reduced graph and must explore again
    v = isolation.check(ex, model, 0)
    plain = verdict("vivek-v3-seen")
    assert (v.holds, v.isolation.shortest, v.violations) == (
        plain.holds,
        plain.isolation.shortest,
        plain.violations,
    )
    assert [g.kinds for g in v.isolation.groups] == [g.kinds for g in plain.isolation.groups]


# --- the witness search's budget ------------------------------------------------------


@pytest.mark.parametrize(("bounds", "depth"), [(B2, 8), (Bounds(2, 2, 1), 7), (Bounds(3, 1, 0), 7)])
@pytest.mark.parametrize("spec", builtin_names())
def test_pruning_by_the_cview_graph_changes_no_witness(spec: str, bounds: Bounds, depth: int):
    """A pair is dropped only when its c-view node is too far from every conflict: the
    witnesses are exactly those of the unpruned search, found from far fewer nodes."""
    model, ex = explored(spec, bounds, depth)
    sp = isolation.split_graph(ex, model, 0)
    gen = isolation.subset_construction(ex, sp)
    pruned = isolation.removal_search(ex, sp, None, gen.cview)
    full = isolation.removal_search(ex, sp)
    assert pruned.best == full.best
    assert bool(full.best) == bool(gen.flips)  # a spec with conflicts has witnesses here
    if gen.flips:
        assert pruned.explored * 3 < full.explored


@pytest.mark.parametrize("spec", ["plain", "vivek-v3-seen", "amir"])
@pytest.mark.parametrize("budget", [50, 300, 10**9])
def test_a_capped_removal_search_keeps_exactly_the_shorter_witnesses(spec: str, budget: int):
    """BFS by run length: when the cap stops it, every witness of at most `complete`
    events is what the uncapped search finds, and nothing longer is kept."""
    model, ex = explored(spec, B2, 8)
    sp = isolation.split_graph(ex, model, 0)
    cview = isolation.subset_construction(ex, sp).cview
    full = isolation.removal_search(ex, sp, None, cview)
    capped = isolation.removal_search(ex, sp, budget, cview)
    assert full.complete == 8
    if budget >= full.explored:
        assert capped.complete == 8 and capped.best == full.best
    else:
        assert capped.complete < 8 and capped.explored < full.explored
        assert capped.best == {k: r for k, r in full.best.items() if r[0] <= capped.complete}


@pytest.mark.parametrize("spec", builtin_names())
def test_the_verdict_does_not_depend_on_the_budget(spec: str) -> None:
    model, ex = explored(spec, B2, 8)
    full = verdict(spec)
    capped = isolation.check(ex, model, 0, budget=800)
    assert capped.holds == full.holds and capped.violations == full.violations
    assert capped.isolation.shortest == full.isolation.shortest
    if full.holds:
        return
    # amir's 6-event syncfs group fits in the budget; what does not is shown unsorted
    complete = capped.isolation.removal_complete
    kept = [g for g in full.isolation.groups if len(g.witness) <= complete]
    assert [g.kinds for g in capped.isolation.groups] == [g.kinds for g in kept]
    if len(kept) < len(full.isolation.groups):
        assert capped.isolation.general.capped
        complete = capped.isolation.removal_complete
        assert "search capped" in pair.pair_reason(B2, capped.isolation.general, complete)


def test_cli_says_when_the_witness_search_was_capped(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from explorer.app.cli import app

    args = ["-s", "amir", "-p", "isolation", "--quiet", "--show", "0", "--out", str(tmp_path)]
    r = CliRunner().invoke(app, [*args, "--isolation-budget", "800"])
    assert r.exit_code == 1
    assert "unsorted (search capped)" in r.output and "removal search stopped at 800" in r.output
    r = CliRunner().invoke(app, args)
    assert "search capped" not in r.output and "mount+umount (8)" in r.output
