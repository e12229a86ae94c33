"""A witness is defined by the runs alone (docs/model.md §5, "Which witness is shown"):
the shortest, then the least in the fixed order of events, whether the graph was
searched up to symmetry or not, in one process or over partitions."""

from __future__ import annotations

from itertools import product as cartesian

import pytest

from explorer.bridge.model import ErrseqModel
from explorer.checker.properties import monitors
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.world import NORMAL, VOLATILE, Bounds
from explorer.engine.contract import Monitor, Role
from explorer.engine.partition import InProcess
from explorer.engine.properties import agreement, isolation, safety
from explorer.engine.search import bfs
from explorer.render.timeline import scenario_text


class MixedMounts(Monitor):
    """Violated by a state where two containers are mounted, one normal and one volatile,
    each with an fd open: the runs that reach it first open the two fds in either order,
    and a search up to symmetry stores them as one class."""

    name = "mixed-mounts"

    def __init__(self, bounds: Bounds) -> None:
        self.b = bounds

    def initial(self):
        return None

    def step(self, m, s, a, o):
        return None, ""

    def after(self, m, t):
        b = self.b
        modes = {t[b.ofs_base(c)] for c in range(b.mounts) if self._has_fd(t, c)}
        return "normal and volatile, both in use" if {NORMAL, VOLATILE} <= modes else ""

    def _has_fd(self, t, c: int) -> bool:
        return any(t[self.b.fd_base(x)] for x in self.b.owner_slots(c))


B = Bounds(mounts=2, fds=1, host_fds=1, host_files="any")

#: Derived by hand.  Four events at least: two mounts and two opens.  The order of events
#: (docs/model.md §5) puts mounts before opens and ovl1 before ovl2, normal before
#: volatile: so ovl1 mounts normal and ovl2 volatile (mount ovl2 normal first would leave
#: no volatile mount within four events), then fd1 opens before fd2 (slots in order).
LEAST = ["mount ovl1 = 0", "mount ovl2 volatile = 0", "open fd1 ovl1", "open fd2 ovl2"]


@pytest.mark.parametrize("symmetry", [False, True], ids=["full", "symmetry"])
def test_the_least_run_whatever_the_search(symmetry: bool) -> None:
    model = ErrseqModel(load_spec("plain"), B, symmetry=symmetry)
    mon = MixedMounts(B)
    v = safety.check(bfs(model, 5), mon, model)
    assert scenario_text(B, v.witness).splitlines() == LEAST
    assert v.reason == "normal and volatile, both in use"
    for parts in (1, 3):
        p = safety.check_partitioned(model, mon, 5, InProcess(parts))
        assert (p.witness, p.reason) == (v.witness, v.reason), parts


def brute_least(model: ErrseqModel, violated, depth: int):
    """The first violating run when every run is listed by length, then in the order of
    events (each state's events as the model lists them): no search involved."""
    (s0,) = model.initial_states()
    level = [([], s0, None)]
    for _ in range(depth):
        nxt = []
        for run, s, m in level:
            for a, t, o in model.successors(s):
                m2, bad = violated(m, s, a, o, t)
                if bad:
                    return [*run, (a, o)]
                nxt.append(([*run, (a, o)], t, m2))
        level = nxt
    return None


@pytest.mark.parametrize("spec", builtin_names())
def test_monitors_agree_with_listing_every_run(spec: str) -> None:
    bounds, depth = Bounds(mounts=2, fds=1, host_fds=1), 5
    plain = ErrseqModel(load_spec(spec), bounds)
    reduced = ErrseqModel(load_spec(spec), bounds, symmetry=True)
    ex = bfs(reduced, depth)
    for name, mon in monitors(plain).items():

        def violated(m, s, a, o, t, mon=mon):
            m = mon.initial() if m is None else m
            m2, reason = mon.step(m, s, a, o)
            return m2, reason or mon.after(m2, t)

        want = brute_least(plain, violated, depth)
        v = safety.check(ex, monitors(reduced)[name], reduced)
        got = [(st.action, st.obs) for st in v.witness] if not v.holds else None
        assert got == want, (spec, name)


def test_agreement_is_the_least_run_too() -> None:
    bounds, depth = Bounds(mounts=2, fds=1, host_fds=1), 6
    for spec in ("mainline", "vivek-v3-seen", "jeff-split"):
        a = ErrseqModel(load_spec(spec), bounds)
        b = ErrseqModel(load_spec("plain"), bounds)
        runs = {}
        for symmetry, parts in cartesian((False, True), (0, 2)):
            ma = ErrseqModel(load_spec(spec), bounds, symmetry=symmetry)
            mb = ErrseqModel(load_spec("plain"), bounds, symmetry=ma.symmetry or False)
            if parts:
                v = agreement.check_partitioned(ma, mb, depth, InProcess(parts))
            else:
                v = agreement.check(bfs(ma, depth), bfs(mb, depth), ma, mb)
            runs[(symmetry, parts)] = (v.witness, v.other)
        assert len(set(map(repr, runs.values()))) == 1, spec
        witness, other = runs[(False, 0)]
        want = brute_least_pair(a, b, depth)
        assert [(s.action, s.obs) for s in witness] == want, spec
        assert [s.action for s in other] == [s.action for s in witness]


def brute_least_pair(a: ErrseqModel, b: ErrseqModel, depth: int):
    """The first run of a, by length then in the order of events, whose last event b
    also enables and answers otherwise."""
    (s0,) = a.initial_states()
    level = [([], s0, s0)]
    for _ in range(depth):
        nxt = []
        for run, sa, sb in level:
            in_b = {x: (t, o) for x, t, o in b.successors(sb)}
            for x, ta, oa in a.successors(sa):
                if x not in in_b:
                    continue
                tb, ob = in_b[x]
                if oa != ob:
                    return [*run, (x, oa)]
                nxt.append(([*run, (x, oa)], ta, tb))
        level = nxt
    return None


# --- isolation: pairs of runs ----------------------------------------------------------


def all_runs(model: ErrseqModel, depth: int):
    """Every run of at most `depth` events: (its events' places in the order of events,
    its steps as (event, result)), listed depth first."""
    (s0,) = model.initial_states()
    out = []

    def go(s, idx: tuple, steps: tuple) -> None:
        if steps:
            out.append((idx, steps))
        if len(steps) == depth:
            return
        for k, (a, t, o) in enumerate(model.successors(s)):
            go(t, (*idx, k), (*steps, (a, o)))

    go(s0, (), ())
    return out


def replay(model: ErrseqModel, events: list):
    """(places in the order of events, steps) of `events` run from the start, or None."""
    (s,) = model.initial_states()
    idx, steps = [], []
    for a in events:
        succ = model.successors(s)
        k = next((k for k, (x, _, _) in enumerate(succ) if x == a), None)
        if k is None:
            return None
        _, s, o = succ[k]
        idx.append(k)
        steps.append((a, o))
    return tuple(idx), tuple(steps)


def cview(model: ErrseqModel, steps, viewer: int = 0) -> tuple:
    out = []
    for a, o in steps:
        role = model.role(a, viewer)
        if role is Role.INSIDE:
            out.append((a, o))
        elif role is Role.ENVIRONMENT:
            out.append((a,))
    return tuple(out)


def pair_key(a, b) -> tuple:
    """docs/model.md §5: the longer run's length, the sum, the longer run, the other."""
    if (len(a[0]), a[0]) < (len(b[0]), b[0]):
        a, b = b, a
    return (len(a[0]), len(a[0]) + len(b[0]), a[0], b[0])


def brute_isolation(model: ErrseqModel, depth: int):
    """Every removal pair and every flip's least pair, by listing every run: per kinds
    removed, the least pair of the flips with the fewest kinds (the groups), and the
    least pair of each flip (for the general form)."""
    runs = all_runs(model, depth)
    by_view: dict[tuple, dict] = {}
    removal: dict[tuple, tuple] = {}
    for idx, steps in runs:
        a, o = steps[-1]
        if model.role(a, 0) is not Role.INSIDE:
            continue
        view = (cview(model, steps[:-1]), a)
        by_view.setdefault(view, {}).setdefault(o, []).append((idx, steps))
        outside = [k for k, (x, _) in enumerate(steps[:-1]) if model.role(x, 0) is Role.OUTSIDE]
        for bits in range(1, 1 << len(outside)):
            gone = [outside[k] for k in range(len(outside)) if bits >> k & 1]
            b = replay(model, [x for k, (x, _) in enumerate(steps) if k not in gone])
            if b is None or b[1][-1][1] == o or cview(model, b[1][:-1]) != view[0]:
                continue
            kinds = frozenset(model.kind(steps[k][0]) for k in gone)
            key = (kinds, (a, o, b[1][-1][1]))
            cand = ((len(idx), len(idx) + len(b[0]), idx, b[0]), steps, b[1], sorted(gone))
            if key not in removal or cand[0] < removal[key][0]:
                removal[key] = cand
    fewest: dict = {}
    for kinds, flip in removal:
        fewest[flip] = min(fewest.get(flip, 99), len(kinds))
    groups: dict = {}
    for (kinds, flip), cand in removal.items():
        if len(kinds) == fewest[flip] and (kinds not in groups or cand[0] < groups[kinds][0]):
            groups[kinds] = cand
    flips: dict = {}
    for (_, a), by in by_view.items():
        for o1, o2 in [(x, y) for x in by for y in by if repr(x) < repr(y)]:
            l1, l2 = min(len(i) for i, _ in by[o1]), min(len(i) for i, _ in by[o2])
            best = min(
                pair_key(r1, r2) + (r1, r2)
                for r1 in by[o1]
                for r2 in by[o2]
                if (len(r1[0]), len(r2[0])) == (l1, l2)
            )
            if (a, o1, o2) not in flips or best < flips[(a, o1, o2)]:
                flips[(a, o1, o2)] = best
    explained = {(a, *sorted((o, ob), key=repr)) for _, (a, o, ob) in removal}
    general = [f for key, f in flips.items() if key not in explained]
    return groups, flips, min(general, default=None)


@pytest.mark.parametrize(
    ("bounds", "depth"),
    [pytest.param(Bounds(2, 1, 0), 6, marks=pytest.mark.slow), (Bounds(2, 1, 1), 5)],
)
@pytest.mark.parametrize("spec", builtin_names())
def test_isolation_pairs_are_the_least_of_every_run_listed(spec: str, bounds: Bounds, depth: int):
    model = ErrseqModel(load_spec(spec), bounds)
    v = isolation.check(bfs(model, depth), model, 0)
    groups, flips, general = brute_isolation(model, depth)
    got = {
        frozenset(g.kinds): (tuple((s.action, s.obs) for s in g.witness), g.removed)
        for g in v.isolation.groups
    }
    assert got == {k: (c[1], c[3]) for k, c in groups.items()}
    for g in v.isolation.groups:
        assert tuple((s.action, s.obs) for s in g.other) == groups[frozenset(g.kinds)][2]
    if v.holds:
        assert not flips
        return
    keys = [c[0] for c in groups.values()]
    if general is None:
        assert v.isolation.general is None
    else:
        g = v.isolation.general
        assert tuple((s.action, s.obs) for s in g.witness) == general[4][1]
        assert tuple((s.action, s.obs) for s in g.other) == general[5][1]
        keys.append(general[:4])
    # the verdict's witness is the least pair shown (nothing is allowed here)
    shown = min(keys)
    runs = {c[0]: (c[1], c[2]) for c in groups.values()}
    if general is not None:
        runs[general[:4]] = (general[4][1], general[5][1])
    assert (
        tuple((s.action, s.obs) for s in v.witness),
        tuple((s.action, s.obs) for s in v.other),
    ) == runs[shown]


def test_the_verdict_shows_the_least_pair_not_the_first_group() -> None:
    """vivek-v3-seen, two containers with one fd each, depth 8: the mount group (the
    seed's case) and the syncfs group both have pairs of 8 and 7 events.  Derived by
    hand: both runs A begin `mount ovl1`; then the syncfs pair's A mounts ovl2 where the
    mount pair's opens ovl1's fd, and mounts come before opens in the order of events.
    So the syncfs pair is the verdict's witness, though the table lists mount first."""
    bounds = Bounds(mounts=2, fds=1, host_fds=0)
    model = ErrseqModel(load_spec("vivek-v3-seen"), bounds)
    v = isolation.check(bfs(model, 8), model, 0)
    assert [g.kinds for g in v.isolation.groups] == [["mount"], ["syncfs"]]
    mount, syncfs = v.isolation.groups
    assert (len(mount.witness), len(mount.other)) == (len(syncfs.witness), len(syncfs.other))
    assert (v.witness, v.other) == (syncfs.witness, syncfs.other)
    assert scenario_text(bounds, v.witness).splitlines() == [
        "mount ovl1 = 0",
        "mount ovl2 = 0",
        "open fd1 ovl2",
        "write fd1",
        "wberror ovl2",
        "syncfs fd1 = EIO",  # ovl2's syncfs reports the error (and marks it seen)...
        "open fd2 ovl1",
        "syncfs fd2 = 0",  # ...so ovl1's later fd does not see it
    ]
    assert scenario_text(bounds, mount.witness).splitlines()[1] == "open fd1 ovl1"
