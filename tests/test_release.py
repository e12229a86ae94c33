"""A worker frees a task's reference cycles once it holds a quarter of its memory guard
(explorer.checker.executor.release): the collector is paused for the whole run, and the
guard reads resident memory, so garbage left in cycles would stop a later task that fits."""

from __future__ import annotations

import gc

from explorer.checker import executor
from explorer.checker.config import Config
from explorer.domain.layout import Bounds
from explorer.domain.world import MOUNT_OPTIONS
from explorer.engine.limits import rss_bytes


def _base(max_bytes: int | None) -> Config:
    return Config(Bounds(1, 1, 0), 3, MOUNT_OPTIONS["normal"], [], [], max_bytes=max_bytes)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_cycles_freed_past_a_quarter_of_the_guard() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for _ in range(1000):
            _Cycle()
        before = sum(isinstance(o, _Cycle) for o in gc.get_objects())
        assert before == 1000  # paused: the cycles are still there
        # A guard of twice what the process holds: a quarter of it is passed.
        executor.release(_base(2 * rss_bytes()))
        assert not any(isinstance(o, _Cycle) for o in gc.get_objects())
    finally:
        if was:
            gc.enable()


def test_small_runs_pay_no_collection() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for _ in range(10):
            _Cycle()
        executor.release(_base(100 * rss_bytes()))
        assert sum(isinstance(o, _Cycle) for o in gc.get_objects()) == 10
        executor.release(_base(None))
        assert sum(isinstance(o, _Cycle) for o in gc.get_objects()) == 10
    finally:
        gc.collect()
        if was:
            gc.enable()
