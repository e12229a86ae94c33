"""A call in steps: a spec hook run again against what it has read so far (docs/model.md §8).

A call in flight is a record `(event, done, *reads)`: the event, how many shared
accesses it has made, and the value each of its reading accesses returned, in order.
To take its next step, its hook runs again from the start on the current world
(`StepRun`): the accesses it made before are replayed (a read returns the value it
returned then, a write is not made again), the next shared access is made for real,
the hook goes on through accesses no other thread can reach, and it is stopped
(`Yield`) right before its following shared access, or completes when it returns.
Hooks are deterministic in what they read, so a spec stays as it is: the same hook
runs in one go with races off.

What is shared: the upper superblock's errseq_t, an inode's `wb_err`, the dirty pages,
and, with more than one thread per actor, an fd's cursors, an overlay's errseq_t
fields and the locks.  What is private: with one thread per actor, the cursors, the
overlay's fields and the locks (no other thread can reach them); whatever an open
writes into its new struct file; whatever a mount writes into its overlay before it
returns.  Structural fields (an fd slot's `open`, an overlay's `mounted`, an inode's
`cached`) are read and written in place: no call in flight can see them change.

A waiting access (a lock held, a page under writeback) makes the step impossible
(`Blocked`); an access that waits later in a step ends the step before it.
"""

from __future__ import annotations

from explorer.domain.hookerror import StepLimitExceeded
from explorer.domain.userfile import StepSignal

#: The shared accesses one call may make: a kernel call in the model makes a few (a
#: retry of errseq_set's loop needs another call's store in between); a hook still
#: going after this many loops over shared fields and would never return.
MAX_ACCESSES = 1000


class Yield(StepSignal):
    """The call stops before its next shared access: the step is over."""


class Blocked(StepSignal):
    """The step's shared access has to wait: the step cannot be taken now."""


class StepRun:
    """One step of one call: the replay of its record, then its live accesses.

    `whole`: the call runs to its end in one step (a call the model keeps indivisible);
    every access is live and any wait blocks it.  `describe`: keep what each live
    access did, for the step notation's comments."""

    __slots__ = (
        "log",
        "done",
        "private",
        "raw",
        "whole",
        "pos",
        "count",
        "shared_now",
        "reads",
        "labels",
        "describe",
    )

    def __init__(
        self,
        log: tuple[int, ...],
        done: int,
        private: frozenset[int],
        raw: frozenset[int],
        whole: bool = False,
        describe: bool = False,
    ) -> None:
        self.log, self.done, self.private, self.raw, self.whole = log, done, private, raw, whole
        self.pos = 0  # reads of the log replayed so far
        self.count = 0  # shared accesses met so far
        self.shared_now = False  # this step made its shared access
        self.reads: list[int] = []  # the values live reads returned
        self.labels: list[tuple] = []  # what each live access did, when described
        self.describe = describe

    # --- where an access falls -----------------------------------------------------

    def _replay_private(self) -> bool:
        """A private access made in an earlier step (steps 1..done made everything
        before the shared access number `done`)."""
        return not self.whole and max(self.count, 1) <= self.done

    def _shared(self, wait: bool = False) -> bool:
        """Account for a shared access: True to replay it, False to make it live."""
        if self.whole:
            if wait:
                raise Blocked
            return False
        i = self.count
        if i < self.done:
            self.count += 1
            return True
        if self.shared_now:
            raise Yield
        if wait:
            raise Blocked
        if i >= MAX_ACCESSES:
            raise StepLimitExceeded(
                f"the call made {MAX_ACCESSES} shared accesses without returning (a "
                "loop over shared fields that never ends?)"
            )
        self.count += 1
        self.shared_now = True
        return False

    def _replayed_read(self) -> int | None:
        if self.pos < len(self.log) and not self.whole:
            v = self.log[self.pos]
            self.pos += 1
            return v
        return None

    def _label(self, what: tuple) -> None:
        if self.describe:
            self.labels.append(what)

    # --- the accesses ----------------------------------------------------------------

    def load(self, cells: list[int], i: int) -> int:
        if i in self.raw:
            return cells[i]
        shared = i not in self.private
        v = self._replayed_read()
        if shared:
            self._shared()
        if v is not None:
            return v
        v = cells[i]
        self.reads.append(v)
        self._label(("read", i, v))
        return v

    def store(self, cells: list[int], i: int, v: int) -> None:
        if i in self.raw or i in self.private:
            if not self._replay_private():
                cells[i] = v
            return
        if self._shared():
            return
        cells[i] = v
        self._label(("store", i, v))

    def cmpxchg(self, cells: list[int], i: int, old: int, new: int) -> int:
        shared = i not in self.private
        v = self._replayed_read()
        if shared:
            self._shared()
        if v is not None:
            return v
        cur = cells[i]
        if cur == old:
            cells[i] = new
        self.reads.append(cur)
        self._label(("cmpxchg", i, old, new, cur))
        return cur

    def update(self, cells: list[int], i: int, f) -> int:
        """A read-modify-write in one access (errseq_set's loop taken whole): the value
        it wrote."""
        shared = i not in self.private
        v = self._replayed_read()
        if shared:
            self._shared()
        if v is not None:
            return f(v)
        old = cells[i]
        new = f(old)
        if new != old:
            cells[i] = new
        self.reads.append(old)
        self._label(("update", i, old, new))
        return new

    def warn(self, what: str) -> None:
        if not self._replay_private():
            self._label(("warn", what))

    def page_wait(
        self, cells: list[int], dirty: list[int], writeback: list[int], what: str
    ) -> None:
        """Write back the given pages (dirty bits at `dirty`, under-writeback flags at
        `writeback`): wait while one is under writeback, take no step when none is
        dirty.  Logged as 1 (wrote back) or 0 (nothing to do)."""
        v = self._replayed_read()
        if v is not None:
            if v:
                self._shared()
            return
        if any(cells[k] for k in writeback):
            self._shared(wait=True)
        if not any(cells[k] for k in dirty):
            if not self.whole:
                self.reads.append(0)
            return
        self._shared()
        for k in dirty:
            cells[k] = 0
        if not self.whole:
            self.reads.append(1)
        self._label(("writeback", what))

    def take_page(self, cells: list[int], dirty: int, writeback: int) -> None:
        """A failing writeback takes the dirty page: it is clean and under writeback."""
        if self._shared():
            return
        cells[dirty], cells[writeback] = 0, 1
        self._label(("take", dirty))

    def end_writeback(self, cells: list[int], writeback: int) -> None:
        """The page comes out of writeback: nothing can wait on this side of it, so it
        goes with the step before."""
        if not self._replay_private():
            cells[writeback] = 0

    def lock(self, cells: list[int], i: int | None) -> None:
        """spin_lock: waits while held.  None: a lock no other thread can reach."""
        if i is None:
            return
        replay = not self.whole and self.count < self.done
        if self._shared(wait=bool(cells[i]) and not replay):
            return
        cells[i] = 1
        self._label(("lock", i))

    def unlock(self, cells: list[int], i: int | None) -> None:
        """spin_unlock: never waits, so it goes with the step before."""
        if i is not None and not self._replay_private():
            cells[i] = 0
