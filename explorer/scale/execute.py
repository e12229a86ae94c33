"""A run's work on Ray (`explore --ray`): an executor of explorer.checker.run.

With one partition the specs' tasks are those of the process pool
(`explorer.checker.executor.tasks`, costliest first) as Ray tasks.  With P partitions
each spec's search, and the monitors' and agreement's products, are partitioned
searches over P actors (explorer.engine.partition), one spec after the other, while
the properties apart (isolation), which need one spec's whole graph, run as one Ray
task per spec beside them.  Either way the results are gathered in the run's spec
order, as from one machine.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from explorer.checker.config import Config
from explorer.checker.executor import (
    APART,
    TaskResult,
    biggest_first,
    check_spec,
    check_task,
    collect,
    merge,
    tasks,
    worker_config,
)
from explorer.checker.guard import stopped_by_guard
from explorer.checker.properties import checks
from explorer.checker.results import SpecResult
from explorer.checker.sites import Partitions, Progress
from explorer.checker.timelimit import armed, time_limit
from explorer.engine.limits import SearchLimit
from explorer.scale.cluster import cpus, per_node, stand_in, unwrap, user_modules
from explorer.scale.transport import RayTransport


class RayExecutor:
    """The run's work on a joined Ray runtime, over `partitions` actors per spec (1:
    each spec whole in one task)."""

    split = " (the guard is split between the Ray workers of a node)"

    def __init__(self, ray: Any, partitions: int) -> None:
        self.ray, self.partitions = ray, partitions

    def execute(
        self, cfg: Config, viewers: list[int], progress: Progress | None
    ) -> list[SpecResult]:
        modules = user_modules(self.ray)
        try:
            if self.partitions > 1:
                return _partitioned(self.ray, self.partitions, cfg, viewers, progress, modules)
            work = worker_config(cfg, per_node(self.ray, 0, len(tasks(cfg))))
            return collect(work, _submitter(self.ray, work, viewers, modules), progress)
        except SearchLimit as exc:
            if stopped_by_guard(exc):
                raise exc.amended(hint=" (split between the Ray workers of a node)") from None
            raise


def _task(
    cfg: Config,
    viewers: list[int],
    i: int,
    part: str,
    modules: dict[str, str],
    limit: float | None,
) -> TaskResult:
    stand_in(modules)
    with time_limit(limit):  # the driver's, on a user's code
        return check_task(cfg, viewers, {}, i, part)


def _submitter(
    ray: Any, cfg: Config, viewers: list[int], modules: dict[str, str]
) -> Callable[[int, str], Future]:
    """`submit(spec index, part)` for `collect`: a Ray task whose future carries the
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

        task = remote.remote(shared, viewers, i, part, modules, armed())
        task.future().add_done_callback(settle)
        return done

    return submit


def _partitioned(
    ray: Any,
    parts: int,
    cfg: Config,
    viewers: list[int],
    progress: Progress | None,
    modules: dict[str, str],
) -> list[SpecResult]:
    """Each spec's searches over `parts` actors; the properties apart as one task per spec."""
    apart = any(p.apart for p in checks(cfg))
    work = worker_config(cfg, per_node(ray, parts, len(cfg.specs) if apart else 0))
    whole: dict[int, Future] = {}
    if apart:
        submit = _submitter(ray, work, viewers, modules)
        whole = {i: submit(i, APART) for i in biggest_first(cfg)}
    # The actors leave room for the tasks apart, which then run beside them.
    share = min(1.0, cpus(ray) / (parts + len(whole)))
    transport = RayTransport(ray, parts, share, modules)
    try:
        site = Partitions(work, transport, progress)
        results = [check_spec(work, spec, site, apart=True) for spec in cfg.specs]
    finally:
        transport.close()
    for i, r in enumerate(results):
        if i in whole:
            merge(cfg, r, *whole[i].result())
        else:
            merge(cfg, r, {}, 0.0)
    return results
