"""Ctrl-C: exit 130, one line (`explore: interrupted`), no traceback, no worker left
behind, and on a terminal the cursor that the status line hid is shown again.  SIGTERM
alike (143, `explore: terminated`); a parent killed outright takes its workers along.

Each test starts a run that takes most of a minute (--mounts 3 --depth 12) with the
installed command and interrupts it once it is busy: SIGINT to the main process alone
(kill -INT PID), or to its whole process group (Ctrl-C at a terminal)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explorer.app.progress import ctrl_c_deferred
from explorer.checker.signals import Terminated, stopped, terminate_like_interrupt

EXPLORE = Path(sys.executable).parent / "explore"
BIG = ("--mounts", "3", "--depth", "12")

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_busy(p: subprocess.Popen, jobs: int) -> list[int]:
    """Until the run is under way: its workers forked (-j 2), or a second of CPU spent
    (imports take a third of it); returns the workers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert p.poll() is None, "the run ended before it was interrupted"
        workers = children(p.pid)
        if len(workers) >= jobs if jobs > 1 else cpu_seconds(p.pid) >= 1.0:
            time.sleep(0.5)  # into the tasks
            return workers
        time.sleep(0.05)
    raise AssertionError("the run never got busy")


def assert_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + 10
    for pid in pids:
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived the run"


def end(p: subprocess.Popen) -> None:
    """A run the test gave up on takes its workers with it (its own session)."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


@pytest.mark.parametrize(
    ("jobs", "group"), [(1, False), (2, False), (2, True)], ids=["j1", "j2", "j2-group"]
)
def test_ctrl_c_exits_130_with_one_line(tmp_path: Path, jobs: int, group: bool) -> None:
    p = subprocess.Popen(
        [str(EXPLORE), *BIG, "--quiet", "-j", str(jobs), "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        workers = wait_busy(p, jobs)
        (os.killpg if group else os.kill)(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        end(p)
    assert p.returncode == 130, err
    assert err.splitlines() == ["explore: interrupted"], err
    assert "Traceback" not in err + out
    assert_gone(workers)


@pytest.mark.parametrize("jobs", [1, 2], ids=["j1", "j2"])
def test_ctrl_c_on_a_terminal_shows_the_cursor_again(tmp_path: Path, jobs: int) -> None:
    master, slave = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color"}
    for var in ("NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR"):
        env.pop(var, None)
    p = subprocess.Popen(
        [str(EXPLORE), *BIG, "-j", str(jobs), "--out", str(tmp_path)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""

    def read(until: bytes | None, timeout: float) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while until is None or until not in seen:
            left = deadline - time.monotonic()
            assert left > 0, seen[-500:]
            if not select.select([master], [], [], left)[0]:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other side closed: every process has exited
                return
            if not chunk:
                return
            seen += chunk

    try:
        read(b"\x1b[?25l", 60)  # the status line is up, the cursor hidden
        os.kill(p.pid, signal.SIGINT)
        read(None, 30)
        p.wait(timeout=30)
    finally:
        os.close(master)
        end(p)
    assert p.returncode == 130, seen[-500:]
    assert b"explore: interrupted" in seen and b"Traceback" not in seen
    assert seen.rfind(b"\x1b[?25h") > seen.rfind(b"\x1b[?25l"), seen[-500:]


# --- SIGTERM, and a parent that dies without a word ------------------------------------


def alive(pid: int) -> bool:
    """Running, or stopped: not gone and not a zombie waiting for a reaper (the killed
    parent's orphans are reaped by whoever adopts them, maybe never in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def assert_ended(pids: list[int], within: float) -> None:
    deadline = time.monotonic() + within
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)], "outlived their parent"


@pytest.mark.parametrize("jobs", [1, 2], ids=["j1", "j2"])
def test_sigterm_ends_the_run_like_ctrl_c_with_143(tmp_path: Path, jobs: int) -> None:
    # `kill PID` left both workers of a -j 2 run computing after the parent had gone.
    p = subprocess.Popen(
        [str(EXPLORE), *BIG, "--quiet", "-j", str(jobs), "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        workers = wait_busy(p, jobs)
        os.kill(p.pid, signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    finally:
        end(p)
    assert p.returncode == 143, err
    assert err.splitlines() == ["explore: terminated"], err
    assert "Traceback" not in err + out
    assert_gone(workers)


def test_the_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    p = subprocess.Popen(
        [str(EXPLORE), *BIG, "--quiet", "-j", "2", "--out", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        workers = wait_busy(p, 2)
        assert len(workers) == 2 and all(alive(w) for w in workers)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        assert_ended(workers, within=5)
    finally:
        end(p)
        for w in workers:
            if alive(w):
                os.kill(w, signal.SIGKILL)


ORPHAN = """
import os, sys, time
from explorer.checker.signals import die_with_parent, watch_parent
parent = os.getpid()
child = os.fork()
if child == 0:
    {child}
    time.sleep(60)
    os._exit(0)
print(child, flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize(
    "child",
    ["watch_parent(parent, every=0.05)", "die_with_parent(parent)"],
    ids=["thread", "prctl"],
)
def test_a_worker_ends_with_its_parent_either_way(child: str) -> None:
    """Where the kernel cannot be asked (not Linux), a thread watches the parent."""
    p = subprocess.Popen(
        [sys.executable, "-c", ORPHAN.format(child=child)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert p.stdout is not None
        worker = int(p.stdout.readline())
        time.sleep(0.3)
        assert alive(worker)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        assert_ended([worker], within=3)
    finally:
        end(p)


def test_a_worker_whose_parent_is_already_gone_does_not_start() -> None:
    code = (
        "import os\nfrom explorer.checker.signals import die_with_parent\n"
        "die_with_parent(os.getppid() + 10**6)\nprint('still here')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and r.stdout == ""


def test_sigterm_waits_like_ctrl_c_while_the_status_line_starts() -> None:
    """rich's status line, stopped halfway through its start, keeps the cursor hidden:
    SIGTERM is held back there as Ctrl-C is, then raised as `Terminated`."""
    previous = signal.getsignal(signal.SIGTERM)
    terminate_like_interrupt()
    reached = False
    try:
        with pytest.raises(Terminated):
            with ctrl_c_deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # a signal is handled between two bytecodes
                reached = True
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert reached
    assert stopped(Terminated()) == ("terminated", 143)
    assert stopped(KeyboardInterrupt()) == ("interrupted", 130)
