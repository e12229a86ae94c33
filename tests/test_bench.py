"""The benchmarks still run against the code they measure.

bench/ is not part of the tool, so nothing else imports it: `bench_isolation.py
--stabiliser` stopped working when the subset construction's nodes became packed bytes,
and nobody noticed until a figure was needed.  These run each isolation mode at a
small bound and compare what two modes count in two different ways.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "bench_isolation.py"


def bench(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_phases_and_stabiliser_count_the_same_member_visits():
    """`--phases` reads the exact check's own counter; `--stabiliser` sums the sizes of
    the nodes the same check returns: one figure, two ways."""
    phases = bench("--phases", "2:6", "--spec", "plain")
    row = next(line for line in phases.splitlines() if line.startswith("| plain |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    nodes, visits = re.fullmatch(r"[\d.]+ \(([\d,]+), ([\d,]+)\)", cells[4]).groups()
    stab = bench("--stabiliser", "2:6")
    m = re.search(r": ([\d,]+) nodes, .*; ([\d,]+) member visits", stab)
    assert m, stab
    assert (m.group(1), m.group(2)) == (nodes, visits)
    # every node has at least its one member, and some have more
    assert int(visits.replace(",", "")) > int(nodes.replace(",", "")) > 1


def test_the_profile_of_a_command_finds_every_phase_it_times():
    """profile_main_job.py wraps functions by name: a rename would silently drop a
    phase from its table.  Every check of a small run must show up, with its calls."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "profile_main_job.py"), "--"]
        + ["--mounts", "1", "--depth", "4", "-s", "plain", "-s", "mainline"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    calls = {
        cells[0].replace("&nbsp;", "").strip(): int(cells[2])
        for line in done.stdout.splitlines()
        if line.startswith("| ") and line.rstrip().endswith("|")
        for cells in [[c.strip() for c in line.strip().strip("|").split("|")]]
        if cells[2].isdigit()
    }
    for phase in ("open-before-syncfs", "no-loss", "isolation: split", "isolation: exact check"):
        assert calls.get(phase) == 2, (phase, done.stdout)
    assert calls.get("agreement") == 1 and calls.get("write out/") == 1
