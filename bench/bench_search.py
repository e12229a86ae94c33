"""Search benchmark: states, transitions, states/s, memory per state, main-job wall time.

Run:  python bench/bench_search.py [--mounts 1 2 3] [--depths 4 6 8 10] [--runs 3]

Times are medians of --runs runs of the bare search (explorer.engine.search.bfs on one core,
successor cache on); memory is measured in a separate run under tracemalloc (peak
bytes the search allocated, divided by the states it stored).  The last table is the
wall time of the whole main job, `explore --mounts 2 --depth 8` (all specs, all
properties, out/ written), as a subprocess.  Prints markdown for docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

from explorer.bridge.model import ErrseqModel
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.world import Bounds
from explorer.engine.search import bfs


def measure(
    spec: str, mounts: int, depth: int, runs: int, symmetry: bool = False, cache: bool = True
) -> dict:
    times = []
    for _ in range(runs):
        model = ErrseqModel(load_spec(spec), Bounds(mounts, 2, 0), symmetry=symmetry, cache=cache)
        t = time.perf_counter()
        ex = bfs(model, depth)
        times.append(time.perf_counter() - t)
    tracemalloc.start()
    ex = bfs(
        ErrseqModel(load_spec(spec), Bounds(mounts, 2, 0), symmetry=symmetry, cache=cache), depth
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t = statistics.median(times)
    return {
        "states": ex.n_states,
        "transitions": ex.n_edges,
        "seconds": t,
        "rate": ex.n_states / t if t else 0.0,
        "peak_mb": peak / 2**20,
        "bytes_per_state": peak / ex.n_states,
    }


def main_job_seconds(runs: int) -> list[float]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "explorer.app.cli",
                    "--mounts",
                    "2",
                    "--depth",
                    "8",
                    "--quiet",
                    "--out",
                    tmp,
                ],
                stdout=subprocess.DEVNULL,
                check=False,
            )
            out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mounts", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--depths", type=int, nargs="+", default=[4, 6, 8, 10])
    ap.add_argument("--specs", nargs="+", default=builtin_names())
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-main-job", action="store_true")
    ap.add_argument("--symmetry", action="store_true", help="store one state per symmetry class")
    ap.add_argument("--no-cache", action="store_true", help="step every event through the hooks")
    args = ap.parse_args()
    print(
        f"python {sys.version.split()[0]}, fds=2 per container, host fds 0, both mount options, "
        f"{'symmetry classes' if args.symmetry else 'every world (no symmetry)'}, median of {args.runs}\n"
    )
    print(
        "| spec | mounts | depth | states | transitions | search s | states/s | peak MB | bytes/state |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for spec in args.specs:
        for m in args.mounts:
            for d in args.depths:
                r = measure(spec, m, d, args.runs, args.symmetry, not args.no_cache)
                print(
                    f"| {spec} | {m} | {d} | {r['states']} | {r['transitions']} | {r['seconds']:.3f} | "
                    f"{r['rate']:,.0f} | {r['peak_mb']:.1f} | {r['bytes_per_state']:,.0f} |",
                    flush=True,
                )
    if not args.no_main_job:
        times = main_job_seconds(args.runs)
        print(
            f"\nmain job `explore --mounts 2 --depth 8` (all specs, all properties): "
            f"median {statistics.median(times):.2f} s over {len(times)} runs "
            f"({', '.join(f'{t:.2f}' for t in times)})"
        )


if __name__ == "__main__":
    main()
