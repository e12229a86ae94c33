"""A time limit on each call of a user's code: a spec's hook, a property's method.

A hook that loops forever would hang the search, replay and diff with no word.  The
calls are far too many (millions in a search) to time each one, so nothing is done per
call: a timer interrupts the process a few times per limit (SIGALRM), and the handler
looks at the stack it interrupted.  The outermost frame of a user's file there (a spec
or property loaded by path) is the call under way; when the same frame is still there
after the limit's worth of this thread's CPU time, `TimeLimitExceeded` is raised in it.
The code that called the user's (the dispatcher, the property's adapter, the file's
loader) turns it into its usual one-line error naming spec (or property), file:line,
hook and event, exit 2.

CPU time, not the clock: a machine shared with other work, or a run stopped with
Ctrl-Z, must never fail a hook that is slow only on the clock.  A hook blocked in a
system call (sleep, input) spends none and is not stopped; Ctrl-C still ends the run.
A signal handler runs in the main thread only, between two bytecodes: where a user's
code runs in another thread, or inside one long call into C, the limit does not apply.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from explorer.bridge import user_property
from explorer.domain import catalog
from explorer.domain.hookerror import TimeLimitExceeded
from explorer.errors import InputError

#: The variable that sets the limit, in seconds of CPU time per call (0: none).
ENV = "EXPLORE_HOOK_TIME_LIMIT"
#: Ten seconds: a hook's call takes microseconds, and a user's mistake is found soon.
DEFAULT_SECONDS = 10.0
#: Looks per limit: a runaway call is stopped within 1 + 1/LOOKS of the limit.
LOOKS = 4
#: The module names a user's files are loaded under (explorer.domain.userfile).
USER_MODULES = (f"{catalog.PREFIX}_", f"{user_property.PREFIX}_")


class TimeLimitError(InputError):
    """EXPLORE_HOOK_TIME_LIMIT holds something that is not a number of seconds."""


def limit_from_environment() -> float | None:
    """The limit `ENV` sets (default `DEFAULT_SECONDS`); None: no limit."""
    given = os.environ.get(ENV, "").strip()
    if not given:
        return DEFAULT_SECONDS
    try:
        seconds = float(given)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise TimeLimitError(
            f"{ENV}={given}: give the seconds of CPU time one call of a spec's hook or "
            "a property's method may take (0 for no limit)"
        )
    return seconds or None


def user_call(frame: FrameType | None) -> FrameType | None:
    """The outermost frame of a user's file on the stack that ends in `frame`: the call
    of a user's code that is under way (None: the tool's own code is running)."""
    found = None
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith(USER_MODULES):
            found = frame
        frame = frame.f_back
    return found


@dataclass
class Watch:
    """The handler's memory between two looks: the user's call it saw last, and this
    thread's CPU time when it first saw it."""

    limit: float
    call: FrameType | None = None
    since: float = 0.0

    def look(self, signum: int, frame: FrameType | None) -> None:
        call = user_call(frame)
        now = time.thread_time()
        if call is None or call is not self.call:
            # The reference keeps the frame alive, so a new call never takes its id.
            self.call, self.since = call, now
            return
        if now - self.since >= self.limit:
            raise TimeLimitExceeded(
                f"one call ran more than {self.limit:g} s of CPU time ({ENV} sets the "
                "limit in seconds, 0 for none)"
            )


#: The limit armed in this process (None: none), for the workers it starts.
_armed: float | None = None


def armed() -> float | None:
    return _armed


def arm(seconds: float | None) -> bool:
    """Stop, for the rest of this process, every call of a user's code after `seconds`
    of CPU time (None: no limit).  False where it cannot: outside the main thread, where
    no signal handler runs."""
    global _armed
    if seconds is None or threading.current_thread() is not threading.main_thread():
        return False
    tick = max(seconds / LOOKS, 0.001)
    signal.signal(signal.SIGALRM, Watch(seconds).look)
    signal.setitimer(signal.ITIMER_REAL, tick, tick)
    _armed = seconds
    return True


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """`arm(seconds)` within the block; the timer, the handler and the limit there before
    are restored after."""
    global _armed
    previous, timer, outer = (
        signal.getsignal(signal.SIGALRM),
        signal.getitimer(signal.ITIMER_REAL),
        _armed,
    )
    if not arm(seconds):
        yield
        return
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if previous is not None:  # None: a handler Python did not install, left alone
            signal.signal(signal.SIGALRM, previous)
        signal.setitimer(signal.ITIMER_REAL, *timer)
        _armed = outer
