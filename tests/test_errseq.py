"""errseq_t, bit-exact: hand-worked tables and hypothesis properties.

Every expected value below is worked out by hand from lib/errseq.c (docs/model.md §3) and, for the split flavour, from Jeff Layton's v3
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
    mask_for,
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


# --- a second errno: EIO then ENOSPC, SEEN clear and set, both layouts ------------------
#
# docs/model.md §3: set replaces the errno and clears SEEN; it bumps the counter only if SEEN
# (split: OBSERVED) was set.  An unseen repeat of the same errno changes nothing; an
# unseen *different* errno changes the value (Sargun's point, claims/thread/10-*).

SECOND_ERRNO = [
    # (flavour, steps of (op, err), values after each step, derivation)
    (
        Classic,
        [("set", EIO), ("set", ENOSPC)],
        [0x5, 0x1C],
        "SEEN clear: errno 5 -> 28 in bits 0-11, counter stays 0; the value changes",
    ),
    (
        Classic,
        [("set", EIO), ("set", EIO)],
        [0x5, 0x5],
        "SEEN clear, same errno: nothing changes (the repeat is invisible)",
    ),
    (
        Classic,
        [("set", EIO), ("seen", 0), ("set", ENOSPC)],
        [0x5, 0x1005, 0x201C],
        "SEEN set: 0x1005 -> clear SEEN (0x0005), errno 28 (0x001C), counter +1 (0x201C)",
    ),
    (
        Split,
        [("set", EIO), ("set", ENOSPC)],
        [0x5, 0x1C],
        "REPORTED/OBSERVED clear: errno replaced, counter stays 0",
    ),
    (
        Split,
        [("set", EIO), ("seen", 0), ("set", ENOSPC)],
        [0x5, 0x3005, 0x401C],
        "REPORTED|OBSERVED (0x3005): both cleared, errno 28, counter +1 (+0x4000): 0x401C",
    ),
    (
        Split,
        [("set", EIO), ("peek", 0), ("set", ENOSPC)],
        [0x5, 0x2005, 0x401C],
        "peek sets OBSERVED only (0x2005); the next set bumps: 0x401C",
    ),
]


@pytest.mark.parametrize(("es", "steps", "values", "why"), SECOND_ERRNO)
def test_a_second_errno_bit_exact(es, steps, values, why) -> None:
    v = 0
    got = []
    for op, err in steps:
        if op == "set":
            v = es.set(v, err)
        elif op == "seen":
            v, _, _ = es.check_and_advance(v, 0)  # someone reports it
        else:
            v, _ = es.peek(v)
        got.append(v)
    assert got == values, why


@pytest.mark.parametrize("es", [Classic, Split], ids=["classic", "split"])
def test_a_raw_snapshot_sees_enospc_after_an_unseen_eio(es) -> None:
    # errseq_check against a raw (unsampled) snapshot of an unseen EIO: a later unseen
    # EIO is invisible to it, a later unseen ENOSPC is not, and it says ENOSPC.
    snap = es.set(0, EIO)  # 0x5: the raw value, SEEN/OBSERVED clear
    assert snap == 0x5
    assert es.check(es.set(snap, EIO), snap) == 0
    assert es.set(snap, ENOSPC) == 0x1C
    assert es.check(es.set(snap, ENOSPC), snap) == ENOSPC


# --- a narrower counter: --counter-bits K ------------------------------------------------
#
# Classic: errno (0-11), SEEN (12), a K-bit counter (13..12+K): values of 13+K bits.
# Split: REPORTED (12), OBSERVED (13), K-1 counter bits (14..12+K): also 13+K bits.

MASKS = [(19, 0xFFFFFFFF), (18, 0x7FFFFFFF), (4, 0x1FFFF), (2, 0x7FFF)]


@pytest.mark.parametrize(("k", "mask"), MASKS)
def test_the_value_mask_of_a_k_bit_counter(k: int, mask: int) -> None:
    assert mask_for(k) == mask
    assert Classic.narrowed(k).mask == Split.narrowed(k).mask == mask


@pytest.mark.parametrize("k", [1, 20, 0])
def test_a_counter_outside_2_to_19_bits_is_refused(k: int) -> None:
    with pytest.raises(ValueError):
        mask_for(k)


NARROW_SET = [
    # (k, old, err, new, derivation)
    (2, 0x5005, EIO, 0x6005, "K=2: counter 2 + SEEN -> counter 3 (0x6000)"),
    (2, 0x7005, EIO, 0x0005, "K=2: counter 3 + SEEN: 0x7005 & ~0x1FFF | 5 = 0x6005, +0x2000 = "
     "0x8005, masked to 15 bits: counter wraps to 0"),
    (2, 0x701C, EIO, 0x0005, "the same wrap, errno 28 replaced by 5"),
    (2, 0x6005, EIO, 0x6005, "K=2, counter 3 unseen: no bump, no wrap"),
    (3, 0x7005, EIO, 0x8005, "K=3: bit 15 belongs to the counter (4), no wrap yet"),
    (3, 0xF005, EIO, 0x0005, "K=3: counter 7 + SEEN wraps to 0 (mask 0xFFFF)"),
]  # fmt: skip


@pytest.mark.parametrize(("k", "old", "err", "new", "why"), NARROW_SET)
def test_classic_set_at_a_narrow_width(k, old, err, new, why) -> None:
    assert errseq_set(old, err, mask_for(k)) == new, why
    assert Classic.narrowed(k).set(old, err) == new, why


NARROW_SPLIT_SET = [
    (2, 0x3005, EIO, 0x4005, "K=2 split: one counter bit (14): 0 -> 1"),
    (2, 0x7005, EIO, 0x0005, "K=2 split: counter 1 + OBSERVED: 0x4005 + 0x4000 = 0x8005, "
     "masked to 15 bits: wraps to 0"),
    (2, 0x6005, EIO, 0x0005, "OBSERVED alone bumps too: wraps"),
    (2, 0x5005, EIO, 0x4005, "REPORTED alone does not bump: flags cleared, counter kept"),
    (4, 0x1F005, EIO, 0x0005, "K=4 split: 3 counter bits (14-16), counter 7 wraps"),
]  # fmt: skip


@pytest.mark.parametrize(("k", "old", "err", "new", "why"), NARROW_SPLIT_SET)
def test_split_set_at_a_narrow_width(k, old, err, new, why) -> None:
    assert split_set(old, err, mask_for(k)) == new, why
    assert Split.narrowed(k).set(old, err) == new, why


def _reported_errors(es, n: int, cursor_at: int) -> tuple[int, int]:
    """n errors, each reported (so the next set bumps); return (value, the cursor an fd
    sampled after `cursor_at` of them)."""
    v, cursor = 0, 0
    for i in range(n):
        v = es.set(v, EIO)
        v, _, _ = es.check_and_advance(v, 0)  # someone reports it: SEEN (split: both)
        if i + 1 == cursor_at:
            v, cursor = es.sample(v)
    return v, cursor


@pytest.mark.parametrize(
    ("es", "wrap"), [(Classic.narrowed(2), 4), (Split.narrowed(2), 2)], ids=["classic", "split"]
)
def test_claim_25_a_cursor_a_full_wrap_behind_sees_no_change(es, wrap: int) -> None:
    # claims/thread/25: with K=2 the classic counter has 2 bits (4 values), the split one
    # 1 bit (2 values).  An fd whose cursor is a whole wrap of reported errors behind
    # holds exactly the current value: check_and_advance says nothing happened, a false
    # negative.  A cursor one error behind still sees it.
    v, cursor = _reported_errors(es, 1 + 4, cursor_at=1)  # 4 increments behind
    assert cursor == v  # classic: 0x1005 both; split: 0x3005 both
    assert es.check_and_advance(v, cursor)[2] == 0
    v, cursor = _reported_errors(es, 1 + wrap, cursor_at=1)
    assert cursor == v and es.check(v, cursor) == 0
    v, cursor = _reported_errors(es, 1 + wrap - 1, cursor_at=1)
    assert cursor != v and es.check_and_advance(v, cursor)[2] == EIO
    # at the kernel's width the same 4 errors move the counter by 4
    full = type(es)()
    v, cursor = _reported_errors(full, 5, cursor_at=1)
    assert full.check(v, cursor) == EIO


def test_claim_25_values_by_hand() -> None:
    # Classic, K=2 (claims/thread/25): E0 0x0005, reported 0x1005 = V; E1 0x2005 ->
    # 0x3005; E2 0x4005 -> 0x5005; E3 0x6005 -> 0x7005; E4 wraps: 0x0005 -> 0x1005 = V.
    es = Classic.narrowed(2)
    v, seen = 0, []
    for _ in range(5):
        v = es.set(v, EIO)
        unseen = v
        v, _, _ = es.check_and_advance(v, 0)
        seen.append((unseen, v))
    assert seen == [
        (0x0005, 0x1005),
        (0x2005, 0x3005),
        (0x4005, 0x5005),
        (0x6005, 0x7005),
        (0x0005, 0x1005),
    ]
    # Split, K=2: E0 0x0005 -> 0x3005 = V; E1 0x4005 -> 0x7005; E2 wraps: 0x0005 -> V.
    es = Split.narrowed(2)
    v, seen = 0, []
    for _ in range(3):
        v = es.set(v, EIO)
        unseen = v
        v, _, _ = es.check_and_advance(v, 0)
        seen.append((unseen, v))
    assert seen == [(0x0005, 0x3005), (0x4005, 0x7005), (0x0005, 0x3005)]


def test_the_kernel_width_is_the_default_and_narrowing_keeps_the_layout() -> None:
    assert Classic.counter_bits == Split.counter_bits == 19
    assert Classic.mask == Split.mask == 0xFFFFFFFF
    assert Classic.narrowed(19) == Classic and Split.narrowed(19) == Split
    assert Classic.narrowed(2).name == "classic" and Split.narrowed(2).name == "split"
    assert Split.narrowed(2).SEEN == Split.SEEN


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
