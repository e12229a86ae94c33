"""Benchmark of the isolation check (not a test): product states, time, peak memory.

    python bench/bench_isolation.py                 # the table of docs/performance.md
    python bench/bench_isolation.py --per-spec      # one row per spec too
    python bench/bench_isolation.py --compare       # subset construction vs self-composition
    python bench/bench_isolation.py --phases 3:12   # where one check's time goes, per spec
    python bench/bench_isolation.py --phases 3:12 --spec vivek-v3-seen   # and its memory
    python bench/bench_isolation.py --stabiliser 3:10   # what permuting the others would save

For each configuration (containers, depth) every spec is explored once (not timed:
bench_search.py measures the search), then the isolation check of ovl1 is timed
`--runs` times; the table gives the median of the per-configuration total.  Peak
memory is measured in a separate run under tracemalloc (which slows Python down),
as the largest peak of one spec's check.  Markdown on stdout.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import time
import tracemalloc

from explorer.bridge.model import ErrseqModel
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.world import NORMAL, VOLATILE, Bounds
from explorer.engine.limits import paused_gc, rss_bytes
from explorer.engine.properties import isolation
from explorer.engine.properties.isolation.stabiliser import stabiliser as viewer_stabiliser
from explorer.engine.search import bfs
from explorer.engine.verdict import Verdict

CONFIGS = [(2, d) for d in range(6, 11)] + [(3, d) for d in range(6, 9)]


#: Host fds of every configuration (--host-fds): 0, as the figures of docs/performance.md
#: were taken (Bounds() itself defaults to one, as the main job does).
HOST_FDS = [0]


def explore(spec: str, mounts: int, depth: int, unfold: bool = False):
    """The spec's whole graph: searched state by state, or (`unfold`, as a run with
    symmetry finds it) unfolded from a search up to the containers' permutations."""
    b = Bounds(mounts=mounts, host_fds=HOST_FDS[0])
    model = ErrseqModel(load_spec(spec), b, (NORMAL, VOLATILE))
    if unfold:
        return model, isolation.full_graph(model, depth, unfold=True)
    return model, bfs(model, depth)


def timed(model, ex, method: str, runs: int) -> tuple[float, Verdict]:
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


def phases(mounts: int, depth: int, specs: list[str]) -> None:
    """One run per spec of each phase, as a run with symmetry does them (the whole graph
    unfolded, the removal search on the viewer's stabiliser; collector paused), and
    the resident set after each phase.  Each spec's structures are freed before the
    next, but the next reuses that memory: only a first row's growth is its own (ask
    for one spec with --spec to see it)."""
    print(
        f"mounts {mounts}, depth {depth}, {HOST_FDS[0]} host fds, ovl1, budget 1,000,000, "
        "one run each\n"
    )
    print(
        "| spec | worlds | search s | split s | general s (nodes, member visits) "
        "| removal s (nodes, complete) "
        "| resident GiB after each |"
    )
    print("|---|--:|--:|--:|--:|--:|---|")
    total = 0.0
    for spec in specs:
        with paused_gc():
            rss = [rss_bytes()]
            t0 = time.perf_counter()
            model, ex = explore(spec, mounts, depth, unfold=True)
            t1 = time.perf_counter()
            rss.append(rss_bytes())
            sp = isolation.split_graph(ex, model, 0)
            t2 = time.perf_counter()
            rss.append(rss_bytes())
            gen = isolation.subset_construction(ex, sp)
            t3 = time.perf_counter()
            rss.append(rss_bytes())
            rem = None
            if gen.flips:
                stab = viewer_stabiliser(ex, model, sp, gen.cview)
                rem = isolation.removal_search(ex, sp, 1_000_000, gen.cview, None, stab)
            t4 = time.perf_counter()
            rss.append(rss_bytes())
        total += t4 - t0
        removal = f"{t4 - t3:.2f} ({rem.explored:,}, {rem.complete})" if rem else "-"
        print(
            f"| {spec} | {ex.n_states:,} | {t1 - t0:.2f} | {t2 - t1:.2f} "
            f"| {t3 - t2:.2f} ({gen.explored:,}, {gen.visits:,}) | {removal} "
            f"| {' / '.join(f'{r / 2**30:.2f}' for r in rss)} |",
            flush=True,
        )
        del model, ex, sp, gen, rem
    print(f"\ntotal {total:.1f} s")


def stabiliser(mounts: int, depth: int, spec: str = "plain") -> None:
    """How much smaller the exact check would be on states reduced by the viewer's
    stabiliser (the other containers permuted, with their files, mounts and fds; the
    fds of each other container sorted): its nodes counted up to those permutations,
    and its member visits counted as classes, as if carrying frames cost nothing."""
    b = Bounds(mounts=mounts, host_fds=HOST_FDS[0])
    with paused_gc():
        model, ex = explore(spec, mounts, depth)
        found = isolation.subset_construction(ex, isolation.split_graph(ex, model, 0))
        members = [isolation.members(key) for key in found.nodes]
        images = [[ex.index[p(s)] for s in ex.states] for p in _other_perms(b, len(ex.states[0]))]
        others = [[b.fd_base(x) for x in b.owner_slots(c)] for c in range(1, mounts)]

        def fds_sorted(s: tuple) -> tuple:
            out = list(s)
            for fs in others:
                blocks = sorted((s[f : f + 3] for f in fs), reverse=True)
                for f, blk in zip(fs, blocks, strict=True):
                    out[f : f + 3] = blk
            return tuple(out)

        cls = [min(fds_sorted(ex.states[im[sid]]) for im in images) for sid in range(ex.n_states)]
        orbits = {
            min(tuple(sorted((im[s], n) for s, n in m.items())) for im in images) for m in members
        }
        visits = sum(len(m) for m in members)
        as_classes = sum(len({(cls[s], n) for s, n in m.items()}) for m in members)
    print(
        f"{spec}, mounts {mounts}, depth {depth}: {len(members):,} nodes, {len(orbits):,} up to "
        f"the others' permutations ({len(members) / len(orbits):.2f}x); {visits:,} member "
        f"visits, {as_classes:,} as classes ({visits / as_classes:.2f}x); {ex.n_states:,} "
        f"states, {len(set(cls)):,} up to those permutations "
        f"({ex.n_states / len(set(cls)):.2f}x)"
    )


def _other_perms(b: Bounds, width: int):
    """State permutations that fix ovl1 and permute the other containers."""
    for order in itertools.permutations(range(1, b.mounts)):
        old = [0, *order]  # new container k takes old container old[k]
        p = list(range(width))
        for k in range(b.mounts):
            for j in range(3):
                p[b.inode_base(k) + j] = b.inode_base(old[k]) + j
                p[b.ofs_base(k) + j] = b.ofs_base(old[k]) + j
            for new, was in zip(b.owner_slots(k), b.owner_slots(old[k]), strict=True):
                for j in range(3):
                    p[b.fd_base(new) + j] = b.fd_base(was) + j
        yield lambda s, p=tuple(p): tuple(s[k] for k in p)


def mib(n: int) -> str:
    return f"{n / 2**20:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--per-spec", action="store_true", help="a row per spec as well")
    ap.add_argument("--compare", action="store_true", help="subset vs product, mounts 2")
    ap.add_argument("--config", action="append", help="MOUNTS:DEPTH (repeatable)")
    ap.add_argument("--phases", metavar="MOUNTS:DEPTH", help="only: time per phase and spec")
    ap.add_argument("--stabiliser", metavar="MOUNTS:DEPTH", help="only: the stabiliser's gain")
    ap.add_argument("--spec", action="append", help="with --phases: only these specs")
    ap.add_argument("--host-fds", type=int, default=0, help="host fds (default 0)")
    args = ap.parse_args()
    HOST_FDS[0] = args.host_fds
    if args.phases:
        phases(*map(int, args.phases.split(":")), args.spec or builtin_names())
        return
    if args.stabiliser:
        stabiliser(*map(int, args.stabiliser.split(":")))
        return
    configs = [tuple(map(int, c.split(":"))) for c in args.config] if args.config else CONFIGS
    specs = builtin_names()
    print(
        f"<!-- python bench/bench_isolation.py; {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cpus, one core used, "
        f"{HOST_FDS[0]} host fds, "
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
            ps = {"general": v.isolation.exact_states, "removal": v.isolation.removal_states}
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
            kinds = ",".join("+".join(g.kinds) for g in v.isolation.groups)
            short = v.isolation.shortest
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
                    sp = isolation.split_graph(ex, model, 0)
                    t0 = time.perf_counter()
                    for _ in range(args.runs):
                        g = isolation.METHODS[method](ex, sp, None)
                    tot_t += (time.perf_counter() - t0) / args.runs
                    tot_n += g.explored
                    tracemalloc.start()
                    isolation.METHODS[method](ex, sp, None)
                    top = max(top, tracemalloc.get_traced_memory()[1])
                    tracemalloc.stop()
                print(f"| {mounts} | {depth} | {method} | {tot_n} | {tot_t:.2f} | {mib(top)} |")


if __name__ == "__main__":
    main()
