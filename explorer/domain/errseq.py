"""errseq_t, bit-exact: the kernel's writeback-error sequence counter as pure functions.

An errseq_t is a u32 that records the latest writeback error together with a
counter, so that each reader (an open file's cursor) can tell whether an error
happened since it last looked.  The layout (lib/errseq.c, v4.17 and later):

    | 31..13 counter (19 bits) | 12 SEEN | 11..0 errno magnitude |

The SEEN flag says that somebody has reported the current value; the counter is
bumped only when a new error arrives *after* someone saw the previous one, so an
error nobody looked at is reported once, for all the errors recorded on top of it.

Jeff Layton's unmerged v3 (20201217150037.468787-1-jlayton@kernel.org) splits SEEN
in two: REPORTED (bit 12: returned to user space; `sample` tests it) and OBSERVED
(bit 13: the counter must move on the next set; `peek` sets it), counter in bits
14..31.  Both flavours are here: `Classic` (mainline) and `Split`.

The counter's width is data.  The explorer's `--counter-bits K` (2..19) narrows every
value to 13+K bits, so that a wraparound fits in a bounded run: the classic layout
keeps its errno and SEEN and gets a K-bit counter (bits 13..12+K); the split layout
keeps REPORTED and OBSERVED and gets K-1 counter bits (14..12+K).  Only `set` does
arithmetic, so only it takes the value mask (`mask_for(K)`); at K = 19 the mask is the
u32's and the arithmetic is the kernel's.

Every function takes and returns plain ints; functions that would write through a
pointer in C return the new values instead.  Errors are negative errnos (-5 = -EIO).

The flavours' methods are what a spec calls, and they take an errseq_t either way.
By reference (a `Ref`: a field of the world, or a local `errseq_t`), as the kernel
passes `&x`: they write what changes back and return what the kernel function
returns, so a spec line reads like the kernel's for either flavour,

    f.f_sb_err = es.sample(w.sb.s_wb_err)
    ret = es.check_and_advance(w.sb.s_wb_err, f.f_sb_err)

By value (ints), they return the new values as the pure functions do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

MAX_ERRNO = 4095
ERRNO_MASK = 0xFFF
U32 = 0xFFFFFFFF

#: The classic counter's width in the kernel (bits 13..31); the split layout has one less.
COUNTER_BITS = 19
#: The narrowest counter `--counter-bits` accepts: one bit left for the split layout.
MIN_COUNTER_BITS = 2

# Classic layout.
ERRSEQ_SEEN = 1 << 12
ERRSEQ_CTR_INC = 1 << 13

# Split-flag layout (Jeff Layton's v3).
ERRSEQ_REPORTED = 1 << 12
ERRSEQ_OBSERVED = 1 << 13
ERRSEQ_SPLIT_CTR_INC = 1 << 14
SPLIT_FLAGS = ERRSEQ_REPORTED | ERRSEQ_OBSERVED


class ErrseqError(ValueError):
    """An errno that errseq_set() refuses (the kernel WARNs and changes nothing)."""


def mask_for(counter_bits: int) -> int:
    """The value mask of an errseq_t whose classic counter has `counter_bits` bits: errno,
    flags and counter, 13 + counter_bits bits in all (the u32 at the kernel's 19)."""
    if not MIN_COUNTER_BITS <= counter_bits <= COUNTER_BITS:
        raise ValueError(
            f"counter bits {counter_bits}: must be {MIN_COUNTER_BITS} to {COUNTER_BITS}"
        )
    return (1 << (13 + counter_bits)) - 1


def _check_errno(err: int) -> None:
    if not -MAX_ERRNO <= err <= -1:
        raise ErrseqError(
            f"errseq_set: errno {err} is outside [-{MAX_ERRNO}, -1] "
            "(the kernel WARNs and records nothing)"
        )


# --- classic (lib/errseq.c) ------------------------------------------------------


def errseq_set(eseq: int, err: int, mask: int = U32) -> int:
    """Record `err` in `eseq`; return the new value (equal to `eseq` for an unseen repeat).
    The counter wraps at `mask` (the u32's by default; `mask_for` a narrower one)."""
    _check_errno(err)
    new = (eseq & ~(ERRNO_MASK | ERRSEQ_SEEN)) | -err
    # Only increment if someone has looked at it since the last error.
    if eseq & ERRSEQ_SEEN:
        new += ERRSEQ_CTR_INC
    return new & mask


def errseq_sample(eseq: int) -> int:
    """Return the cursor a new reader starts from: `eseq` if SEEN, else 0 (report unseen once)."""
    return eseq if eseq & ERRSEQ_SEEN else 0


def errseq_check(eseq: int, since: int) -> int:
    """Return 0 if nothing changed since `since` (all 32 bits compared), else -errno."""
    return 0 if eseq == since else -(eseq & ERRNO_MASK)


def errseq_check_and_advance(eseq: int, since: int) -> tuple[int, int, int]:
    """Report a change since `since` and mark it SEEN; return (eseq, since, -errno or 0)."""
    if eseq == since:
        return eseq, since, 0
    new = eseq | ERRSEQ_SEEN
    return new, new, -(new & ERRNO_MASK)


# --- split flags (Jeff Layton v3, unmerged) ----------------------------------------


def split_set(eseq: int, err: int, mask: int = U32) -> int:
    """Record `err`; bump the counter only if OBSERVED; clear both flags.  The counter
    wraps at `mask`, as errseq_set's."""
    _check_errno(err)
    new = (eseq & ~(ERRNO_MASK | SPLIT_FLAGS)) | -err
    if eseq & ERRSEQ_OBSERVED:
        new += ERRSEQ_SPLIT_CTR_INC
    return new & mask


def split_peek(eseq: int) -> tuple[int, int]:
    """Snapshot without stealing the report: mark OBSERVED (if any error); return (eseq, value)."""
    if eseq == 0:
        return 0, 0
    new = eseq | ERRSEQ_OBSERVED
    return new, new


def split_sample(eseq: int) -> tuple[int, int]:
    """peek, then return the value only if it was REPORTED (else 0): (eseq, cursor)."""
    eseq, value = split_peek(eseq)
    return eseq, value if value & ERRSEQ_REPORTED else 0


def split_check(eseq: int, since: int) -> int:
    """Return 0 if nothing changed since `since`, comparing with both flags masked."""
    if (eseq & ~SPLIT_FLAGS) == (since & ~SPLIT_FLAGS):
        return 0
    return -(eseq & ERRNO_MASK)


def split_check_and_advance(eseq: int, since: int) -> tuple[int, int, int]:
    """Raw compare; on a change set REPORTED|OBSERVED; return (eseq, since, -errno or 0)."""
    if eseq == since:
        return eseq, since, 0
    new = eseq | SPLIT_FLAGS
    return new, new, -(new & ERRNO_MASK)


# --- by reference: what a spec hands the flavours -------------------------------------


class Ref:
    """An errseq_t passed by reference: the flavours read `value` and write it back.

    It stands for its value where a spec compares or tests it (`if ofs.errseq:`,
    `f.f_sb_err == 0`, `int(x)`, `hex(x)`); it is mutable, so it has no hash."""

    __slots__ = ()

    @property
    def value(self) -> int:
        raise NotImplementedError

    @value.setter
    def value(self, v: int) -> None:
        raise NotImplementedError

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __eq__(self, other: object) -> bool:
        return self.value == (other.value if isinstance(other, Ref) else other)

    __hash__ = None  # type: ignore[assignment]  # Python's way to say "mutable: no hash"

    def __repr__(self) -> str:
        return f"errseq_t({self.value:#x})"


class errseq_t(Ref):  # noqa: N801  the kernel's name for it
    """A local errseq_t, e.g. a cursor a spec throws away:

    throwaway = errseq_t(es.sample(w.sb.s_wb_err))
    es.check_and_advance(w.sb.s_wb_err, throwaway)
    """

    __slots__ = ("_v",)

    def __init__(self, value: int | Ref = 0) -> None:
        self._v = int(value)

    @property
    def value(self) -> int:
        return self._v

    @value.setter
    def value(self, v: int) -> None:
        self._v = v


def _value(x: int | Ref) -> int:
    return x.value if isinstance(x, Ref) else x


def _written(x: int | Ref, what: str, fn: str) -> Ref:
    if not isinstance(x, Ref):
        raise TypeError(
            f"errseq_{fn} writes {what}: pass the field itself (or an errseq_t), not its value"
        )
    return x


# --- the two flavours behind one interface, for the specs --------------------------


@dataclass(frozen=True)
class Flavour:
    """The errseq API of one layout at one counter width, by reference or by value (see
    the module's doc).  `Classic` and `Split` are the kernel's widths; `narrowed(K)` is
    the same layout for `--counter-bits K`."""

    counter_bits: int = COUNTER_BITS  # the option's K: the classic counter's width
    mask: int = field(init=False, repr=False)

    name: ClassVar[str]
    SEEN: ClassVar[int]  # the flag a cursor carries once it has reported

    # The layout's pure functions (above), by value: each flavour names its own.
    @staticmethod
    def _set(eseq: int, err: int, mask: int, /) -> int:
        raise NotImplementedError

    @staticmethod
    def _sample(eseq: int, /) -> tuple[int, int]:
        raise NotImplementedError

    @staticmethod
    def _check(eseq: int, since: int, /) -> int:
        raise NotImplementedError

    @staticmethod
    def _check_and_advance(eseq: int, since: int, /) -> tuple[int, int, int]:
        raise NotImplementedError

    @staticmethod
    def _peek(eseq: int, /) -> tuple[int, int]:
        raise NotImplementedError

    def __post_init__(self) -> None:
        object.__setattr__(self, "mask", mask_for(self.counter_bits))

    def narrowed(self, counter_bits: int) -> Flavour:
        """This layout with values of 13 + `counter_bits` bits (`--counter-bits`)."""
        return type(self)(counter_bits)

    def set(self, eseq: int | Ref, err: int) -> int:
        """errseq_set(&eseq, err): record `err`; the new value."""
        new = self._set(_value(eseq), err, self.mask)
        if isinstance(eseq, Ref):
            eseq.value = new
        return new

    def sample(self, eseq: int | Ref):
        """errseq_sample(&eseq): the cursor a new reader starts from (by value: the new
        eseq and the cursor)."""
        new, cursor = self._sample(_value(eseq))
        if not isinstance(eseq, Ref):
            return new, cursor
        if new != eseq.value:
            eseq.value = new
        return cursor

    def check(self, eseq: int | Ref, since: int | Ref) -> int:
        """errseq_check(&eseq, since): 0 if nothing changed since `since`, else -errno."""
        return self._check(_value(eseq), _value(since))

    def check_and_advance(self, eseq: int | Ref, since: int | Ref):
        """errseq_check_and_advance(&eseq, &since): report a change and advance `since`;
        -errno or 0 (by value: the new eseq, the new since and that)."""
        if not isinstance(eseq, Ref) and not isinstance(since, Ref):
            return self._check_and_advance(eseq, since)
        e = _written(eseq, "eseq", "check_and_advance")
        c = _written(since, "since", "check_and_advance")
        new, cursor, ret = self._check_and_advance(e.value, c.value)
        if new != e.value:
            e.value = new
        if cursor != c.value:
            c.value = cursor
        return ret

    def peek(self, eseq: int | Ref):
        """errseq_peek(&eseq) (split flags only): the value, marked OBSERVED (by value:
        the new eseq and the value)."""
        new, value = self._peek(_value(eseq))
        if not isinstance(eseq, Ref):
            return new, value
        if new != eseq.value:
            eseq.value = new
        return value


def _no_peek(eseq: int) -> tuple[int, int]:
    raise NotImplementedError("errseq_peek exists only with split flags (jeff-split)")


@dataclass(frozen=True)
class ClassicFlavour(Flavour):
    """Mainline errseq_t.  `sample` has no side effect: by value, the eseq is unchanged."""

    name = "classic"
    SEEN = ERRSEQ_SEEN
    _set = staticmethod(errseq_set)
    _sample = staticmethod(lambda eseq: (eseq, errseq_sample(eseq)))
    _check = staticmethod(errseq_check)
    _check_and_advance = staticmethod(errseq_check_and_advance)
    _peek = staticmethod(_no_peek)


@dataclass(frozen=True)
class SplitFlavour(Flavour):
    """Split-flag errseq_t: `sample` and `peek` set OBSERVED, so both write the eseq.  Its
    counter has one bit less than the classic one at the same `counter_bits`."""

    name = "split"
    SEEN = ERRSEQ_REPORTED
    _set = staticmethod(split_set)
    _sample = staticmethod(split_sample)
    _check = staticmethod(split_check)
    _check_and_advance = staticmethod(split_check_and_advance)
    _peek = staticmethod(split_peek)


#: The kernel's layouts at their full width: what a spec names (`errseq = Split`).
Classic = ClassicFlavour()
Split = SplitFlavour()
