"""Counting a claim's runs: the product search against an independent oracle.

The oracle enumerates every interleaving of a claim's programs one by one, replays each
as a scenario through `explore replay`'s code path (World stepping, not the search's
cached stepper), keeps those whose every event is enabled, and evaluates the filter and
the condition on each run's record of positions and results (claim_formula's
position-based semantics, not the search's bits).  The checker counts paths in the
product graph instead; both must give the same numbers for every claim of the library
that the oracle can replay, under every spec.  Symmetry: with interchangeable `any`
containers, counts are the same with and without the reduction.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from explorer.bridge.claim_model import ClaimModel, Move
from explorer.checker.claims import Specs, check, observe
from explorer.checker.replay import run as replay_run
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.claim import (
    AnyLine,
    Claim,
    ClaimVerdict,
    load_claim,
    parse_claim,
    required_bounds,
)
from explorer.domain.claim_formula import RESULTS, Ran, evaluate
from explorer.domain.scenario import ScenarioError, parse
from explorer.domain.world import EIO, ENOSPC, Event
from explorer.engine.count import NotLayered, count, paths
from explorer.engine.search import Exploration, bfs

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = sorted((ROOT / "claims").rglob("*.claim"))


def interleavings(programs: list[list]) -> list[list]:
    """Every merge of the programs that keeps each one's order."""
    if all(not p for p in programs):
        return [[]]
    out = []
    for i, p in enumerate(programs):
        if p:
            rest = programs[:i] + [p[1:]] + programs[i + 1 :]
            out += [[p[0], *tail] for tail in interleavings(rest)]
    return out


def oracle(claim: Claim, spec_name: str) -> tuple[int, int, int]:
    """(satisfied, unsatisfied, filtered out), one interleaving at a time."""
    spec = load_spec(spec_name).with_counter_bits(required_bounds(claim).counter_bits)
    sat = unsat = filtered = 0
    for order in interleavings([list(p) for p in claim.programs.values()]):
        try:
            scenario = parse("".join(f"{pl.text}\n" for pl in order), "<oracle>")
        except ScenarioError:
            continue  # impossible whatever the spec (an evict while an fd holds the inode)
        r = replay_run(scenario, spec)
        if r.skipped:
            continue  # an event not enabled: not a run
        record = {
            pl.id: Ran(i, None if res is None else RESULTS[res])
            for i, (pl, res) in enumerate(zip(order, r.results, strict=True))
        }
        if claim.filter is not None and not evaluate(claim.filter, record):
            filtered += 1
        elif evaluate(claim.formula, record):  # type: ignore[arg-type]
            sat += 1
        else:
            unsat += 1
    return sat, unsat, filtered


def replayable(path: Path) -> bool:
    """Programs of whole calls: a claim with races on has its own oracle
    (tests/test_claim_races.py)."""
    c = load_claim(path)
    if not c.programs or required_bounds(c).races == "on":
        return False
    return not any(isinstance(pl, AnyLine) for pl in c.lines())


ORACLE_CLAIMS = [p for p in LIBRARY if replayable(p)]
#: the claims whose oracle replays runs for several seconds (make test runs them)
SLOW_ORACLES = {
    "25-counter-wrap-false-negative",
    "07-close-instead-of-syncfs-lost",
    "15b-error-before-sync-host-files",
}


def test_the_oracle_covers_most_of_the_library() -> None:
    assert len(ORACLE_CLAIMS) >= 24


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW_ORACLES else p
        for p in ORACLE_CLAIMS
    ],
    ids=lambda p: p.stem,
)
def test_counts_equal_the_oracles(path: Path) -> None:
    claim = load_claim(path)
    for name in claim.specs or builtin_names():
        o = observe(claim, name, load_spec(name))
        assert (o.satisfied, o.unsatisfied, o.filtered) == oracle(claim, name), name


RESULT_COUNTS = re.compile(r"result:\s*(\S+)\s+(?:Never|Sometimes|Always)\s*#\s*(\d+) of (\d+)")


@pytest.mark.parametrize(
    "path", [p for p in LIBRARY if RESULT_COUNTS.search(p.read_text())], ids=lambda p: p.stem
)
def test_the_counts_derived_by_hand_are_the_checkers(path: Path) -> None:
    """Each `result: SPEC VERDICT  # S of T` line states the runs derived by hand in
    the file (S satisfying the condition, T passing the filter): the checker counts
    the same."""
    claim = load_claim(path)
    for spec, sat, total in RESULT_COUNTS.findall(path.read_text()):
        o = observe(claim, spec, load_spec(spec))
        assert (o.satisfied, o.satisfied + o.unsatisfied) == (int(sat), int(total)), spec


def test_the_oracle_sees_the_seed_as_the_language_doc_says() -> None:
    """docs/model.md §7's example: 16 runs, the seed's order satisfies it under vivek-v3-seen."""
    claim = load_claim(ROOT / "claims/examples/seed-overlay-mount-hides-error.claim")
    assert oracle(claim, "vivek-v3-seen") == (1, 15, 0)
    assert oracle(claim, "amir") == (0, 16, 0)


# --- any K and symmetry ---------------------------------------------------------------


def claim(text: str) -> Claim:
    return parse_claim(textwrap.dedent(text).lstrip("\n"), "t.claim")


WHATEVER = """
    claim whatever
    bounds: mounts 3, fds 1, host-fds 0, mount-options normal
    ovl1:
      mount ovl1
      open fd1 ovl1
      write fd1
      fsync fd1
    ovl2:
      any 3
    ovl3:
      any 3
    env:
      wberror ovl1
    forall (fsync fd1 = EIO)
"""


@pytest.mark.parametrize("spec", ["plain", "mainline", "vivek-v3-seen", "amir", "jeff-split"])
def test_symmetry_among_any_containers_keeps_counts_exact(spec: str) -> None:
    c = claim(WHATEVER)
    with_sym = observe(c, spec, load_spec(spec), symmetric=True)
    without = observe(c, spec, load_spec(spec), symmetric=False)
    assert (with_sym.satisfied, with_sym.unsatisfied) == (without.satisfied, without.unsatisfied)
    assert with_sym.verdict == ClaimVerdict.ALWAYS
    assert with_sym.states < without.states  # the reduction does reduce
    assert ClaimModel(c, load_spec(spec)).symmetry is not None


def test_any_counts_every_sequence_once() -> None:
    """`any 2` for a container with one fd and normal mounts: nothing; mount; mount
    umount; mount open: 4 sequences, each a run (no other program)."""
    c = claim(
        """
        claim any-alone
        bounds: mounts 1, fds 1, host-fds 0, mount-options normal
        ovl1:
          any 2
        host:
          sync
        exists (sync = 0)
        """
    )
    o = observe(c, "plain", load_spec("plain"))
    # ovl1's sequences: (), mount, mount umount, mount open; the host's sync goes into
    # 1, 2, 3, 3 places: 9 runs, each with sync = 0.
    assert (o.satisfied, o.unsatisfied) == (9, 0)


def test_any_leaves_the_named_fds_alone_and_the_next_line_ends_it() -> None:
    """After `open fd1`, ovl1's `any 1` may do nothing or open an anonymous fd (ovl1 is
    mounted, and fd1 is the claim's, not the any line's): 2 runs, each then closing fd1.
    An `any` that could use fd1 would add its write, fsync, syncfs and close."""
    c = claim(
        """
        claim any-named
        bounds: mounts 1, fds 2, host-fds 0, mount-options normal
        ovl1:
          mount ovl1
          open fd1 ovl1
          any 1
          close fd1
        exists (close fd1 = 0)
        """
    )
    o = observe(c, "plain", load_spec("plain"))
    assert (o.satisfied, o.unsatisfied) == (2, 0)


def test_a_named_container_is_not_permuted() -> None:
    c = claim(
        """
        claim named
        bounds: mounts 3, fds 1, host-fds 0, mount-options normal
        ovl1:
          mount ovl1
        ovl2:
          any 1
        ovl3:
          any 2
        env:
          any 1
        exists (mount ovl1 = 0)
        """
    )
    assert ClaimModel(c, load_spec("plain")).symmetry is None  # any 1 and any 2 differ


ENOSPC_ANYWHERE = """
    claim enospc-anywhere
    bounds: mounts 2, fds 1, host-fds 1, mount-options normal, errnos EIO+ENOSPC
    ovl1:
      any 3
    ovl2:
      any 3
    env:
      any 1
    host:
      open fd1 host
      syncfs fd1
    exists (syncfs fd1 = ENOSPC)
"""


@pytest.mark.parametrize("spec", ["plain", "jeff-split"])
def test_symmetry_keeps_counts_exact_with_a_second_errno(spec: str) -> None:
    """The host's syncfs reports ENOSPC only when a container wrote and env's one
    event was an ENOSPC on its file: Sometimes, with the same counts either way."""
    c = claim(ENOSPC_ANYWHERE)
    with_sym = observe(c, spec, load_spec(spec), symmetric=True)
    without = observe(c, spec, load_spec(spec), symmetric=False)
    assert (with_sym.satisfied, with_sym.unsatisfied) == (without.satisfied, without.unsatisfied)
    assert with_sym.verdict == ClaimVerdict.SOMETIMES and with_sym.states < without.states
    assert with_sym.run is not None and "ENOSPC" in {e.errno for e in with_sym.run.lines}


def test_symmetry_keeps_a_wberrors_errno() -> None:
    """Swapping two interchangeable containers moves an ENOSPC writeback error of ovl1's
    file to ovl2's file, still ENOSPC (a witness is replayed through this)."""
    c = claim(
        """
        claim swap
        bounds: mounts 2, fds 1, host-fds 0, mount-options normal, errnos EIO+ENOSPC
        ovl1:
          any 2
        ovl2:
          any 2
        env:
          any 1
        host:
          sync
        exists (sync = 0)
        """
    )
    sym = ClaimModel(c, load_spec("plain")).symmetry
    assert sym is not None
    swap = sym.intern((1, 0))
    move = Move(("env", 0), Event("wberror", 0, err=ENOSPC))
    assert sym.translate_action(move, swap) == Move(("env", 0), Event("wberror", 1, err=ENOSPC))


# --- runs are distinct event sequences (docs/model.md §7) ---------------------------------

AFTER_A_MOUNT = """
    claim after-a-mount
    ovl1:
      mount ovl1
      {anys}
    exists (mount ovl1 = 0)
"""


def test_consecutive_any_lines_count_a_sequence_once_at_the_default_bounds() -> None:
    """At the default bounds (mounts 2, fds 2, mount-options both), after `mount ovl1`
    ovl1 has these sequences of at most 3 events, by hand:
      0 events: 1
      1: umount, open: 2
      2: umount then a normal or a volatile mount (2); open then a second open, write,
         fsync, syncfs or close (5): 7
      3: umount, mount (either kind), then umount or open: 4; open, open, then one of
         4 calls on either fd: 8; open, write|fsync|syncfs, then open or one of 4
         calls: 3 * 5 = 15; open, close, then umount or open: 2: 29
    39 runs for `any 3`, and the same 39 for `any 2` then `any 1`: a sequence of 1 or
    2 events split between the two lines is still one run (counting each split gave
    1 + 2*2 + 2*7 + 29 = 48)."""
    for anys in (
        "any 3",
        "any 2\n      any 1",
        "any 1\n      any 2",
        "any 1\n      any 1\n      any 1",
    ):
        c = claim(AFTER_A_MOUNT.format(anys=anys))
        assert counts(c, "plain") == (39, 0), anys
        assert counts(c, "vivek-v3-seen") == (39, 0), anys


def test_two_any_1_lines_are_any_2() -> None:
    """One container, one fd, normal mounts: after the mount, ovl1's sequences of at
    most 2 events are (), umount, open, umount mount, open write, open fsync, open
    syncfs, open close: 8 runs, whether written `any 2` or `any 1` twice."""
    text = """
        claim two-any-1
        bounds: mounts 1, fds 1, host-fds 0, mount-options normal
        ovl1:
          mount ovl1
          {anys}
        exists (mount ovl1 = 0)
    """
    for anys in ("any 2", "any 1\n          any 1"):
        assert counts(claim(text.format(anys=anys)), "plain") == (8, 0), anys


def test_an_explicit_line_between_any_lines_keeps_its_place() -> None:
    """env's `any 1`, `wberror ovl1`, `any 1` against ovl1's two writes and an fsync
    (one container, one fd, plain).  A wberror needs dirty data and leaves the page
    clean (docs/model.md §2), so env's errors fall one in each window: between the
    writes (g1) or between the second write and the fsync (g2); an evict never runs
    (fd1 holds the inode from its open on, and nothing is cached before).  By hand:
    the explicit error alone in g1 or g2 (2 runs); the first `any` in g1 then the
    explicit one in g2 (1); the explicit one in g1 then the second `any` in g2 (1);
    three errors do not fit: 4 runs.  The last two are the same events in the same
    order, but different runs, since the condition tells which error is the claim's
    line: `wberror ovl1 < L2` holds in the 2 runs with the explicit error in g1."""
    c = claim(
        """
        claim explicit-between
        bounds: mounts 1, fds 1, host-fds 0, mount-options normal
        ovl1:
          mount ovl1
          open fd1 ovl1
          L1: write fd1
          L2: write fd1
          fsync fd1
        env:
          any 1
          wberror ovl1
          any 1
        exists (wberror ovl1 < L2)
        """
    )
    assert counts(c, "plain") == (2, 2)
    assert brute_force(c, "plain") == (2, 2, 0)


def brute_force(c: Claim, spec_name: str) -> tuple[int, int, int]:
    """(satisfied, unsatisfied, filtered out) over the distinct event sequences of the
    claim, found by trying every move of every program at every step, each `any` line
    of a block taking any event while it has room (every split), through the world's
    own enabled events and uncached stepping.  A sequence is recorded as (actor,
    explicit line or None, event) per step and counted once, however many splits
    reach it; its condition is evaluated on positions and results."""
    from explorer.bridge.model import ErrseqModel
    from explorer.domain import world

    cb = required_bounds(c)
    b = cb.world()
    spec = load_spec(spec_name).with_counter_bits(cb.counter_bits)
    options = world.MOUNT_OPTIONS[cb.mount_options]
    step = ErrseqModel(spec, b, options, cache=False).next_state
    progs = list(c.programs.items())
    runs: dict[tuple, tuple[bool, bool]] = {}

    def who(name: str) -> int:
        return b.host if name == "host" else int(name[3:]) - 1

    def explicit(pl, s, fds) -> Event | None:
        e = pl.event
        if e.verb in ("mount", "umount"):
            return Event(e.verb, who(e.target), e.volatile)
        if e.verb == "wberror":
            return Event("wberror", who(e.target), err={"EIO": EIO, "ENOSPC": ENOSPC}[e.errno])
        if e.verb in ("evict", "sync"):
            return Event(e.verb, who(e.target)) if e.verb == "evict" else Event("sync")
        if e.verb == "open":
            slot = world.free_slot(b, s, who(e.target))
            ino = int(e.file[3:]) - 1 if e.file else -1
            return None if slot is None else Event("open", slot, ino=ino)
        return Event(e.verb, fds[e.fd])

    def walk(s, pcs, used, fds, record, labels) -> None:
        done = all(
            all(isinstance(pl, AnyLine) for pl in p[pcs[i] :]) for i, (_, p) in enumerate(progs)
        )
        if done:
            passes = c.filter is None or evaluate(c.filter, record)
            value = (passes, passes and evaluate(c.formula, record))
            assert runs.setdefault(tuple(labels), value) == value
        enabled = world.enabled(b, s, options)
        named = set(fds.values())
        for i, (actor, prog) in enumerate(progs):
            for j in range(pcs[i], len(prog)):
                pl = prog[j]
                if isinstance(pl, AnyLine):
                    if used[pl.id] < pl.k:
                        for ev in enabled:
                            mine = b.actor(ev) == who(actor) if actor != "env" else b.actor(ev) < 0
                            if mine and (
                                ev.verb == "open"
                                or ev.arg not in named
                                or ev.verb not in world.FD_VERBS
                            ):
                                t, _ = step(s, ev)
                                walk(
                                    t,
                                    pcs[:i] + (j,) + pcs[i + 1 :],
                                    {**used, pl.id: used[pl.id] + 1},
                                    fds,
                                    record,
                                    [*labels, (actor, None, ev)],
                                )
                    continue
                ev = explicit(pl, s, fds)
                if ev is not None and ev in enabled:
                    t, res = step(s, ev)
                    f = dict(fds)
                    if ev.verb == "open":
                        f[pl.event.fd] = ev.arg
                    elif ev.verb == "close":
                        del f[pl.event.fd]
                    r = {**record, pl.id: Ran(len(labels), None if res is None else res)}
                    walk(
                        t,
                        pcs[:i] + (j + 1,) + pcs[i + 1 :],
                        used,
                        f,
                        r,
                        [*labels, (actor, pl.id, ev)],
                    )
                break

    used0 = {pl.id: 0 for pl in c.lines() if isinstance(pl, AnyLine)}
    walk(b.initial(), (0,) * len(progs), used0, {}, {}, [])
    kept = [v for v in runs.values() if v[0]]
    return sum(v[1] for v in kept), sum(not v[1] for v in kept), len(runs) - len(kept)


SMALL = {
    "any-blocks": """
        claim any-blocks
        bounds: mounts 2, fds 1, host-fds 0, mount-options normal
        ovl1:
          mount ovl1
          open fd1 ovl1
          write fd1
          L: syncfs fd1
        ovl2:
          any 1
          any 2
        env:
          wberror ovl1
        exists (L = EIO)
    """,
    "split-by-explicit": """
        claim split-by-explicit
        bounds: mounts 1, fds 2, host-fds 0, mount-options both
        ovl1:
          any 1
          mount ovl1
          any 1
          any 1
          open fd1 ovl1
          any 1
        exists (mount ovl1 = 0 and open fd1 ovl1 = 0)
    """,
    "env-and-host": """
        claim env-and-host
        bounds: mounts 1, fds 1, host-fds 1, mount-options normal
        ovl1:
          mount ovl1
          open fd1 ovl1
          write fd1
          fsync fd1
        host:
          any 1
          any 1
        env:
          any 1
          wberror ovl1
          any 1
        filter (wberror ovl1 < fsync fd1)
        exists (fsync fd1 = EIO)
    """,
    "whatever": (ROOT / "claims/examples/whatever-ovl2-does-fsync-fails.claim").read_text(),
}


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("spec", ["plain", "v5.10", "vivek-v3-seen", "jeff-split"])
def test_counts_equal_a_brute_force_over_distinct_sequences(name: str, spec: str) -> None:
    c = claim(SMALL[name]) if name != "whatever" else parse_claim(SMALL[name], "w.claim")
    o = observe(c, spec, load_spec(spec))
    assert (o.satisfied, o.unsatisfied, o.filtered) == brute_force(c, spec)
    assert o.satisfied + o.unsatisfied > 0


def test_paths_refuse_a_model_that_offers_one_label_twice() -> None:
    """A claim model offers each label once per node; the same exploration with every
    `any` event labelled alike (as if the line did not matter to an explicit event)
    would count some sequences twice, and count.paths says so instead."""
    from explorer.checker.claims import search
    from explorer.engine.count import Ambiguous

    c = claim(SMALL["env-and-host"])
    model, ex = search(c, load_spec("plain"))
    paths(ex, model.label)  # no error: one move per label
    with pytest.raises(Ambiguous):
        paths(ex, lambda move: move.event.verb)


# --- the model's options ------------------------------------------------------------------

WRAP = ROOT / "claims/thread/25-counter-wrap-false-negative.claim"
LATEST = ROOT / "claims/examples/latest-errno-wins.claim"
HOST_WRITES = ROOT / "claims/examples/host-writes-upper-file-fsync-sees.claim"


def counts(c: Claim, spec: str) -> tuple[int, int]:
    o = observe(c, spec, load_spec(spec))
    return o.satisfied, o.unsatisfied


def test_a_claims_counter_bits_narrow_every_errseq() -> None:
    """Claim 25 (its derivation is in the file): with `counter-bits 2` the classic
    counter wraps at the fifth reported error, so fdB's syncfs finds the value it
    sampled (LB = 0) while fdA's, before the wrap, reports (LA = EIO): Always under
    mainline; the split counter (1 bit) wraps already at the third, so LA = 0: Never
    under jeff-split.  At the kernel's width nothing wraps in 5 errors: fdB's cursor
    (counter 0, SEEN) differs from the upper's (counter 4, or 2 with the split), so LB
    = EIO and the claim is Never under both."""
    c = load_claim(WRAP)
    assert ClaimModel(c, load_spec("mainline")).spec.errseq.counter_bits == 2
    assert counts(c, "mainline") == (1, 0) and counts(c, "jeff-split") == (0, 1)
    full = parse_claim(WRAP.read_text().replace("counter-bits 2, ", ""), "t.claim")
    assert required_bounds(full).counter_bits is None
    assert counts(full, "mainline") == (0, 1) and counts(full, "jeff-split") == (0, 1)


def test_a_second_errno_reaches_the_world_and_the_run_shown() -> None:
    """latest-errno-wins: the ENOSPC recorded over the unseen EIO replaces its errno
    without a counter bump, so the first syncfs reports ENOSPC.  Written as a second
    EIO instead, the first syncfs reports EIO and the claim's `L1 = ENOSPC` never holds."""
    c = load_claim(LATEST)
    o = observe(c, "mainline", load_spec("mainline"))
    assert (o.satisfied, o.unsatisfied) == (1, 0) and o.run is not None
    assert [str(line) for line in o.run.lines][4:] == [
        "wberror host ENOSPC",
        "syncfs fd1",
        "syncfs fd1",
    ]
    assert [(st.action.err, st.obs) for st in o.run.steps][4:] == [
        (ENOSPC, None),
        (EIO, ENOSPC),
        (EIO, 0),
    ]
    eio = parse_claim(LATEST.read_text().replace("wberror host ENOSPC", "wberror host"), "t.claim")
    assert counts(eio, "mainline") == (0, 1)


def test_a_host_fd_on_a_containers_upper_file() -> None:
    """host-writes-upper-file-fsync-sees: the host's fd holds ovl1's upper file, so its
    write dirties that file and `wberror ovl1` can run (48 runs, derived in the file).
    With the host on its own file nothing ever dirties ovl1's file: no run."""
    c = load_claim(HOST_WRITES)
    o = observe(c, "v5.11", load_spec("v5.11"))
    assert (o.satisfied, o.unsatisfied) == (48, 0) and o.run is not None
    assert str(o.run.lines[0]) == "open fd1 host ovl1"
    assert o.run.steps[0].action.ino == 0  # ovl1's file
    own = parse_claim(HOST_WRITES.read_text().replace("open fd1 host ovl1", "open fd1 host"), "t")
    o = observe(own, "v5.11", load_spec("v5.11"))
    assert o.verdict is None and "'wberror ovl1' can never run" in o.error


WATCH = """
from explorer.bridge.user_property import Property


class Watch(Property):
    name = "watch"

    def initial(self):
        return 0  # the largest counter of the upper sb's errseq seen so far

    def step(self, m, event, world):
        if event.verb == "write" and event.actor == "host" and event.file != "host":
            return m, str(event)
        if event.verb == "wberror" and event.errno == -28:
            return m, str(event)
        return max(m, world.sb.s_wb_err.value >> 13), ""

    def after(self, m, world):
        return "the counter wrapped" if world.sb.s_wb_err.value >> 13 < m else ""
"""


@pytest.mark.parametrize(
    ("option", "depth", "length"),
    [("host-files any", 3, 2), ("errnos EIO+ENOSPC", 3, 3), ("counter-bits 2", 15, 15)],
)
def test_expect_lines_run_at_the_claims_model_options(tmp_path, option, depth, length) -> None:
    """A user property that fails on a host write to a container's file, on an ENOSPC,
    and on the upper errseq's counter going back.  By hand, at one container, one fd
    each and plain: it holds without the options; with host-files any it fails in 2
    events (the host opens ovl1's file and writes it); with errnos EIO+ENOSPC in 3 (the
    host opens its file, writes, the ENOSPC); with counter-bits 2 in 15: the first error
    (open, write, wberror) then four bumps, each a report that sets SEEN, a write and a
    wberror; the fourth wraps the 2-bit counter to 0."""
    (tmp_path / "watch.py").write_text(WATCH)
    base = f"bounds: mounts 1, fds 1, host-fds 1, mount-options normal, depth {depth}"
    for bounds, holds in ((base, True), (f"{base}, {option}", False)):
        path = tmp_path / "w.claim"
        want = "holds" if holds else f"fails {length}"
        path.write_text(f"claim w\n{bounds}\nexpect: plain ./watch.py {want}\n")
        [e] = check(load_claim(path), None, Specs()).expects
        assert (e.holds, e.length, e.ok) == (holds, None if holds else length, True), bounds


# --- errors -------------------------------------------------------------------------------


def test_no_run_names_the_line_that_can_never_run() -> None:
    c = claim(
        """
        claim unmounted
        ovl1:
          open fd1 ovl1
          syncfs fd1
        exists (syncfs fd1 = 0)
        """
    )
    o = observe(c, "plain", load_spec("plain"))
    assert o.verdict is None and (o.satisfied, o.unsatisfied) == (0, 0)
    assert o.error == "'open fd1 ovl1' can never run (ovl1 is not mounted)"
    assert o.error_line == 3


def test_no_run_where_each_line_runs_but_never_all() -> None:
    """Claim 23 under mainline: the error falls before the unmount (which writes back),
    so the volatile remount is refused and fd2 cannot open; without the error first,
    the mount succeeds but nothing is left to fail."""
    path = ROOT / "claims/thread/23-volatile-sample-pre-mount-error.claim"
    c = load_claim(path)
    at = {t.strip(): n for n, t in enumerate(path.read_text().splitlines(), 1)}
    opens, fails = at["open fd2 ovl1"], at["wberror ovl1"]
    o = observe(c, "mainline", load_spec("mainline"))
    assert o.verdict is None
    assert o.error == (
        f"every interleaving stops before its end, at line {opens} 'open fd2 ovl1' (ovl1 is "
        f"not mounted); line {fails} 'wberror ovl1' (ovl1's file has no dirty data to fail "
        "writing back)"
    )
    assert o.error_line == opens


def test_no_run_passes_the_filter() -> None:
    c = claim(
        """
        claim filtered
        ovl1:
          mount ovl1
          open fd1 ovl1
        filter (open fd1 ovl1 < mount ovl1)
        exists (mount ovl1 = 0)
        """
    )
    o = observe(c, "plain", load_spec("plain"))
    assert o.error == "no run passes the filter (it leaves out all 1 run)" and o.error_line == 5


# --- the counting itself --------------------------------------------------------------------


def test_count_refuses_a_graph_that_is_not_layered() -> None:
    ex = Exploration(states=["a", "b"], depth=[0, 1], src=[0, 1], dst=[1, 0], edge_start=[0, 1])
    with pytest.raises(NotLayered):
        paths(ex)


def test_count_handles_parallel_edges_and_big_numbers() -> None:
    """Two parallel edges per step, 200 steps: 2**200 paths, exactly."""
    from explorer.engine.contract import Model

    class Chain(Model[int, int, None]):
        name = "chain"

        def initial_states(self):
            return [0]

        def actions(self, s):
            return [0, 1] if s < 200 else []

        def next_state(self, s, a):
            return s + 1, None

    ex = bfs(Chain(), depth=200)
    assert count(ex, lambda s: s == 200) == 2**200
