"""The specs of a run in worker processes (`--jobs`): specs are independent.

The workers fork, so they inherit the run's configuration instead of unpickling it;
they return verdicts and figures (explorer.checker.results), never graphs.  Ctrl-C and
SIGTERM are the parent's alone: the workers ignore the one and die of the other, and
the parent terminates them; a parent that dies without doing so takes them with it
(explorer.checker.signals).
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from explorer.checker.config import Config
from explorer.checker.executor import (
    STOPPING,
    TaskResult,
    check_task,
    collect,
    search_reference,
    worker_config,
)
from explorer.checker.guard import stopped_by_guard
from explorer.checker.results import SpecResult
from explorer.checker.signals import die_with_parent
from explorer.checker.sites import Cache, Progress
from explorer.checker.timelimit import arm, armed
from explorer.engine.limits import SearchLimit


@dataclass
class _Run:
    """In a worker process: the run's configuration and viewers (inherited through
    fork) and the worker's own explorations."""

    cfg: Config | None = None
    viewers: list[int] = field(default_factory=list)
    cache: Cache = field(default_factory=dict)


_WORKER = _Run()


def _worker_check(i: int, part: str) -> TaskResult:
    assert _WORKER.cfg is not None  # set before the workers fork
    return check_task(_WORKER.cfg, _WORKER.viewers, _WORKER.cache, i, part)


def _worker_init(parent: int, limit: float | None) -> None:
    """Ctrl-C and SIGTERM are the parent's: it terminates the workers and says
    `interrupted` (or `terminated`) once.  A worker that took the terminal's SIGINT
    itself would die printing a traceback from the pool's internals; the parent's
    SIGTERM handler (raise in the main thread) is no worker's, whom the parent ends with
    SIGTERM.  Both arrive blocked (see `collect`), and the worker ends with `parent`.
    A user's code runs under the parent's time `limit` (a fork keeps no timer)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)
    arm(limit)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)


def _end_quietly(pool: ProcessPoolExecutor) -> None:
    """Terminate the workers and wait for the pool's own threads, with stderr held.

    With tasks still queued, the thread that feeds the workers' pipe can be writing when
    the pool closes it; multiprocessing prints that OSError (EBADF) as a traceback, and
    at exit, after the run's one line, if the pool is left to Python's exit handlers.
    It says nothing about the run: the workers were ended on purpose."""
    with contextlib.redirect_stderr(io.StringIO()):
        for child in multiprocessing.active_children():
            child.terminate()
        pool.shutdown(wait=True)


class Pool:
    """`jobs` forked worker processes; the memory guard is split between them.
    `meanwhile`, when given, is this process's own work while the workers search (it
    runs once they have forked, so what it loads or builds stays out of them)."""

    def __init__(self, jobs: int, meanwhile: Callable[[], None] | None = None) -> None:
        self.jobs = jobs
        self.meanwhile = meanwhile
        self.split = f" (the guard is split between the {jobs} processes of this run)"

    def execute(
        self, cfg: Config, viewers: list[int], progress: Progress | None
    ) -> list[SpecResult]:
        _WORKER.cfg, _WORKER.viewers = worker_config(cfg, self.jobs), viewers
        search_reference(_WORKER.cfg, viewers, _WORKER.cache)  # the workers inherit it
        ctx = multiprocessing.get_context("fork")
        try:
            with ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=ctx,
                initializer=_worker_init,
                initargs=(os.getpid(), armed()),
            ) as pool:
                try:
                    return collect(
                        cfg,
                        lambda i, part: pool.submit(_worker_check, i, part),
                        progress,
                        self.meanwhile,
                    )
                except BaseException as exc:
                    # A limit hit in one worker, or Ctrl-C, ends the run: stop the others
                    # now rather than let them finish their tasks (minutes, on a big run).
                    pool.shutdown(wait=False, cancel_futures=True)
                    _end_quietly(pool)
                    if isinstance(exc, SearchLimit) and stopped_by_guard(exc):
                        split = f" (split between the {self.jobs} processes of this run)"
                        raise exc.amended(hint=split) from None
                    raise
        finally:
            _WORKER.cfg, _WORKER.viewers = None, []
            _WORKER.cache.clear()
