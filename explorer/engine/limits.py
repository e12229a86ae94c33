"""Limits that stop a search or a check cleanly before they exhaust the machine.

`guard` raises a `SearchLimit` that says how far the work got and which bound to
change; the command line prints it as one line.  `paused_gc` pauses the cyclic
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
    cyclic collector only slows them down, the more so the more graphs are alive (up to
    25% measured on `bfs` with an earlier exploration still held, 1.4x on isolation at
    3 containers), so pause it.  Also a decorator (`@paused_gc()`)."""
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
