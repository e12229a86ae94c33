"""How a run's processes end when told to from outside: SIGTERM like Ctrl-C, and the
workers with their parent whatever ended it.

`kill PID` (a CI job cancelled, a container stopped) ends the main process the way
Ctrl-C does: the exception unwinds the run, the workers are terminated, one line says
so and the exit code is the shell's for the signal (128 + 15).  A parent that dies
with no chance to clean up (SIGKILL, the OOM killer) takes its workers with it: each
asks the kernel for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG, Linux), or,
where there is no such call, watches its parent from a thread.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from types import FrameType

#: The exit codes of a run stopped by a signal: 128 + the signal, what a shell reports.
INTERRUPTED = 128 + signal.SIGINT
TERMINATED = 128 + signal.SIGTERM

#: <linux/prctl.h>
PR_SET_PDEATHSIG = 1
#: Seconds between two looks at the parent where the kernel cannot be asked.
PARENT_POLL_SECONDS = 0.5


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: a KeyboardInterrupt, so that everything that
    lets Ctrl-C through untouched (a spec's hook, a user's property, the workers' clean
    up) treats it alike."""


def stopped(exc: KeyboardInterrupt) -> tuple[str, int]:
    """What a run ended by `exc` says (after "explore: ") and its exit code."""
    if isinstance(exc, Terminated):
        return "terminated", TERMINATED
    return "interrupted", INTERRUPTED


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def terminate_like_interrupt() -> None:
    """From now on SIGTERM raises `Terminated` in this process's main thread."""
    signal.signal(signal.SIGTERM, _raise_terminated)


def die_with_parent(parent: int) -> None:
    """In a worker forked by `parent`: end when the parent ends, however it ends.

    The kernel sends the signal when the thread that forked the worker exits; the pool
    forks from the parent's main thread, so that is the parent's end.  A parent that
    died before the request was made is not waited for."""
    if not _pdeathsig(signal.SIGKILL):
        watch_parent(parent)
    if os.getppid() != parent:
        os._exit(1)


def _pdeathsig(sig: int) -> bool:
    """Ask Linux for `sig` when the parent dies; False where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: only a worker asks, and every command imports this module
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def watch_parent(parent: int, every: float = PARENT_POLL_SECONDS) -> threading.Thread:
    """A daemon thread that ends this process once its parent is no longer `parent` (a
    process whose parent dies is handed to another)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    t = threading.Thread(target=watch, name="watch-parent", daemon=True)
    t.start()
    return t
