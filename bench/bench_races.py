"""Races benchmark: what `--races` costs against the atomic model (not a test).

Run:  python bench/bench_races.py [--mounts 2] [--depth 8] [--threads 1] [--runs 1]
      python bench/bench_races.py --jobs --runs 5  # the main job's table only
      python bench/bench_races.py --where        # where a run with races spends its time

First, per spec, the searched graph with and without races: states, transitions, bytes
per state (the peak tracemalloc saw during the search over the states stored) and the
search's seconds.  Then the whole main job, `explore --mounts M --depth D` against
`explore --races --mounts M --depth D` (every spec and property, out/ written), as
subprocesses in one process each (-j 1), taken in turns: the medians of --runs wall
and CPU times, and the median of the runs' CPU ratios.  With --where, each property's
seconds per spec in one process (explorer.checker's Serial executor), which says where
the time of a run with races goes.  Prints markdown for docs/races.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

from explorer.bridge.model import ErrseqModel
from explorer.bridge.race_model import RaceModel
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.world import Bounds
from explorer.engine.limits import paused_gc
from explorer.engine.search import bfs


def search(spec: str, b: Bounds, depth: int, threads: int | None) -> dict:
    """One spec's search, atomic (threads None) or with races: figures and seconds."""

    def model():
        s = load_spec(spec)
        return ErrseqModel(s, b) if threads is None else RaceModel(s, b, threads=threads)

    t = time.perf_counter()
    ex = bfs(model(), depth)
    seconds = time.perf_counter() - t
    tracemalloc.start()
    bfs(model(), depth)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "states": ex.n_states,
        "transitions": ex.n_edges,
        "bytes": peak / ex.n_states,
        "seconds": seconds,
    }


def graphs_table(b: Bounds, depth: int, threads: int) -> None:
    print(f"## Graphs ({b.mounts} containers, depth {depth}, {threads} thread(s) per actor)\n")
    print(
        "| spec | states | transitions | bytes/state | search s | races: states | transitions | bytes/state | search s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in builtin_names(races=True):
        a = search(name, b, depth, None) if name in builtin_names() else None
        r = search(name, b, depth, threads)
        left = (
            f"{a['states']:,} | {a['transitions']:,} | {a['bytes']:.0f} | {a['seconds']:.2f}"
            if a
            else "- | - | - | -"
        )
        print(
            f"| {name} | {left} | {r['states']:,} | {r['transitions']:,} | "
            f"{r['bytes']:.0f} | {r['seconds']:.2f} |",
            flush=True,
        )
    print()


def job_seconds(args: list[str], tmp: str) -> tuple[float, float]:
    """One `explore` run as a subprocess, one process (-j 1): its wall and CPU seconds
    (the CPU time, user and system, of the child: what a loaded machine distorts less)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "explorer.app.cli", *args, "-q", "-j", "1", "--out", tmp],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1, 3):
        sys.exit(f"explore {' '.join(args)} failed: {done.stderr}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def jobs_table(mounts: int, depth: int, threads: int, runs: int) -> None:
    """The two jobs taken in turns, run after run, so that both see the same load."""
    common = ["--mounts", str(mounts), "--depth", str(depth)]
    races_args = [*common, "--races", "--threads", str(threads)]
    atomic, races = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(runs):
            atomic.append(job_seconds(common, f"{tmp}/a{k}"))
            races.append(job_seconds(races_args, f"{tmp}/r{k}"))
    med = [statistics.median(x[i] for x in rows) for rows in (atomic, races) for i in (0, 1)]
    ratios = statistics.median(r[1] / a[1] for a, r in zip(atomic, races, strict=True))
    print(f"## The main job, one process (median of {runs}; load {os.getloadavg()[0]:.1f})\n")
    print("| run | wall s | CPU s | CPU ratio |")
    print("|---|---:|---:|---:|")
    print(f"| explore {' '.join(common)} | {med[0]:.1f} | {med[1]:.1f} | 1 |")
    print(f"| explore {' '.join(races_args)} | {med[2]:.1f} | {med[3]:.1f} | {ratios:.1f}x |\n")


@paused_gc()
def where(mounts: int, depth: int, threads: int) -> None:
    """Each property's seconds per spec, in one process, the cyclic collector paused as
    in a run (explorer.checker.run)."""
    from explorer.checker.config import configure
    from explorer.checker.options import RunOptions
    from explorer.checker.properties import checks
    from explorer.checker.sites import Graphs

    cfg = configure(RunOptions(mounts=mounts, depth=depth, races=True, threads=threads))
    graphs = Graphs(cfg, [0])
    props = checks(cfg)
    print(f"## Where the time goes (--races, {mounts} containers, depth {depth})\n")
    print("| spec | search | " + " | ".join(p.name for p in props) + " |")
    print("|---|" + "---:|" * (len(props) + 1))
    for spec in cfg.specs:
        t = time.perf_counter()
        graphs.search(spec)
        cells = [f"{time.perf_counter() - t:.1f}"]
        for p in props:
            if not p.applies(cfg, spec):
                cells.append("-")
                continue
            t = time.perf_counter()
            p.check(spec, graphs)
            cells.append(f"{time.perf_counter() - t:.1f}")
        print(f"| {spec.name} | " + " | ".join(cells) + " |", flush=True)
        for sym in (False, True):
            if spec.name != "plain":
                graphs.forget(spec, sym)
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mounts", type=int, default=2)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--where", action="store_true", help="each property's seconds per spec")
    ap.add_argument("--jobs", action="store_true", help="the main job's table only")
    args = ap.parse_args()
    if args.where:
        where(args.mounts, args.depth, args.threads)
        return
    if not args.jobs:
        graphs_table(Bounds(mounts=args.mounts), args.depth, args.threads)
    jobs_table(args.mounts, args.depth, args.threads, args.runs)


if __name__ == "__main__":
    main()
