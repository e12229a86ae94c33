"""What the main job writes for readers (docs/report.md): out/index.html under its size
budget, the same bytes for the same command, its browser regions complete with
shortest paths though the work ran in worker processes; out/summary.txt within 72
columns; the witness files in their trace form with --trace."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from explorer.checker.properties import owner

EXPLORE = [sys.executable, "-c", "from explorer.app.cli import main; main()"]
#: docs/report.md's budget for the main job's page.
BUDGET = 2_000_000


def explore(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*EXPLORE, *args], capture_output=True, text=True)


def page_data(html: str) -> dict:
    return json.loads(
        html.split('<script type="application/json" id="data">', 1)[1].split("</script>", 1)[0]
    )


@pytest.fixture(scope="module")
def main_job(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    done = explore("--mounts", "2", "--depth", "8", "-q", "--out", str(out))
    assert done.returncode == 1, done.stderr
    return out


@pytest.mark.slow
def test_the_main_jobs_page_is_under_budget_and_complete(main_job):
    html = (main_job / "index.html").read_text()
    assert len(html.encode()) < BUDGET
    data = page_data(html)
    report = json.loads((main_job / "report.json").read_text())
    failing = {(v["spec"], owner(v["property"])) for v in report["verdicts"] if v["holds"] is False}
    linked = {(s["name"], p) for s in data["specs"] for p, c in s["cells"].items() if c["witness"]}
    assert linked == failing
    for name, region in data["browser"].items():
        # every state the page holds has a shortest path: the workers' explorations
        assert set(region["v"]) - {"0"} <= set(region["p"]), name
        assert region["e"]["0"], name


@pytest.mark.slow
def test_the_same_command_writes_the_same_page(main_job, tmp_path):
    done = explore("--mounts", "2", "--depth", "8", "-q", "--out", str(tmp_path))
    assert done.returncode == 1, done.stderr
    assert (tmp_path / "index.html").read_bytes() == (main_job / "index.html").read_bytes()


def test_summary_txt_is_the_matrix_for_mail(main_job):
    text = (main_job / "summary.txt").read_text()
    assert text.isascii() and max(len(x) for x in text.splitlines()) <= 72
    assert "vivek-v3-seen  FAILS 7    holds    FAILS 5  FAILS 6  FAILS 5  6315" in text
    assert "  vivek-v3-seen/isolation.txt" in text


def test_trace_writes_the_witness_files_in_their_trace_form(tmp_path):
    done = explore(
        "--spec", "vivek-v3-seen", "-p", "isolation", "--depth", "7", "--trace", "-q",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    text = (tmp_path / "vivek-v3-seen" / "isolation.txt").read_text()
    assert (
        "    mount ovl2 = 0\n        # upper.s_wb_err: 0x5 -> 0x1005 (EIO, SEEN, ctr 0)\n" in text
    )
    # and it still replays, every stated result holding
    again = explore(
        "replay", str(tmp_path / "vivek-v3-seen" / "isolation.txt"), "--spec", "vivek-v3-seen"
    )
    assert again.returncode == 0, again.stdout + again.stderr
