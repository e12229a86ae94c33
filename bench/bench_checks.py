"""The reduced search and the checks on it, one at a time, at mounts 3, depth 12.

Run:  python bench/bench_checks.py [--runs 3]

Run it from a checkout (it imports the `explorer` beside it, not the installed one), so
that a before/after is two runs of this script, one in a git worktree of the older
commit:  git worktree add /tmp/before REV && cd /tmp/before && python
/path/to/bench/bench_checks.py.  Medians of --runs; the search runs in a fresh process
each time, since canonical forms are cached per bounds within a process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.getcwd())

from explorer.guarantees import monitors  # noqa: E402
from explorer.model import MOUNT_OPTIONS, ErrseqModel  # noqa: E402
from explorer.properties import agreement, safety  # noqa: E402
from explorer.search import bfs  # noqa: E402
from explorer.specs import load_spec  # noqa: E402
from explorer.world import Bounds  # noqa: E402

BOUNDS, DEPTH = Bounds(3, 2, 0), 12


def model(name: str) -> ErrseqModel:
    return ErrseqModel(load_spec(name), BOUNDS, MOUNT_OPTIONS["both"], symmetry=True)


def median(f, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--search-once", metavar="SPEC", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.search_once:
        t = time.perf_counter()
        bfs(model(opts.search_once), DEPTH)
        print(time.perf_counter() - t)
        return
    cmd = [sys.executable, __file__, "--search-once", "plain"]
    search = [float(subprocess.check_output(cmd, text=True)) for _ in range(opts.runs)]
    m = model("vivek-v3-seen")
    ex = bfs(m, DEPTH)
    mons = monitors(m)
    ref, other = model("plain"), model("jeff-split")
    ref_ex, other_ex = bfs(ref, DEPTH), bfs(other, DEPTH)
    rows = [
        ("reduced search, plain", statistics.median(search)),
        (
            "open-before x2 + no-loss, vivek-v3-seen",
            median(lambda: [safety.check(ex, mons[k], m) for k in mons], opts.runs),
        ),
        (
            "agreement, jeff-split against plain",
            median(lambda: agreement.check(other_ex, ref_ex, other, ref), opts.runs),
        ),
    ]
    print(f"mounts 3, depth {DEPTH}, 2 fds, symmetry on; medians of {opts.runs}\n")
    print("| what | s |\n|---|--:|")
    for what, s in rows:
        print(f"| {what} | {s:.3f} |")


if __name__ == "__main__":
    main()
