"""The scale targets, as the user runs them: wall time and peak memory of whole commands.

Run:  python bench/bench_scale.py [--runs 5] [--skip-large]

Each row is one `explore` command in a fresh process (out/ in a temporary folder),
timed from fork to exit; memory is the largest resident set of the command and of the
worker processes it forked (wait4's rusage, which covers the workers it reaped).  The
main job (the default bounds: 2 fds per container and one host fd) is run --runs times
and its median reported; the large configurations once each (minutes).  Prints markdown
for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

# As the user runs it: the host fd is in the default bounds (MODEL.md §1).
MAIN_JOB = ["--mounts", "2", "--depth", "8"]
NO_ISOLATION = [
    "-p",
    "open-before-syncfs",
    "-p",
    "open-before-fsync",
    "-p",
    "no-loss",
    "-p",
    "agreement",
]
LARGE = [
    ["--mounts", "3", "--depth", "10"],
    ["--mounts", "3", "--depth", "12", *NO_ISOLATION],
    ["--mounts", "3", "--depth", "12"],
    ["--mounts", "4", "--depth", "12"],
    ["--mounts", "4", "--depth", "14", *NO_ISOLATION],
]


def timed(args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak MiB of the command and its workers, exit code) of one run."""
    with tempfile.TemporaryDirectory() as out:
        # This interpreter's explorer, not a shim on PATH (a pyenv shim adds 0.07 s).
        cmd = [sys.executable, "-m", "explorer.app.cli", *args, "--quiet", "--out", out]
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
    # wait4's ru_maxrss is the larger of the command's own peak and its reaped workers'
    # (Linux folds a child's cmaxrss into what its parent's wait reports).
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs of the main job (median)")
    ap.add_argument("--skip-large", action="store_true", help="only the main job")
    opts = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}, cores: {os.cpu_count()}\n")
    print("| command | runs | wall s (median) | each run | peak MiB | exit |")
    print("|---|--:|--:|---|--:|--:|")
    rows = [(MAIN_JOB, opts.runs)] + ([] if opts.skip_large else [(a, 1) for a in LARGE])
    for args, runs in rows:
        results = [timed(args) for _ in range(runs)]
        walls = [w for w, _, _ in results]
        each = ", ".join(f"{w:.2f}" for w in walls)
        print(
            f"| `explore {' '.join(args)}` | {runs} | {statistics.median(walls):.2f} | {each} "
            f"| {max(m for _, m, _ in results):,.0f} | {results[-1][2]} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
