"""Random scenarios against the real kernels: where the hand-written corpus stops.

    python -m explorer.conform.fuzz --count 40 --seed 1 --kernel all --save out/fuzz
    python -m explorer.conform.fuzz --count 30 --seed 7 --host-files any --errnos EIO,ENOSPC

Each scenario is a random walk over the events the model enables (biased toward
writes, errors and syncs, so that something happens), kept only if a real kernel
can represent it; disagreements are printed and saved as .scn files, ready to be
replayed with `explore conform FILE`.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from explorer.conform import core
from explorer.conform.build import build
from explorer.conform.cli import judge, plan
from explorer.conform.vm import run_many
from explorer.domain import world
from explorer.domain.catalog import load_spec
from explorer.domain.scenario import format_run, parse

WEIGHT = {
    "write": 4,
    "wberror": 5,
    "fsync": 3,
    "syncfs": 3,
    "open": 3,
    "mount": 2,
    "close": 1,
    "umount": 1,
    "evict": 2,
    "sync": 1,
}


def random_scenario(
    rng: random.Random, bounds: world.Bounds, length: int, weight: dict[str, int] | None = None
) -> str:
    """A random run of the mainline model (enabled events only), as scenario text."""
    weight = weight or WEIGHT
    spec = load_spec("mainline")
    state = bounds.initial()
    evs: list[world.Event] = []
    for _ in range(length):
        choices = world.enabled(bounds, state, (world.NORMAL, world.VOLATILE))
        ev = rng.choices(choices, [weight.get(e.verb, 1) for e in choices])[0]
        w = world.World(bounds, state)
        spec.apply(w, ev)
        state = w.freeze()
        evs.append(ev)
    return "".join(f"{e}\n" for e in format_run(bounds, evs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--length", type=int, default=14)
    ap.add_argument("--mounts", type=int, default=2)
    ap.add_argument("--host-fds", type=int, default=1)
    ap.add_argument("--host-files", default="own", choices=list(world.HOST_FILES))
    ap.add_argument("--errnos", default="EIO", help="EIO, ENOSPC or EIO,ENOSPC")
    ap.add_argument("--kernel", default="all", choices=["6.1", "6.12", "all"])
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--save", type=Path, default=None, help="folder for disagreeing scenarios")
    ap.add_argument(
        "--weight", action="append", default=[], help="VERB=N, e.g. evict=8 (repeatable)"
    )
    a = ap.parse_args(argv)
    weight = dict(WEIGHT)
    for w in a.weight:
        verb, _, n = w.partition("=")
        weight[verb] = int(n)
    rng = random.Random(a.seed)
    bounds = world.Bounds(
        mounts=a.mounts,
        fds=2,
        host_fds=a.host_fds,
        errnos=tuple(e for n, e in world.ERRNOS.items() if n in a.errnos.split(",")),
        host_files=a.host_files,
    )
    items: list[core.Item] = []
    tries = 0
    while len(items) < a.count and tries < a.count * 50:
        tries += 1
        text = random_scenario(rng, bounds, a.length, weight)
        name = f"fuzz-{a.seed}-{tries}"
        sc = parse(text, name)
        if "wberror" not in text or core.not_representable(sc, "mainline"):
            continue
        items.append(core.Item(name, text, sc, origin="fuzz"))
    kernels = list(core.KERNEL_ORDER) if a.kernel == "all" else [a.kernel]
    done, todo = plan(items, kernels)
    images = {k: build(k) for k in kernels}
    runs = run_many([(images[k], it.text) for it, k, _ in todo], a.accel)
    bad = 0
    for (it, k, model), r in zip(todo, runs, strict=True):
        o = judge(it, k, model, images[k], r)
        if o.status == core.AGREE:
            continue
        bad += 1
        print(f"== {it.name} on {k}: {o.status} {o.reason}")
        for row in o.rows:
            mark = "   <<" if row.mismatch else ""
            print(
                f"  {row.event:22} model {core.show(row.model):8} kernel "
                f"{core.show(row.kernel):8}{mark}"
            )
        if a.save:
            a.save.mkdir(parents=True, exist_ok=True)
            (a.save / f"{it.name}-{k}.scn").write_text(
                f"# {o.status} on {k}: {o.reason}\n" + it.text
            )
    print(
        f"{len(todo)} runs ({len(items)} scenarios, {len(done)} not representable): "
        f"{bad} not agreeing",
        file=sys.stderr,
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
