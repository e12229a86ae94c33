"""Scale-out benchmark: the partitioned search over P local Ray actors (docs/scale-out.md).

Run:  python bench/bench_scale_out.py [--spec plain] [--mounts 3] [--depth 9] [--parts 1 .. 8]
      python bench/bench_scale_out.py --growth     # states per bounds, for the projection

For each P: states and transitions (the same for every P: the search is bfs's), the
bytes a partition sends per state (the pickled batches of successors: state, key,
parent ref) and gets back (the refs of the states it sent), the messages per level
(P*P batches of successors and P*P of refs back; the driver's 4 calls per
actor: expand, receive, settle, counts), each actor's resident memory
after the search less an idle actor's (what it stores per state it holds), and the
wall time (the best of --runs).  The reference row is `search.bfs` in this process.  The machine has 2
cores: from P = 3 on the figures measure overhead, not speed-up.  Prints markdown.
"""

from __future__ import annotations

import argparse
import pickle
import time

from explorer.bridge.model import ErrseqModel
from explorer.domain.catalog import load_spec
from explorer.domain.world import Bounds
from explorer.engine.limits import rss_bytes
from explorer.engine.partition import Partition, partitioned_bfs
from explorer.engine.search import bfs


class Measured(Partition):
    """A partition that counts the bytes it sends and gets back (as pickle sizes them;
    Ray serializes batches of ints and tuples with pickle too)."""

    bytes_sent = 0
    bytes_back = 0

    def expand(self):
        batches = super().expand()
        self.bytes_sent += sum(len(pickle.dumps(b, protocol=5)) for b in batches)
        return batches

    def receive(self, level, *batches):
        out = super().receive(level, *batches)
        self.bytes_back += sum(len(pickle.dumps(r, protocol=5)) for r in out[1:])
        return out

    def measured(self) -> tuple[int, int, int]:
        return self.bytes_sent, self.bytes_back, len(self.states)


def model(spec: str, mounts: int, symmetry: bool) -> ErrseqModel:
    return ErrseqModel(load_spec(spec), Bounds(mounts, 2, 1), symmetry=symmetry)


def sweep(spec: str, mounts: int, depth: int, parts: list[int], symmetry: bool, runs: int) -> None:
    import ray

    from explorer.scale.transport import RayTransport

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    before = rss_bytes()
    single = []
    for k in range(runs):
        t = time.perf_counter()
        ex = bfs(model(spec, mounts, symmetry), depth)
        single.append(time.perf_counter() - t)
        if k == 0:
            stored = (rss_bytes() - before) / ex.n_states  # one exploration alive
        if k < runs - 1:
            del ex
    print(f"{spec}, --mounts {mounts} --depth {depth}, host fds 1, symmetry {symmetry}:")
    print(f"{ex.n_states:,} states, {ex.n_edges:,} transitions; levels of {depth}\n")
    print(
        "| P | wall s | sent B/state | replies B/state | batches/level | driver calls/level "
        "| states/actor (max) | MiB/actor (max, less idle) | stored B/state |"
    )
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    print(f"| bfs | {min(single):.2f} | - | - | - | - | {ex.n_states:,} | - | {stored:.0f} |")
    del ex
    for p in parts:
        walls = []
        for _ in range(runs):  # the best of a few: the machine is shared
            transport = RayTransport(ray, p, min(1.0, 2 / p))
            idle = transport.rss()
            m = model(spec, mounts, symmetry)
            t = time.perf_counter()
            run = partitioned_bfs(m, depth, transport, kind=Measured)
            walls.append(time.perf_counter() - t)
            rss = transport.rss()
            if len(walls) < runs:
                transport.close()
                time.sleep(1.0)
        wall = min(walls)
        got = transport.fetch([h[0] for h in transport.call("measured", [()] * p)])
        sent = sum(g[0] for g in got) / run.n_states
        back = sum(g[1] for g in got) / run.n_states
        held = [g[2] for g in got]
        grew = [(r - i) for r, i in zip(rss, idle, strict=True)]
        per_state = sum(grew) / run.n_states
        print(
            f"| {p} | {wall:.2f} | {sent:.0f} | {back:.0f} | {2 * p * p} | {4 * p} "
            f"| {max(held):,} | {max(grew) / 2**20:.0f} | {per_state:.0f} |"
        )
        transport.close()
        time.sleep(1.0)  # let the killed actors go before the next row's idle figure
    ray.shutdown()


def growth(spec: str, bounds: list[tuple[int, int]]) -> None:
    """States of the full search (isolation's graph) and of the reduced one."""
    print(f"{spec}, 2 fds per container, 1 host fd:\n")
    print("| mounts | depth | states (full) | states (symmetry) | seconds (full) |")
    print("|--:|--:|--:|--:|--:|")
    for mounts, depth in bounds:
        t = time.perf_counter()
        full = bfs(model(spec, mounts, False), depth).n_states
        seconds = time.perf_counter() - t
        reduced = bfs(model(spec, mounts, True), depth).n_states
        print(f"| {mounts} | {depth} | {full:,} | {reduced:,} | {seconds:.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="plain")
    ap.add_argument("--mounts", type=int, default=3)
    ap.add_argument("--depth", type=int, default=9)
    ap.add_argument("--parts", type=int, nargs="+", default=list(range(1, 9)))
    ap.add_argument("--symmetry", action="store_true")
    ap.add_argument("--runs", type=int, default=3, help="wall time: the best of these")
    ap.add_argument("--growth", action="store_true", help="states per bounds instead")
    a = ap.parse_args()
    if a.growth:
        growth(a.spec, [(3, 8), (3, 10), (3, 12), (4, 8), (4, 10), (4, 12), (5, 8), (5, 10)])
    else:
        sweep(a.spec, a.mounts, a.depth, a.parts, a.symmetry, a.runs)


if __name__ == "__main__":
    main()
