"""One run of the main job: explore each spec, check each property, collect verdicts.

This is the model configuration half of the TLA+ split: the bounds, the mount
options, the specs and the properties of one run.  The semantics live in specs/.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import signal
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import compress
from operator import attrgetter

from explorer.app.outcome import PROPERTIES, Config, Outcome, SpecResult
from explorer.bridge.model import ErrseqModel
from explorer.bridge.monitors import monitors
from explorer.bridge.user_property import UserMonitor
from explorer.domain.scenario import result_name
from explorer.domain.vfs import Spec
from explorer.engine.limits import Projection, SearchLimit, paused_gc
from explorer.engine.properties import agreement, isolation, safety
from explorer.engine.search import Exploration, bfs
from explorer.engine.verdict import IsolationResult, Verdict


def coverage(ex: Exploration) -> Counter:
    """How often each kind of event fired, and how often fsync/syncfs/mount failed, with
    which errno ("fsync EIO", "fsync ENOSPC")."""
    return tally(ex.action, ex.obs)


def tally(actions: list, obs: list) -> Counter:
    """`coverage` of the edges given as their actions and observations (a partitioned
    search tallies each partition's)."""
    c: Counter = Counter(map(attrgetter("verb"), actions))
    edges = zip(actions, obs, strict=True)
    failed = Counter((a.verb, o) for a, o in compress(edges, obs))
    for (verb, o), n in failed.items():
        c[f"{verb} {result_name(o)}"] += n
    return c


Cache = dict[tuple[str, bool], tuple[ErrseqModel, Exploration]]


def _explore(cfg: Config, cache: Cache, spec: Spec, symmetry: bool, progress=None, levels=None):
    """The spec's model and its exploration, with or without symmetry, searched once;
    `levels` watches the search's growth (see `bfs`)."""
    key = (spec.name, symmetry)
    if key not in cache:
        model = ErrseqModel(spec, cfg.bounds, cfg.options, symmetry=symmetry)
        cb = (lambda d, n, e: progress(spec.name, d, n, e)) if progress else None
        search = bfs if symmetry else isolation.full_graph
        ex = search(model, cfg.depth, cfg.max_states, cb, cfg.max_bytes, levels)
        cache[key] = (model, ex)
    return cache[key]


#: The flag of the memory guard: a check it stops is undecided, not the end of the run.
MEMORY = "--max-memory"


def undecided(prop: str, spec: Spec, limit: str, viewer: int | None = None) -> Verdict:
    """A verdict the memory guard kept from being decided at all (isolation: of `viewer`)."""
    v = Verdict(prop, spec.name, holds=True, decided=0, limit=limit)
    if viewer is not None:
        v.isolation = IsolationResult(viewer, [], None, None, None, 0, 0, 0)
    return v


def check_spec(
    cfg: Config,
    spec: Spec,
    viewers: list[int],
    cache: Cache,
    progress=None,
    with_isolation: bool = True,
) -> SpecResult:
    """Explore one spec and check every property of `cfg` on it (isolation only if asked:
    a big run may check it in a task of its own, see `tasks`).  No verdict is lost to
    the memory guard: a check it stops is undecided, and the others are still made."""
    t = time.perf_counter()
    try:
        model, ex = _explore(cfg, cache, spec, cfg.symmetry, progress)
    except SearchLimit as exc:
        if exc.flag != MEMORY:
            raise
        # Nothing but isolation (which searches on its own, as deep as fits) is decided.
        r = SpecResult(spec, exc.states, 0, 0.0)
        for prop in cfg.properties:
            if prop == "isolation" and with_isolation:
                r.verdicts[prop] = check_isolation(cfg, spec, viewers, cache, progress)
            elif prop not in ("isolation", "agreement") or reference(cfg, spec):
                r.verdicts[prop] = [undecided(prop, spec, str(exc))]
        r.seconds = time.perf_counter() - t
        return r
    r = SpecResult(
        spec, ex.n_states, ex.n_edges, ex.seconds, coverage=coverage(ex), model=model, ex=ex
    )
    for prop in cfg.properties:
        try:
            if prop == "isolation":
                if with_isolation:
                    r.verdicts[prop] = check_isolation(cfg, spec, viewers, cache, progress)
            elif prop == "agreement":
                ref = reference(cfg, spec)
                if ref is not None:
                    ref_model, ref_ex = _explore(cfg, cache, ref, cfg.symmetry, progress)
                    r.verdicts[prop] = [
                        agreement.check(ex, ref_ex, model, ref_model, max_bytes=cfg.max_bytes)
                    ]
            elif prop in cfg.user_properties:
                # A user's bookkeeping cannot follow the symmetry's permutations (it has no
                # translate): it is checked on the graph explored without the reduction.
                umodel, uex = (
                    _explore(cfg, cache, spec, False, progress) if ex.reduced else (model, ex)
                )
                monitor = UserMonitor(cfg.user_properties[prop], cfg.bounds)
                r.verdicts[prop] = [safety.check(uex, monitor, umodel, cfg.max_bytes)]
            else:
                r.verdicts[prop] = [safety.check(ex, monitors(model)[prop], model, cfg.max_bytes)]
        except SearchLimit as exc:
            if exc.flag != MEMORY:
                raise
            r.verdicts[prop] = [undecided(prop, spec, str(exc))]
    r.seconds = time.perf_counter() - t
    return r


def reference(cfg: Config, spec: Spec) -> Spec | None:
    """The agreement reference of `spec` (None: it is the reference, or there is none)."""
    ref = cfg.against
    return None if ref is None or ref.name == spec.name else ref


def check_isolation(
    cfg: Config, spec: Spec, viewers: list[int], cache: Cache, progress=None
) -> list[Verdict]:
    """Isolation fixes one container, so it runs on the full graph (isolation.full_graph).

    No verdict is lost to the memory guard: when the run's depth does not fit, isolation
    is decided at the deepest depth that does, in steps of two events (depth 14, 12,
    10, ...: each two events multiply its work 7-11x, so an odd depth would cost about
    three times the even one below it for one event more), and each verdict says which.
    The full search foresees the guard from its first depths (`Projection`), before the
    memory is spent, and the same projection names the depth to try next; a guard the
    checks reach anyway lowers it by two.  A violation found at a lower depth is a
    violation at the run's depth too; holding there leaves the verdict undecided."""
    depth, limit = cfg.depth, ""
    while depth > 0:
        proj = Projection(depth, cfg.max_bytes) if cfg.max_bytes is not None else None
        try:
            if depth == cfg.depth:
                full_model, full_ex = _explore(cfg, cache, spec, False, progress, proj)
            else:
                full_model = ErrseqModel(spec, cfg.bounds, cfg.options, symmetry=False)
                full_ex = isolation.full_graph(
                    full_model, depth, cfg.max_states, None, cfg.max_bytes, proj
                )
            verdicts = [
                isolation.check(
                    full_ex,
                    full_model,
                    v,
                    cfg.allow,
                    budget=cfg.isolation_budget,
                    max_bytes=cfg.max_bytes,
                )
                for v in viewers
            ]
        except SearchLimit as exc:
            if exc.flag != MEMORY:
                raise _amended(cfg, exc) from None
            # Keep its words only: its traceback, like these names, would keep the graph
            # and the checks alive through the next depth.
            limit = limit or str(exc)
            full_model = full_ex = None  # type: ignore[assignment]
            cache.pop((spec.name, False), None)
            depth = proj.deepest(depth) if proj is not None else depth - 2
            continue
        if limit:
            for v in verdicts:
                v.decided, v.limit = depth, limit
        return verdicts
    return [undecided("isolation", spec, limit, v) for v in viewers]


def _amended(cfg: Config, exc: SearchLimit) -> SearchLimit:
    """A limit hit by isolation's full search, with the way out of a run with symmetry."""
    if not cfg.symmetry:
        return exc
    # The other properties search up to symmetry: say how to check them alone.
    others = " ".join(f"-p {p}" for p in PROPERTIES if p != "isolation")
    return exc.amended(
        " (isolation searches every world, without symmetry)",
        f"; the other properties search up to symmetry, several times fewer states: {others}",
    )


#: Another way to do a run's work (explore --ray): fill `out.results` for `cfg`, in its
#: spec order, given the isolation viewers and the progress callback.
Execute = Callable[[Config, list[int], Outcome, Callable[[str, int, int, int], None] | None], None]

# In a worker process: the run's configuration (inherited through fork) and its cache.
_WORKER: dict[str, object] = {}

#: What a task checks of its spec: everything, isolation alone, or all but isolation.
ALL, ISOLATION, REST = "all", "isolation", "rest"


def _worker_check(i: int, part: str) -> SpecResult | tuple[list[Verdict], float]:
    cache = _WORKER.setdefault("cache", {})
    return check_task(_WORKER["cfg"], _WORKER["viewers"], cache, i, part)  # type: ignore[arg-type]


def check_task(
    cfg: Config, viewers: list[int], cache: Cache, i: int, part: str
) -> SpecResult | tuple[list[Verdict], float]:
    """One task of a parallel run (`tasks`), in whichever process runs it."""
    spec = cfg.specs[i]
    if part == ISOLATION:
        t = time.perf_counter()
        done: SpecResult | tuple[list[Verdict], float] = (
            check_isolation(cfg, spec, viewers, cache),
            time.perf_counter() - t,
        )
    else:
        done = check_spec(cfg, spec, viewers, cache, with_isolation=part == ALL)
        done.model = done.ex = None  # results travel back by pickle: leave the graph behind
    # Only the agreement reference is needed again: free the rest before the next task.
    against = cfg.against.name if cfg.against else None
    for key in [k for k in cache if k[0] == spec.name and k[0] != against]:
        del cache[key]
    return done


def _worker_init() -> None:
    """Ctrl-C is the parent's: it terminates the workers and says `interrupted` once.  A
    worker that took the terminal's SIGINT itself would die printing a traceback from
    the pool's internals.  (SIGINT arrives blocked, see `collect`.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def tasks(cfg: Config) -> list[tuple[int, str]]:
    """The work of a parallel run, in the order it is handed out.

    With symmetry, isolation runs on a full graph of its own, so it costs nothing extra
    to make it a task apart; it is most of a big run and varies most between specs (a
    spec that keeps isolation is checked quickly), so its tasks go first and the small
    ones fill the gaps at the end."""
    order = biggest_first(cfg)
    if cfg.symmetry and "isolation" in cfg.properties and len(cfg.properties) > 1:
        return [(i, ISOLATION) for i in range(len(cfg.specs))] + [(i, REST) for i in order]
    return [(i, ALL) for i in order]


def worker_config(cfg: Config, jobs: int) -> Config:
    """A worker's share of the run: the memory guard bounds what the whole run holds,
    so each of `jobs` workers stops at its part of it (two workers each allowed 3/4 of
    the machine would meet the OOM killer first)."""
    if cfg.max_bytes is None:
        return cfg
    return dataclasses.replace(cfg, max_bytes=cfg.max_bytes // jobs)


def worth_parallel(cfg: Config) -> bool:
    """Two processes pay off once a run takes most of a second (fork and pickling cost
    ~0.1 s): the main job with isolation over several specs already does (measured:
    docs/performance.md)."""
    big = cfg.bounds.mounts >= 3 or cfg.depth >= 10
    return len(cfg.specs) > 1 and (big or ("isolation" in cfg.properties and len(cfg.specs) >= 4))


def biggest_first(cfg: Config) -> list[int]:
    """Spec indices, the costliest first, so that no big spec starts last and leaves the
    other workers idle.  Specs part ways from about 6 events on, and their cost grows
    alike after that, so a search 4 events shallower (at most 8: 0.3 s for nine specs at
    3 containers) ranks them; small runs keep their order, where ranking costs more
    than it saves, unless an earlier run's seconds (`cfg.costs`) rank them for free
    (specs it did not run first: they may be the biggest)."""
    order = list(range(len(cfg.specs)))
    probe = min(cfg.depth - 4, 8)
    if probe < 6 or not (cfg.bounds.mounts >= 3 or cfg.depth >= 12):
        if not cfg.costs:
            return order
        return sorted(order, key=lambda i: -cfg.costs.get(cfg.specs[i].name, float("inf")))
    size = [
        bfs(ErrseqModel(s, cfg.bounds, cfg.options, symmetry=cfg.symmetry), probe).n_edges
        for s in cfg.specs
    ]
    return sorted(order, key=lambda i: -size[i])


def collect(
    cfg: Config,
    submit: Callable[[int, str], Future],
    out: Outcome,
    progress: Callable[[str, int, int, int], None] | None,
) -> None:
    """Hand out the tasks (`submit(spec index, part)`), say every second how many are
    done (a big run's first spec can take minutes), then gather each spec's results in
    `cfg` order.

    The workers fork at the first submit with SIGINT blocked, until `_worker_init` has
    them ignore it: a Ctrl-C in between is the parent's alone."""
    work = tasks(cfg)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        futures = {t: submit(*t) for t in work}
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    pending = set(futures.values())
    while pending:
        just_done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
        for f in just_done:
            if f.exception() is not None:
                raise f.exception()  # a limit: end the run now, not after the other tasks
        if progress:
            finished = [
                f.result() for (_, part), f in futures.items() if part != ISOLATION and f.done()
            ]
            progress(
                f"{len(futures) - len(pending)}/{len(futures)} tasks done",
                cfg.depth,
                sum(r.states for r in finished),
                sum(r.transitions for r in finished),
            )
    for n in range(len(cfg.specs)):
        r = futures.get((n, ALL)) or futures[(n, REST)]
        out.results.append(r.result())
        iso = futures.get((n, ISOLATION))
        if iso is not None:
            verdicts, seconds = iso.result()
            done = out.results[-1]
            done.verdicts[ISOLATION] = verdicts
            done.verdicts = {p: done.verdicts[p] for p in cfg.properties if p in done.verdicts}
            done.seconds += seconds


@paused_gc()
def run(
    cfg: Config,
    progress: Callable[[str, int, int, int], None] | None = None,
    jobs: int = 1,
    execute: Execute | None = None,
) -> Outcome:
    """Explore and check everything `cfg` asks for, in `jobs` processes (specs are
    independent); the outcome lists the specs in `cfg` order either way.  The cyclic
    collector stays paused throughout (workers fork with it paused): the checks, like
    the search, build millions of objects without cycles, and its passes over them
    cost isolation 1.4x at 3 containers (measured: docs/performance.md).  `execute`, if
    given, does the work instead (`explore --ray`: explorer.scale)."""
    t0 = time.perf_counter()
    out = Outcome(cfg, [])
    if cfg.symmetry:
        out.notes.append(
            "states and transitions are counted up to symmetry (interchangeable containers "
            "and fds stored once); --no-symmetry counts every world"
        )
    if cfg.symmetry and cfg.user_properties:
        out.notes.append(
            f"{', '.join(cfg.user_properties)}: checked on the graph explored without "
            "symmetry (a user property's bookkeeping cannot follow the reduction)"
        )
    viewers = cfg.viewers
    if "isolation" in cfg.properties and viewers is None:
        viewers = isolation.representatives(ErrseqModel(cfg.specs[0], cfg.bounds, cfg.options))
        if len(viewers) < cfg.bounds.mounts:
            names = ", ".join(f"ovl{v + 1}" for v in viewers)
            out.notes.append(
                f"isolation: {names} checked as the representative of ovl1..ovl{cfg.bounds.mounts} "
                "(every container has the same bounds and mount options, so they are interchangeable)"
            )
    if execute is not None:
        execute(cfg, viewers or [], out, progress)
    elif jobs > 1 and len(cfg.specs) > 1:
        _WORKER.clear()
        _WORKER.update(cfg=worker_config(cfg, jobs), viewers=viewers or [])
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=ctx, initializer=_worker_init
        ) as pool:
            try:
                collect(cfg, lambda i, part: pool.submit(_worker_check, i, part), out, progress)
            except BaseException as exc:
                # A limit hit in one worker, or Ctrl-C, ends the run: stop the others
                # now rather than let them finish their tasks (minutes, on a big run).
                pool.shutdown(wait=False, cancel_futures=True)
                for child in multiprocessing.active_children():
                    child.terminate()
                if isinstance(exc, SearchLimit) and exc.flag == "--max-memory":
                    split = f" (split between the {jobs} processes of this run)"
                    raise exc.amended(hint=split) from None
                raise
        _WORKER.clear()
    else:
        cache: Cache = {}
        for spec in cfg.specs:
            out.results.append(check_spec(cfg, spec, viewers or [], cache, progress))
    capped = [
        f"{r.spec.name} ({v.isolation.removal_complete} events)"
        for r in out.results
        for v in r.verdicts.get("isolation", [])
        if v.isolation is not None
        and v.decided != 0
        and v.isolation.removal_complete < (v.decided or cfg.depth)
    ]
    if capped:
        out.notes.append(
            "isolation: the verdicts are exact, but the witnesses sorted by kind of outside "
            f"event are complete only up to the length shown for {', '.join(capped)}: "
            f"the removal search stopped at {cfg.isolation_budget:,} pair states "
            "(--isolation-budget raises it)"
        )
    out.notes += limited(out, jobs if len(cfg.specs) > 1 else 1)
    out.seconds = time.perf_counter() - t0
    return out


def limited(out: Outcome, jobs: int) -> list[str]:
    """Notes on the verdicts the memory guard kept below the run's depth: per property,
    the specs and the depth each was decided at, and the guard's words once."""
    below: dict[str, list[str]] = {}
    limit = ""
    for r in out.results:
        for prop, verdicts in r.verdicts.items():
            for v in verdicts:
                if v.decided is not None:
                    at = f"depth {v.decided}" if v.decided else "not decided"
                    below.setdefault(prop, []).append(f"{r.spec.name} ({at})")
                    limit = limit or v.limit
    if not below:
        return []
    split = f" (the guard is split between the {jobs} processes of this run)" if jobs > 1 else ""
    notes = [
        f"{prop}: checked below depth {out.config.depth} by the memory guard: "
        f"{', '.join(specs)}; a violation found there is one at depth {out.config.depth} "
        "too, holding there is undecided"
        for prop, specs in below.items()
    ]
    return [*notes, f"the memory guard: {limit}{split}"]
