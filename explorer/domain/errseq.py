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

Every function takes and returns plain ints; functions that would write through a
pointer in C return the new values instead.  Errors are negative errnos (-5 = -EIO).
"""

from __future__ import annotations

MAX_ERRNO = 4095
ERRNO_MASK = 0xFFF
U32 = 0xFFFFFFFF

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


def _check_errno(err: int) -> None:
    if not -MAX_ERRNO <= err <= -1:
        raise ErrseqError(
            f"errseq_set: errno {err} is outside [-{MAX_ERRNO}, -1] "
            "(the kernel WARNs and records nothing)"
        )


# --- classic (lib/errseq.c) ------------------------------------------------------


def errseq_set(eseq: int, err: int) -> int:
    """Record `err` in `eseq`; return the new value (equal to `eseq` for an unseen repeat)."""
    _check_errno(err)
    new = (eseq & ~(ERRNO_MASK | ERRSEQ_SEEN)) | -err
    # Only increment if someone has looked at it since the last error.
    if eseq & ERRSEQ_SEEN:
        new += ERRSEQ_CTR_INC
    return new & U32


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


def split_set(eseq: int, err: int) -> int:
    """Record `err`; bump the counter only if OBSERVED; clear both flags."""
    _check_errno(err)
    new = (eseq & ~(ERRNO_MASK | SPLIT_FLAGS)) | -err
    if eseq & ERRSEQ_OBSERVED:
        new += ERRSEQ_SPLIT_CTR_INC
    return new & U32


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


# --- the two flavours behind one interface, for the specs --------------------------


class Classic:
    """Mainline errseq_t.  `sample` has no side effect, so it returns the value unchanged."""

    name = "classic"
    SEEN = ERRSEQ_SEEN  # the flag a cursor carries once it has reported

    @staticmethod
    def set(eseq: int, err: int) -> int:
        return errseq_set(eseq, err)

    @staticmethod
    def sample(eseq: int) -> tuple[int, int]:
        return eseq, errseq_sample(eseq)

    @staticmethod
    def check(eseq: int, since: int) -> int:
        return errseq_check(eseq, since)

    @staticmethod
    def check_and_advance(eseq: int, since: int) -> tuple[int, int, int]:
        return errseq_check_and_advance(eseq, since)

    @staticmethod
    def peek(eseq: int) -> tuple[int, int]:
        raise NotImplementedError("errseq_peek exists only with split flags (jeff-split)")


class Split:
    """Split-flag errseq_t: `sample` and `peek` set OBSERVED, so both return the new value."""

    name = "split"
    SEEN = ERRSEQ_REPORTED

    @staticmethod
    def set(eseq: int, err: int) -> int:
        return split_set(eseq, err)

    @staticmethod
    def sample(eseq: int) -> tuple[int, int]:
        return split_sample(eseq)

    @staticmethod
    def check(eseq: int, since: int) -> int:
        return split_check(eseq, since)

    @staticmethod
    def check_and_advance(eseq: int, since: int) -> tuple[int, int, int]:
        return split_check_and_advance(eseq, since)

    @staticmethod
    def peek(eseq: int) -> tuple[int, int]:
        return split_peek(eseq)


Flavour = type[Classic] | type[Split]
