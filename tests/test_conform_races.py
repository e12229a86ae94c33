"""Races on the real kernels (explorer/conform/races.py): two threads of one process
share fd1 and call syncfs (or fsync) at the same time, thousands of times in one boot
of Debian's 6.1 and 6.12, a vCPU each (multi-threaded TCG).  A third thread on a third
vCPU keeps a cache flush of the block device in flight: both calls then often wait for
the same flush and wake together, which is when syncfs's window is hit
(docs/conformance.md, "Races on real kernels"); it changes when the threads' code runs,
not what it is.

The outcome sets are derived by hand from the kernels' code, not from the model.
Needs qemu, gcc, mke2fs and Debian's package archive (explorer/conform/setup-host.sh);
without them the tests skip with the reason, except in CI (CI=true), where they fail.
RACE_ITERATIONS sets the iterations per run (default 2000; docs/conformance.md gives
the times).  Run with -s to see the histograms.
"""

from __future__ import annotations

import os

import pytest

from explorer.conform import races
from explorer.conform.build import BuildError, build
from explorer.conform.vm import qemu_available

pytestmark = pytest.mark.vm

ITERATIONS = int(os.environ.get("RACE_ITERATIONS", "2000"))
KERNELS = ("6.1", "6.12")
SETUP = ("open fd1 host = 0", "write fd1 = 0", "wberror host")

# syncfs (fs/sync.c, the same code on 6.1 and 6.12: 149-167 and 149-166):
#     ret = sync_filesystem(sb);               /* 0: the failed page is clean */
#     ret2 = errseq_check_and_advance(&sb->s_wb_err, &f->f_sb_err);   /* no lock */
# errseq_check_and_advance (lib/errseq.c 175-206, both): old = READ_ONCE(*eseq);
# if (old != *since) { new = old | SEEN; cmpxchg(eseq, old, new); *since = new;
# return -EIO }.  fd1's f_sb_err was sampled before the error, so whoever reads *since
# before the other stores it returns EIO: one thread alone (either one), or both when
# both read *since before either stores.  Never (0, 0): the first store comes from a
# thread that returned EIO.
SYNCFS = races.RaceProgram(
    "syncfs-shared-fd",
    SETUP,
    (("syncfs fd1",), ("syncfs fd1",)),
    ("host.1", "host.2"),
)
SYNCFS_POSSIBLE = {("EIO", "0"), ("0", "EIO"), ("EIO", "EIO")}

# fsync -> ext4_sync_file (fs/ext4/fsync.c; 6.1: 129-187, 6.12: 141-193; no journal)
# calls file_write_and_wait_range (mm/filemap.c 6.1: 768-784, 6.12: 770-789; on 6.12
# through ext4_fsync_nojournal and generic_buffers_fsync_noflush), which ends in
# file_check_and_advance_wb_err, and calls that again at `out:`.  It (mm/filemap.c
# 6.1: 724-749, 6.12: 726-751) checks f_wb_err locklessly (errseq_check) and, if it
# changed, takes spin_lock(&file->f_lock) around errseq_check_and_advance(&mapping->
# wb_err, &file->f_wb_err), which reads *since under the lock.  The first thread under
# f_lock stores the new cursor and returns EIO; every later check, under the lock or
# lockless, finds the cursor equal and returns 0.  Exactly one EIO.
FSYNC = races.RaceProgram(
    "fsync-shared-fd",
    SETUP,
    (("fsync fd1",), ("fsync fd1",)),
    ("host.1", "host.2"),
)
FSYNC_POSSIBLE = {("EIO", "0"), ("0", "EIO")}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"conformance VM cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module", params=KERNELS)
def kernel(request: pytest.FixtureRequest) -> str:
    why = qemu_available()
    if why:
        _unavailable(why)
    try:
        build(request.param)
    except BuildError as exc:
        _unavailable(f"cannot build the {request.param} VM: {exc}")
    return request.param


def _run(program: races.RaceProgram, kernel: str, possible: set) -> races.RaceVerdict:
    hist = races.run_race(program, kernel, ITERATIONS, flushers=1, cpus=3)
    verdict = races.judge(hist, possible)
    print()
    print(races.format_histogram(hist, condition={("EIO", "EIO")}))
    print(races.format_verdict(verdict, program))
    print(f"wall {hist.wall_s:.1f} s")
    # An iteration whose injected failure the kernel log does not confirm is not
    # counted (race.c's faithfulness checks): rare, and only of that kind.  Any other
    # kind (a foreign write failed, a setup result differed) fails the test.
    assert set(hist.excluded) <= {"not-injected"}, f"unfaithful iterations: {hist.examples}"
    assert sum(hist.excluded.values()) <= ITERATIONS // 100, hist.examples
    assert hist.counted == ITERATIONS - sum(hist.excluded.values())
    assert verdict.status == "ok", races.format_verdict(verdict, program)
    # The threads really raced: both calls were in flight at once in some iterations
    # (timestamps taken in the guest), and each thread went first in some.
    assert sum(hist.overlap.values()) > 0, "the calls never overlapped: nothing raced"
    assert {("EIO", "0"), ("0", "EIO")} <= set(verdict.seen_possible)
    return verdict


def test_two_syncfs_on_one_fd(kernel: str) -> None:
    """Never (0, 0); (EIO, EIO) is possible, and whether it was hit is printed."""
    _run(SYNCFS, kernel, SYNCFS_POSSIBLE)


def test_two_fsync_on_one_fd(kernel: str) -> None:
    """f_lock: exactly one EIO, whatever the interleaving."""
    _run(FSYNC, kernel, FSYNC_POSSIBLE)


def test_an_injection_that_fails_is_never_counted(kernel: str) -> None:
    """Without `write fd1` nothing is dirty: the writeback error fails no write, every
    iteration is set aside, and the verdict says nothing was checked."""
    program = races.RaceProgram(
        "clean-file", ("open fd1 host", "wberror host"), (("syncfs fd1",), ("syncfs fd1",))
    )
    hist = races.run_race(program, kernel, 20)
    assert hist.counted == 0
    assert hist.excluded == {"not-injected": 20}
    assert "no failed write of its data was logged" in hist.examples[0]
    assert races.judge(hist, SYNCFS_POSSIBLE).status == "invalid"
