"""The reduced search and the checks on it, one at a time, at mounts 3, depth 12.

Run:  python bench/bench_checks.py [--runs 3] [--isolation SPEC]

Run it from a checkout (it imports the `explorer` beside it, not the installed one), so
that a before/after is two runs of this script, one in a git worktree of the older
commit:  git worktree add /tmp/before REV && cd /tmp/before && python
/path/to/bench/bench_checks.py.  Medians of --runs; the search runs in a fresh process
each time, since canonical forms are cached per bounds within a process.

`--isolation SPEC` adds the isolation check of ovl1 on SPEC's full graph (the explored
graph given, as the runner gives it), once with Python's cyclic collector on and once
paused: runners before f77b263 left it on, later ones pause it for the whole run.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.getcwd())

from explorer.bridge.model import ErrseqModel  # noqa: E402
from explorer.checker.properties import monitors  # noqa: E402
from explorer.domain.catalog import load_spec  # noqa: E402
from explorer.domain.world import (
    MOUNT_OPTIONS,  # noqa: E402
    Bounds,  # noqa: E402
)
from explorer.engine.properties import agreement, isolation, safety  # noqa: E402
from explorer.engine.search import bfs  # noqa: E402

BOUNDS, DEPTH = Bounds(3, 2, 0), 12


def model(name: str, symmetry: bool = True) -> ErrseqModel:
    return ErrseqModel(load_spec(name), BOUNDS, MOUNT_OPTIONS["both"], symmetry=symmetry)


def isolation_rows(spec: str, runs: int) -> list[tuple[str, float]]:
    m = model(spec, symmetry=False)
    ex = bfs(m, DEPTH)
    rows = []
    for collector in ("on", "paused"):
        (gc.enable if collector == "on" else gc.disable)()
        check = lambda: isolation.check(ex, m, 0, budget=1_000_000)  # noqa: E731
        rows.append((f"isolation of ovl1, {spec}, collector {collector}", median(check, runs)))
    gc.enable()
    return rows


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
    ap.add_argument("--isolation", metavar="SPEC", help="also time isolation on SPEC")
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
    if opts.isolation:
        del ex, ref_ex, other_ex
        rows += isolation_rows(opts.isolation, opts.runs)
    print(f"mounts 3, depth {DEPTH}, 2 fds, symmetry on; medians of {opts.runs}\n")
    print("| what | s |\n|---|--:|")
    for what, s in rows:
        print(f"| {what} | {s:.3f} |")


if __name__ == "__main__":
    main()
