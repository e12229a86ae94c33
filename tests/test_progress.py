"""Progress on stderr: a plain line every few seconds where stderr is not a terminal (a
CI log), rich's status line on a terminal, nothing with --quiet or --json."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explorer.app import progress

EXPLORE = Path(sys.executable).parent / "explore"
LINE = re.compile(r"explore: .+: depth \d+(, [\d,]+ states, [\d,]+ transitions)?, [\d,]+ s so far")


def test_a_log_gets_a_plain_line_every_interval(monkeypatch) -> None:
    monkeypatch.setenv("EXPLORE_PROGRESS_SECONDS", "0.05")
    log = io.StringIO()  # not a terminal
    p = progress.Progress(quiet=False, stream=log, specs=["plain", "amir"])
    p("amir", 4, 1000, 3000)
    time.sleep(0.3)
    p.stop()
    lines = log.getvalue().splitlines()
    assert len(lines) >= 2, lines
    assert (
        lines[0]
        == "explore: amir, spec 2 of 2: depth 4, 1,000 states, 3,000 transitions, 0 s so far"
    )
    assert "\r" not in log.getvalue() and "\x1b" not in log.getvalue()
    time.sleep(0.15)
    assert log.getvalue().splitlines() == lines  # nothing after stop


def test_quiet_prints_nothing(monkeypatch) -> None:
    monkeypatch.setenv("EXPLORE_PROGRESS_SECONDS", "0.05")
    log = io.StringIO()
    p = progress.Progress(quiet=True, stream=log)
    p("plain", 4, 1000, 3000)
    time.sleep(0.2)
    p.stop()
    assert log.getvalue() == ""


def run_logged(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXPLORE_PROGRESS_SECONDS": "0.1"}
    return subprocess.run(
        [str(EXPLORE), *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.slow
def test_a_run_whose_stderr_is_a_pipe_says_how_far_it_is(tmp_path: Path) -> None:
    for jobs in ("1", "2"):
        r = run_logged("--mounts", "3", "--depth", "8", "-j", jobs, "--out", str(tmp_path))
        assert r.returncode == 1, r.stderr  # some spec violates some property
        lines = r.stderr.splitlines()
        assert len(lines) >= 2, r.stderr
        for line in lines:  # each line stands alone: no carriage return, no colour
            assert LINE.fullmatch(line), line
        assert "\r" not in r.stderr and "\x1b" not in r.stderr
        if jobs == "2":
            assert any(re.search(r"\d+/\d+ tasks done", x) for x in lines), lines
        else:
            assert any(re.search(r", spec \d of 9: depth", x) for x in lines), lines


@pytest.mark.slow
def test_quiet_and_json_silence_progress(tmp_path: Path) -> None:
    args = ("--mounts", "3", "--depth", "8", "-j", "2", "--out", str(tmp_path))
    quiet = run_logged(*args, "--quiet")
    assert quiet.returncode == 1 and quiet.stderr == ""
    as_json = run_logged(*args, "--json")
    assert as_json.returncode == 1 and as_json.stderr == ""
