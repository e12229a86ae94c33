"""The model's options, each off by default: a second errno (ENOSPC), a narrower errseq
counter (--counter-bits K), host fds on a container's upper file (--host-files any).

Every expected result is derived by hand from docs/model.md §3-§4 and the kernel code the
specs cite (the derivation sits next to each); none is copied from the tool's output.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.bridge.model import ErrseqModel
from explorer.bridge.monitors import NoLoss, OpenBefore
from explorer.checker.replay import replay
from explorer.domain import world
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.scenario import ScenarioError, format_run, parse, result_name
from explorer.domain.world import EIO, ENOSPC, NORMAL, VOLATILE, Bounds, Event, World
from explorer.engine.contract import Role
from explorer.engine.search import bfs

runner = CliRunner()


def explore(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def results(text: str, spec: str, counter_bits: int | None = None) -> list[str | None]:
    """The model's results of a scenario under one spec (syscalls only: None for env)."""
    return replay(parse(text), load_spec(spec).with_counter_bits(counter_bits))


def calls(text: str, spec: str, counter_bits: int | None = None) -> list[str]:
    """The results of the fsync/syncfs/mount lines only, in order."""
    sc = parse(text)
    res = replay(sc, load_spec(spec).with_counter_bits(counter_bits))
    return [r for e, r in zip(sc.events, res, strict=True) if e.verb in ("fsync", "syncfs")]


# --- the scenario language -------------------------------------------------------------


def test_the_new_lines_parse_print_and_raise_the_bounds_they_need() -> None:
    sc = parse("open fd1 host ovl2\nwrite fd1\nwberror ovl2 ENOSPC\nwberror host EIO\n")
    assert [str(e) for e in sc.events] == [
        "open fd1 host ovl2",
        "write fd1",
        "wberror ovl2 ENOSPC",
        "wberror host",  # EIO is what `wberror FILE` means: one way to write it
    ]
    assert sc.bounds == Bounds(mounts=2, fds=1, host_fds=1, errnos=(EIO, ENOSPC), host_files="any")
    assert sc.owners == {"fd1": "host"} and sc.files == {"fd1": "ovl2"}
    # a scenario without them keeps the default world
    assert parse("open fd1 host\n").bounds == Bounds(mounts=1, fds=1, host_fds=1)


def test_results_print_and_parse_as_enospc() -> None:
    assert result_name(ENOSPC) == "ENOSPC" and result_name(EIO) == "EIO"
    sc = parse("open fd1 host\nsyncfs fd1 = ENOSPC\n")
    assert sc.events[1].expect == "ENOSPC"


@pytest.mark.parametrize(
    ("text", "token", "reason"),
    [
        ("mount ovl1\nopen fd1 ovl1 ovl2\n", "ovl2", "only the host opens"),
        ("open fd1 host host\n", "host", "the host's own file is 'open FD host'"),
        ("open fd1 host ovl1 ovl2\n", "ovl2", "wrong number of words"),
        ("open fd1 host fd2\n", "fd2", "expected a container name"),
        ("wberror ovl1 EPERM\n", "EPERM", "records EIO or ENOSPC"),
        ("open fd1 host\nsyncfs fd1 = EPERM\n", "EPERM", "0, EIO or ENOSPC"),
        # the host fd holds ovl1's inode: it cannot be evicted
        ("open fd1 host ovl1\nevict ovl1\n", "ovl1", "evict of a held inode: fd1"),
    ],
)
def test_bad_lines_name_the_token_and_the_reason(text: str, token: str, reason: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        parse(text, "x.scn")
    assert exc.value.token == token and reason in exc.value.reason, exc.value


def test_a_host_fd_on_a_container_file_does_not_keep_the_container_mounted() -> None:
    # umount needs the container's own fds closed; the host's fd is on the upper fs.
    sc = parse("mount ovl1\nopen fd1 host ovl1\numount ovl1\nclose fd1\nevict ovl1\n")
    assert results(sc.text(), "mainline") == ["0", "0", "0", "0", None]


def test_runs_name_host_opens_and_errnos_in_the_scenario_language() -> None:
    b = Bounds(2, 1, 1, (EIO, ENOSPC), "any")
    host = b.owner_slots(b.host)[0]
    run = [Event("open", host, ino=1), Event("write", host), Event("wberror", 1, err=ENOSPC)]
    assert [str(e) for e in format_run(b, run)] == [
        "open fd1 host ovl2",
        "write fd1",
        "wberror ovl2 ENOSPC",
    ]


# --- the world --------------------------------------------------------------------------


def test_the_state_holds_the_file_a_host_fd_opened() -> None:
    b = Bounds(2, 1, 1, host_files="any")
    host = b.owner_slots(b.host)[0]
    spec = load_spec("plain")
    w = World(b, b.initial())
    spec.apply(w, Event("open", host, ino=1))
    s = w.freeze()
    assert s[b.fd_base(host)] == 2 + 1  # `open` = 2 + the container's index
    assert b.slot_file(s, host) == 1 and s[b.inode_base(1) + 2] == 1  # ovl2's inode cached
    assert s[b.inode_base(b.host) + 2] == 0  # the host's own file was not opened
    assert world.holds(b, s, 1) and not world.holds(b, s, b.host)
    en = world.enabled(b, s, (NORMAL, VOLATILE))
    assert Event("evict", 1) not in en  # held by the host fd
    # the host's own open keeps `open` = 1, as in every default run
    w = World(b, b.initial())
    spec.apply(w, Event("open", host))
    assert w.freeze()[b.fd_base(host)] == 1


def test_enabled_events_offer_the_options_only_when_asked() -> None:
    default = Bounds(2, 1, 1)
    wide = Bounds(2, 1, 1, (EIO, ENOSPC), "any")
    host = default.owner_slots(default.host)[0]
    s = default.initial()
    assert [e for e in world.enabled(default, s, (NORMAL,)) if e.verb == "open"] == [
        Event("open", host)
    ]
    assert [e for e in world.enabled(wide, s, (NORMAL,)) if e.verb == "open"] == [
        Event("open", host),
        Event("open", host, ino=0),
        Event("open", host, ino=1),
    ]
    w = World(wide, s)
    load_spec("plain").apply(w, Event("open", host))
    load_spec("plain").apply(w, Event("write", host))
    dirty = w.freeze()
    assert [e for e in world.enabled(wide, dirty, (NORMAL,)) if e.verb == "wberror"] == [
        Event("wberror", wide.host, err=EIO),
        Event("wberror", wide.host, err=ENOSPC),
    ]
    assert [e for e in world.enabled(default, dirty, (NORMAL,)) if e.verb == "wberror"] == [
        Event("wberror", default.host)
    ]


def test_host_events_on_a_container_file_are_outside_every_container() -> None:
    b = Bounds(2, 1, 1, host_files="any")
    m = ErrseqModel(load_spec("mainline"), b)
    host = b.owner_slots(b.host)[0]
    for viewer in (0, 1):
        assert m.role(Event("open", host, ino=viewer), viewer) is Role.OUTSIDE
        assert m.role(Event("fsync", host), viewer) is Role.OUTSIDE


# --- a second errno: replayed, hand-derived ----------------------------------------------

LATEST_ERRNO = """\
open fd1 host
write fd1
wberror host
write fd1
wberror host ENOSPC
syncfs fd1
fsync fd1
syncfs fd1
"""


@pytest.mark.parametrize("spec", builtin_names())
def test_the_latest_errno_is_reported(spec: str) -> None:
    # Host fds follow the VFS rules in every spec.  Nobody looks between the errors:
    # EIO gives 0x5, ENOSPC replaces the errno without a bump (SEEN/OBSERVED clear):
    # 0x1c on the inode and the upper sb.  fd1 sampled 0 at open: its syncfs and its
    # fsync each report ENOSPC once.
    assert calls(LATEST_ERRNO, spec) == ["ENOSPC", "ENOSPC", "0"]


def test_a_volatile_fsync_returns_the_upper_errno_and_syncfs_eio() -> None:
    text = "mount ovl1 volatile\nopen fd1 ovl1\nwrite fd1\nwberror ovl1 ENOSPC\nfsync fd1\nsyncfs fd1\n"
    # mainline, v5.11: ovl_fsync returns ovl_sync_status() = errseq_check(upper,
    # ofs->errseq) = -(0x1c & 0xfff) = ENOSPC; ovl_sync_fs turns any negative status
    # into -EIO.  amir: volatile syncfs r = errseq_check(...) = ENOSPC, errseq_set(ovl
    # sb, ENOSPC), then check_and_advance of the ovl sb: ENOSPC.  v5.10: both 0.
    assert calls(text, "mainline") == ["ENOSPC", "EIO"]
    assert calls(text, "v5.11") == ["ENOSPC", "EIO"]
    assert calls(text, "amir") == ["ENOSPC", "ENOSPC"]
    assert calls(text, "v5.10") == ["0", "0"]


def test_errnos_enospc_is_refused_by_a_world_that_does_not_offer_it() -> None:
    b = Bounds(1, 1, 1)
    s = b.initial()
    assert "not explored" in (
        world.why_disabled(b, s, Event("wberror", 0, err=ENOSPC), (NORMAL,)) or ""
    )


# --- a narrower counter: claim 25 replayed --------------------------------------------

# claims/thread/25, as one run: fd2 reports each error; fdA and fdB sample the value
# after E0 was reported (V); fdA syncs after E2, fdB after E4.
WRAP = """\
open fd2 host
write fd2
wberror host
syncfs fd2
open fdA host
open fdB host
write fd2
wberror host
syncfs fd2
write fd2
wberror host
syncfs fd2
syncfs fdA
write fd2
wberror host
syncfs fd2
write fd2
wberror host
syncfs fd2
syncfs fdB
"""


@pytest.mark.parametrize("spec", ["plain", "mainline", "vivek-v3-seen", "amir"])
def test_claim_25_classic_two_bit_counter_false_negative(spec: str) -> None:
    # Classic, K=2 (mask 0x7fff): V = 0x1005; E1..E4 each reported, the counter goes
    # 1, 2, 3 and wraps to 0: after E4's report the value is 0x1005 = V again.  fdA
    # (after E2, value 0x5005) gets EIO; fdB gets 0: the false negative.  Every fd2
    # syncfs reports its error.  At the kernel's width fdB gets EIO.
    assert calls(WRAP, spec, 2) == ["EIO"] * 3 + ["EIO"] + ["EIO"] * 2 + ["0"]
    assert calls(WRAP, spec) == ["EIO"] * 7
    assert calls(WRAP, spec, 3) == ["EIO"] * 7  # 8 values: no wrap in 4 errors


def test_claim_25_split_one_bit_counter_wraps_after_two_errors() -> None:
    # jeff-split, K=2: one counter bit (mask 0x7fff, unit 0x4000).  V = 0x3005; E1
    # 0x4005 -> 0x7005; E2 wraps: 0x0005, reported 0x3005 = V, so fdA gets 0 already;
    # E3, E4 wrap again: fdB 0.  fd2's own syncfs always reports (raw compare with its
    # cursor, which differs in the flags or the counter each time).
    assert calls(WRAP, "jeff-split", 2) == ["EIO"] * 3 + ["0"] + ["EIO"] * 2 + ["0"]
    assert calls(WRAP, "jeff-split") == ["EIO"] * 7


def test_replay_takes_counter_bits(tmp_path) -> None:
    path = tmp_path / "wrap.scn"
    path.write_text(WRAP.replace("syncfs fdB\n", "syncfs fdB = 0\n"))
    assert explore("replay", path, "-s", "plain", "--counter-bits", "2").exit_code == 0
    r = explore("replay", path, "-s", "plain")
    assert r.exit_code == 1 and "stated 0, got EIO under plain" in r.stdout
    r = explore("replay", path, "-s", "plain", "--counter-bits", "1")
    assert r.exit_code == 2 and "--counter-bits 1: must be 2 to 19" in r.stderr


def test_the_width_reaches_every_state_of_a_search() -> None:
    # A run of 16 events can report 4 errors after a first (write, wberror, syncfs each):
    # at the kernel's width the counter reaches 4 (0x9005); with 2 bits it never passes
    # 3 and the states where it would be 4 are states already seen.
    b = Bounds(1, 1, 1)
    full = bfs(ErrseqModel(load_spec("plain"), b, (NORMAL,)), 16)
    narrow = bfs(ErrseqModel(load_spec("plain").with_counter_bits(2), b, (NORMAL,)), 16)
    assert max(max(s) for s in full.states) == 0x9005
    assert all(v <= 0x7FFF for s in narrow.states for v in s)
    assert narrow.n_states < full.n_states


@pytest.mark.slow
def test_explore_applies_counter_bits_to_every_spec_and_reports_it(tmp_path) -> None:
    args = ["-s", "plain", "-s", "jeff-split", "--mounts", "1", "--fds", "1"]
    args += ["--mount-options", "normal", "--depth", "16", "-p", "no-loss", "--no-symmetry"]
    full = json.loads(explore(*args, "--json", "--out", tmp_path / "a").stdout)
    narrow = json.loads(
        explore(*args, "--counter-bits", "2", "--json", "--out", tmp_path / "b").stdout
    )
    assert "counter_bits" not in full["config"] and narrow["config"]["counter_bits"] == 2
    for spec in ("plain", "jeff-split"):
        assert narrow["specs"][spec]["states"] < full["specs"][spec]["states"]


# --- host fds on a container's upper file: the scenarios of claims 7, 15, 19 ----------

# claim 19 (Amir: an overlay fsync can observe an unseen error that predates the
# mount), with the host writing the upper file before the mount.
CLAIM_19 = """\
open fd1 host ovl1
write fd1
wberror ovl1
close fd1
mount ovl1
open fd2 ovl1
fsync fd2
fsync fd2
"""


@pytest.mark.parametrize("spec", builtin_names())
def test_claim_19_host_write_before_the_mount_reaches_the_overlay_fsync(spec: str) -> None:
    # The error is set on ovl1's upper inode (unseen) while unmounted; the inode stays
    # cached after the host's close.  Every spec's normal overlay fsync is the real
    # file's: the real file sampled the unseen inode (0; jeff-split: peek, REPORTED
    # clear, 0), so the first fsync reports EIO and marks it; the second gets 0.
    assert calls(CLAIM_19, spec) == ["EIO", "0"]


# claim 15 (Willy: "someone calls syncfs on /workdir/upperdir/A, gets the EIO"), and
# claim 19's other half: the host opens ovl1's upper file after ovl1 reported it.
CLAIM_15 = """\
mount ovl1
open fd1 ovl1
write fd1
wberror ovl1
fsync fd1
open fd2 host ovl1
fsync fd2
syncfs fd2
syncfs fd2
"""


@pytest.mark.parametrize("spec", builtin_names())
def test_claim_15_host_opens_the_upper_file_after_the_overlay_saw_the_error(spec: str) -> None:
    # ovl1's fsync reports EIO and marks the inode SEEN (jeff-split: REPORTED|OBSERVED).
    # The host's open samples that marked value, so its fsync gets 0; it samples the
    # upper sb, still unmarked in every spec (a fsync marks only the inode, and no
    # mount came after the error), so 0, and its first syncfs gets EIO, the next 0.
    assert calls(CLAIM_15, spec) == ["EIO", "0", "EIO", "0"]


# claim 7 (Jeff: close instead of syncfs, "that error will be lost forever"), with a
# host process that opens ovl1's upper file after ovl2's mount.
CLAIM_7 = """\
mount ovl1
open fd1 ovl1
write fd1
wberror ovl1
close fd1
mount ovl2
open fd2 host ovl1
fsync fd2
syncfs fd2
"""


@pytest.mark.parametrize("spec", builtin_names())
def test_claim_7_a_host_opener_of_the_upper_file_still_gets_the_error(spec: str) -> None:
    # The inode's errseq is unmarked (nobody fsynced it): the host's fsync gets EIO in
    # every spec.  Its syncfs checks the upper sb, which the host samples at open: 0
    # while unmarked, so EIO, except under vivek-v3-seen, whose mount of ovl2 marked the
    # upper sb SEEN (sample then check_and_advance on a throwaway cursor): the host's
    # sample is the marked value and its syncfs returns 0.  (amir's and vivek-v2's
    # mount only sample; v5.11's and mainline's normal mount does nothing.)
    want = ["EIO", "0"] if spec == "vivek-v3-seen" else ["EIO", "EIO"]
    assert calls(CLAIM_7, spec) == want


# --- the monitors count a host fd on a container's file ---------------------------------


def _step_all(mon, model, events: list[Event]):
    s, m, reasons = model.bounds.initial(), mon.initial(), []
    for ev in events:
        t, ret = model.next_state(s, ev)
        m, why = mon.step(m, s, ev, ret)
        reasons.append(why)
        s = t
    return s, m, reasons


def test_open_before_a_host_fd_on_ovl1s_file_owes_fsync_for_that_file_only() -> None:
    b = Bounds(1, 1, 1, host_files="any")
    model = ErrseqModel(load_spec("mainline"), b)
    host = b.owner_slots(b.host)[0]
    opened = [Event("mount", 0), Event("open", host, ino=0), Event("open", 0), Event("write", 0)]
    fsync_duty = OpenBefore(model, "fsync")
    syncfs_duty = OpenBefore(model, "syncfs")
    # an error on ovl1's file: the host fd on it owes both an fsync and a syncfs error
    _, m, _ = _step_all(fsync_duty, model, [*opened, Event("wberror", 0)])
    assert m == (1 << host) | (1 << 0)
    _, m, _ = _step_all(syncfs_duty, model, [*opened, Event("wberror", 0)])
    assert m == (1 << host) | (1 << 0)
    # an error on the host's own file: the host fd (on ovl1's file) owes a syncfs
    # error (its filesystem is the whole upper fs) but no fsync error
    own = [Event("mount", 0), Event("open", host, ino=0), Event("open", 0), Event("write", host)]
    _, m, _ = _step_all(fsync_duty, model, [*own, Event("wberror", b.host)])
    assert m == 0
    _, m, _ = _step_all(syncfs_duty, model, [*own, Event("wberror", b.host)])
    assert m == 1 << host


def test_no_loss_a_host_fsync_on_ovl1s_file_reports_ovl1s_error() -> None:
    b = Bounds(1, 1, 1, host_files="any")
    model = ErrseqModel(load_spec("mainline"), b)
    host = b.owner_slots(b.host)[0]
    mon = NoLoss(model)
    run = [Event("open", host, ino=0), Event("write", host), Event("wberror", 0)]
    s, m, _ = _step_all(mon, model, run)
    assert m == 1 << 0  # ovl1's file has an unreported error
    assert mon.fsync_reports(s, 0)  # the open host fd on it is a channel
    s2, m2, _ = _step_all(mon, model, [*run, Event("fsync", host)])
    assert m2 == 0  # its EIO reported ovl1's error, not the host file's


def test_diff_takes_the_model_options_and_says_so() -> None:
    # mainline and v5.11 differ only in the overlay sb's errseq, which no syscall shows
    # (docs/conformance.md F3), whatever the options.
    r = explore("diff", "mainline", "v5.11", "--host-files", "any", "--errnos", "EIO,ENOSPC",
                "--counter-bits", "4", "--depth", "4")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "errnos EIO,ENOSPC, 4-bit errseq counter, host fds on any upper file" in r.stdout
    r = explore("diff", "mainline", "amir", "--host-files", "any", "--depth", "4", "--json")
    doc = json.loads(r.stdout)
    assert doc["host_files"] == "any" and "errnos" not in doc and "counter_bits" not in doc
