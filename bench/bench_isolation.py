"""Benchmark of the isolation check (not a test): product states, time, peak memory.

    python bench/bench_isolation.py                 # the table of docs/performance.md
    python bench/bench_isolation.py --per-spec      # one row per spec too
    python bench/bench_isolation.py --compare       # subset construction vs self-composition

For each configuration (containers, depth) every spec is explored once (not timed:
bench_search.py measures the search), then the isolation check of ovl1 is timed
`--runs` times; the table gives the median of the per-configuration total.  Peak
memory is measured in a separate run under tracemalloc (which slows Python down),
as the largest peak of one spec's check.  Markdown on stdout.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc

from explorer.model import ErrseqModel
from explorer.properties import isolation
from explorer.search import bfs
from explorer.specs import builtin_names, load_spec
from explorer.world import NORMAL, VOLATILE, Bounds

CONFIGS = [(2, d) for d in range(6, 11)] + [(3, d) for d in range(6, 9)]


def explore(spec: str, mounts: int, depth: int):
    model = ErrseqModel(load_spec(spec), Bounds(mounts=mounts), (NORMAL, VOLATILE))
    return model, bfs(model, depth)


def timed(model, ex, method: str, runs: int) -> tuple[float, isolation.Verdict]:
    times, v = [], None
    for _ in range(runs):
        t = time.perf_counter()
        v = isolation.check(ex, model, 0, method=method)
        times.append(time.perf_counter() - t)
    return statistics.median(times), v


def peak(model, ex, method: str) -> int:
    tracemalloc.start()
    isolation.check(ex, model, 0, method=method)
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top


def mib(n: int) -> str:
    return f"{n / 2**20:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--per-spec", action="store_true", help="a row per spec as well")
    ap.add_argument("--compare", action="store_true", help="subset vs product, mounts 2")
    ap.add_argument("--config", action="append", help="MOUNTS:DEPTH (repeatable)")
    args = ap.parse_args()
    configs = [tuple(map(int, c.split(":"))) for c in args.config] if args.config else CONFIGS
    specs = builtin_names()
    print(
        f"<!-- python bench/bench_isolation.py; {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cpus, one core used, "
        f"median of {args.runs} runs -->"
    )
    print()
    print(
        "| mounts | depth | graph states | product states (general + removal) "
        "| violated | time (s) | peak MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for mounts, depth in configs:
        tot_t, tot_g, tot_r, states, bad, top = 0.0, 0, 0, 0, 0, 0
        for spec in specs:
            model, ex = explore(spec, mounts, depth)
            t, v = timed(model, ex, "subset", args.runs)
            ps = v.extra["product_states"]
            m = peak(model, ex, "subset")
            tot_t += t
            tot_g += ps["general"]
            tot_r += ps["removal"]
            states += ex.n_states
            bad += not v.holds
            top = max(top, m)
            rows.append((mounts, depth, spec, ex.n_states, ps, v, t, m))
        print(
            f"| {mounts} | {depth} | {states} | {tot_g} + {tot_r} | {bad}/{len(specs)} "
            f"| {tot_t:.2f} | {mib(top)} |",
            flush=True,
        )
    if args.per_spec:
        print()
        print(
            "| mounts | depth | spec | graph states | general | removal | verdict | time (s) | peak MiB |"
        )
        print("|---:|---:|---|---:|---:|---:|---|---:|---:|")
        for mounts, depth, spec, n, ps, v, t, m in rows:
            kinds = ",".join("+".join(g["kinds"]) for g in v.extra["groups"])
            short = v.extra["shortest"]
            verdict = "holds" if v.holds else f"violated {short[0]} ({kinds})"
            print(
                f"| {mounts} | {depth} | {spec} | {n} | {ps['general']} | {ps['removal']} "
                f"| {verdict} | {t:.3f} | {mib(m)} |"
            )
    if args.compare:
        print()
        print("| mounts | depth | general check | product states | time (s) | peak MiB |")
        print("|---:|---:|---|---:|---:|---:|")
        for mounts, depth in [(2, 6), (2, 8), (2, 10)]:
            for method in ("subset", "product"):
                tot_t, tot_n, top = 0.0, 0, 0
                for spec in specs:
                    model, ex = explore(spec, mounts, depth)
                    sp = isolation._split(ex, model, 0)
                    t0 = time.perf_counter()
                    for _ in range(args.runs):
                        g = isolation.GENERAL[method](ex, sp)
                    tot_t += (time.perf_counter() - t0) / args.runs
                    tot_n += g.explored
                    tracemalloc.start()
                    isolation.GENERAL[method](ex, sp)
                    top = max(top, tracemalloc.get_traced_memory()[1])
                    tracemalloc.stop()
                print(f"| {mounts} | {depth} | {method} | {tot_n} | {tot_t:.2f} | {mib(top)} |")


if __name__ == "__main__":
    main()
