"""The step-count atoms of a claim's condition, read (docs/claims-language.md, Races):
`attempts(EVENT) OP N` and `warned(EVENT)`, explorer.domain.claim_formula's Tally."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.domain.claim_formula import Tally

if TYPE_CHECKING:
    from explorer.domain.claim_formula import _Parser


COMPARE = {"=": int.__eq__, "<": int.__lt__, ">": int.__gt__, "<=": int.__le__, ">=": int.__ge__}


def holds(tally: Tally, count: int) -> bool:
    """Whether a call whose steps made `count` cmpxchgs (or WARNs) satisfies `tally`."""
    return bool(COMPARE[tally.op](count, tally.n))


def parse_tally(p: _Parser) -> Tally:
    """`attempts(EVENT) OP N` (OP one of COMPARE, N 0-999) or `warned(EVENT)`, at the
    parser's position."""
    line = p.line()
    what = p.take()
    p.expect("(", f"expected '(' after {what}: {what}(EVENT)")
    ref, _ = p.event()
    p.expect(")", f"expected ')' after the event of {what}(")
    if what == "warned":
        return Tally(ref, what, ">", 0, line)
    op = p.peek() or ""
    if op not in COMPARE:
        p.fail(op, f"expected a comparison ({' '.join(COMPARE)}) after {what}(...)")
    p.take()
    n = p.peek() or ""
    if not n.isdigit() or len(n) > 3:
        p.fail(n, "expected a number (0 to 999)")
    p.take()
    return Tally(ref, what, op, int(n), line)
