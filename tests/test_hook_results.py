"""What a hook returns is checked against what the kernel function it is named after
returns (`RESULTS`): an errno is honoured where that function can fail (ovl_open's
fails the open: no fd), a value is refused where it is void (mapping_set_error,
generic_shutdown_super), each refusal one line naming spec, file:line, hook and event
(exit 2)."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.bridge.model import ErrseqModel
from explorer.bridge.monitors import NoLoss
from explorer.domain.hookerror import ERRNO, OPEN, VOID
from explorer.domain.vfs import EIO, HOOKS, RESULTS, Spec
from explorer.domain.world import Bounds, Event
from explorer.engine.search import bfs

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
TINY = ["--mounts", "1", "--fds", "1", "--host-fds", "1", "--depth", "4", "-q"]


def explore(*args: str, **kw):
    return runner.invoke(app, list(args), **kw)


def spec_file(tmp_path: Path, body: str, name: str = "bad") -> Path:
    path = tmp_path / f"{name}.py"
    head = (
        "from explorer.domain.vfs import EIO, Spec\n\n\n"
        f"class Bad(Spec):\n    name = {name!r}\n    overlay = True\n\n"
    )
    path.write_text(head + textwrap.indent(textwrap.dedent(body), "    "))
    return path


def one_error_line(r) -> str:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith("explore: error: ")
    return line


def def_line(path: Path, hook: str) -> int:
    return next(n for n, t in enumerate(path.read_text().splitlines(), 1) if f"def {hook}(" in t)


# --- the table --------------------------------------------------------------------------


def dispatched() -> set[str]:
    """The hooks `Spec.apply` calls: the names it hands to `_hook`, read from its source."""
    tree = ast.parse((ROOT / "explorer" / "domain" / "vfs.py").read_text())
    return {
        call.args[2].value
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "_hook"
        and isinstance(call.args[2], ast.Constant)
    }


def test_every_hook_the_dispatcher_calls_has_its_kernel_result() -> None:
    assert dispatched() == set(RESULTS) and set(RESULTS) <= set(HOOKS)
    # int functions that can fail; the two void ones (fs/super.c, include/linux/pagemap.h)
    assert {h for h, (kind, _) in RESULTS.items() if kind == VOID} == {
        "mapping_set_error",
        "generic_shutdown_super",
    }
    assert {h for h, (kind, _) in RESULTS.items() if kind == OPEN} == {"vfs_open", "ovl_open"}
    assert {h for h, (kind, _) in RESULTS.items() if kind == ERRNO} == {
        "ovl_fill_super",
        "vfs_fsync",
        "ovl_fsync",
        "vfs_syncfs",
        "sys_syncfs",
    }


# --- an open that fails -----------------------------------------------------------------


class FailsOpenOnError(Spec):
    """ovl_open returns EIO while the upper sb holds an error (the kernel's ovl_open
    returns an errno when opening the real file fails)."""

    name = "fails-open-on-error"
    overlay = True

    def ovl_open(self, w, ofs, f):
        if w.sb.s_wb_err.value:
            return EIO
        return super().ovl_open(w, ofs, f)


def test_an_open_hook_errno_fails_the_open_and_leaves_no_fd() -> None:
    spec, b = FailsOpenOnError(), Bounds(1, 1, 1)
    model = ErrseqModel(spec, b)
    s, ret = model.next_state(b.initial(), Event("mount", 0))
    assert ret == 0
    s, ret = model.next_state(s, Event("open", 0))  # no error yet: opens
    assert ret == 0 and s[b.fd_base(0)] == 1
    s, _ = model.next_state(s, Event("write", 0))
    s, _ = model.next_state(s, Event("close", 0))
    s, _ = model.next_state(s, Event("wberror", 0, err=EIO))
    t, ret = model.next_state(s, Event("open", 0))
    assert ret == EIO
    assert t[b.fd_base(0) : b.fd_base(0) + 3] == (0, 0, 0)  # the slot stays free
    assert Event("fsync", 0) not in model.actions(t) and Event("open", 0) in model.actions(t)
    # The lookup before ->open brought the inode into the cache (its wb_err exists).
    assert t[b.inode_base(0) + 2] == 1


def test_a_failed_open_is_the_same_cached_or_stepped_directly() -> None:
    def graph(cache: bool):
        ex = bfs(ErrseqModel(FailsOpenOnError(), Bounds(2, 1, 1), cache=cache), 7)
        return ex.states, ex.action, ex.obs, ex.dst

    cached = graph(True)
    assert cached == graph(False)
    assert EIO in [o for o, a in zip(cached[2], cached[1], strict=True) if a.verb == "open"]


def test_replay_shows_the_failed_open_and_why_the_fd_lines_are_skipped(tmp_path) -> None:
    path = tmp_path / "fails.py"
    path.write_text(
        "from explorer.domain.vfs import EIO, Spec\n\n\n"
        "class F(Spec):\n    name = 'fails-open'\n    overlay = True\n\n"
        "    def ovl_open(self, w, ofs, f):\n"
        "        return EIO if w.sb.s_wb_err.value else self.vfs_open(w, f)\n"
    )
    text = "mount ovl1\nopen fd1 ovl1\nwrite fd1\nwberror ovl1\nopen fd2 ovl1\nfsync fd2\n"
    r = explore("replay", "-", "-s", "plain", "-s", str(path), "--json", input=text)
    assert r.exit_code == 0, r.output
    events = json.loads(r.stdout)["scenarios"][0]["events"]
    assert events[4]["results"] == {"plain": "0", "fails-open": "EIO"}
    assert events[5]["results"] == {"plain": "EIO", "fails-open": "skipped"}
    assert events[5]["skipped"] == {
        "fails-open": "fd2 is not open: its open on line 5 returned EIO"
    }
    # Stated as the spec gives it, the fsync that cannot follow is the file's own doing.
    stated = text.replace("open fd2 ovl1", "open fd2 ovl1 = EIO")
    bad = explore("replay", "-", "-s", str(path), input=stated)
    assert one_error_line(bad).endswith(
        "<stdin>:6: 'fsync fd2': event cannot happen: fd2 is not open: its open on line 5 "
        "returned EIO"
    )
    # Stated 0, the open is the finding and the fsync is listed as skipped (exit 1).
    wrong = text.replace("open fd2 ovl1", "open fd2 ovl1 = 0")
    r = explore("replay", "-", "-s", str(path), input=wrong)
    assert r.exit_code == 1, r.output
    assert "<stdin>:5: open fd2 ovl1: stated 0, got EIO under fails-open" in r.stdout


FAILS_OPEN = (
    "from explorer.domain.vfs import EIO, Spec\n\n\n"
    "class F(Spec):\n    name = 'fails-open'\n    overlay = True\n\n"
    "    def ovl_open(self, w, ofs, f):\n"
    "        return EIO if w.sb.s_wb_err.value else self.vfs_open(w, f)\n"
)


def test_with_races_a_failed_open_leaves_no_fd_either(tmp_path) -> None:
    """The open's last step returns the errno: the spec's run stops at the fd's next
    line, with the reason, as `explore replay` skips it (the fsync used to run on the
    empty slot and return 0)."""
    path = tmp_path / "fails.py"
    path.write_text(FAILS_OPEN)
    text = (
        "ovl1.1: mount ovl1\novl1.1: open fd1 ovl1\novl1.1: write fd1\nenv: wberror ovl1\n"
        "ovl1.1: open fd2 ovl1\novl1.1: fsync fd2\n"
    )
    r = explore("replay", "--races", "-", "-s", "plain", "-s", str(path), input=text)
    assert r.exit_code == 0, r.output
    rows = [ln.split() for ln in r.stdout.splitlines()[1:7]]
    assert rows[4] == ["ovl1.1:", "open", "fd2", "ovl1", "0", "EIO", "*"]
    assert rows[5] == ["ovl1.1:", "fsync", "fd2", "EIO"]  # plain's alone
    assert "fails-open: stopped at line 6: fd2 is not open: its open on line 5 returned EIO" in (
        r.stdout
    )
    stated = text.replace("open fd2 ovl1", "open fd2 ovl1 = EIO")
    bad = explore("replay", "--races", "-", "-s", str(path), input=stated)
    assert one_error_line(bad).endswith(
        "<stdin>:6: 'ovl1.1': under every spec: fd2 is not open: its open on line 5 returned EIO"
    )


@pytest.mark.parametrize("races", [False, True])
def test_a_witness_states_the_failed_open_and_replays_to_it(tmp_path, races) -> None:
    """A failed open is a result a line shows (`open fd1 ovl1 = EIO`), in the timeline
    and in the run written out, so that replaying the witness gives the same results
    (the open's errno is what tells the spec from plain here)."""
    path = tmp_path / "fails.py"
    path.write_text(FAILS_OPEN.replace("w.sb.s_wb_err.value", "True"))
    out = tmp_path / "o"
    flags = ["--races"] if races else []
    bounds = ["--mounts", "1", "--fds", "1", "--host-fds", "0", "--depth", "3", "-q"]
    r = explore("-s", str(path), *flags, *bounds, "-p", "agreement", "--out", str(out))
    assert r.exit_code == 1, r.output
    witness = (out / "fails-open" / "agreement.txt").read_text()
    run = witness.split("As a ")[1]
    assert "open fd1 ovl1 = EIO" in run.replace("ovl1.1: ", "")
    replayed = explore("replay", *flags, str(out / "fails-open" / "agreement.txt"), "-s", str(path))
    assert replayed.exit_code == 0, replayed.output
    assert "all hold" in replayed.stdout


def test_no_loss_does_not_count_a_fresh_open_that_fails_as_a_channel() -> None:
    """no-loss probes a fresh open's syncfs: when the spec fails that open, no syncfs
    happens there (docs/model.md §5)."""
    b = Bounds(1, 1, 0)
    plain_overlay = type("Overlay", (Spec,), {"name": "overlay", "overlay": True})()
    for spec, reported in ((plain_overlay, EIO), (FailsOpenOnError(), 0)):
        model = ErrseqModel(spec, b)
        s = b.initial()
        for ev in (Event("mount", 0), Event("open", 0), Event("write", 0), Event("close", 0)):
            s, _ = model.next_state(s, ev)
        s, _ = model.next_state(s, Event("wberror", 0, err=EIO))
        assert NoLoss(model).fresh_call(s, 0, 0, "syncfs") == reported


# --- values refused -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('"oops"', "'oops' (str)"),
        ("1", "1 (int)"),
        ("True", "True (bool)"),
        ("-4096", "-4096 (int)"),
    ],
)
def test_an_open_hook_returns_0_nothing_or_an_errno(tmp_path, value, shown) -> None:
    path = spec_file(tmp_path, f"def ovl_open(self, w, ofs, f):\n    return {value}\n")
    line = one_error_line(explore("-s", str(path), *TINY, "--out", str(tmp_path / "o")))
    assert line.endswith(
        f"spec bad ({path}:{def_line(path, 'ovl_open')}), hook ovl_open, event 'open' by ovl1 "
        f"(fd slot 1): returned {shown}; an open returns 0 (or nothing) or a negative errno "
        "in [-4095, -1]"
    )


@pytest.mark.parametrize(
    ("hook", "body", "event", "kernel"),
    [
        (
            "mapping_set_error",
            "def mapping_set_error(self, w, ino, err):\n"
            "    Spec.mapping_set_error(self, w, ino, err)\n    return err\n",
            "event 'wberror' of ovl1's file",
            "static inline void mapping_set_error(), include/linux/pagemap.h",
        ),
        (
            "generic_shutdown_super",
            "def generic_shutdown_super(self, w, ofs):\n    return self.ovl_sync_fs(w, ofs)\n",
            "event 'umount' by ovl1",
            "void generic_shutdown_super(), fs/super.c, which drops what sync_filesystem returns",
        ),
    ],
)
@pytest.mark.parametrize("races", [[], ["--races", "--threads", "2"]])
def test_a_void_hook_that_returns_a_value_is_refused(
    tmp_path, hook, body, event, kernel, races
) -> None:
    """With --races too: the hook runs again for each step, and what its last run
    returns is checked."""
    path = spec_file(tmp_path, body)
    no_host = ["--mounts", "1", "--fds", "1", "--host-fds", "0", "--depth", "4", "-q"]
    out = ["--out", str(tmp_path / "o")]
    line = one_error_line(explore("-s", str(path), *races, *no_host, *out))
    value = "-5 (int)" if hook == "mapping_set_error" else "0 (int)"
    assert line.endswith(
        f"spec bad ({path}:{def_line(path, hook)}), hook {hook}, {event}: returned {value}; "
        f"{hook} returns nothing: the kernel's is void ({kernel})"
    )


def test_a_fresh_open_that_no_loss_tries_is_checked_too(tmp_path) -> None:
    """no-loss opens a scratch fd beyond the bounds (index -1) itself: what its open hook
    returns there is checked like any open's."""
    path = spec_file(
        tmp_path,
        "def ovl_open(self, w, ofs, f):\n"
        "    self.vfs_open(w, f)\n"
        "    return 'only for a fresh open' if f.index < 0 else 0\n",
    )
    args = ["--mounts", "1", "--fds", "1", "--host-fds", "0", "--depth", "5", "-p", "no-loss"]
    line = one_error_line(explore("-s", str(path), *args, "-q", "--out", str(tmp_path / "o")))
    assert (
        "hook ovl_open, event 'open' by ovl1 (a fresh open no-loss tries): returned "
        "'only for a fresh open' (str)"
    ) in line


CLAIM = """\
claim failed-open-fd-stays-closed
bounds: mounts 1, fds 2, host-fds 1, mount-options normal
specs: ./fails.py
result: ./fails.py Never

ovl1:
  mount ovl1
  open fd1 ovl1
  open fd2 ovl1
  fsync fd1
host:
  open h host
  write h
  fsync h

exists (open fd1 ovl1 = EIO)
"""


def test_a_claims_fd_whose_open_failed_is_not_the_next_opens(tmp_path, monkeypatch) -> None:
    """ovl_open fails while the host's file is dirty.  A failed `open fd1` leaves fd1
    unopened, so `fsync fd1` cannot follow, even once `open fd2` has taken the slot fd1's
    open asked for.  By hand: the 35 interleavings of the two programs, less the 9 where
    fd1's open falls between the host's write and its fsync, are the claim's 26 runs, and
    in none did fd1's open fail (counted as fd2's, it would in 3)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fails.py").write_text(
        "from explorer.domain.vfs import EIO, Spec\n\n\n"
        "class F(Spec):\n    name = 'fails-open-while-host-dirty'\n    overlay = True\n\n"
        "    def ovl_open(self, w, ofs, f):\n"
        "        return EIO if w.inode(w.bounds.host).dirty else self.vfs_open(w, f)\n"
    )
    (tmp_path / "t.claim").write_text(CLAIM)
    r = explore("claim", "t.claim")
    assert r.exit_code == 0, r.output
    assert "Observation failed-open-fd-stays-closed ./fails.py Never 0 26   ok" in r.stdout
