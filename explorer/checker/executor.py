"""Who does a run's work: the `Executor` protocol, the checks of one spec, and the tasks
a parallel executor hands out.

`check_spec` is the one place where a spec's properties are dispatched and where the
memory guard's policy applies to them, whichever executor runs it and wherever
(`explorer.checker.sites`: in this process, or over partitions).  The executors:
`Serial` here (the specs one after the other), `explorer.checker.pool.Pool` (worker
processes) and `explorer.scale.execute.RayExecutor` (`explore --ray`).
"""

from __future__ import annotations

import dataclasses
import gc
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Protocol

from explorer.checker import region
from explorer.checker.config import Config
from explorer.checker.guard import stopped_by_guard, undecided
from explorer.checker.properties import checks
from explorer.checker.results import Region, SpecResult
from explorer.checker.sites import AnyModel, Cache, Graphs, Progress, SharedSymmetry, Site, model_of
from explorer.domain.vfs import Spec
from explorer.engine.limits import SearchLimit, rss_bytes
from explorer.engine.search import Exploration, bfs
from explorer.engine.verdict import Verdict


class Executor(Protocol):
    """Does a run's work: every spec of `cfg` checked, the results in `cfg`'s spec order,
    as from one process.  `split` says, for the memory guard's note, how the guard was
    shared among the executor's workers ("" when it was not)."""

    split: str

    def execute(
        self, cfg: Config, viewers: list[int], progress: Progress | None
    ) -> list[SpecResult]: ...


def check_spec(cfg: Config, spec: Spec, site: Site, apart: bool = False) -> SpecResult:
    """Search `spec` and check every property of `cfg` that applies to it, at `site`
    (`apart`: leave out the properties a parallel run checks as tasks of their own).

    No verdict is lost to the memory guard: a check it stops is undecided and the others
    are still made; when it stops the spec's search, only the properties that search
    on their own are decided.  Any other limit ends the run."""
    t = time.perf_counter()
    stopped = ""
    try:
        r = site.search(spec)
    except SearchLimit as exc:
        if not stopped_by_guard(exc):
            raise
        r, stopped = SpecResult(spec, exc.states, 0, 0.0), str(exc)
    for prop in checks(cfg):
        if (prop.apart and apart) or not prop.applies(cfg, spec):
            continue
        if stopped and not prop.apart:
            r.verdicts[prop.name] = [undecided(prop.name, spec, stopped)]
            continue
        try:
            r.verdicts[prop.name] = site.check(prop, spec)
        except SearchLimit as exc:
            if not stopped_by_guard(exc):
                raise
            r.verdicts[prop.name] = [undecided(prop.name, spec, str(exc))]
    r.seconds = time.perf_counter() - t
    return r


class Serial:
    """The specs one after the other in this process.  `kept`, when given, receives
    each spec's searched graph (--full-graph draws them)."""

    split = ""

    def __init__(self, kept: dict[str, tuple[AnyModel, Exploration]] | None = None) -> None:
        self.kept = kept

    def execute(
        self, cfg: Config, viewers: list[int], progress: Progress | None
    ) -> list[SpecResult]:
        graphs = Graphs(cfg, viewers, progress=progress, kept=self.kept)
        results = []
        for spec in cfg.specs:
            r = check_spec(cfg, spec, graphs)
            r.regions = region.of_task(cfg, graphs.cache, spec, r.verdicts)
            results.append(r)
            release(cfg)
        return results


# --- the tasks of a parallel run -----------------------------------------------------------

#: What a task checks of its spec: everything, the properties apart alone, or the rest.
ALL, APART, REST = "all", "apart", "rest"


def tasks(cfg: Config) -> list[tuple[int, str]]:
    """The work of a parallel run, in the order it is handed out.

    With symmetry, a property apart (isolation) runs on a full graph of its own, so it
    costs nothing extra to make it a task apart; it is most of a big run and varies
    most between specs (a spec that keeps isolation is checked quickly), so its tasks go
    first and the small ones fill the gaps at the end."""
    order = biggest_first(cfg)
    if cfg.symmetry and any(p.apart for p in checks(cfg)) and len(cfg.properties) > 1:
        return [(i, APART) for i in range(len(cfg.specs))] + [(i, REST) for i in order]
    return [(i, ALL) for i in order]


TaskResult = SpecResult | tuple[dict[str, list[Verdict]], float, dict[str, Region]]

#: The signals that stop a run (Ctrl-C, SIGTERM): the parent's, never a worker's.
STOPPING = {signal.SIGINT, signal.SIGTERM}


def check_task(cfg: Config, viewers: list[int], cache: Cache, i: int, part: str) -> TaskResult:
    """One task of a parallel run (`tasks`), in whichever process runs it: a spec's
    result, or (APART) the verdicts of its properties apart, their seconds and the
    browser's regions of their runs (made here, where the explorations are)."""
    spec = cfg.specs[i]
    graphs = Graphs(cfg, viewers, cache)
    done: TaskResult
    if part == APART:
        t = time.perf_counter()
        apart = [p for p in checks(cfg) if p.apart and p.applies(cfg, spec)]
        verdicts = {p.name: graphs.check(p, spec) for p in apart}
        seconds = time.perf_counter() - t
        done = (verdicts, seconds, region.of_task(cfg, cache, spec, verdicts))
    else:
        done = check_spec(cfg, spec, graphs, apart=part == REST)
        done.regions = region.of_task(cfg, cache, spec, done.verdicts)
    # Only the agreement reference's graph is needed again (the one agreement checks
    # against): free the rest before the next task.  The reference's graph without
    # symmetry goes too: left to whichever later tasks this worker runs, it would give
    # the browser's region of the reference other shortest paths than the workers
    # without it, and the page would depend on how the tasks fell.
    keep = (cfg.against.name, cfg.symmetry) if cfg.against else None
    for key in [k for k in cache if k[0] == spec.name and k != keep]:
        del cache[key]
    release(cfg)
    return done


def release(cfg: Config) -> None:
    """Free what a task (or, in one process, a spec) left in reference cycles.  The
    collector is paused for the whole run (explorer.checker.run), so a process would
    carry every task's cyclic garbage into the next, and its resident memory, which the
    guard reads, would stop a later task that fits: only once the process holds a
    quarter of its guard, as one pass walks every object alive."""
    if cfg.max_bytes is not None and rss_bytes() > cfg.max_bytes // 4:
        gc.collect()


def search_reference(cfg: Config, viewers: list[int], cache: Cache) -> None:
    """Search the agreement reference into `cache` before the workers fork: each of
    them checks specs against it, and would otherwise search it again for itself.  A
    limit hit here is left for the workers to meet and report as they would.  Small
    runs only: a large run's reference would stay in this process all along, beside
    the workers' graphs, where the memory guard does not look."""
    if "agreement" not in cfg.properties or cfg.against is None or large(cfg):
        return
    if sum(s.name != cfg.against.name for s in cfg.specs) < 2:
        return  # one spec checked against it: searched once anyway
    try:
        Graphs(cfg, viewers, cache).explore(cfg.against, cfg.symmetry)
    except SearchLimit:
        cache.clear()


def worker_config(cfg: Config, jobs: int) -> Config:
    """A worker's share of the run: the memory guard bounds what the whole run holds,
    so each of `jobs` workers stops at its part of it (two workers each allowed 3/4 of
    the machine would meet the OOM killer first)."""
    if cfg.max_bytes is None:
        return cfg
    return dataclasses.replace(cfg, max_bytes=cfg.max_bytes // jobs)


def worth_parallel(cfg: Config) -> bool:
    """Two processes pay off once a run is long enough to repay forking the workers and
    pickling the results (docs/performance.md): the main job with isolation over
    several specs already is."""
    return len(cfg.specs) > 1 and (
        large(cfg) or ("isolation" in cfg.properties and len(cfg.specs) >= 4)
    )


def large(cfg: Config) -> bool:
    """A run whose specs take seconds or more each (three containers, or depth 10)."""
    return cfg.bounds.mounts >= 3 or cfg.depth >= 10


def biggest_first(cfg: Config) -> list[int]:
    """Spec indices, the costliest first, so that no big spec starts last and leaves the
    other workers idle.  Specs part ways from about 6 events on, and their cost grows
    alike after that, so a search 4 events shallower (at most 8) ranks them; small
    runs keep their order, where ranking costs more than it saves, unless an earlier
    run's seconds (`cfg.costs`) rank them for free (specs it did not run first: they
    may be the biggest)."""
    order = list(range(len(cfg.specs)))
    probe = min(cfg.depth - 4, 8)
    if probe < 6 or not (cfg.bounds.mounts >= 3 or cfg.depth >= 12):
        if not cfg.costs:
            return order
        return sorted(order, key=lambda i: -cfg.costs.get(cfg.specs[i].name, float("inf")))
    shared = SharedSymmetry(cfg)(cfg.symmetry)
    size = [bfs(model_of(cfg, s, shared), probe).n_edges for s in cfg.specs]
    return sorted(order, key=lambda i: -size[i])


def collect(
    cfg: Config,
    submit: Callable[[int, str], Future],
    progress: Progress | None,
    meanwhile: Callable[[], None] | None = None,
) -> list[SpecResult]:
    """Hand out the tasks (`submit(spec index, part)`), say every second how many are
    done (a big run's first spec can take minutes), then gather each spec's results in
    `cfg` order.  The first task to fail (a limit) ends the run at once.  `meanwhile`
    runs once every task is handed out: the caller's own work while they run.

    SIGINT and SIGTERM are blocked while the tasks are submitted: a pool's workers fork
    at the first submit, and a Ctrl-C or SIGTERM before they set their own handling is
    the parent's alone."""
    work = tasks(cfg)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        futures = {t: submit(*t) for t in work}
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    if meanwhile is not None:
        meanwhile()
    pending = set(futures.values())
    while pending:
        just_done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
        for f in just_done:
            exc = f.exception()
            if exc is not None:
                raise exc  # a limit: end the run now, not after the other tasks
        if progress:
            finished = [
                r
                for (_, part), f in futures.items()
                if part != APART and f.done() and isinstance(r := f.result(), SpecResult)
            ]
            progress(
                f"{len(futures) - len(pending)}/{len(futures)} tasks done",
                cfg.depth,
                sum(r.states for r in finished),
                sum(r.transitions for r in finished),
            )
    results = []
    for n in range(len(cfg.specs)):
        r = (futures.get((n, ALL)) or futures[(n, REST)]).result()
        apart = futures.get((n, APART))
        if apart is not None:
            merge(cfg, r, *apart.result())
        results.append(r)
    return results


def merge(
    cfg: Config,
    r: SpecResult,
    verdicts: dict[str, list[Verdict]],
    seconds: float,
    regions: dict[str, Region] | None = None,
) -> None:
    """Put a spec's verdicts checked apart back into its result, in the run's order."""
    r.verdicts.update(verdicts)
    r.verdicts = {p: r.verdicts[p] for p in cfg.properties if p in r.verdicts}
    r.seconds += seconds
    for name, part in (regions or {}).items():
        if name in r.regions:
            r.regions[name].merge(part)
        else:
            r.regions[name] = part
