"""explore --races, replay --races and diff --races from the command line (docs/model.md §8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app

RUN = CliRunner()
SMALL = ["--mounts", "1", "--fds", "1", "--depth", "5", "--mount-options", "normal"]


def explore(*args: str):
    return RUN.invoke(app, list(args))


@pytest.fixture(scope="module")
def claim28(tmp_path_factory) -> Path:
    """plain, two host threads: its linearizable witness, written by the main job."""
    out = tmp_path_factory.mktemp("out")
    got = explore(
        "--races",
        "--threads",
        "2",
        *SMALL,
        "-s",
        "plain",
        "-p",
        "linearizable",
        "-q",
        "--out",
        str(out),
    )
    assert got.exit_code == 1, got.output
    return out


def test_the_main_job_finds_claim_28_and_writes_it_in_the_step_notation(claim28: Path) -> None:
    text = (claim28 / "plain" / "linearizable.txt").read_text()
    assert "host.1: syncfs fd1 ..." in text and "host.2: syncfs fd1 ..." in text
    assert text.count("... = EIO") == 2
    report = json.loads((claim28 / "report.json").read_text())
    assert report["config"]["races"] is True and report["config"]["threads"] == 2
    (v,) = report["verdicts"]
    assert v["property"] == "linearizable" and v["holds"] is False and v["length"] == 5
    assert {s["thread"] for s in v["witness"]} >= {"host.1", "host.2", "env.host"}
    assert [s["result"] for s in v["witness"] if s["step"] == "end"][-2:] == ["EIO", "EIO"]


def test_a_race_witness_replays_and_mainline_flock_cannot_give_it(claim28: Path) -> None:
    path = str(claim28 / "plain" / "linearizable.txt")
    assert explore("replay", "--races", path, "-s", "plain", "-s", "mainline").exit_code == 0
    got = explore("replay", "--races", path, "-s", "plain", "-s", "mainline-flock")
    assert got.exit_code == 1
    assert "mainline-flock: stopped at line" in got.output  # its syncfs takes other steps
    alone = explore("replay", "--races", path, "-s", "mainline-flock")
    assert alone.exit_code == 2 and "under every spec" in alone.output


def test_diff_with_races_shows_the_double_eio() -> None:
    got = explore("diff", "mainline", "mainline-flock", "--races", "--threads", "2", *SMALL)
    assert got.exit_code == 1
    assert "mainline gives these results, mainline-flock never with these overlaps" in got.output
    assert got.output.count("... = EIO") == 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--threads", "2"], "--threads 2: it goes with --races"),
        (["--races", "--threads", "0"], "--threads 0: must be 1 to 8"),
        (["-p", "linearizable"], "linearizable needs --races"),
    ],
)
def test_race_options_are_checked(args: list[str], says: str, tmp_path: Path) -> None:
    got = explore(*args, *SMALL, "-q", "--out", str(tmp_path / "o"))
    assert got.exit_code == 2 and says in got.output


def test_without_races_no_race_spec_or_property_runs(tmp_path: Path) -> None:
    got = explore(*SMALL, "-q", "--json", "--out", str(tmp_path / "o"))
    report = json.loads(got.output)
    assert "mainline-flock" not in report["config"]["specs"]
    assert "linearizable" not in report["config"]["properties"]
    assert "races" not in report["config"]
