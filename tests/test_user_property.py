"""User properties: a .py monitor given by path (`explore -p FILE.py`, a claim's `expect:`)
gets the built-ins' verdicts, witnesses and report.json; a file that is malformed or whose
code raises is exit 2 naming the file and line, never a traceback.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.bridge.user_property import PropertyError, View, happened, load_property
from explorer.checker.replay import replay
from explorer.domain.catalog import load_spec
from explorer.domain.scenario import parse
from explorer.domain.world import Bounds, Event

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "claims/examples/props/mount-marks-no-error.py"
SCHEMA = json.loads((ROOT / "explorer/schemas/report.schema.json").read_text())
runner = CliRunner()


def explore(*args: str):
    return runner.invoke(app, list(args))


def write(tmp_path: Path, body: str, name: str = "prop.py") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(body).lstrip("\n"))
    return p


def assert_bad_input(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for n in needles:
        assert n in result.stderr, (n, result.stderr)


@pytest.mark.slow
def test_the_example_property_has_the_verdicts_derived_in_its_file(tmp_path: Path) -> None:
    """Only vivek-v3-seen's mount marks the upper SEEN: fails in 4 events; the other
    eight specs hold (the derivation is in the example's docstring)."""
    out = tmp_path / "out"
    r = explore("-p", str(EXAMPLE), "--out", str(out), "--json")
    assert r.exit_code == 1, r.output
    data = json.loads(r.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    verdicts = {v["spec"]: v for v in data["verdicts"]}
    assert {s for s, v in verdicts.items() if not v["holds"]} == {"vivek-v3-seen"}
    bad = verdicts["vivek-v3-seen"]
    assert bad["property"] == "mount-marks-no-error" and bad["length"] == 4
    assert bad["reason"] == "the mount of ovl1 marked the upper fs's unseen error SEEN"
    assert bad["scenario"] == "open fd1 host\nwrite fd1\nwberror host\nmount ovl1 = 0\n"
    # the witness is a real run: replayed, the same results
    sc = parse(bad["scenario"])
    assert replay(sc, load_spec("vivek-v3-seen")) == ["0", "0", None, "0"]
    [(path, digest)] = data["property_sources"]["mount-marks-no-error"].items()
    assert path.endswith("mount-marks-no-error.py") and len(digest) == 64
    assert (out / "vivek-v3-seen" / "mount-marks-no-error.txt").is_file()


def test_a_user_property_runs_beside_the_built_ins(tmp_path: Path) -> None:
    r = explore(
        "-p", "no-loss", "-p", str(EXAMPLE), "--spec", "vivek-v3-seen", "--out", str(tmp_path)
    )
    assert r.exit_code == 1
    head = r.stdout.splitlines()[2]
    assert "no-loss" in head and "mount-marks-no-error" in head
    assert "FAILS 6" in r.stdout and "FAILS 4" in r.stdout


def test_with_symmetry_a_user_property_uses_the_unreduced_graph(tmp_path: Path) -> None:
    args = ["-p", str(EXAMPLE), "--spec", "vivek-v3-seen", "--depth", "5", "--json"]
    sym = json.loads(explore(*args, "--symmetry", "--out", str(tmp_path / "a")).stdout)
    plain = json.loads(explore(*args, "--no-symmetry", "--out", str(tmp_path / "b")).stdout)
    assert any("without symmetry" in n for n in sym["notes"])
    assert sym["verdicts"][0]["length"] == plain["verdicts"][0]["length"] == 4
    assert sym["verdicts"][0]["violations"] == plain["verdicts"][0]["violations"]


WATCH = """
    from explorer.bridge.user_property import Property

    class Watch(Property):
        name = "watch"

        def step(self, m, event, world):
            if event.verb == "write" and event.actor == "host" and event.file != "host":
                return m, str(event)
            if event.verb == "wberror" and event.errno == -28:
                return m, str(event)
            return m, ""
"""


@pytest.mark.parametrize(
    ("options", "scenario", "reason"),
    [
        ([], None, None),
        (
            ["--host-files", "any"],
            "open fd1 host ovl1\nwrite fd1\n",
            "write by host (fd slot 1, ovl1's file) = 0",
        ),
        (
            ["--errnos", "EIO,ENOSPC"],
            "open fd1 host\nwrite fd1\nwberror host ENOSPC\n",
            "wberror host ENOSPC",
        ),
    ],
)
def test_a_property_sees_the_model_options(tmp_path: Path, options, scenario, reason) -> None:
    """A host fd on ovl1's upper file is an event on ovl1's file (`event.file`), and an
    ENOSPC writeback error carries its errno (`event.errno`).  By hand, with one
    container and one host fd under plain: without the options neither can happen
    (holds); with --host-files any the shortest violation is the host's open of ovl1's
    file and its write (2 events; ovl1 need not be mounted: the host opens
    upperdir/file); with --errnos EIO,ENOSPC it is the host's open, write and the ENOSPC
    (3 events; ovl1's file would need a mount first)."""
    prop = write(tmp_path, WATCH)
    args = ["-p", str(prop), "-s", "plain", "--mounts", "1", "--fds", "1", "--depth", "3"]
    r = explore(*args, *options, "--json", "--out", str(tmp_path / "out"))
    [v] = json.loads(r.stdout)["verdicts"]
    if scenario is None:
        assert r.exit_code == 0 and v["holds"], r.output
        return
    assert r.exit_code == 1 and not v["holds"], r.output
    assert v["length"] == scenario.count("\n")
    assert (v["scenario"], v["reason"]) == (scenario, reason)


def test_the_view_and_the_event_speak_the_worlds_words() -> None:
    b = Bounds(2, 1, 1)
    s = list(b.initial())
    s[b.ofs_base(1)] = 2  # ovl2 mounted volatile
    s[b.fd_base(2)] = 1  # the host's fd open
    s[0] = 0x1005  # upper: EIO, SEEN
    ev = happened(b, Event("syncfs", 2), -5, tuple(s))
    assert (ev.verb, ev.actor, ev.file, ev.fd, ev.result, ev.failed, ev.errno) == (
        "syncfs",
        "host",
        "host",
        2,
        -5,
        True,
        None,
    )
    assert str(ev) == "syncfs by host (fd slot 2) = EIO"
    wberror = happened(b, Event("wberror", 1), None, tuple(s))
    assert (str(wberror), wberror.errno, wberror.result) == ("wberror ovl2", -5, None)
    assert str(happened(b, Event("mount", 0, True), 0, tuple(s))) == "mount ovl1 volatile = 0"
    w = View(b, tuple(s))
    assert w.containers == ["ovl1", "ovl2"]
    assert (w.mounted("ovl1"), w.mounted("ovl2"), w.volatile("ovl2")) == (False, True, True)
    assert w.open_fds("host") == [2] and w.open_fds("ovl1") == []
    assert w.seen() and w.sb.s_wb_err.value == 0x1005


# --- bad property files: exit 2, the file and line ------------------------------------------

GOOD_HEAD = textwrap.dedent(
    """
    from explorer.bridge.user_property import Property

    class P(Property):
        name = "p"
    """
).lstrip()


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ("x = (\n", ["prop.py", "SyntaxError"]),
        ("raise RuntimeError('no')\n", ["prop.py, line 1", "RuntimeError: no"]),
        ("import sys\nsys.exit(3)\n", ["prop.py, line 2", "SystemExit"]),
        ("x = 1\n", ["expected exactly one Property subclass", "found none"]),
        (
            GOOD_HEAD + "    def step(self, m, e, w):\n        return m, ''\n"
            "class Q(P):\n    name = 'q'\n",
            ["found P, Q", "PROPERTY = ClassName"],
        ),
        (GOOD_HEAD, ["P has no step(self, m, event, world)"]),
        (
            GOOD_HEAD.replace('"p"', '"no-loss"') + "    def step(self, m, e, w):\n"
            "        return m, ''\n",
            ["'no-loss' is a built-in property's"],
        ),
        (
            GOOD_HEAD.replace('"p"', '"a b"') + "    def step(self, m, e, w):\n"
            "        return m, ''\n",
            ["no '/', spaces"],
        ),
    ],
)
def test_a_property_file_that_does_not_load_is_bad_input(tmp_path, body, needles) -> None:
    prop = write(tmp_path, body)
    r = explore("-p", str(prop), "--spec", "plain", "--depth", "3", "--out", str(tmp_path / "o"))
    assert_bad_input(r, *needles)


@pytest.mark.parametrize(
    ("step", "needles"),
    [
        (
            "return m, 1 / 0",
            ["property p (", "prop.py:6), step, event 'mount ovl1 = 0'", "ZeroDivisionError"],
        ),
        ("return [m], ''", ["step, event", "list is not hashable"]),
        ("return m", ["returned 0; step returns (bookkeeping, reason)"]),
        ("return m, None", ["step returns (bookkeeping, reason) with reason a str"]),
    ],
)
def test_a_property_whose_code_misbehaves_is_bad_input(tmp_path, step, needles) -> None:
    prop = write(tmp_path, GOOD_HEAD + f"    def step(self, m, event, world):\n        {step}\n")
    for jobs in ("1", "2"):  # a worker process sends the error back whole
        r = explore(
            "-p",
            str(prop),
            "--spec",
            "plain",
            "--spec",
            "amir",
            "--depth",
            "3",
            "-j",
            jobs,
            "--out",
            str(tmp_path / f"o{jobs}"),
        )
        assert_bad_input(r, *needles)


def test_a_raising_after_names_its_line(tmp_path: Path) -> None:
    prop = write(
        tmp_path,
        GOOD_HEAD + "    def step(self, m, e, w):\n        return m, ''\n"
        "    def after(self, m, world):\n        return world.ovl('ovl9')\n",
    )
    r = explore("-p", str(prop), "--spec", "plain", "--depth", "2", "--out", str(tmp_path / "o"))
    assert_bad_input(r, "prop.py:8), after, a state reached", "no 'ovl9' in this world")


def test_two_properties_with_one_name_are_refused(tmp_path: Path) -> None:
    a = write(tmp_path, GOOD_HEAD + "    def step(self, m, e, w):\n        return m, ''\n")
    b = write(tmp_path, a.read_text(), "other.py")
    r = explore("-p", str(a), "-p", str(b), "--out", str(tmp_path / "o"))
    assert_bad_input(r, "a property named 'p' is already given", "each property once")


def test_loading_a_missing_file_names_it() -> None:
    with pytest.raises(PropertyError, match="nope.py: no such property file"):
        load_property("nope.py")
