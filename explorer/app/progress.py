"""How far a run is, on stderr, while it runs (the main job's progress display)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.status import Status

#: Seconds between progress lines when stderr is not a terminal (a CI log); the
#: environment variable EXPLORE_PROGRESS_SECONDS (not an option: tests) shortens it.
PROGRESS_SECONDS = 5.0


@contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """Ctrl-C (and SIGTERM, which ends a run alike) waits until the block is done, then
    is raised as usual.  rich's status line interrupted halfway through its start hides
    the cursor and then cannot be stopped (an IndexError from its render hooks, shown
    as a traceback)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    deferred = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in deferred}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


def progress_seconds() -> float:
    try:
        return max(0.05, float(os.environ.get("EXPLORE_PROGRESS_SECONDS", PROGRESS_SECONDS)))
    except ValueError:
        return PROGRESS_SECONDS


class Progress:
    """How far the run is, on stderr: the search under way (or, in a parallel run, the
    tasks done so far) and the time spent.  (A rate would mislead: the states are one
    search's, the time the run's.)

    On a terminal it is rich's status line, once the run has taken a second.  Elsewhere
    (a CI log) it is a plain line every few seconds, each standing alone, printed by a
    timer thread: the checks after a search report nothing, and a log that stays silent
    for minutes looks like a hung job."""

    def __init__(
        self, quiet: bool, stream: TextIO | None = None, specs: list[str] | None = None
    ) -> None:
        self.quiet = quiet
        self.specs = specs or []  # the run's specs, in the order a one-process run checks them
        self.stream = stream if stream is not None else sys.stderr
        self.t0 = time.perf_counter()
        self.status: Status | None = None
        self.last = ("", 0, 0, 0)
        self.plain = not self.stream.isatty()
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None

    def text(self) -> str:
        elapsed = f"{time.perf_counter() - self.t0:,.0f} s so far"
        what, depth, states, edges = self.last
        if what in self.specs:
            what += f", spec {self.specs.index(what) + 1} of {len(self.specs)}"
        counts = f"{states:,} states, {edges:,} transitions, " if states else ""
        return f"{what}: depth {depth}, {counts}{elapsed}"

    def __call__(self, spec: str, depth: int, states: int, edges: int) -> None:
        if self.quiet:
            return
        self.last = (spec, depth, states, edges)
        if self.plain:
            # Started on the first report, not before: a parallel run forks its workers
            # first, and a thread alive at a fork may hold a lock the child then needs.
            if self._ticker is None and not self._stopped.is_set():
                self._ticker = threading.Thread(
                    target=self._tick, args=(progress_seconds(),), name="progress", daemon=True
                )
                self._ticker.start()
            return
        if time.perf_counter() - self.t0 < 1.0:
            return
        with ctrl_c_deferred():
            if self.status is None:
                # rich: a run that shows nothing never loads it
                from explorer.render import terminal

                self.status = terminal.console(stderr=True).status(self.text())
                self.status.start()
            else:
                self.status.update(self.text())

    def _tick(self, seconds: float) -> None:
        while not self._stopped.wait(seconds):
            try:
                print(f"explore: {self.text()}", file=self.stream, flush=True)
            except (OSError, ValueError):  # stderr closed: nobody to tell
                return

    def stop(self) -> None:
        """End the progress display; safe to call twice.  Stopping the status line shows
        the terminal's cursor again, however the run ended (Ctrl-C included)."""
        self._stopped.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1.0)
        if self.status is not None:
            status, self.status = self.status, None
            with ctrl_c_deferred():
                status.stop()
