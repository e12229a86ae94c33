"""Limits that stop a search or a check cleanly before they exhaust the machine.

`guard` raises a `SearchLimit` that says how far the work got and which bound to
change; the command line prints it as one line.  A `Projection` foresees, from a
breadth-first search's first depths, whether the search and the checks after it will
fit under the memory guard, so that a check too big for it is not started.  `paused_gc` pauses the cyclic
collector, which only slows down code that builds millions of tuples without cycles.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager


class SearchLimit(RuntimeError):
    """A search stopped before it would exhaust the machine; says how far it got."""

    def __init__(
        self, states: int, depth: int, limit: str, flag: str, hint: str = "", where: str = ""
    ) -> None:
        self.states, self.depth = states, depth
        self.limit, self.flag, self.hint, self.where = limit, flag, hint, where
        # `where`: a check after the search says what it was doing and what it had counted
        # (the states of its own product, not the graph's).
        at = where or f"at {states:,} distinct states while expanding depth {depth}"
        super().__init__(f"stopped {at}: {limit}; lower --depth or --mounts, or raise {flag}{hint}")

    def amended(self, limit: str = "", hint: str = "") -> SearchLimit:
        """The same stop, with more said of the limit and of the way out (a caller that
        knows the run's shape adds it)."""
        return SearchLimit(
            self.states, self.depth, self.limit + limit, self.flag, self.hint + hint, self.where
        )

    def __reduce__(self):
        """Rebuilt from its fields: a worker process sends it back to the parent by pickle."""
        return SearchLimit, (self.states, self.depth, self.limit, self.flag, self.hint, self.where)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Searches and checks build millions of small tuples and no reference cycles; the
    cyclic collector only slows them down, the more so the more graphs are alive
    (docs/performance.md), so pause it.  Also a decorator (`@paused_gc()`)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def rss_bytes() -> int:
    """Resident memory of this process (Linux), 0 where unknown."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def default_memory_limit() -> int:
    """Three quarters of the machine's memory: the guard stops well before the OOM killer."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 3 // 4
    except (ValueError, OSError):
        return 1 << 62


def guard(
    states: int, depth: int, max_states: int | None, max_bytes: int | None, where: str = ""
) -> None:
    """Raise SearchLimit when a bound is crossed (call every few thousand states);
    `where` names the phase and what it counts, for the checks that run after a search."""
    if max_states is not None and states >= max_states:
        raise SearchLimit(
            states, depth, f"--max-states {max_states:,} reached", "--max-states", where=where
        )
    if max_bytes is not None:
        rss = rss_bytes()
        if rss >= max_bytes:
            raise SearchLimit(
                states,
                depth,
                f"memory {rss / 2**30:.2f} GiB reached the {max_bytes / 2**30:.2f} GiB guard",
                "--max-memory",
                where=where,
            )


#: The resident memory of a search and the checks that follow it, as a multiple of the
#: search's own: the most isolation's split, exact check and removal search were
#: measured to hold, with a margin (bench/bench_isolation.py --phases; docs/performance.md).
CHECKS_FACTOR = 2.0


class Projection:
    """Whether a breadth-first search to `depth`, and the checks after it, will fit under
    `max_bytes`: judged after each depth (`bfs(levels=...)`) from the states so far, the
    growth of the last two depths and the memory per state, and stops the search (a
    SearchLimit on --max-memory) as soon as the projection passes the guard.  Growth
    slows towards the bounds, so the projection errs on the safe side; the guard itself
    still stops whatever it did not foresee.  `deepest` then says which depth would fit."""

    def __init__(
        self, depth: int, max_bytes: int, factor: float = CHECKS_FACTOR, least: int = 50_000
    ) -> None:
        self.depth, self.max_bytes, self.factor, self.least = depth, max_bytes, factor, least
        self.start = rss_bytes()
        self.levels: list[int] = []
        self.per_state = 0.0  # resident bytes per state, measured once there are `least`

    def states(self, depth: int) -> float:
        """States of a search to `depth`: those seen, then the last growth carried on."""
        lv = self.levels
        if depth < len(lv):
            return float(sum(lv[: depth + 1]))
        k = len(lv) - 1
        if k >= 2 and lv[k - 2]:
            rate = (lv[k] / lv[k - 2]) ** 0.5
        else:
            rate = lv[k] / max(lv[k - 1], 1) if k >= 1 else 1.0
        return sum(lv) + sum(lv[k] * rate**j for j in range(1, depth - k + 1))

    def need(self, depth: int) -> float:
        """Resident bytes at the peak of the search to `depth` and its checks."""
        return self.start + self.factor * self.per_state * self.states(depth)

    def __call__(self, levels: list[int]) -> None:
        self.levels = list(levels)
        n = sum(levels)
        if n < self.least:
            return  # too few states to measure them by
        self.per_state = max(rss_bytes() - self.start, 0) / n
        need = self.need(self.depth)
        if need > self.max_bytes:
            raise SearchLimit(
                n,
                len(levels) - 1,
                f"the search to depth {self.depth} and its checks would take about "
                f"{need / 2**30:.1f} GiB, past the {self.max_bytes / 2**30:.2f} GiB guard",
                "--max-memory",
                where=f"at {n:,} distinct states, after depth {len(levels) - 1}",
            )

    def deepest(self, below: int, step: int = 2) -> int:
        """The greatest of below - step, below - 2 * step, ... that the projection says
        fits (0: none).  Without a measure (a small search) it is simply the first."""
        depths = range(below - step, 0, -step)
        if not self.per_state:
            return max(depths, default=0)
        return next((d for d in depths if self.need(d) <= self.max_bytes), 0)
