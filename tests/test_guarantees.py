"""open-before and no-loss (docs/model.md §5) on runs derived by hand, step by step.

Notation as in tests/test_specs_timelines.py: errseq values in hex, an unseen EIO is
0x5 and a seen one 0x1005; "upper" is upper.s_wb_err, "ino(X)" X's file's wb_err,
f_wb / f_sb an fd's fsync / syncfs cursors, C&A check_and_advance.
"""

from __future__ import annotations

from pathlib import Path

from explorer.bridge.model import ErrseqModel
from explorer.bridge.monitors import NoLoss, OpenBefore
from explorer.checker.replay import run as replay_run
from explorer.domain.catalog import load_spec
from explorer.domain.scenario import parse, world_event
from explorer.domain.world import Bounds, Event
from explorer.engine.properties import safety
from explorer.engine.search import bfs
from explorer.render.timeline import scenario_text

HOST_BLIND = str(Path(__file__).with_name("host_blind_spec.py"))


def monitor_run(mon_of, spec_name: str, text: str):
    """Replay `text` under the spec and follow it with the monitor `mon_of(model)`:
    (monitor, bookkeeping per event, what it says of each step or state, last state)."""
    sc = parse(text, "<test>")
    spec = load_spec(spec_name)
    rr = replay_run(sc, spec)
    assert not rr.skipped, rr.skipped
    model = ErrseqModel(spec, sc.bounds)
    mon = mon_of(model)
    m, s, slots = mon.initial(), sc.bounds.initial(), {}
    marks, says = [], []
    for e, t, r in zip(sc.events, rr.states, rr.results, strict=True):
        ev = world_event(sc, e, slots, s)
        if e.verb == "open":
            slots[e.fd] = ev.arg
        m, why = mon.step(m, s, ev, None if r is None else (0 if r == "0" else -5))
        if not why and hasattr(mon, "after"):
            why = mon.after(m, t)
        marks.append(m)
        says.append(why)
        s = t
    return mon, marks, says, s


# --- open-before: who owes what when an error is recorded ----------------------------

DUTIES = """
mount ovl1
open fd1 ovl1    # slot 0 (ovl1's only fd)
open fd2 host    # slot 1 (host fds come after every container's)
write fd1
write fd2
wberror ovl1
syncfs fd2       # writes back every file
write fd2
wberror host
"""


def test_a_host_fd_owes_syncfs_for_a_container_files_error_but_not_fsync():
    # docs/model.md §5: the errors a syncfs must report are those of the fd's filesystem:
    # every file for a host fd (the whole upper fs), the container's own for its fd;
    # fsync owes only the fd's own file.  The scenario's bounds: 1 container with 1 fd,
    # 1 host fd.
    def duties(call):
        return monitor_run(lambda m: OpenBefore(m, call), "plain", DUTIES)[1]

    sc = parse(DUTIES, "<test>")
    assert sc.bounds == Bounds(mounts=1, fds=1, host_fds=1)
    ovl1, host = 1 << 0, 1 << 1
    syncfs, fsync = duties("syncfs"), duties("fsync")
    # wberror ovl1 (event 6): both fds are open.  syncfs: ovl1's fd (its own file) and
    # the host's fd (ovl1's file is on the upper fs).  fsync: ovl1's fd only.
    assert syncfs[5] == ovl1 | host
    assert fsync[5] == ovl1
    # syncfs fd2 (event 7) pays the host's syncfs duty (plain: C&A(0x5, 0) -> EIO).
    assert syncfs[6] == ovl1
    # wberror host (event 9): the host's file is not in ovl1's overlay; both duties of
    # the host's fd are owed.
    assert syncfs[8] == ovl1 | host
    assert fsync[8] == ovl1 | host
    assert not any(monitor_run(lambda m: OpenBefore(m, "syncfs"), "plain", DUTIES)[2])


def test_a_host_syncfs_blind_to_container_files_fails_open_before_syncfs():
    # tests/host_blind_spec.py records a container file's error in its inode and its
    # overlay sb only, never in upper, so a host syncfs misses it.  Shortest run, by hand
    # (1 container, 1 fd, 1 host fd): the host's fd must be open when the error is
    # recorded, and the error needs dirty data, which only ovl1's fd can write:
    #   mount ovl1; open fd1 ovl1; open fd2 host   (f_sb = sample(upper 0) = 0)
    #   write fd1; wberror ovl1                    (ino(ovl1) 0x5, ovl1 sb 0x5, upper 0)
    #   syncfs fd2 = 0                             (C&A(upper 0, 0) -> 0: the duty unpaid)
    # Six events; no shorter run exists (each is needed), and the host's own file's
    # errors are reported correctly (upper is set for them), so this is the only kind
    # of witness.  open-before-fsync holds: every fsync is the plain VFS one.
    b = Bounds(mounts=1, fds=1, host_fds=1)
    model = ErrseqModel(load_spec(HOST_BLIND), b)
    ex = bfs(model, 7)
    v = safety.check(ex, OpenBefore(model, "syncfs"), model)
    assert not v.holds and v.length == 6
    assert scenario_text(b, v.witness).splitlines() == [
        "mount ovl1 = 0",
        "open fd1 ovl1",
        "open fd2 host",
        "write fd1",
        "wberror ovl1",
        "syncfs fd2 = 0",
    ]
    assert safety.check(ex, OpenBefore(model, "fsync"), model).holds


# --- no-loss: each unreported error judged on its own -------------------------------

HOST_ERROR_LOST = """
mount ovl1      # vivek-v3-seen: sample(upper 0) = 0, C&A(0, 0): upper stays 0
open fd1 ovl1   # ino(ovl1) cached, f_wb = 0, f_sb = sample(upper 0) = 0
write fd1
close fd1       # ino(ovl1) stays cached, dirty
open fd2 host
write fd2
close fd2       # ino(host) cached, dirty, held by nobody
wberror host    # ino(host) 0x5, upper 0x5; the page is dropped: clean
evict host      # ino(host) and its 0x5 are gone
wberror ovl1    # ino(ovl1) 0x5; upper: set(0x5) is an unseen repeat: stays 0x5
mount ovl2      # sample(0x5) = 0, C&A(0x5, 0): upper 0x1005 (SEEN), nobody told
"""


def test_a_lost_host_error_is_a_loss_even_while_a_container_error_is_reportable():
    """vivek-v3-seen, 11 events, one host fd: the host file's error is lost.

    Nobody was told of either error: no syncfs or fsync ran.  After `mount ovl2`:
    - syncfs: no fd is open; a fresh open samples upper 0x1005 (ovl1, ovl2: vivek-v3's
      ovl_open samples upper; the host: the VFS does), so C&A(0x1005, 0x1005) -> 0
      everywhere.  No syncfs channel is left.
    - the host file's error: no fd of it is open; a fresh host open brings its inode
      back with wb_err 0 (evicted), f_wb = 0, fsync C&A(0, 0) -> 0.  Lost.
    - ovl1's file's error: a fresh open in ovl1 (normal: fsync is the real file's)
      samples ino(ovl1) 0x5 unseen -> f_wb = 0, fsync C&A(0x5, 0) -> EIO; so does a host
      open of ovl1's upper file.  Still reportable.
    Before that mount, upper 0x5 is unseen: a fresh syncfs anywhere returns EIO, so no
    earlier state is a loss.  Judging the pending errors together ("is any of them
    reportable?") accepts this state because of ovl1's error; docs/model.md §5 judges each.
    No shorter run does this with 2 containers and 1 host fd: the error kept only by
    fsync needs its fd closed (an open fd's older syncfs cursor would report every
    error), the lost one needs close and evict, and the one mount that marks upper SEEN
    must follow both errors (a later error on a SEEN upper makes it unseen again).
    """
    mon, marks, says, s = monitor_run(NoLoss, "vivek-v3-seen", HOST_ERROR_LOST)
    b = mon.model.bounds
    ovl1, host = 1 << 0, 1 << b.host
    assert s[0] == 0x1005
    assert marks[-1] == ovl1 | host  # both errors recorded, neither reported
    assert not any(says[:-1])
    assert says[-1] == "an error on the host's file, never reported, can no longer be reported"
    assert not mon.syncfs_reports(s)
    assert mon.fsync_reports(s, 0) and not mon.fsync_reports(s, b.host)
    assert mon.lost(s, ovl1) is None  # ovl1's error alone would not be a loss


ONLY_THE_HOST_CAN_TELL = """
mount ovl1 volatile   # vivek-v3-seen: upper 0 stays 0
open fd1 ovl1         # f_wb = 0, f_sb = sample(upper 0) = 0
write fd1
close fd1
wberror ovl1          # ino(ovl1) 0x5, upper 0x5
mount ovl2            # upper 0x1005 (SEEN), nobody told
"""


def test_a_container_error_only_a_host_open_of_its_upper_file_can_report():
    """vivek-v3-seen: ovl1's error survives only through the host.

    After `mount ovl2` (no fd open, ovl1's error never reported):
    - syncfs: fresh opens in ovl1, ovl2 and the host sample upper 0x1005, and
      C&A(0x1005, 0x1005) -> 0 (ovl1's volatile syncfs skips the upper sync, then the
      same C&A).
    - fsync in ovl1: a volatile overlay's fsync returns 0 without syncing (v5.10 rules,
      which the Dec 2020 proposals build on).
    - fsync by the host of ovl1's upper file (`upperdir/file`, a plain VFS open of that
      inode): f_wb = sample(ino(ovl1) 0x5) = 0, C&A(0x5, 0) -> EIO.
    So the state is not a loss, and only thanks to the host channel.  The scenario has no
    host fd (its bounds say 0 host fds): the host counts whatever --host-fds says.
    """
    mon, marks, says, s = monitor_run(NoLoss, "vivek-v3-seen", ONLY_THE_HOST_CAN_TELL)
    b = mon.model.bounds
    assert b.host_fds == 0
    assert marks[-1] == 1 << 0 and not any(says)
    assert not mon.syncfs_reports(s)
    assert mon.fresh_call(s, 0, 0, "fsync") == 0  # ovl1's own fresh open
    assert mon.fresh_call(s, b.host, 0, "fsync") == -5  # the host's open of ovl1's file
    # The same state with ovl1's inode evicted has no channel left: a loss.
    w = list(s)
    w[b.inode_base(0) : b.inode_base(0) + 3] = (0, 0, 0)
    assert mon.lost(tuple(w), 1 << 0) == 0


def test_vivek_v3_seen_with_a_host_fd_loses_the_host_files_error_in_six_events():
    # With one host fd the shortest loss is the host's own (docs/model.md's default bounds):
    # open, write, close, wberror host (ino(host) 0x5, upper 0x5), evict host, and an
    # overlay mount marking upper 0x1005 SEEN (the last two in either order).  Every
    # fresh syncfs then samples 0x1005 -> 0 and the host's fresh fsync starts from an
    # evicted inode -> 0.  Five events cannot do it: the error needs open, write and
    # wberror, its channels need the evict (so a close) and the SEEN-marking mount.
    b = Bounds(mounts=2, fds=2, host_fds=1)
    model = ErrseqModel(load_spec("vivek-v3-seen"), b)
    v = safety.check(bfs(model, 8), NoLoss(model), model)
    assert not v.holds and v.length == 6
    assert v.reason == "an error on the host's file, never reported, can no longer be reported"
    verbs = [(st.action.verb, b.actor(st.action)) for st in v.witness]
    assert verbs[:4] == [("open", b.host), ("write", b.host), ("close", b.host), ("wberror", -1)]
    assert sorted(verbs[4:]) == [("evict", -1), ("mount", 0)]
    assert v.witness[3].action == Event("wberror", b.host)
