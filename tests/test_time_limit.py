"""A spec's hook, or a property's method, that runs away is stopped after its time limit
(EXPLORE_HOOK_TIME_LIMIT seconds of CPU time per call, 10 by default) with exit 2 and
one line naming spec, file:line, hook and event, in every command and in the workers;
nothing is done per call, and a hook slow only on the clock is never stopped."""

from __future__ import annotations

import signal
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.checker import timelimit
from explorer.checker.timelimit import (
    DEFAULT_SECONDS,
    ENV,
    arm,
    armed,
    limit_from_environment,
    time_limit,
    user_call,
)
from explorer.domain.steps import MAX_ACCESSES

runner = CliRunner()
LIMIT = "0.2"
STOPPED = (
    "TimeLimitExceeded: one call ran more than 0.2 s of CPU time (EXPLORE_HOOK_TIME_LIMIT "
    "sets the limit in seconds, 0 for none)"
)
TINY = ["--mounts", "1", "--fds", "1", "--host-fds", "0", "--depth", "4", "-q"]


@pytest.fixture(autouse=True)
def short_limit(monkeypatch):
    monkeypatch.setenv(ENV, LIMIT)


def explore(*args: str, **kw):
    return runner.invoke(app, list(args), **kw)


def one_error_line(r) -> str:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith("explore: error: ")
    return line


def spec_file(tmp_path: Path, body: str, name: str = "loops") -> Path:
    path = tmp_path / f"{name}.py"
    head = (
        "import time\n\nfrom explorer.domain.vfs import Spec\n\n\n"
        f"class Loops(Spec):\n    name = {name!r}\n    overlay = True\n\n"
    )
    path.write_text(head + textwrap.indent(textwrap.dedent(body), "    "))
    return path


def line_of(path: Path, marker: str = "# here") -> int:
    return next(n for n, t in enumerate(path.read_text().splitlines(), 1) if marker in t)


# One line, so that wherever the loop is interrupted its line is the one named.
LOOPING_FSYNC = """
def ovl_fsync(self, w, ofs, f):
    while True: pass  # here
"""


def test_a_looping_hook_ends_the_main_job_naming_spec_hook_and_event(tmp_path) -> None:
    path = spec_file(tmp_path, LOOPING_FSYNC)
    line = one_error_line(explore("-s", str(path), *TINY, "--out", str(tmp_path / "o")))
    assert line == (
        f"explore: error: spec loops ({path}:{line_of(path)}), hook ovl_fsync, "
        f"event 'fsync' by ovl1 (fd slot 1): {STOPPED}"
    )
    # The watchdog is the command's: the timer and the handler before it are back.
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert armed() is None


def test_in_a_worker_too(tmp_path) -> None:
    path = spec_file(tmp_path, LOOPING_FSYNC)
    args = ["-s", "plain", "-s", str(path), "-s", "amir", "-j", "2", "--mounts", "2"]
    r = explore(*args, "--depth", "5", "-q", "--out", str(tmp_path / "o"))
    assert one_error_line(r).endswith(
        f"spec loops ({path}:{line_of(path)}), hook ovl_fsync, event 'fsync' by ovl1 "
        f"(fd slot 1): {STOPPED}"
    )


def test_in_replay_and_diff(tmp_path) -> None:
    path = spec_file(tmp_path, LOOPING_FSYNC)
    scn = tmp_path / "s.scn"
    scn.write_text("mount ovl1\nopen fd1 ovl1\nfsync fd1\n")
    replayed = one_error_line(explore("replay", str(scn), "-s", "plain", "-s", str(path)))
    assert replayed.endswith(f"hook ovl_fsync, event 'fsync' by ovl1 (fd slot 1): {STOPPED}")
    diffed = one_error_line(explore("diff", "plain", str(path), *TINY[:-1]))
    assert diffed.endswith(f"hook ovl_fsync, event 'fsync' by ovl1 (fd slot 1): {STOPPED}")


RACES = ["--races", "--threads", "2", "--mounts", "1", "--depth", "4"]
RACE_RUN = "ovl1.1: mount ovl1\novl1.1: open fd1 ovl1\novl1.1: fsync fd1\n"


@pytest.mark.slow
def test_with_races_the_hook_run_again_for_each_step_is_stopped_too(tmp_path) -> None:
    """With --races a hook runs again from its start for each step of its call: the
    run that loops is stopped in explore, replay and diff alike."""
    path = spec_file(tmp_path, LOOPING_FSYNC)
    scn = tmp_path / "r.scn"
    scn.write_text(RACE_RUN)
    tail = f"({path}:{line_of(path)}), hook ovl_fsync, event 'fsync' by ovl1 (fd slot 1): {STOPPED}"
    for args in (
        ["-s", str(path), *RACES, "-q", "--out", str(tmp_path / "o")],
        ["replay", "--races", str(scn), "-s", "mainline", "-s", str(path)],
        ["diff", "mainline", str(path), *RACES],
    ):
        assert one_error_line(explore(*args)).endswith(tail), args


SPINNING_FSYNC = """
def ovl_fsync(self, w, ofs, f):
    while w.inode(f.ino).wb_err != -1: pass  # here
"""


@pytest.mark.slow
def test_with_races_a_hook_spinning_on_a_shared_field_is_stopped(tmp_path) -> None:
    """Each read of a shared field ends a step, so no run of the hook lasts: the call is
    stopped after MAX_ACCESSES accesses (the same hook without races meets the time
    limit).  The replay used to report it as a step that has to wait."""
    path = spec_file(tmp_path, SPINNING_FSYNC, name="spins")
    scn = tmp_path / "r.scn"
    scn.write_text(RACE_RUN)
    tail = (
        f"spec spins ({path}:{line_of(path)}), hook ovl_fsync, event 'fsync' by ovl1 (fd "
        f"slot 1): StepLimitExceeded: the call made {MAX_ACCESSES} shared accesses without "
        "returning (a loop over shared fields that never ends?)"
    )
    for args in (
        ["-s", str(path), *RACES, "-q", "--out", str(tmp_path / "o")],
        ["replay", "--races", str(scn), "-s", "mainline", "-s", str(path)],
        ["diff", "mainline", str(path), *RACES],
    ):
        assert one_error_line(explore(*args)).endswith(tail), args
    atomic = one_error_line(explore("-s", str(path), *TINY, "--out", str(tmp_path / "a")))
    assert atomic.endswith(f"(fd slot 1): {STOPPED}")


def test_an_except_exception_in_the_loop_does_not_swallow_it(tmp_path) -> None:
    path = spec_file(
        tmp_path,
        """
        def ovl_fill_super(self, w, ofs):
            while True:  # here
                try: pass
                except Exception: pass
        """,
    )
    line = one_error_line(explore("-s", str(path), *TINY, "--out", str(tmp_path / "o")))
    assert f"hook ovl_fill_super, event 'mount' by ovl1: {STOPPED}" in line


def test_a_looping_property_method_is_named_too(tmp_path) -> None:
    prop = tmp_path / "spin.py"
    prop.write_text(
        "from explorer.bridge.user_property import Property\n\n\n"
        "class Spin(Property):\n    name = 'spin'\n\n"
        "    def step(self, m, event, world):\n"
        "        while event.verb == 'fsync': pass\n"
        "        return m, ''\n"
    )
    r = explore("-s", "plain", "-p", str(prop), *TINY, "--out", str(tmp_path / "o"))
    assert one_error_line(r) == (
        f"explore: error: property spin ({prop}:8), step, event 'fsync by ovl1 (fd slot 0) "
        f"= 0': {STOPPED}"
    )


def test_a_spec_file_that_loops_while_it_loads(tmp_path) -> None:
    path = tmp_path / "hangs.py"
    path.write_text("import itertools\n\nfor _ in itertools.count(): pass\n")
    line = one_error_line(explore("-s", str(path), *TINY, "--out", str(tmp_path / "o")))
    assert f"{path}, line 3: {STOPPED}" in line


def test_a_hook_slow_only_on_the_clock_is_not_stopped(tmp_path) -> None:
    """CPU time, not the clock: a loaded machine, or a run stopped with Ctrl-Z, must not
    fail a correct spec.  This hook sleeps three times the limit and spends nothing."""
    path = spec_file(
        tmp_path,
        """
        def ovl_fill_super(self, w, ofs):
            time.sleep(0.6)
            return 0
        """,
    )
    scn = tmp_path / "s.scn"
    scn.write_text("mount ovl1 = 0\n")
    r = explore("replay", str(scn), "-s", str(path))
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("value", ["abc", "-1", "inf", "nan"])
def test_a_bad_limit_is_one_line_naming_the_variable(tmp_path, monkeypatch, value) -> None:
    monkeypatch.setenv(ENV, value)
    line = one_error_line(explore("specs"))
    assert line.startswith(f"explore: error: {ENV}={value}: give the seconds of CPU time")


def test_the_limit_the_environment_sets(monkeypatch) -> None:
    for given, seconds in [("", DEFAULT_SECONDS), (" 2.5 ", 2.5), ("0", None), ("1e-3", 0.001)]:
        monkeypatch.setenv(ENV, given)
        assert limit_from_environment() == seconds
    monkeypatch.delenv(ENV)
    assert limit_from_environment() == DEFAULT_SECONDS == 10.0


def test_no_limit_installs_nothing_and_the_block_restores_what_was_there() -> None:
    before = signal.getsignal(signal.SIGALRM)
    with time_limit(None):
        assert signal.getsignal(signal.SIGALRM) is before and armed() is None
    with time_limit(5):
        assert armed() == 5 and signal.getitimer(signal.ITIMER_REAL)[1] == pytest.approx(1.25)
        with time_limit(1):
            assert armed() == 1
        assert armed() == 5 and signal.getitimer(signal.ITIMER_REAL)[1] == pytest.approx(1.25)
    assert signal.getsignal(signal.SIGALRM) is before and armed() is None
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_only_a_users_file_is_a_call_to_watch(monkeypatch) -> None:
    """The watchdog looks only at frames of a user's files: the tool's own code, however
    long it runs (a search of hours), is never stopped."""
    import sys

    frame = sys._getframe()
    assert user_call(frame) is None
    fake = type(sys)("errseq_user_spec_123")
    exec(
        compile("import sys\ndef f():\n    return sys._getframe()\n", "x.py", "exec"), fake.__dict__
    )
    inner = fake.f()
    assert user_call(inner) is inner
    assert timelimit.USER_MODULES == ("errseq_user_spec_", "errseq_user_property_")


def test_arm_outside_the_main_thread_does_nothing() -> None:
    import threading

    done: list[bool] = []
    t = threading.Thread(target=lambda: done.append(arm(1.0)))
    t.start()
    t.join()
    assert done == [False] and armed() is None
