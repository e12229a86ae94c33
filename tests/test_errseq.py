"""errseq_t, bit-exact: hand-worked tables and hypothesis properties.

Every expected value below is worked out by hand from lib/errseq.c (MODEL.md §3,
research/kernel-semantics.md §1) and, for the split flavour, from Jeff Layton's v3
lib/errseq.c (20201217150037.468787-1-jlayton@kernel.org; the copy in his tree at
e2207fe2).  Notation: EIO = 5, ENOSPC = 28.

Classic layout: bits 0-11 errno, bit 12 SEEN (0x1000), bits 13-31 counter (+0x2000).
Split layout:   bits 0-11 errno, bit 12 REPORTED (0x1000), bit 13 OBSERVED (0x2000),
                bits 14-31 counter (+0x4000).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.domain.errseq import (
    Classic,
    ErrseqError,
    Split,
    errseq_check,
    errseq_check_and_advance,
    errseq_sample,
    errseq_set,
    split_check,
    split_check_and_advance,
    split_peek,
    split_sample,
    split_set,
)

EIO, ENOSPC = -5, -28

# --- classic: errseq_set -------------------------------------------------------------

CLASSIC_SET = [
    # (old, err, new, derivation)
    (0x0, EIO, 0x5, "first error: errno 5, SEEN clear, counter 0"),
    (0x5, EIO, 0x5, "unseen repeat of the same errno: new == old, nothing changes"),
    (0x5, ENOSPC, 0x1C, "different errno while unseen: errno 28 replaces 5, counter stays 0"),
    (0x1005, EIO, 0x2005, "set after SEEN: clear SEEN, counter 0 -> 1 (+0x2000)"),
    (0x1005, ENOSPC, 0x201C, "set after SEEN with a new errno: counter bumps, errno 28"),
    (0x2005, EIO, 0x2005, "counter 1, unseen, same errno: unchanged"),
    (0x301C, EIO, 0x4005, "counter 1 + SEEN, errno 28 -> counter 2, errno 5"),
    (0x0, -4095, 0xFFF, "the largest errno magnitude fits bits 0-11 exactly"),
    (
        0xFFFFF000,
        EIO,
        0x5,
        "counter all ones (0xFFFFE000) | SEEN: (0xFFFFE000 | 5) + 0x2000 carries out of "
        "bit 31, the u32 keeps errno only",
    ),
    (
        0xFFFFE005,
        EIO,
        0xFFFFE005,
        "counter all ones, unseen, same errno: no bump, no wrap",
    ),
]


@pytest.mark.parametrize(("old", "err", "new", "why"), CLASSIC_SET)
def test_classic_set(old: int, err: int, new: int, why: str) -> None:
    assert errseq_set(old, err) == new, why
    assert Classic.set(old, err) == new, why


@pytest.mark.parametrize("err", [0, -4096, -5000, 5, 1])
@pytest.mark.parametrize("fn", [errseq_set, split_set, Classic.set, Split.set])
def test_set_refuses_bad_errno(fn, err: int) -> None:
    # lib/errseq.c: WARN(err == 0 || (unsigned int)-err > MAX_ERRNO): 0 would clear an
    # error, -4096 does not fit the 12-bit errno field, a positive value is not an errno.
    with pytest.raises(ErrseqError):
        fn(0x1005, err)


# --- classic: errseq_sample ----------------------------------------------------------

CLASSIC_SAMPLE = [
    (0x0, 0x0, "no error ever: 0"),
    (0x5, 0x0, "unseen error: 0, so the new reader gets it once (b4678df184b3)"),
    (0x1005, 0x1005, "seen: the full value, SEEN included"),
    (0x201C, 0x0, "counter 1, unseen: 0"),
    (0x301C, 0x301C, "counter 1, seen: the value"),
]


@pytest.mark.parametrize(("v", "cursor", "why"), CLASSIC_SAMPLE)
def test_classic_sample(v: int, cursor: int, why: str) -> None:
    assert errseq_sample(v) == cursor, why
    # The flavour returns (new eseq, cursor): classic sample has no side effect.
    assert Classic.sample(v) == (v, cursor), why


# --- classic: errseq_check -----------------------------------------------------------

CLASSIC_CHECK = [
    (0x0, 0x0, 0, "nothing ever: equal"),
    (0x5, 0x0, EIO, "error since a 0 cursor"),
    (0x1005, 0x1005, 0, "equal, SEEN in both"),
    (0x1005, 0x5, EIO, "all 32 bits compared: the values differ only in SEEN -> -5"),
    (0x1005, 0x0, EIO, "a 0 cursor sees even an already-seen error"),
    (0x201C, 0x1005, ENOSPC, "counter moved: the latest errno, 28"),
]


@pytest.mark.parametrize(("v", "since", "ret", "why"), CLASSIC_CHECK)
def test_classic_check(v: int, since: int, ret: int, why: str) -> None:
    assert errseq_check(v, since) == ret, why
    assert Classic.check(v, since) == ret, why


# --- classic: errseq_check_and_advance ------------------------------------------------

CLASSIC_CA = [
    # (eseq, since) -> (eseq', since', ret)
    (0x0, 0x0, (0x0, 0x0, 0), "equal: nothing to report, nothing marked"),
    (0x5, 0x0, (0x1005, 0x1005, EIO), "new error: mark SEEN, cursor := 0x1005, -5"),
    (0x1005, 0x1005, (0x1005, 0x1005, 0), "already reported to this cursor: 0"),
    (0x1005, 0x0, (0x1005, 0x1005, EIO), "seen by someone else, cursor 0: still -5"),
    (0x2005, 0x1005, (0x3005, 0x3005, EIO), "counter moved since the cursor: -5, SEEN"),
    (0x201C, 0x1005, (0x301C, 0x301C, ENOSPC), "returns the latest errno (28)"),
]


@pytest.mark.parametrize(("v", "since", "out", "why"), CLASSIC_CA)
def test_classic_check_and_advance(v: int, since: int, out: tuple, why: str) -> None:
    assert errseq_check_and_advance(v, since) == out, why
    assert Classic.check_and_advance(v, since) == out, why


def test_classic_has_no_peek() -> None:
    # errseq_peek exists only in Jeff Layton's split-flag proposal.
    with pytest.raises(NotImplementedError):
        Classic.peek(0x5)


# --- split: set -----------------------------------------------------------------------

SPLIT_SET = [
    (0x0, EIO, 0x5, "first error"),
    (0x5, EIO, 0x5, "unobserved repeat, same errno: unchanged"),
    (0x5, ENOSPC, 0x1C, "unobserved, new errno: errno replaced, counter kept"),
    (0x2005, EIO, 0x4005, "OBSERVED (peeked): clear flags, counter 0 -> 1 (+0x4000)"),
    (0x3005, EIO, 0x4005, "REPORTED|OBSERVED: clear both, counter bumps"),
    (
        0x1005,
        EIO,
        0x5,
        "REPORTED without OBSERVED: only OBSERVED bumps, so flags clear and new == 0x5",
    ),
    (0x7005, EIO, 0x8005, "counter 1, both flags: counter 2"),
    (
        0xFFFFE000,
        EIO,
        0x5,
        "18-bit counter all ones (0xFFFFC000) | OBSERVED: +0x4000 wraps to errno only",
    ),
]


@pytest.mark.parametrize(("old", "err", "new", "why"), SPLIT_SET)
def test_split_set(old: int, err: int, new: int, why: str) -> None:
    assert split_set(old, err) == new, why
    assert Split.set(old, err) == new, why


# --- split: peek and sample -----------------------------------------------------------

SPLIT_PEEK = [
    # eseq -> (eseq', value)
    (0x0, (0x0, 0x0), "errseq_peek: `if (old != 0)` -- 0 stays 0, no flag on a clean value"),
    (0x5, (0x2005, 0x2005), "sets OBSERVED, returns the new value"),
    (0x3005, (0x3005, 0x3005), "already OBSERVED: unchanged"),
]


@pytest.mark.parametrize(("v", "out", "why"), SPLIT_PEEK)
def test_split_peek(v: int, out: tuple, why: str) -> None:
    assert split_peek(v) == out, why
    assert Split.peek(v) == out, why


SPLIT_SAMPLE = [
    (0x0, (0x0, 0x0), "clean: 0, nothing set"),
    (0x5, (0x2005, 0x0), "unreported: peek sets OBSERVED, cursor 0 (the reader gets it once)"),
    (0x2005, (0x2005, 0x0), "observed, unreported: cursor 0"),
    (0x3005, (0x3005, 0x3005), "REPORTED: the value"),
    (0x1005, (0x3005, 0x3005), "REPORTED only: peek adds OBSERVED, then the value"),
]


@pytest.mark.parametrize(("v", "out", "why"), SPLIT_SAMPLE)
def test_split_sample(v: int, out: tuple, why: str) -> None:
    assert split_sample(v) == out, why
    assert Split.sample(v) == out, why


# --- split: check (flags masked) and check_and_advance (raw compare) -------------------

SPLIT_CHECK = [
    (0x0, 0x0, 0, "clean"),
    (0x5, 0x0, EIO, "error since a 0 cursor"),
    (0x3005, 0x5, 0, "errseq_same masks REPORTED|OBSERVED: 0x5 == 0x5"),
    (0x2005, 0x1005, 0, "only flags differ: 0"),
    (0x4005, 0x3005, EIO, "counter differs: -5"),
    (0x401C, 0x3005, ENOSPC, "latest errno"),
]


@pytest.mark.parametrize(("v", "since", "ret", "why"), SPLIT_CHECK)
def test_split_check(v: int, since: int, ret: int, why: str) -> None:
    assert split_check(v, since) == ret, why
    assert Split.check(v, since) == ret, why


SPLIT_CA = [
    (0x0, 0x0, (0x0, 0x0, 0), "equal"),
    (0x5, 0x0, (0x3005, 0x3005, EIO), "sets REPORTED and OBSERVED, -5"),
    (0x2005, 0x0, (0x3005, 0x3005, EIO), "peeked value: adds REPORTED"),
    (0x3005, 0x3005, (0x3005, 0x3005, 0), "equal raw: 0"),
    (
        0x3005,
        0x2005,
        (0x3005, 0x3005, EIO),
        "raw compare (old != *since): only the flags differ, still reported",
    ),
    (0x4005, 0x3005, (0x7005, 0x7005, EIO), "counter moved: both flags, -5"),
]


@pytest.mark.parametrize(("v", "since", "out", "why"), SPLIT_CA)
def test_split_check_and_advance(v: int, since: int, out: tuple, why: str) -> None:
    assert split_check_and_advance(v, since) == out, why
    assert Split.check_and_advance(v, since) == out, why


# --- hypothesis properties ------------------------------------------------------------
#
# A little world: one errseq value and NFD readers (cursors), driven by random ops.
# Classic: every cursor is 0 or has SEEN; split: 0 or has REPORTED (sample returns the
# value only if REPORTED, check_and_advance stores a value with REPORTED set).

NFD = 3
ERRNOS = st.sampled_from([-1, -5, -28, -4095])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), ERRNOS),
        st.tuples(st.just("sample"), st.integers(0, NFD - 1)),
        st.tuples(st.just("ca"), st.integers(0, NFD - 1)),
        st.tuples(st.just("check"), st.integers(0, NFD - 1)),
        st.tuples(st.just("peek"), st.integers(0, NFD - 1)),
    ),
    max_size=40,
)
FLAVOURS = pytest.mark.parametrize("es", [Classic, Split], ids=["classic", "split"])


def _run(es, ops, *, skip_checks: bool = False):
    """Apply ops; return (final eseq, cursors, list of results of sample/ca/set)."""
    v = 0
    cur = [0] * NFD
    out = []
    for op, arg in ops:
        if op == "set":
            v = es.set(v, arg)
            out.append(("set", v))
        elif op == "sample":
            v, cur[arg] = es.sample(v)
            out.append(("sample", cur[arg]))
        elif op == "ca":
            v, cur[arg], ret = es.check_and_advance(v, cur[arg])
            out.append(("ca", ret))
        elif op == "check":
            if not skip_checks:
                es.check(v, cur[arg])
        elif op == "peek" and es is Split:
            v, _ = es.peek(v)
            out.append(("peek", v))
    return v, cur, out


@FLAVOURS
@settings(max_examples=100, deadline=None)
@given(ops=OPS)
def test_every_cursor_is_zero_or_seen(es, ops) -> None:
    v = 0
    cur = [0] * NFD
    for op, arg in ops:
        if op == "set":
            v = es.set(v, arg)
        elif op == "sample":
            v, cur[arg] = es.sample(v)
        elif op == "ca":
            v, cur[arg], _ = es.check_and_advance(v, cur[arg])
        elif op == "peek" and es is Split:
            v, _ = es.peek(v)
        for c in cur:
            assert c == 0 or c & es.SEEN, hex(c)  # SEEN is REPORTED for Split


@FLAVOURS
@settings(max_examples=100, deadline=None)
@given(ops=OPS)
def test_check_never_changes_anything(es, ops) -> None:
    # check is a pure read: a run with the checks removed ends in the same state with
    # the same results (sample, check_and_advance and set are all that can write).
    assert _run(es, ops) == _run(es, ops, skip_checks=True)


@FLAVOURS
@settings(max_examples=100, deadline=None)
@given(ops=OPS, fd=st.integers(0, NFD - 1))
def test_second_check_and_advance_returns_zero(es, ops, fd) -> None:
    v, cur, _ = _run(es, ops)
    v, cur[fd], _ = es.check_and_advance(v, cur[fd])
    v2, c2, ret = es.check_and_advance(v, cur[fd])
    assert ret == 0
    assert (v2, c2) == (v, cur[fd])  # and nothing moves


@FLAVOURS
@settings(max_examples=120, deadline=None)
@given(ops=OPS)
def test_reader_older_than_a_set_gets_the_error(es, ops) -> None:
    # An fd whose cursor was taken (sample or check_and_advance) before a set gets an
    # error -- the latest errno -- on its next check_and_advance, whatever others did in
    # between (fewer than 2**18 sets: no counter wrap).
    v = 0
    cur = [0] * NFD
    owed = [False] * NFD  # a set happened since this cursor was taken
    last_err = 0
    for op, arg in ops:
        if op == "set":
            v = es.set(v, arg)
            last_err = arg
            owed = [True] * NFD
        elif op == "sample":
            v, cur[arg] = es.sample(v)
            owed[arg] = False
        elif op == "ca":
            v, cur[arg], ret = es.check_and_advance(v, cur[arg])
            if owed[arg]:
                assert ret == last_err
            owed[arg] = False
        elif op == "peek" and es is Split:
            v, _ = es.peek(v)
    for fd in range(NFD):
        v, cur[fd], ret = es.check_and_advance(v, cur[fd])
        if owed[fd]:
            assert ret == last_err


@FLAVOURS
@settings(max_examples=100, deadline=None)
@given(ops=OPS, err=ERRNOS)
def test_unseen_value_is_reported_to_a_new_sampler(es, ops, err) -> None:
    # b4678df184b3 "errseq: Always report a writeback error once": right after a set,
    # before anyone reports it, a fresh sample is 0 and its check_and_advance reports.
    v, _, _ = _run(es, ops)
    v = es.set(v, err)
    v, c = es.sample(v)
    assert c == 0
    _, _, ret = es.check_and_advance(v, c)
    assert ret == err
