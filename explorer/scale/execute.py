"""A run's work on Ray (`explore --ray`): `runner.run` with another executor.

With one partition the specs' tasks are those of the two-process pool (`runner.tasks`,
costliest first) as Ray tasks.  With P partitions each spec's search, and the monitors'
and agreement's products, are partitioned searches over P actors (explorer.engine.
partition), one spec after the other, while isolation, which needs one spec's whole
graph, runs as one Ray task per spec beside them.  Either way the results are gathered
in the run's spec order, as from one machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from explorer.app import runner
from explorer.app.outcome import Config, Outcome, SpecResult
from explorer.bridge.model import ErrseqModel
from explorer.bridge.monitors import monitors
from explorer.bridge.user_property import UserMonitor
from explorer.engine.limits import SearchLimit
from explorer.engine.partition import partitioned_bfs
from explorer.engine.properties import agreement, safety
from explorer.scale.cluster import cpus, per_node, stand_in, unwrap, user_modules
from explorer.scale.transport import RayTransport

Progress = Callable[[str, int, int, int], None] | None


def executor(ray: Any, partitions: int) -> runner.Execute:
    """The `execute` of `runner.run` for a joined Ray runtime and P partitions."""

    def execute(cfg: Config, viewers: list[int], out: Outcome, progress: Progress) -> None:
        modules = user_modules(ray)
        try:
            if partitions > 1:
                _partitioned(ray, partitions, cfg, viewers, out, progress, modules)
            else:
                _tasks(ray, cfg, viewers, out, progress, modules)
        except SearchLimit as exc:
            if exc.flag == "--max-memory":
                raise exc.amended(hint=" (split between the Ray workers of a node)") from None
            raise

    return execute


def _task(cfg: Config, viewers: list[int], i: int, part: str, modules: dict[str, str]):
    stand_in(modules)
    return runner.check_task(cfg, viewers, {}, i, part)


def _submitter(
    ray: Any, cfg: Config, viewers: list[int], modules: dict[str, str]
) -> Callable[[int, str], Future]:
    """`submit(spec index, part)` for `runner.collect`: a Ray task whose future carries the
    worker's own exception."""
    remote = ray.remote(_task)
    shared = ray.put(cfg)

    def submit(i: int, part: str) -> Future:
        done: Future = Future()

        def settle(f: Future) -> None:
            try:
                done.set_result(f.result())
            except BaseException as exc:  # noqa: BLE001  handed to the waiting run
                done.set_exception(unwrap(exc))

        remote.remote(shared, viewers, i, part, modules).future().add_done_callback(settle)
        return done

    return submit


def _tasks(
    ray: Any,
    cfg: Config,
    viewers: list[int],
    out: Outcome,
    progress: Progress,
    modules: dict[str, str],
) -> None:
    work = runner.worker_config(cfg, per_node(ray, 0, len(runner.tasks(cfg))))
    runner.collect(work, _submitter(ray, work, viewers, modules), out, progress)


def _partitioned(
    ray: Any,
    parts: int,
    cfg: Config,
    viewers: list[int],
    out: Outcome,
    progress: Progress,
    modules: dict[str, str],
) -> None:
    """Each spec's searches over `parts` actors; isolation as one task per spec."""
    iso = "isolation" in cfg.properties
    work = runner.worker_config(cfg, per_node(ray, parts, len(cfg.specs) if iso else 0))
    isolation: dict[int, Future] = {}
    if iso:
        submit = _submitter(ray, work, viewers, modules)
        isolation = {i: submit(i, runner.ISOLATION) for i in runner.biggest_first(cfg)}
    # The actors leave room for the isolation tasks, which then run beside them.
    share = min(1.0, cpus(ray) / (parts + len(isolation)))
    transport = RayTransport(ray, parts, share, modules)
    try:
        for spec in cfg.specs:
            out.results.append(_spec(transport, work, spec, progress))
    finally:
        transport.close()
    for i, r in enumerate(out.results):
        if i in isolation:
            verdicts, seconds = isolation[i].result()
            r.verdicts[runner.ISOLATION] = verdicts
            r.seconds += seconds
        r.verdicts = {p: r.verdicts[p] for p in cfg.properties if p in r.verdicts}


def _spec(transport: RayTransport, cfg: Config, spec: Any, progress: Progress) -> SpecResult:
    """One spec: the partitioned search (figures, coverage), then every property but
    isolation on partitioned products."""
    t = time.perf_counter()
    depth, guard = cfg.depth, cfg.max_bytes

    def model(s: Any, symmetry: bool) -> ErrseqModel:
        return ErrseqModel(s, cfg.bounds, cfg.options, symmetry=symmetry)

    def cb(d: int, n: int, e: int) -> None:
        if progress is not None:
            progress(spec.name, d, n, e)

    m = model(spec, cfg.symmetry)
    try:
        run = partitioned_bfs(m, depth, transport, cfg.max_states, cb, guard)
    except SearchLimit as exc:
        if exc.flag != runner.MEMORY:
            raise
        # As on one machine: what the guard stops is undecided, isolation runs apart.
        r = SpecResult(spec, exc.states, 0, 0.0)
        for prop in cfg.properties:
            if prop not in ("isolation", "agreement") or runner.reference(cfg, spec):
                r.verdicts[prop] = [runner.undecided(prop, spec, str(exc))]
        r.seconds = time.perf_counter() - t
        return r
    r = SpecResult(
        spec, run.n_states, run.n_edges, run.seconds, coverage=run.coverage(runner.tally)
    )
    for prop in cfg.properties:
        if prop == "isolation" or (prop == "agreement" and runner.reference(cfg, spec) is None):
            continue
        try:
            if prop == "agreement":
                ref = model(cfg.against, cfg.symmetry)
                v = agreement.check_partitioned(m, ref, depth, transport, guard)
            elif prop in cfg.user_properties:
                monitor = UserMonitor(cfg.user_properties[prop], cfg.bounds)
                v = safety.check_partitioned(model(spec, False), monitor, depth, transport, guard)
            else:
                v = safety.check_partitioned(m, monitors(m)[prop], depth, transport, guard)
        except SearchLimit as exc:
            if exc.flag != runner.MEMORY:
                raise
            v = runner.undecided(prop, spec, str(exc))
        r.verdicts[prop] = [v]
    r.seconds = time.perf_counter() - t
    return r
