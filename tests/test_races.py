"""Races (docs/model.md §8): the primitives step by step, outcome sets derived by hand,
linearizable, the step notation, and what races on must keep of the atomic model."""

from __future__ import annotations

import pytest

from explorer.bridge.linearizable import Linearizable
from explorer.bridge.model import ErrseqModel
from explorer.bridge.race_model import RaceModel
from explorer.bridge.race_monitors import race_monitors
from explorer.bridge.race_program import outcomes
from explorer.bridge.race_runs import play
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.errseq import errseq_t
from explorer.domain.errseq_steps import ClassicSteps, SplitSteps
from explorer.domain.race_scenario import format_race, parse_race
from explorer.domain.race_world import PENDING, Call, Cells
from explorer.domain.scenario import ScenarioError
from explorer.domain.steps import StepRun, Yield
from explorer.domain.world import NORMAL, Bounds, FieldRef
from explorer.engine.properties import safety
from explorer.engine.search import bfs

# --- the primitives, access by access, against lib/errseq.c -------------------------


class Thread:
    """One call of a primitive run step by step on shared `cells` (a step: its next
    shared access), the way explorer.domain.race_world runs a hook."""

    def __init__(self, call) -> None:
        self.call, self.done, self.log = call, 0, ()
        self.result: object = PENDING
        self.labels: list[tuple] = []

    def step(self, cells: list[int]) -> None:
        run = StepRun(self.log, self.done, frozenset(), frozenset(), describe=True)
        refs = Cells(cells, run)
        try:
            self.result = self.call(lambda i: FieldRef(refs, i))  # type: ignore[arg-type]
        except Yield:
            self.done += 1
        self.log += tuple(run.reads)
        self.labels += run.labels

    def cmpxchgs(self) -> int:
        return sum(1 for lab in self.labels if lab[0] == "cmpxchg")


def test_errseq_set_retries_after_a_check_and_advance_marks_seen() -> None:
    """eseq = 0x0005 (EIO, unseen), fd cursor 0.  T1 errseq_set(-ENOSPC): READ_ONCE 0x0005,
    new (0x0005 & ~0x1fff) | 28 = 0x001c.  T2 check_and_advance: READ_ONCE 0x0005, *since 0,
    cmpxchg 0x0005 -> 0x1005, *since = 0x1005, returns -EIO.  T1's cmpxchg finds 0x1005
    and fails; its retry computes 0x1005's successor, SEEN set so the counter moves:
    (0x1005 & ~0x1fff | 28) + 0x2000 = 0x201c, and succeeds.  Atomically, set then
    check-and-advance would have returned -ENOSPC; here the fd got EIO, and a new
    unseen ENOSPC waits with the counter moved."""
    es = ClassicSteps()
    cells = [0x0005, 0]
    t1 = Thread(lambda f: es.set(f(0), -28))
    t2 = Thread(lambda f: es.check_and_advance(f(0), f(1)))
    for t in (t1, t2, t2, t2, t2, t1, t1):  # READ, C&A: READ, since, cmpxchg, store; T1 cmpxchg x2
        t.step(cells)
    assert cells == [0x201C, 0x1005]
    assert t2.result == -5 and t1.result == 0x201C
    assert t1.cmpxchgs() == 2 and t2.cmpxchgs() == 1
    assert t1.labels[1] == ("cmpxchg", 0, 0x0005, 0x001C, 0x1005)  # failed, found SEEN


def test_check_and_advance_ignores_a_lost_cmpxchg() -> None:
    """eseq = 0x1005 (seen), cursor 0: nothing to swap (SEEN already), so no cmpxchg;
    an errseq_set between its READ_ONCE and its store leaves the cursor at 0x1005 and
    the value at 0x2005: the new error stays unseen for that fd."""
    es = ClassicSteps()
    cells = [0x1005, 0]
    t1 = Thread(lambda f: es.check_and_advance(f(0), f(1)))
    t2 = Thread(lambda f: es.set(f(0), -5))
    t1.step(cells)  # READ_ONCE 0x1005
    t2.step(cells)  # READ_ONCE 0x1005
    t2.step(cells)  # cmpxchg 0x1005 -> 0x2005
    t1.step(cells)  # *since: 0
    t1.step(cells)  # *since = 0x1005
    assert cells == [0x2005, 0x1005] and t1.result == -5 and t1.cmpxchgs() == 0


def test_split_check_and_advance_loops_twice_without_a_race() -> None:
    """Jeff Layton's v3 loop on eseq = 0x2005 (EIO, OBSERVED, not REPORTED): cmpxchg
    0x2005 -> 0x3005 succeeds and returns 0x2005, which equals new & ~REPORTED, so the
    loop goes round: its second cmpxchg finds 0x3005 and fails.  Two cmpxchgs, no WARN."""
    es = SplitSteps()
    cells = [0x2005, 0]
    t = Thread(lambda f: es.check_and_advance(f(0), f(1)))
    while t.result is PENDING:
        t.step(cells)
    assert cells == [0x3005, 0x3005] and t.result == -5
    assert [lab[1:] for lab in t.labels if lab[0] == "cmpxchg"] == [
        (0, 0x2005, 0x3005, 0x2005),
        (0, 0x2005, 0x3005, 0x3005),
    ]
    assert not any(lab[0] == "warn" for lab in t.labels)


def test_split_check_and_advance_warns_when_a_peek_races_it() -> None:
    """eseq = 0x0005.  C&A reads 0x0005 and its cursor 0; a peek marks OBSERVED
    (cmpxchg 0x0005 -> 0x2005); C&A's cmpxchg 0x0005 -> 0x3005 fails, finding 0x2005 =
    new & ~REPORTED: round again, cmpxchg 0x2005 -> 0x3005 succeeds and returns 0x2005:
    round again, and the third round WARNs ("shouldn't loop more than once")."""
    es = SplitSteps()
    cells = [0x0005, 0]
    t1 = Thread(lambda f: es.check_and_advance(f(0), f(1)))
    t2 = Thread(lambda f: es.peek(f(0)))
    t1.step(cells)
    t1.step(cells)
    t2.step(cells)
    t2.step(cells)
    while t1.result is PENDING:
        t1.step(cells)
    assert t2.result == 0x2005 and t1.result == -5
    assert cells == [0x3005, 0x3005] and t1.cmpxchgs() == 2
    assert ("warn", "WARN_ON_ONCE in errseq_check_and_advance") in t1.labels


def test_a_local_errseq_t_is_no_access() -> None:
    es = ClassicSteps()
    cursor = errseq_t(0)
    assert es.check_and_advance(errseq_t(0x5), cursor) == -5 and cursor.value == 0x1005


# --- claim 28, derived by hand (docs/model.md §8) ------------------------------------

SETUP = ["open fd1 host", "write fd1", "wberror host"]
BOTH = {("EIO", "0"), ("0", "EIO"), ("EIO", "EIO")}
ONE = {("EIO", "0"), ("0", "EIO")}


@pytest.mark.parametrize(
    ("spec", "call", "expected"),
    [
        ("plain", "syncfs", BOTH),
        ("mainline", "syncfs", BOTH),
        ("v5.11", "syncfs", BOTH),
        ("mainline-flock", "syncfs", ONE),
        ("plain", "fsync", ONE),
        ("mainline", "fsync", ONE),
        ("mainline-flock", "fsync", ONE),
    ],
)
def test_two_threads_syncfs_one_fd_after_one_error(spec: str, call: str, expected: set) -> None:
    """Two host threads share fd1; one dirty page; wberror host; each syncfs fd1.  Each
    reads the upper sb's unseen EIO and the cursor 0 before the other stores the
    advanced cursor, so both can return EIO; with the f_lock patch the second meets
    the advanced cursor in its lockless check or under the lock.  fsync always takes
    f_lock for its check-and-advance: one EIO."""
    got = outcomes(load_spec(spec), SETUP, [[f"{call} fd1"], [f"{call} fd1"]])
    assert set(got) == expected


def test_an_outcome_comes_with_a_shortest_run_that_replays() -> None:
    got = outcomes(load_spec("mainline"), SETUP, [["syncfs fd1"], ["syncfs fd1"]])
    lines = got[("EIO", "EIO")]
    rs = parse_race("\n".join(lines), "run")
    model = RaceModel(load_spec("mainline"), rs.calls.bounds, threads=rs.threads)
    played = play(model, rs)
    assert [r for r in played.results if r not in ("...", None)][-2:] == ["EIO", "EIO"]
    assert [ln.split("#")[0].rstrip() for ln in lines] == format_race(model.layout, played.steps)
    # fewest steps: open reads two errseq_t, write dirties, wberror takes the page and
    # sets two; the first syncfs reads the sb and its cursor, swaps SEEN in and stores
    # the cursor, the second finds SEEN already and swaps nothing (2 + 1 + 3 + 4 + 3)
    assert len(played.steps) == 13


def linearizable_on(spec: str, program: list[str]) -> str:
    """The linearizable monitor over one run written in the step notation."""
    rs = parse_race("\n".join(program), "run")
    model = RaceModel(load_spec(spec), rs.calls.bounds, threads=rs.threads)
    mon = Linearizable(model)
    m, state, why = mon.initial(), model.layout.initial(), ""
    for action, obs in play(model, rs).steps:
        m, why = mon.step(m, state, action, obs)
        state = model.next_state(state, action)[0]
        if why:
            return why
    return ""


DOUBLE_EIO = [
    *SETUP,
    "host.1: syncfs fd1 ...",  # READ_ONCE(upper.s_wb_err): EIO, unseen
    "host.1: ...",  # *since: 0
    "host.2: syncfs fd1 ...",  # READ_ONCE: EIO, unseen
    "host.2: ...",  # *since: 0
    "host.1: ...",  # cmpxchg: SEEN in
    "host.1: ... = EIO",  # *since = EIO|SEEN
    "host.2: ...",  # cmpxchg: fails (ignored)
    "host.2: ... = EIO",  # *since = EIO|SEEN
]


@pytest.mark.parametrize("spec", ["plain", "mainline"])
def test_two_eios_have_no_atomic_order(spec: str) -> None:
    assert "no order" in linearizable_on(spec, DOUBLE_EIO)


def test_one_syncfs_after_the_other_is_linearizable() -> None:
    assert (
        linearizable_on("plain", [*SETUP, "host.1: syncfs fd1 = EIO", "host.2: syncfs fd1 = 0"])
        == ""
    )


def test_linearizable_finds_claim_28_as_a_shortest_witness() -> None:
    """Exhaustive over every run of at most 5 calls (normal mounts only, one container
    with one fd, one host fd, two threads each): plain's shortest witness is the
    program above, 5 calls."""
    model = RaceModel(load_spec("plain"), Bounds(1, 1, 1), (NORMAL,), threads=2)
    v = safety.check(bfs(model, 5), Linearizable(model), model)
    assert not v.holds
    calls = [st.action.event.verb for st in v.witness if type(st.action) is Call]
    assert calls == ["open", "write", "wberror", "syncfs", "syncfs"]
    assert [st.obs for st in v.witness[-2:]] == [-5, -5]


# --- what races on keep of the atomic model ------------------------------------------


@pytest.mark.parametrize("spec", builtin_names(races=True))
def test_every_atomic_state_is_a_quiet_race_state(spec: str) -> None:
    """A run whose calls do not overlap is a run with races on: the states where no call
    is in flight include every state of the atomic model (a race can add some)."""
    b = Bounds(mounts=1)
    atomic = bfs(ErrseqModel(load_spec(spec), b), 5)
    model = RaceModel(load_spec(spec), b)
    quiet = {s[: b.width] for s in bfs(model, 5).states if model.layout.quiescent(s)}
    assert set(atomic.states) <= quiet


def test_depth_counts_calls_not_steps() -> None:
    model = RaceModel(load_spec("plain"), Bounds(mounts=1))
    ex = bfs(model, 3)
    calls = [
        sum(1 for e in ex.path_to(s) if type(ex.action[e]) is Call) for s in range(ex.n_states)
    ]
    assert max(calls) == 3 and calls == ex.depth
    assert max(len(ex.path_to(s)) for s in range(ex.n_states)) > 3


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["plain", "mainline", "jeff-split"])
def test_symmetry_keeps_every_verdict_with_races_on(spec: str) -> None:
    """Two containers of two fds: containers, an owner's fds (a free one after the open
    ones, as the next open takes the lowest) and the calls in flight all permuted."""
    b = Bounds(mounts=2, fds=2, host_fds=1)
    got = []
    for sym in (False, True):
        model = RaceModel(load_spec(spec), b, symmetry=sym)
        ex = bfs(model, 6)
        mons = {**race_monitors(model), "linearizable": Linearizable(model)}
        got.append(
            {
                name: (v.holds, sum(type(st.action) is Call for st in v.witness))
                for name, mon in mons.items()
                for v in [safety.check(ex, mon, model)]
            }
        )
    assert got[0] == got[1]


def test_canonical_states_keep_open_fds_before_free_ones() -> None:
    """The next open takes its owner's lowest free fd slot, in a linearization's atomic
    model too: a canonical state must not put a free slot before an open one."""
    b = Bounds(mounts=2, fds=2, host_fds=1)
    model = RaceModel(load_spec("plain"), b, symmetry=True)
    raw = RaceModel(load_spec("plain"), b)
    rs = parse_race("mount ovl1\nopen fd1 ovl1\nopen fd2 ovl1\nclose fd1", "s")
    state = play(raw, rs).states[-1]
    canon, _ = model.symmetry.canonical(state)  # type: ignore[union-attr]
    open_fields = [canon[b.fd_base(s)] for s in range(b.slots)]
    assert open_fields[:4] in ([1, 0, 0, 0], [0, 0, 1, 0]) and state[b.fd_base(0)] == 0


# --- the step notation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "token"),
    [
        ("open fd1 host\nhost.1: ...", 2, "host.1"),
        ("open fd1 host\nhost.3 syncfs fd1", 2, "host.3"),
        ("mount ovl1\nhost.1: mount ovl1", 2, "host.1"),
        ("open fd1 host\nhost.1: syncfs fd1 ... = EIO", 2, "="),
        ("open fd1 host\nenv.host: wberror host", 2, "env.host"),
    ],
)
def test_bad_race_lines_name_their_line_and_token(text: str, line: int, token: str) -> None:
    with pytest.raises(ScenarioError) as err:
        rs = parse_race(text, "f.race")
        play(RaceModel(load_spec("plain"), rs.calls.bounds, threads=rs.threads), rs)
    assert err.value.line == line and err.value.token == token
