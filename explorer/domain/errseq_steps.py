"""errseq_t access by access: lib/errseq.c as the shared loads, stores and cmpxchgs it does.

With races on (docs/model.md §8) an errseq_t is not changed in one indivisible go: the
kernel reads it with READ_ONCE, updates it with cmpxchg and retries when another CPU
got there first, and the cursor passed as `since` is an ordinary load and store.  The
flavours here are the ones of explorer.domain.errseq written that way; every access
goes through the reference it is given, so that a world running a call in steps
(explorer.domain.steps) can make each one a step, replay it, or stop before it.  On a
local `errseq_t` or a plain int they compute what the atomic flavours compute.

Classic (lib/errseq.c, v4.17 and later):

    errseq_set:                old = READ_ONCE(*eseq); loop { new from old; equal: done;
                               cur = cmpxchg(eseq, old, new); cur is old or new: done;
                               old = cur }
    errseq_sample:             READ_ONCE; 0 unless SEEN
    errseq_check:              since (the caller's load), then READ_ONCE
    errseq_check_and_advance:  READ_ONCE(*eseq), load *since; equal: 0; else
                               cmpxchg(eseq, old, old | SEEN) unless SEEN already (its
                               outcome ignored), store *since, return the errno

Split flags (Jeff Layton's v3, 20201217150037.468787-1-jlayton@kernel.org): the same
set loop; errseq_peek is READ_ONCE and, on a non-zero value without OBSERVED, one
cmpxchg whose outcome is ignored; errseq_sample is a peek; errseq_check compares with
both flags masked; errseq_check_and_advance keeps the patch's retry loop:

    do { if (loops >= 2) { WARN_ON_ONCE(true); break; }  loops++;
         new = old | REPORTED | OBSERVED;  if (new == old) break;
         old = cmpxchg(eseq, old, new);
    } while (old == (new & ~REPORTED));

That loop runs its cmpxchg twice with no race at all when the value has OBSERVED but
not REPORTED: the first cmpxchg succeeds and returns the old value, which equals
`new & ~REPORTED`, so the loop goes round and its second cmpxchg finds `new` and
fails.  A racing peek makes it go round a third time and WARN.  The model keeps both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from explorer.domain.errseq import (
    ERRNO_MASK,
    ERRSEQ_OBSERVED,
    ERRSEQ_REPORTED,
    ERRSEQ_SEEN,
    ClassicFlavour,
    Flavour,
    Ref,
    SplitFlavour,
    split_check,
)


class Cell(Protocol):
    """Where an access goes: the world running in steps implements these for its fields."""

    def cmpxchg(self, i: int, old: int, new: int) -> int: ...
    def warn(self, what: str) -> None: ...


def _load(x: int | Ref) -> int:
    """One load of an errseq_t or a cursor (READ_ONCE or plain: the model does not tell
    them apart, both are one access)."""
    return x.value if isinstance(x, Ref) else x


def _cmpxchg(x: Ref, old: int, new: int) -> int:
    """cmpxchg(x, old, new): the value found; `new` is stored when it was `old`."""
    w = getattr(x, "_w", None)
    if w is not None and hasattr(w, "cmpxchg"):
        cell: Cell = w
        return cell.cmpxchg(x._i, old, new)  # type: ignore[attr-defined]  # a FieldRef
    cur = x.value
    if cur == old:
        x.value = new
    return cur


def _warn(x: Ref, what: str) -> None:
    w = getattr(x, "_w", None)
    if w is not None and hasattr(w, "warn"):
        w.warn(what)


class _Steps(Flavour):
    """The errseq API of a flavour, access by access when given references.  With
    `set_in_one`, errseq_set's loop is one access, its successful cmpxchg (see
    `in_steps`)."""

    set_in_one: bool = False

    def _set_loop(self, eseq: Ref, err: int) -> int:
        if self.set_in_one:
            return self._set_rmw(eseq, err)
        old = _load(eseq)
        while True:
            new = self._set(old, err, self.mask)
            if new == old:
                return new
            cur = _cmpxchg(eseq, old, new)
            if cur in (old, new):
                return new
            old = cur

    def _set_rmw(self, eseq: Ref, err: int) -> int:
        """The loop as the one cmpxchg that succeeds: read-modify-write in one access."""
        w = getattr(eseq, "_w", None)
        if w is not None and hasattr(w, "update"):
            return w.update(eseq._i, lambda old: self._set(old, err, self.mask))  # type: ignore[attr-defined]
        new = self._set(eseq.value, err, self.mask)
        eseq.value = new
        return new

    def set(self, eseq: int | Ref, err: int) -> int:
        if not isinstance(eseq, Ref):
            return super().set(eseq, err)
        return self._set_loop(eseq, err)

    def check(self, eseq: int | Ref, since: int | Ref) -> int:
        s = _load(since)  # the caller's argument, loaded before the call
        return self._check(_load(eseq), s)


@dataclass(frozen=True)
class ClassicSteps(_Steps, ClassicFlavour):
    """lib/errseq.c as it is."""

    def sample(self, eseq: int | Ref):
        if not isinstance(eseq, Ref):
            return super().sample(eseq)
        old = _load(eseq)
        return old if old & ERRSEQ_SEEN else 0

    def check_and_advance(self, eseq: int | Ref, since: int | Ref):
        if not isinstance(eseq, Ref) or not isinstance(since, Ref):
            return super().check_and_advance(eseq, since)
        old = _load(eseq)
        if old == _load(since):
            return 0
        new = old | ERRSEQ_SEEN
        if new != old:
            _cmpxchg(eseq, old, new)  # either outcome is fine (lib/errseq.c's comment)
        since.value = new
        return -(new & ERRNO_MASK)


@dataclass(frozen=True)
class SplitSteps(_Steps, SplitFlavour):
    """Jeff Layton's v3, with its check-and-advance retry loop."""

    def peek(self, eseq: int | Ref):
        if not isinstance(eseq, Ref):
            return super().peek(eseq)
        old = _load(eseq)
        new = old
        if old != 0:
            new |= ERRSEQ_OBSERVED
            if old != new:
                _cmpxchg(eseq, old, new)
        return new

    def sample(self, eseq: int | Ref):
        if not isinstance(eseq, Ref):
            return super().sample(eseq)
        new = self.peek(eseq)
        return new if new & ERRSEQ_REPORTED else 0

    def check(self, eseq: int | Ref, since: int | Ref) -> int:
        s = _load(since)
        return split_check(_load(eseq), s)

    def check_and_advance(self, eseq: int | Ref, since: int | Ref):
        if not isinstance(eseq, Ref) or not isinstance(since, Ref):
            return super().check_and_advance(eseq, since)
        old = _load(eseq)
        if old == _load(since):
            return 0
        loops = 0
        flags = ERRSEQ_REPORTED | ERRSEQ_OBSERVED
        while True:
            if loops >= 2:
                _warn(eseq, "WARN_ON_ONCE in errseq_check_and_advance")
                break
            loops += 1
            new = old | flags
            if new == old:
                break
            old = _cmpxchg(eseq, old, new)
            if old != new & ~ERRSEQ_REPORTED:
                break
        since.value = new
        return -(new & ERRNO_MASK)


def in_steps(flavour: Flavour, set_in_one: bool = False) -> Flavour:
    """The stepping twin of an atomic flavour, at the same counter width.

    `set_in_one` makes errseq_set's loop a single access where its cmpxchg succeeds:
    its reads and failed cmpxchgs write nothing and only decide what the successful
    cmpxchg replaces, so a run where it retries ends in the states and results of the
    run where it reads right before that cmpxchg.  Only the attempts themselves are
    lost (what a question about the loop's retries needs)."""
    cls = SplitSteps if flavour.name == "split" else ClassicSteps
    twin = cls(flavour.counter_bits)
    if set_in_one:
        object.__setattr__(twin, "set_in_one", True)
    return twin
