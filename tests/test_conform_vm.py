"""End to end: the built-in corpus on a real 6.12 kernel in qemu (TCG), two VMs at once.

Needs qemu, gcc, mke2fs and Debian's package archive (explorer/conform/setup-host.sh).
Where they are missing the tests skip with the reason, except in CI (CI=true),
where they fail with it: a green CI must mean the kernel was really asked.
About a minute and a half on 2 cores (one fresh VM per scenario, ~4 s each), and
two claims' 3 runs.
"""

from __future__ import annotations

import os

import pytest

from explorer.checker.replay import replay
from explorer.conform import core
from explorer.conform.build import BuildError, build
from explorer.conform.cli import judge
from explorer.conform.vm import KernelRun, VmError, qemu_available, run_many
from explorer.domain.catalog import load_spec

pytestmark = pytest.mark.vm

KERNEL = "6.12"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"conformance VM cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def corpus_runs() -> dict[str, tuple[KernelRun | VmError, core.Outcome]]:
    """Every representable corpus scenario, run once on 6.12."""
    why = qemu_available()
    if why:
        _unavailable(why)
    try:
        image = build(KERNEL)
    except BuildError as exc:
        _unavailable(f"cannot build the {KERNEL} VM: {exc}")
    spec = core.KERNEL_SPEC[KERNEL]
    items = [i for i in core.corpus() if core.not_representable(i.scenario, spec) is None]
    runs = run_many([(image, i.text) for i in items], "tcg", workers=2)
    return {
        i.name: (r, judge(i, KERNEL, replay(i.scenario, load_spec(spec)), image, r))
        for i, r in zip(items, runs, strict=True)
    }


def kernel_results(corpus_runs: dict, name: str) -> list[str | None]:
    run, outcome = corpus_runs[name]
    assert isinstance(run, KernelRun), f"{name}: {run}"
    assert outcome.status != core.INVALID, f"{name}: {outcome.reason}"
    return [r.kernel for r in outcome.rows]


# Expected values derived by hand from the 6.12 source, not from the model.
#
# generic/484 (host fds, plain ext4):
#   wberror host: ext4 end_io -> mapping_set_error(): errseq_set() on the inode's
#     wb_err and on sb->s_wb_err (include/linux/pagemap.h), both unseen.
#   fsync fd2: file_write_and_wait_range -> file_check_and_advance_wb_err: fd2's
#     cursor (sampled at open, before the error) differs -> EIO; inode wb_err SEEN.
#   open fd3 after it: f_sb_err = errseq_sample(sb) = 0 (the sb error is unseen).
#   syncfs fd3: errseq_check_and_advance(&sb->s_wb_err, &f_sb_err) -> EIO, SEEN.
#   syncfs fd3 again: cursor == value -> 0.  open fd4: sample = the SEEN value -> 0.
G484 = ["0", "0", "0", "0", "0", "0", None, "EIO", "0", "0", "EIO", "0", "0", "0", "0"]

# generic/487: fdH pins the inode, so its wb_err survives the closes.  fd3 opens
# after an unseen error: errseq_sample() returns 0 ("If nobody has seen this
# error yet, then we can be the first"), so fsync fd3 -> EIO.
G487 = ["0", "0", "0", "0", "0", "0", "0", None, "0", "0", "EIO", "0"]

# The seed on a normal overlay: ovl_sync_fs -> sync_filesystem(upper) returns 0
# (data errors are not returned by sync_filesystem: sync_inodes_sb waits with
# filemap_fdatawait_keep_errors), and nothing ever sets the overlay sb's
# s_wb_err, so syscall syncfs's errseq_check_and_advance(&ovl_sb->s_wb_err) is 0.
SEED = ["0", "0", "0", None, "0", "0", "0", "0"]

# 5a, volatile: ovl_fsync -> ovl_sync_status() = errseq_check(&upper_sb->s_wb_err,
# ofs->errseq) = -EIO after the error, never advanced: every fsync EIO;
# ovl_sync_fs returns -EIO for ret < 0 and sync_filesystem propagates it: every
# syncfs EIO, also for fd2 opened later.  open itself is 0.
CASE5A = ["0", "0", "0", None, "EIO", "EIO", "EIO", "EIO", "0", "EIO", "EIO"]

# 5c: ovl_fill_super (volatile): ofs->errseq = errseq_sample(upper) = 0 while the
# upper error is unseen, errseq_check(...) != 0 -> "Cannot mount volatile when
# upperdir has an unseen error" -> EIO.  fsync fd1 marks only the inode's errseq
# SEEN -> still refused.  syncfs fd1 (host) reports it (EIO) and marks the sb SEEN;
# the sample is now the SEEN value, check == 0 -> mount 0; a new fd's syncfs 0.
CASE5C = ["0", "0", None, "EIO", "EIO", "EIO", "EIO", "0", "0", "0"]


# Host fds on a container's upper file (`open fdN host ovlK`: the driver opens
# /upper/ovlK/upper/file, a plain ext4 file).  After ovl1's fsync through the overlay
# (ovl_fsync -> vfs_fsync_range(real file) -> file_check_and_advance_wb_err: EIO, the
# inode's wb_err SEEN), the host's open samples the SEEN inode value (fsync 0) and the
# unseen sb value, 0 (syncfs EIO, then 0).
HOST_AFTER_OVERLAY = ["0", "0", "0", None, "EIO", "0", "0", "EIO", "0"]

# Jeff's close-instead-of-syncfs, then the host opens ovl1's upper file: neither the
# inode's nor the sb's errseq was ever marked (a 6.12 overlay mount leaves the upper
# errseq alone), so both samples are 0: fsync EIO, syncfs EIO, fsync again 0.
HOST_AFTER_CLOSE = ["0", "0", "0", None, "0", "0", "0", "EIO", "EIO", "0"]

# A second errno, through an out-of-space dm-thin pool (BLK_STS_NOSPC; 6.12's
# ext4_finish_bio: mapping_set_error(mapping, blk_status_to_errno(status)) = -ENOSPC).
# EIO reported by syncfs (sb 0x1005), then ENOSPC: errseq_set bumps the sb counter
# (0x201c) and replaces the errno; fd1's syncfs: ENOSPC.  fd2 samples the sb SEEN
# (syncfs 0) and the inode 0x1c (unseen: 0; nobody fsynced): fsync ENOSPC, and fd1's
# fsync, whose cursor is 0, ENOSPC too.
ENOSPC_AFTER_EIO = ["0", "0", None, "EIO", "0", None, "ENOSPC", "0", "0", "ENOSPC", "ENOSPC"]

# A volatile overlay: ovl_fsync returns ovl_sync_status() = errseq_check(&upper->s_wb_err,
# ofs->errseq) = -ENOSPC (the latest errno), ovl_sync_fs -EIO for any negative status.
ENOSPC_VOLATILE = ["0", "0", "0", None, "ENOSPC", "EIO", "ENOSPC"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("xfstests-generic-484", G484),
        ("xfstests-generic-487", G487),
        ("seed", SEED),
        ("case5a-volatile-sticky", CASE5A),
        ("case5c-volatile-refused", CASE5C),
        ("host-upper-after-overlay-fsync", HOST_AFTER_OVERLAY),
        ("host-upper-close-instead-of-syncfs", HOST_AFTER_CLOSE),
        ("enospc-after-seen-eio", ENOSPC_AFTER_EIO),
        ("enospc-volatile-fsync-errno", ENOSPC_VOLATILE),
    ],
)
def test_kernel_gives_the_hand_derived_results(
    corpus_runs: dict, name: str, expected: list[str | None]
) -> None:
    assert kernel_results(corpus_runs, name) == expected


def test_corpus_agrees_with_mainline_on_6_12(corpus_runs: dict) -> None:
    bad = {
        name: (
            o.status,
            o.reason,
            [(r.line, r.event, r.model, r.kernel) for r in o.rows if r.mismatch],
        )
        for name, (_, o) in corpus_runs.items()
        if o.status != core.AGREE
    }
    assert not bad, bad


def test_a_claim_on_6_12(corpus_runs: dict) -> None:
    """Claim 04's 2 runs on 6.12 (`explore conform FILE.claim`): both syncfs calls of
    the seed's ovl1 timeline return 0 on a normal overlay (SEED above: nothing sets
    the overlay sb's s_wb_err), so the kernel's own verdict is Never 0 2, the claim's
    expectation for mainline.  (corpus_runs: built and checked the VM first.)"""
    from pathlib import Path

    from typer.testing import CliRunner

    from explorer.app.cli import app

    claim = Path(__file__).parent.parent / "claims/thread/04-normal-fs-both-syncfs-fail.claim"
    r = CliRunner().invoke(app, ["conform", str(claim), "--kernel", KERNEL, "-j", "2"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "Observation 04-normal-fs-both-syncfs-fail mainline Never 0 2   (the model)" in lines
    assert "Observation 04-normal-fs-both-syncfs-fail 6.12 Never 0 2   ok" in lines


def test_a_second_errno_claim_on_6_12() -> None:
    """latest-errno-wins's one run on 6.12, a host fd on plain ext4 (fs/sync.c syncfs:
    errseq_check_and_advance(&sb->s_wb_err, &f->f_sb_err)): the EIO and then the ENOSPC
    are recorded with nobody looking in between, so errseq_set() replaces the errno
    without a counter bump (lib/errseq.c: the counter moves only when SEEN is set) and
    the first syncfs reports ENOSPC, the second 0.  The kernel's verdict is Always 1 0,
    the claim's expectation for mainline.  (6.1's ext4 records EIO for the ENOSPC, F4:
    the run is not representable there.)"""
    from pathlib import Path

    from typer.testing import CliRunner

    from explorer.app.cli import app

    why = qemu_available()
    if why:
        _unavailable(why)
    claim = Path(__file__).parent.parent / "claims/examples/latest-errno-wins.claim"
    r = CliRunner().invoke(app, ["conform", str(claim), "--kernel", KERNEL, "-j", "1"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "Observation latest-errno-wins mainline Always 1 0   (the model)" in lines
    assert "Observation latest-errno-wins 6.12 Always 1 0   ok" in lines
