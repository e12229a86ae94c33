"""Every spec on the timelines of the thread and of the xfstests cases.

Each expected result is derived by hand, in the comment next to it, from docs/model.md
§3-4 and the sources it cites (lib/errseq.c, fs/overlayfs/, the thread's messages,
xfstests) -- never copied from the code's output.

Notation in the comments: values are the errseq u32 in hex, EIO = 5, so an unseen
EIO is 0x5 and a seen one 0x1005 (classic: SEEN 0x1000, counter +0x2000; split:
REPORTED 0x1000, OBSERVED 0x2000, counter +0x4000).  "upper" is upper.s_wb_err,
"ino(X)" X's file's mapping wb_err, "ovlN sb" the overlay sb's s_wb_err, "ofsN" the
spec's ofs->errseq, "C&A" check_and_advance; fd cursors are f_sb (syncfs) and f_wb
(fsync).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.checker.replay import SKIPPED, replay
from explorer.checker.replay import run as replay_run
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.scenario import parse

SCENARIOS = Path(__file__).parent / "scenarios"
ALL = builtin_names()
SHOWN = ("mount", "fsync", "syncfs")


def results(text: str, spec: str, verbs: tuple[str, ...] = ("fsync", "syncfs")) -> list:
    """(event, result) for the events whose verb is in `verbs`, in order."""
    sc = parse(text, f"<{spec}>")
    res = replay(sc, load_spec(spec))
    return [(str(e), r) for e, r in zip(sc.events, res, strict=True) if e.verb in verbs]


def annotated(text: str, spec: str) -> tuple[list, list]:
    """(expected, actual) for every line carrying an ` = RESULT` annotation."""
    sc = parse(text, f"<{spec}>")
    res = replay(sc, load_spec(spec))
    pairs = [(e, r) for e, r in zip(sc.events, res, strict=True) if e.expect is not None]
    return [(e.line, str(e), e.expect) for e, _ in pairs], [(e.line, str(e), r) for e, r in pairs]


def count_eio(text: str, spec: str) -> int:
    return sum(r == "EIO" for _, r in results(text, spec, ("syncfs",)))


def test_every_builtin_is_covered() -> None:
    # The parametrisations below name each spec explicitly; a new built-in must be added.
    assert set(ALL) == {
        "plain",
        "mainline",
        "v5.11",
        "v5.10",
        "vivek-v2",
        "vivek-v3",
        "vivek-v3-seen",
        "amir",
        "jeff-split",
    }


# --- the seed (docs/model.md §2; claims 4, 5, 20) ---------------------------------------

SEED = (SCENARIOS / "seed.scn").read_text()

SEED_EXPECTED = {
    # plain (claim 4): fd1 sampled 0 before the error; mount ovl2 is a no-op so upper
    # stays 0x5 unseen and fd2 samples 0.  syncfs fd2: C&A(0x5, 0) -> EIO, upper 0x1005;
    # syncfs fd1: C&A(0x1005, 0) -> EIO.
    "plain": ("EIO", "EIO"),
    # vivek-v3-seen (claim 5, Jeff's reading): mount ovl2: sample(0x5) = 0, C&A(0x5, 0)
    # marks upper 0x1005; open fd2 samples upper = 0x1005; syncfs fd2: C&A(0x1005,
    # 0x1005) -> 0; syncfs fd1: C&A(0x1005, 0) -> EIO.
    "vivek-v3-seen": ("0", "EIO"),
    # amir (claim 20): ofs1 = sample(0) = 0 at mount; fd1, fd2 sample ovl1 sb = 0.
    # syncfs fd2: C&A(upper 0x5, ofs1 0) -> r=-5, upper 0x1005, ofs1 0x1005;
    # set(ovl1 sb 0, -5) = 0x5; C&A(0x5, 0) -> EIO, ovl1 sb 0x1005.
    # syncfs fd1: C&A(0x1005, 0x1005) -> r=0; C&A(ovl1 sb 0x1005, fd1 0) -> EIO.
    "amir": ("EIO", "EIO"),
    # vivek-v3 without the SEEN-marking mount: fd2 samples upper 0x5 unseen = 0;
    # syncfs fd2: C&A(0x5, 0) -> EIO (upper 0x1005); fd1: C&A(0x1005, 0) -> EIO.
    "vivek-v3": ("EIO", "EIO"),
    # vivek-v2: ovl1 sb = sample(0) = 0 at mount; fd1, fd2 sample ovl1 sb = 0.
    # syncfs fd2: check(0x5, 0) != 0 -> C&A(upper, &ovl1 sb): ovl1 sb 0x1005;
    # C&A(0x1005, 0) -> EIO.  syncfs fd1: check equal; C&A(0x1005, 0) -> EIO.
    "vivek-v2": ("EIO", "EIO"),
    # mainline, v5.11, v5.10, jeff-split: a non-volatile overlay never sets its sb's
    # errseq, so syncfs is C&A(ovl sb 0, 0) -> 0 (docs/model.md §4).
    "mainline": ("0", "0"),
    "v5.11": ("0", "0"),
    "v5.10": ("0", "0"),
    "jeff-split": ("0", "0"),
}


@pytest.mark.parametrize("spec", ALL)
def test_seed(spec: str) -> None:
    fd2, fd1 = SEED_EXPECTED[spec]
    assert results(SEED, spec) == [("syncfs fd2", fd2), ("syncfs fd1", fd1)]
    # Every mount of the seed is a normal one: never refused (only volatile mounts are).
    assert results(SEED, spec, ("mount",)) == [("mount ovl1", "0"), ("mount ovl2", "0")]


SEED_VOLATILE = """
mount ovl1 volatile   # jeff-split: ofs1 = peek(upper 0) = 0 (peek leaves 0 alone)
open fd1 ovl1         # f_sb = sample(ovl1 sb 0) = 0
write fd1
wberror ovl1          # upper = set(0, -5) = 0x5
mount ovl2 volatile   # ofs2 = peek(0x5): upper 0x2005 (OBSERVED), REPORTED still clear
open fd2 ovl1         # f_sb = sample(ovl1 sb 0) = 0
syncfs fd2            # r = check(upper 0x2005, ofs1 0): masked 0x5 != 0 -> -5;
                      # set(ovl1 sb 0, -5) = 0x5; C&A(0x5, 0) -> EIO, ovl1 sb 0x3005
syncfs fd1            # r = -5 again; set(0x3005, -5): OBSERVED -> 0x4005;
                      # C&A(0x4005, fd1 0) -> EIO
open fd3 host         # claim 11 under the split: sample(0x2005) = peek (no change),
                      # not REPORTED -> 0: the peeking mount did not steal the report
syncfs fd3            # C&A(0x2005, 0) -> EIO
"""


def test_claim6_split_seen_keeps_both_errors() -> None:
    # Claim 6 (Jeff): with the SEEN flag split and a mount that uses peek(), both
    # syncfs calls still fail -- and the host, which opened after the peek, too.
    assert results(SEED_VOLATILE, "jeff-split", SHOWN) == [
        ("mount ovl1 volatile", "0"),
        ("mount ovl2 volatile", "0"),  # jeff-split never refuses a mount (v5.10 base)
        ("syncfs fd2", "EIO"),
        ("syncfs fd1", "EIO"),
        ("syncfs fd3", "EIO"),
    ]


# --- Jeff's variant: close fd1 instead of syncfs (claim 7) -----------------------------

JEFF_CLOSE = (SCENARIOS / "jeff-close.scn").read_text()


def test_jeff_close_variant_loses_the_error_under_vivek_v3_seen() -> None:
    # mount ovl2 marks upper 0x1005 before anyone reported the error; every later
    # opener samples 0x1005 and fd1 -- the only cursor behind it -- is closed.
    assert results(JEFF_CLOSE, "vivek-v3-seen") == [
        ("syncfs fd2", "0"),  # fd2 sampled 0x1005: C&A equal -> 0
        ("syncfs fd3", "0"),  # new ovl1 fd after the close: sample 0x1005 -> 0
        ("syncfs fd4", "0"),  # ovl2: sample(upper) 0x1005 -> 0
        ("syncfs fd5", "0"),  # host, plain VFS: sample 0x1005 -> 0
    ]


def test_jeff_close_variant_on_plain_reports_once() -> None:
    # plain: upper stays 0x5 unseen until fd2 (sampled 0) reports it: C&A -> EIO,
    # upper 0x1005; every later opener samples 0x1005 -> 0.  Reported once, not lost.
    assert results(JEFF_CLOSE, "plain") == [
        ("syncfs fd2", "EIO"),
        ("syncfs fd3", "0"),
        ("syncfs fd4", "0"),
        ("syncfs fd5", "0"),
    ]


def test_jeff_close_variant_under_amir_every_container_once() -> None:
    # amir: syncfs fd2: C&A(0x5, ofs1 0) -> r=-5, ofs1 0x1005, ovl1 sb 0x5 ->
    # C&A(0x5, 0) EIO (ovl1 sb 0x1005).  fd3 samples ovl1 sb 0x1005: r = C&A(0x1005,
    # 0x1005) = 0, C&A(0x1005, 0x1005) = 0.  ovl2: ofs2 = sample(0x5) = 0 at its mount,
    # fd4 samples ovl2 sb 0: r = C&A(0x1005, 0) = -5, set ovl2 sb 0x5, C&A -> EIO.
    # host fd5 samples upper 0x1005 -> 0.
    assert results(JEFF_CLOSE, "amir") == [
        ("syncfs fd2", "EIO"),
        ("syncfs fd3", "0"),
        ("syncfs fd4", "EIO"),
        ("syncfs fd5", "0"),
    ]


JEFF_CLOSE_EVICT = """
mount ovl1
open fd1 ovl1
write fd1
wberror ovl1     # ino(ovl1) 0x5, upper 0x5
mount ovl2       # vivek-v3-seen: upper 0x1005; ino(ovl1) untouched
open fd2 ovl1
syncfs fd2       # 0 (sampled 0x1005)
close fd1
close fd2        # nothing holds ovl1's inode; it is clean (the failed page was dropped)
evict ovl1       # ino(ovl1) 0x5 is gone: the fsync channel loses it too
open fd3 ovl1    # f_wb = sample(fresh inode 0) = 0, f_sb = sample(0x1005) = 0x1005
fsync fd3        # C&A(0, 0) -> 0
syncfs fd3       # C&A(0x1005, 0x1005) -> 0
open fd4 host
fsync fd4        # host inode never failed: 0
syncfs fd4       # sample(0x1005): 0
"""


def test_jeff_close_variant_lost_forever() -> None:
    # "that error will be lost forever": with the inode evicted, no syscall of anybody
    # ever returns it under vivek-v3-seen.
    assert {r for _, r in results(JEFF_CLOSE_EVICT, "vivek-v3-seen")} == {"0"}
    # Under plain the same run reported it once (syncfs fd2: C&A(0x5, 0) -> EIO).
    assert results(JEFF_CLOSE_EVICT, "plain")[0] == ("syncfs fd2", "EIO")


# --- xfstests under plain (src/fsync-err.c, generic/441, 484, 487) ---------------------

FSYNC_ERR = """
mount ovl1
open fd1 ovl1      # step 1: all fds open before the error; cursors f_wb = 0
open fd2 ovl1
open fd3 ovl1
write fd1
write fd2
write fd3
fsync fd1 = 0      # step 3: writeback ok, C&A(0, 0) -> 0
fsync fd2 = 0
fsync fd3 = 0
write fd1          # step 5
write fd2
write fd3
wberror ovl1       # step 6: the first fsync's writeback fails: ino 0x5 (page dropped)
fsync fd1 = EIO    # C&A(0x5, 0) -> EIO, ino 0x1005, f_wb 0x1005
fsync fd2 = EIO    # nothing left to write, cursor 0 predates it: C&A(0x1005, 0) -> EIO
fsync fd3 = EIO    # same
fsync fd1 = 0      # step 7: C&A(0x1005, 0x1005) -> 0
fsync fd2 = 0
fsync fd3 = 0
fsync fd1 = 0      # step 9 (after dev_heal): still 0
fsync fd2 = 0
fsync fd3 = 0
close fd1          # step 10: reopen one fd at a time, the others hold the inode
open fd4 ovl1      # f_wb = sample(0x1005) = 0x1005 (seen: the new opener starts past it)
fsync fd4 = 0      # C&A equal -> 0
close fd2
open fd5 ovl1
fsync fd5 = 0
close fd3
open fd6 ovl1
fsync fd6 = 0
"""

GENERIC_487 = """
mount ovl1
open fdH {o}        # held for the whole test: the inode stays in core
open fdA {o}        # process A: f_wb = sample(0) = 0
write fdA
fsync fdA = 0       # C&A(0, 0) -> 0
close fdA
open fdB {o}        # process B
write fdB
wberror {o}         # dev_fail: sync()'s writeback fails: ino 0x5, upper 0x5
sync = 0            # sync(2) reports nothing, marks nothing
close fdB
open fdC {o}        # process C, after the error: f_wb = sample(0x5 unseen) = 0
fsync fdC = EIO     # C&A(0x5, 0) -> EIO
close fdH
"""

GENERIC_484 = """
mount ovl1
open fdA {o}        # process A
write fdA
fsync fdA = 0       # C&A(0, 0) -> 0
close fdA
open fdB {o}        # process B: f_wb = 0, f_sb = 0
write fdB
wberror {o}         # ino 0x5, upper 0x5
fsync fdB = EIO     # fdatasync: C&A(ino 0x5, 0) -> EIO, ino 0x1005; upper untouched, 0x5
close fdB
open fdC {o}        # process C: f_sb = sample(upper 0x5, unseen) = 0
syncfs fdC = EIO    # C&A(0x5, 0) -> EIO, upper 0x1005
syncfs fdC = 0      # C&A(0x1005, 0x1005) -> 0
close fdC
open fdD {o}        # process D: f_sb = sample(0x1005) = 0x1005
syncfs fdD = 0      # equal -> 0
"""


def test_fsync_err_many_fds_plain() -> None:
    expected, actual = annotated(FSYNC_ERR, "plain")
    assert actual == expected


@pytest.mark.parametrize("owner", ["ovl1", "host"])
@pytest.mark.parametrize("case", ["generic/487", "generic/484"])
def test_generic_487_484_plain(case: str, owner: str) -> None:
    # plain treats a container as a directory of the upper fs, so the same events give
    # the same results in a container and on the host.
    text = (GENERIC_487 if case == "generic/487" else GENERIC_484).format(o=owner)
    expected, actual = annotated(text, "plain")
    assert actual == expected


# --- volatile overlays under mainline (335d3fc57941, docs/model.md §4) -----------------

STICKY = """
mount ovl1 volatile = 0   # upper 0: ofs1 = sample(0) = 0; check(0, 0) = 0 -> mounted
open fd1 ovl1             # f_wb = 0; f_sb = sample(ovl1 sb 0) = 0
write fd1
fsync fd1 = 0             # ovl_sync_status = check(0, 0) = 0 -> return 0, nothing written
wberror ovl1              # (still dirty) upper 0x5, ino 0x5
fsync fd1 = EIO           # status = check(0x5, ofs1 0) = -5, returned as is
fsync fd1 = EIO           # check never advances: sticky
syncfs fd1 = EIO          # mainline: ovl_sync_fs returns -EIO (v5.11 also sets ovl sb;
                          # amir: r = check = -5, set(ovl1 sb 0) = 0x5, C&A(0x5, 0) -> EIO)
syncfs fd1 = EIO          # mainline: same -EIO; v5.11/amir: set(0x1005) = 0x2005,
                          # C&A(0x2005, 0x1005) -> EIO
sync = 0                  # consumes nothing
open fd2 ovl1             # a late opener in the same container
fsync fd2 = EIO           # still check(0x5, 0) = -5
syncfs fd2 = EIO          # every syncfs on every fd
fsync fd1 = EIO
syncfs fd1 = EIO
"""

STICKY_OUTSIDE = """
mount ovl1 volatile = 0
open fd1 ovl1
open fd2 host
write fd2
wberror host        # an error on a file outside the overlay: upper 0x5
fsync fd1 = EIO     # the check is per upper sb: check(0x5, ofs1 0) = -5
syncfs fd1 = EIO
syncfs fd2 = EIO    # host: C&A(0x5, 0) -> EIO, upper 0x1005
fsync fd1 = EIO     # check(0x1005, 0) != 0: a host report does not clear the volatile error
syncfs fd1 = EIO
"""

# The podman field case (podman #22046 comment of 2024-06-04; Case 5c/5d).
PODMAN = """
open fd1 host
write fd1
wberror host                # upper 0x5 unseen, ino(host) 0x5
mount ovl1 volatile = EIO   # ofs1 = sample(0x5) = 0; check(0x5, 0) = -5 -> refused
fsync fd1 = EIO             # C&A(ino 0x5, 0) -> EIO; marks only the inode seen
mount ovl1 volatile = EIO   # upper still 0x5 unseen: refused again
open fd2 host               # `sync -f ~`: f_sb = sample(0x5) = 0
syncfs fd2 = EIO            # C&A(0x5, 0) -> EIO, upper 0x1005: the first sync -f fails
close fd2
open fd3 host               # f_sb = sample(0x1005) = 0x1005
syncfs fd3 = 0              # the second sync -f succeeds
mount ovl1 volatile = 0     # ofs1 = sample(0x1005) = 0x1005; check equal -> mounted
open fd4 ovl1
fsync fd4 = 0               # check(0x1005, 0x1005) = 0
syncfs fd4 = 0              # status 0 -> 0; C&A(ovl1 sb 0, 0) = 0
"""

VOLATILE_RULES = pytest.mark.parametrize("spec", ["mainline", "v5.11", "amir"])


@VOLATILE_RULES
@pytest.mark.parametrize("name", ["sticky", "sticky-outside", "podman"])
def test_volatile_rules(spec: str, name: str) -> None:
    # mainline and v5.11 (335d3fc57941 +/- 34b4540e6646) give the same syscall results;
    # amir's volatile rules are the same by docs/model.md §4 (mount refusal, sticky check).
    text = {"sticky": STICKY, "sticky-outside": STICKY_OUTSIDE, "podman": PODMAN}[name]
    expected, actual = annotated(text, spec)
    assert actual == expected


OVL_SB_AFTER_VOLATILE_SYNCFS = """
mount ovl1 volatile = 0   # ofs1 = sample(upper 0) = 0; check(0, 0) = 0 -> mounted
open fd1 ovl1             # f_sb = sample(ovl1 sb 0) = 0
write fd1
wberror ovl1              # upper 0x5, ino 0x5
syncfs fd1 = EIO          # status = check(0x5, ofs1 0) = -5: ovl_sync_fs returns -EIO
syncfs fd1 = EIO          # the same: check never advances
"""


@pytest.mark.parametrize(
    ("spec", "ovl_sb"), [("v5.11", (0x1005, 0x3005)), ("mainline", (0x0, 0x0))]
)
def test_v5_11_sets_the_overlay_sb_on_a_failed_volatile_syncfs_and_mainline_does_not(
    spec: str, ovl_sb: tuple[int, int]
) -> None:
    # The syscall results are the same (docs/model.md §4), so the difference is in the state.
    # v5.11's ovl_sync_fs does errseq_set(&sb->s_wb_err, -EIO) before returning -EIO;
    # 34b4540e6646 (mainline) removed it.  By hand:
    #   v5.11, 1st syncfs: set(ovl1 sb 0) = 0x5; C&A(0x5, f_sb 0) -> 0x1005, f_sb 0x1005.
    #          2nd syncfs: set(0x1005) = 0x2005 (SEEN: counter +1, SEEN cleared);
    #                      C&A(0x2005, 0x1005) -> 0x3005, f_sb 0x3005.
    #   mainline: ovl1 sb never set: C&A(0, 0) -> 0 both times, f_sb stays 0.
    # Neither touches upper (a volatile syncfs neither syncs nor advances it): 0x5.
    sc = parse(OVL_SB_AFTER_VOLATILE_SYNCFS, f"<{spec}>")
    r = replay_run(sc, load_spec(spec))
    assert r.results == ["0", "0", "0", None, "EIO", "EIO"]
    b = sc.bounds
    sb, f_sb = b.ofs_base(0) + 1, b.fd_base(0) + 2
    assert (r.states[4][sb], r.states[5][sb]) == ovl_sb
    assert (r.states[4][f_sb], r.states[5][f_sb]) == ovl_sb
    assert (r.states[4][0], r.states[5][0]) == (0x5, 0x5)


NORMAL_OVERLAY_LEAVES_UNSEEN = """
mount ovl1 = 0
open fd1 ovl1
write fd1
wberror ovl1                # upper 0x5, ino 0x5
syncfs fd1 = 0              # normal overlay: sync upper, ovl sb never set: C&A(0, 0) = 0
fsync fd1 = EIO             # real upper file: C&A(ino 0x5, 0) -> EIO (ino 0x1005)
fsync fd1 = 0
mount ovl2 volatile = EIO   # nobody marked upper seen: sample 0, check(0x5, 0) -> refused
open fd2 host               # f_sb = sample(0x5) = 0
syncfs fd2 = EIO            # C&A -> EIO, upper 0x1005
mount ovl2 volatile = 0     # now the sample 0x1005 equals upper
"""


@pytest.mark.parametrize("spec", ["mainline", "v5.11"])
def test_normal_overlay_syncfs_reports_nothing_and_leaves_upper_unseen(spec: str) -> None:
    # docs/model.md §4 v5.11 and mainline: a normal overlay never sets its sb's errseq.
    expected, actual = annotated(NORMAL_OVERLAY_LEAVES_UNSEEN, spec)
    assert actual == expected


def test_v5_10_volatile_returns_zero() -> None:
    # c86243b090bc: a volatile overlay's fsync and syncfs return 0 without syncing,
    # and a volatile mount is never refused.
    text = """
open fd0 host
write fd0
wberror host              # upper 0x5 unseen
mount ovl1 volatile = 0   # no check at mount in v5.10
open fd1 ovl1
write fd1
wberror ovl1              # still dirty (nothing was synced); upper stays 0x5 (unseen repeat)
fsync fd1 = 0
syncfs fd1 = 0
"""
    expected, actual = annotated(text, "v5.10")
    assert actual == expected


def test_jeff_split_volatile_syncfs_sticky_fsync_zero() -> None:
    # jeff-split on a volatile overlay (v5.10 base: fsync 0, mount never refused).
    text = """
mount ovl1 volatile = 0   # ofs1 = peek(upper 0) = 0
open fd1 ovl1             # f_sb = sample(ovl1 sb 0) = 0
write fd1
wberror ovl1              # upper 0x5
fsync fd1 = 0             # v5.10 volatile fsync: 0
syncfs fd1 = EIO          # r = check(0x5, 0) = -5; set(ovl1 sb 0) = 0x5; C&A(0x5, 0) ->
                          # EIO, ovl1 sb 0x3005
syncfs fd1 = EIO          # r = -5; set(0x3005): OBSERVED -> 0x4005; C&A(0x4005, 0x3005)
open fd2 ovl1             # f_sb = sample(ovl1 sb 0x7005) = 0x7005 (REPORTED)
syncfs fd2 = EIO          # set(0x7005) -> 0x8005 != 0x7005: EIO, sticky for late openers
"""
    expected, actual = annotated(text, "jeff-split")
    assert actual == expected


# --- claim 1: an fd open before the error (overlay variants) -----------------------------

OPEN_BEFORE = """
mount ovl1
open fd1 ovl1     # f_wb = sample(ino 0) = 0; f_sb = 0 in every spec (nothing recorded yet)
write fd1
wberror ovl1      # ino 0x5, upper 0x5
fsync fd1         # normal overlay: the real file's C&A(0x5, 0) -> EIO in every spec
syncfs fd1        # per spec, below
"""

OPEN_BEFORE_SYNCFS = {
    "plain": "EIO",  # C&A(upper 0x5, 0)
    "vivek-v3": "EIO",  # C&A(upper 0x5, f_sb 0)
    "vivek-v3-seen": "EIO",  # no mount after the error: upper still 0x5; C&A(0x5, 0)
    "vivek-v2": "EIO",  # check(0x5, ovl1 sb 0) -> ovl1 sb 0x1005; C&A(0x1005, 0)
    "amir": "EIO",  # C&A(0x5, ofs1 0) = -5 -> set ovl1 sb 0x5 -> C&A(0x5, 0)
    "mainline": "0",  # non-volatile syncfs reports no upper writeback error
    "v5.11": "0",
    "v5.10": "0",
    "jeff-split": "0",
}


@pytest.mark.parametrize("spec", ALL)
def test_claim1_open_before_error(spec: str) -> None:
    assert results(OPEN_BEFORE, spec) == [
        ("fsync fd1", "EIO"),
        ("syncfs fd1", OPEN_BEFORE_SYNCFS[spec]),
    ]


def test_claim2_plain_late_opener_is_deterministic() -> None:
    # Claim 2: on plain an fd opened after the error sees it iff no C&A ran between the
    # error and the open.
    text = """
open fd1 host
write fd1
wberror host     # upper 0x5
open fd2 host    # no C&A yet: sample(0x5) = 0
syncfs fd1       # C&A(0x5, 0) -> EIO, upper 0x1005
open fd3 host    # after a C&A: sample(0x1005) = 0x1005
syncfs fd2       # C&A(0x1005, 0) -> EIO
syncfs fd3       # C&A(0x1005, 0x1005) -> 0
"""
    assert results(text, "plain") == [
        ("syncfs fd1", "EIO"),
        ("syncfs fd2", "EIO"),
        ("syncfs fd3", "0"),
    ]


# --- Amir's 1000 containers, scaled to 3 (§4.4, claims 16, 17, 18 N1/V1, 14) --------------

AMIR_SEQUENTIAL = """
mount ovl1{v}
mount ovl2{v}
mount ovl3{v}
open fd0 host
write fd0
wberror host     # "1 writeback error recorded in upper sb": upper 0x5
close fd0
open fd1 ovl1
syncfs fd1
open fd2 ovl2
syncfs fd2
open fd3 ovl3
syncfs fd3
"""

AMIR_OPENS_FIRST = """
mount ovl1{v}
mount ovl2{v}
mount ovl3{v}
open fd0 host
write fd0
wberror host
close fd0
open fd1 ovl1
open fd2 ovl2
open fd3 ovl3
syncfs fd1
syncfs fd2
syncfs fd3
"""

# spec -> (normal: sequential, opens-first), (volatile: sequential, opens-first)
AMIR_COUNTS = {
    # plain: containers are directories.  Sequential: fd1 samples 0x5 unseen -> EIO,
    # upper 0x1005; fd2, fd3 sample 0x1005 -> 0: 1.  Opens first: all three sampled 0
    # while unseen: C&A(0x1005, 0) -> EIO for each: 3.  Volatile means nothing: same.
    "plain": ((1, 3), (1, 3)),
    # vivek-v3 ("your patch 3/3"): overlay fds sample and C&A the upper sb like plain;
    # volatile only skips the upper sync.  Claim 17 holds in the sequential order (1)
    # but not when every container opened before anyone synced (3).
    "vivek-v3": ((1, 3), (1, 3)),
    # vivek-v3-seen: the mounts come before the error, so they mark nothing (upper 0:
    # sample 0, C&A(0, 0) no-op): as vivek-v3.
    "vivek-v3-seen": ((1, 3), (1, 3)),
    # amir (N1 and V1): every ofsN = 0 at mount.  Normal: syncfs fdN: C&A(upper, ofsN 0)
    # -> -5 for each container (each has its own cursor), set(ovlN sb) = 0x5, C&A(0x5,
    # f_sb 0) -> EIO: 3.  Volatile: r = check(upper 0x5, 0) = -5 each time: 3.
    "amir": ((3, 3), (3, 3)),
    # vivek-v2: ovlN sb = sample(0) = 0 at mount; each syncfs: check(upper, ovlN sb 0)
    # != 0 -> C&A into ovlN sb (0x1005), then C&A(0x1005, f_sb 0) -> EIO: 3, volatile
    # too (only the upper sync is skipped).
    "vivek-v2": ((3, 3), (3, 3)),
    # mainline / v5.11: normal syncfs reports nothing: 0.  Volatile: ovl_sync_status =
    # check(0x5, ofsN 0) = -5 -> -EIO in every container: 3.
    "mainline": ((0, 0), (3, 3)),
    "v5.11": ((0, 0), (3, 3)),
    # v5.10: nothing reported, volatile returns 0.
    "v5.10": ((0, 0), (0, 0)),
    # jeff-split: normal as v5.10 (0).  Volatile: ofsN = peek(0) = 0; r = check(0x5, 0)
    # = -5 -> set(ovlN sb 0) = 0x5 -> C&A(0x5, 0) -> EIO in each container: 3.
    "jeff-split": ((0, 0), (3, 3)),
}


@pytest.mark.parametrize("volatile", [False, True], ids=["normal", "volatile"])
@pytest.mark.parametrize("spec", ALL)
def test_amir_containers_count(spec: str, volatile: bool) -> None:
    v = " volatile" if volatile else ""
    got = (
        count_eio(AMIR_SEQUENTIAL.format(v=v), spec),
        count_eio(AMIR_OPENS_FIRST.format(v=v), spec),
    )
    assert got == AMIR_COUNTS[spec][volatile]


# --- Willy's §4.2 timeline, with the host (claim 15, and claim 10) ------------------------

WILLY = """
open fd1 host    # /workdir/A is written to and then closed
write fd1
close fd1
wberror host     # writeback fails, nobody cares: upper 0x5 (ino(host) 0x5)
mount ovl1       # overlayfs samples the error (vivek-v3-seen: upper 0x1005)
open fd2 host    # a user writes to B (the model has one host file: the same inode)
write fd2
wberror host     # another -EIO: plain: set(0x5) unseen repeat -> 0x5 (claim 10);
                 # vivek-v3-seen: set(0x1005) -> 0x2005; jeff-split: fd2's open
                 # peeked 0x2005, so set bumps -> 0x4005
close fd2
open fd3 host    # someone calls syncfs on A: sample of an unseen value = 0
syncfs fd3       # C&A(unseen, 0) -> EIO (upper now SEEN)
open fd4 host    # a user opens B: sample of the SEEN value
syncfs fd4       # equal -> 0: "sees no error"
"""


@pytest.mark.parametrize("spec", ALL)
def test_willy_timeline(spec: str) -> None:
    # Host fds follow the plain VFS rules in every spec and a normal mount changes
    # nothing that matters to them (vivek-v3-seen's SEEN marking is overwritten by the
    # second error's set), so every spec gives Willy's outcome -- the errseq design
    # itself, not an overlay effect (claim 15).
    assert results(WILLY, spec) == [("syncfs fd3", "EIO"), ("syncfs fd4", "0")]


SAME_ERRNO_REPEAT = """
open fd1 host
write fd1
wberror host     # upper 0x5
write fd1
wberror host     # unseen repeat, same errno: set(0x5, -5) = 0x5, no change
syncfs fd1       # C&A(0x5, 0) -> EIO, upper 0x1005 (split: 0x3005)
syncfs fd1       # the second error was not counted: 0
write fd1
wberror host     # after SEEN: classic 0x2005, split (OBSERVED) 0x4005
syncfs fd1       # C&A(0x2005, 0x1005) -> EIO
"""


@pytest.mark.parametrize("spec", ALL)
def test_claim10_unseen_repeat_is_invisible(spec: str) -> None:
    # Claim 10 (Sargun): "errseq will not increment the value if the seen bit is unset".
    assert results(SAME_ERRNO_REPEAT, spec) == [
        ("syncfs fd1", "EIO"),
        ("syncfs fd1", "0"),
        ("syncfs fd1", "EIO"),
    ]


# --- claims 11 and 22: a SEEN-marking mount hides the error from later upper openers -----

MARK_SEEN = """
open fd0 host     # opened before the error: f_sb = 0
mount ovl1
open fd1 ovl1
write fd1
wberror ovl1      # upper 0x5
mount ovl2        # vivek-v3-seen: upper 0x1005; no other spec touches upper here
open fd2 host     # /workdir/userscratchspace/file, opened after the mount
syncfs fd2
syncfs fd0
"""

MARK_SEEN_FD2 = {
    # only vivek-v3-seen consumed the error at mount: fd2 samples 0x1005 -> 0.
    "vivek-v3-seen": "0",
}


@pytest.mark.parametrize("spec", ALL)
def test_claims_11_22_mount_consumes_error(spec: str) -> None:
    # Everyone else: upper 0x5 unseen at fd2's open (jeff-split's host open peeks it to
    # 0x2005, still unreported), sample 0, C&A -> EIO.  fd0 opened before the error:
    # C&A(upper != 0, 0) -> EIO in every spec (claim 11 "only applies to files opened
    # after the marking").
    fd2 = MARK_SEEN_FD2.get(spec, "EIO")
    assert results(MARK_SEEN, spec) == [("syncfs fd2", fd2), ("syncfs fd0", "EIO")]


# --- claim 12: per-instance sample at mount + C&A at sync (amir, vivek-v2) ----------------

PER_INSTANCE = """
open fd1 host
write fd1
wberror host      # upper 0x5, before any overlay mount
mount ovl1        # amir: ofs1 = sample(0x5) = 0 | vivek-v2: ovl1 sb = 0
syncfs fd1        # host: C&A(0x5, 0) -> EIO, upper 0x1005
mount ovl2        # amir: ofs2 = 0x1005 | vivek-v2: ovl2 sb = 0x1005
open fd2 ovl1     # f_sb = sample(ovl1 sb 0) = 0
open fd3 ovl2     # amir: sample(ovl2 sb 0) = 0 | vivek-v2: sample(0x1005) = 0x1005
syncfs fd2        # amir: r = C&A(0x1005, ofs1 0) = -5 -> ovl1 sb 0x5 -> C&A(0x5, 0): EIO
                  # v2: check(0x1005, 0) -> ovl1 sb 0x1005; C&A(0x1005, 0): EIO
syncfs fd3        # amir: r = C&A(0x1005, 0x1005) = 0; C&A(ovl2 sb 0, 0) = 0
                  # v2: check equal; C&A(0x1005, 0x1005) = 0
write fd1
wberror host      # during both lifespans: upper set(0x1005) = 0x2005
syncfs fd2        # amir: r = C&A(0x2005, 0x1005) = -5 (upper 0x3005); set(ovl1 sb 0x1005)
                  # = 0x2005; C&A(0x2005, 0x1005): EIO | v2: ovl1 sb 0x3005; C&A: EIO
syncfs fd3        # amir: r = C&A(0x3005, ofs2 0x1005) = -5; set(ovl2 sb 0) = 0x5;
                  # C&A(0x5, 0): EIO | v2: check(0x3005, 0x1005) -> ovl2 sb 0x3005: EIO
"""


@pytest.mark.parametrize("spec", ["amir", "vivek-v2"])
def test_claim12_14_each_instance_sees_errors_since_mount(spec: str) -> None:
    # Willy (claims 12, 14): each instance sees any error since its mount, and possibly
    # one from before it that nobody had reported (ovl1 yes, ovl2 no: the host had).
    assert results(PER_INSTANCE, spec) == [
        ("syncfs fd1", "EIO"),
        ("syncfs fd2", "EIO"),
        ("syncfs fd3", "0"),
        ("syncfs fd2", "EIO"),
        ("syncfs fd3", "EIO"),
    ]


# --- claim 13: a cursor older than the error reports even after someone set SEEN ----------

OLDER_CURSOR = """
mount ovl1        # vivek-v2: ovl1 sb = 0 | amir: ofs1 = 0
open fd1 host
write fd1
wberror host      # upper 0x5
syncfs fd1        # EIO; upper 0x1005 (split 0x3005)
open fd2 host     # f_sb = 0x1005
open fd3 ovl1     # vivek-v3(-seen): sample(upper 0x1005) = 0x1005; others: ovl1 sb 0
write fd2
wberror host      # upper 0x2005 (split 0x4005)
mount ovl2        # vivek-v3-seen: sample 0, C&A -> upper 0x3005: SEEN set by somebody
syncfs fd2        # C&A(upper, 0x1005): the counter moved -> EIO in every spec
syncfs fd3        # per spec, below
"""

OLDER_CURSOR_FD3 = {
    "plain": "EIO",  # fd3 sampled 0x1005; upper 0x3005 after fd2: C&A -> EIO
    "vivek-v3": "EIO",  # same, through the passthrough
    "vivek-v3-seen": "EIO",  # fd3 0x1005 != 0x3005 even though the mount set SEEN
    "vivek-v2": "EIO",  # check(0x3005, ovl1 sb 0) -> ovl1 sb 0x3005; C&A(0x3005, 0)
    "amir": "EIO",  # r = C&A(0x3005, ofs1 0) = -5; ovl1 sb 0x5; C&A(0x5, 0)
    "mainline": "0",  # non-volatile syncfs reports nothing
    "v5.11": "0",
    "v5.10": "0",
    "jeff-split": "0",
}


@pytest.mark.parametrize("spec", ALL)
def test_claim13_older_cursor_still_reports(spec: str) -> None:
    assert results(OLDER_CURSOR, spec, ("syncfs",)) == [
        ("syncfs fd1", "EIO"),
        ("syncfs fd2", "EIO"),
        ("syncfs fd3", OLDER_CURSOR_FD3[spec]),
    ]


# --- claim 19: a stacked fsync sees an unseen error that predates the overlay mount -----

PRE_MOUNT_FSYNC = """
mount ovl1 volatile  # volatile: its umount syncs nothing, so the page stays dirty
open fd1 ovl1        # (a normal overlay's umount syncs the upper fs: conformance F1)
write fd1
close fd1
umount ovl1
wberror ovl1      # ovl1's upper inode: 0x5 unseen (and upper sb 0x5)
mount ovl1        # vivek-v3-seen marks the upper *sb* SEEN, never the inode
open fd2 ovl1     # real file f_wb = sample(ino 0x5) = 0 (split: peeked 0x2005, still 0)
fsync fd2         # C&A(ino, 0) -> EIO
"""


@pytest.mark.parametrize("spec", ALL)
def test_claim19_stacked_fsync_sees_pre_mount_error(spec: str) -> None:
    assert results(PRE_MOUNT_FSYNC, spec) == [("fsync fd2", "EIO")]


# --- claims 3 and 21: eviction loses the inode's error, never the superblock's -----------

EVICT = """
open fd1 host
write fd1
wberror host      # ino(host) 0x5, upper 0x5
close fd1         # now nothing holds the inode (claim 21: while fd1 is open it cannot go)
evict host        # ino(host) gone
open fd2 host     # f_wb = sample(new inode 0) = 0; f_sb = sample(upper 0x5) = 0
fsync fd2         # C&A(0, 0) -> 0: the errno is lost for fsync (claim 3)
syncfs fd2        # C&A(0x5, 0) -> EIO: the sb keeps it (claim 21)
"""


@pytest.mark.parametrize("spec", ALL)
def test_claims_3_21_eviction(spec: str) -> None:
    assert results(EVICT, spec) == [("fsync fd2", "0"), ("syncfs fd2", "EIO")]


# --- claim 23: an unseen pre-mount error and a sampling volatile mount --------------------

PRE_MOUNT_VOLATILE = """
open fd1 host
write fd1
wberror host           # upper 0x5 unseen
mount ovl1 volatile
open fd2 ovl1
syncfs fd2
"""

PRE_MOUNT_VOLATILE_EXPECTED = {
    # plain: mount no-op; fd2 samples 0x5 unseen = 0; C&A -> EIO.
    "plain": ("0", "EIO"),
    # Vivek (claim 23): a sample at volatile mount (vivek-v2: ovl1 sb = sample(0x5) = 0)
    # makes the next volatile sync fail: check(0x5, 0) -> ovl1 sb 0x1005; C&A(.., 0) EIO.
    "vivek-v2": ("0", "EIO"),
    # vivek-v3: nothing at mount; fd2 samples upper 0 -> C&A(0x5, 0) -> EIO.
    "vivek-v3": ("0", "EIO"),
    # vivek-v3-seen: mount marks 0x1005; fd2 samples 0x1005 -> 0.
    "vivek-v3-seen": ("0", "0"),
    # mainline, v5.11, amir: the merged answer -- refuse the mount (check(0x5, 0) = -5);
    # ovl1 stays unmounted, so its open and syncfs cannot happen.
    "mainline": ("EIO", SKIPPED),
    "v5.11": ("EIO", SKIPPED),
    "amir": ("EIO", SKIPPED),
    # v5.10: never refused, volatile syncfs 0.
    "v5.10": ("0", "0"),
    # jeff-split: ofs1 = peek(0x5) = 0x2005; r = check(0x2005, 0x2005) masked = 0: no set;
    # C&A(ovl1 sb 0, 0) -> 0.
    "jeff-split": ("0", "0"),
}


@pytest.mark.parametrize("spec", ALL)
def test_claim23_pre_mount_error_volatile(spec: str) -> None:
    mount, syncfs = PRE_MOUNT_VOLATILE_EXPECTED[spec]
    assert results(PRE_MOUNT_VOLATILE, spec, ("mount", "syncfs")) == [
        ("mount ovl1 volatile", mount),
        ("syncfs fd2", syncfs),
    ]


# --- umount of a normal overlay syncs the upper fs (docs/conformance.md F1) ---------------
# generic_shutdown_super() -> sync_filesystem(ovl sb) -> ovl_sync_fs(sb, 1) ->
# sync_filesystem(upper) for a normal mount; a volatile one returns before syncing.
# So after `umount` the page written through a normal overlay is clean and `wberror`
# cannot happen; after a volatile umount (or on plain, where ovlN is a directory) it can.

UMOUNT_THEN_WBERROR = """
mount ovl1{opt}
open fd1 ovl1
write fd1
close fd1
umount ovl1
wberror ovl1
"""


@pytest.mark.parametrize("spec", [s for s in ALL if s != "plain"])
def test_normal_umount_writes_back_the_upper_fs(spec: str) -> None:
    from explorer.checker.replay import run as replay_run
    from explorer.domain.catalog import load_spec
    from explorer.domain.scenario import parse

    normal = replay_run(parse(UMOUNT_THEN_WBERROR.format(opt=""), "t"), load_spec(spec))
    assert normal.skipped == {5: "ovl1's file has no dirty data to fail writing back"}
    volatile = replay_run(parse(UMOUNT_THEN_WBERROR.format(opt=" volatile"), "t"), load_spec(spec))
    assert volatile.skipped == {}


def test_plain_umount_is_a_no_op() -> None:
    from explorer.checker.replay import run as replay_run
    from explorer.domain.catalog import load_spec
    from explorer.domain.scenario import parse

    assert (
        replay_run(parse(UMOUNT_THEN_WBERROR.format(opt=""), "t"), load_spec("plain")).skipped == {}
    )
