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
from explorer.engine.contract import Monitor
from explorer.engine.partition import InProcess
from explorer.engine.properties import agreement, safety
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
