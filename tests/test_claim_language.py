"""The claim language's front end: the library parses, the AST is what the text says,
formulas bind and evaluate as the language doc defines, bounds are raised to what the
programs need, and every malformed claim is one located ClaimError (file, line, token,
reason), never another exception.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.checker.properties import PROPERTIES
from explorer.domain import claim as claim_mod
from explorer.domain.claim import (
    AnyLine,
    BoundSetting,
    Claim,
    ClaimBounds,
    ClaimError,
    ClaimVerdict,
    Expect,
    ProgramLine,
    Quantifier,
    load_claim,
    parse_claim,
    required_bounds,
)
from explorer.domain.claim_formula import (
    And,
    Before,
    EventRef,
    Implies,
    Not,
    Or,
    Ran,
    Returns,
    evaluate,
)
from explorer.domain.scenario import Event, ScenarioError, parse_line
from explorer.domain.scenario import parse as scenario_parse

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = sorted((ROOT / "claims").rglob("*.claim"))
EIO, ENOSPC = -5, -28


def parse(text: str) -> Claim:
    return parse_claim(textwrap.dedent(text).lstrip("\n"), "t.claim")


# --- the library ---------------------------------------------------------------------


def test_the_library_is_there() -> None:
    names = {p.stem for p in CLAIMS}
    assert len(CLAIMS) >= 34
    assert {"seed-overlay-mount-hides-error", "latest-errno-wins"} <= names


@pytest.mark.parametrize("path", CLAIMS, ids=lambda p: p.stem)
def test_every_library_claim_parses(path: Path) -> None:
    c = load_claim(path)
    assert c.name == path.stem  # the library keeps the herd7 convention
    assert c.source == str(path)
    assert c.question, "every library claim states its question in comments"
    if c.unsettled is not None:
        assert not c.programs and c.formula is None and not c.results and not c.expects
    elif c.programs:
        assert c.formula is not None and c.quantifier is not None
    else:
        assert c.expects and c.formula is None
    required_bounds(c)  # consistent with its programs (parse_claim checked it too)


def test_unsettled_claims_are_recognised() -> None:
    unsettled = {p.stem[:2] for p in CLAIMS if load_claim(p).unsettled is not None}
    assert unsettled == {"29", "30"}  # as claims/thread/README.md lists them
    c = load_claim(ROOT / "claims/thread/30-predictable-over-simple.claim")
    assert c.unsettled is not None and c.unsettled.startswith("an opinion")


def test_expect_only_claim() -> None:
    c = load_claim(ROOT / "claims/thread/01-open-before-error-sees-it.claim")
    assert not c.programs and c.formula is None and len(c.expects) == 18
    assert Expect("mainline", "open-before-syncfs", False, 5, c.expects[1].line) == c.expects[1]
    assert c.expects[0].holds and c.expects[0].length is None
    assert required_bounds(c) == ClaimBounds(2, 1, 1, "both", 6, ("EIO",), None, "own")


def test_extension_lines() -> None:
    c = load_claim(ROOT / "claims/examples/host-writes-upper-file-fsync-sees.claim")
    opener = c.programs["host"][0]
    assert isinstance(opener, ProgramLine)
    assert (opener.event.fd, opener.event.target, opener.event.file) == ("fd1", "host", "ovl1")
    assert opener.text == "open fd1 host ovl1"
    c = load_claim(ROOT / "claims/examples/latest-errno-wins.claim")
    e1, e2 = c.programs["env"]
    assert isinstance(e1, ProgramLine) and isinstance(e2, ProgramLine)
    assert (e1.event.errno, e1.text) == ("EIO", "wberror host")
    assert e2.event.errno == "ENOSPC"
    assert (e2.label, e2.text) == ("E2", "wberror host ENOSPC")


def test_any_line() -> None:
    c = load_claim(ROOT / "claims/examples/whatever-ovl2-does-fsync-fails.claim")
    (line,) = c.programs["ovl2"]
    assert isinstance(line, AnyLine) and line.k == 3 and line.id == ("ovl2", 0)
    assert required_bounds(c).depth == 8  # 4 + any 3 + 1


def test_property_names_are_the_callers() -> None:
    """The parser holds no list of properties: `expect:` names one its caller has (or a
    .py file); with no list, any name (a caller that checks no expect: line)."""
    text = "claim p\nexpect: plain no-loss holds, amir mine holds\n"
    with pytest.raises(ClaimError, match=r"t.claim:2: 'mine': unknown property \(one of: "):
        parse_claim(text, "t.claim", PROPERTIES)
    c = parse_claim(text, "t.claim", ("no-loss", "mine"))
    assert [(e.spec, e.property) for e in c.expects] == [("plain", "no-loss"), ("amir", "mine")]
    assert len(parse_claim(text, "t.claim").expects) == 2


# --- docs/model.md §7's example -----------------------------------------------------------

MODEL_EXAMPLE = """\
claim seed-overlay-mount-hides-error
# Jeff Layton, 1334bba9cefa81f80005f8416680afb29044379c.camel@kernel.org:
# with the intervening mount, syncfs(fd1) returns an error and syncfs(fd2) does not.
bounds: mount-options normal, host-fds 0
result: vivek-v3-seen Sometimes
result: plain Never, amir Never

ovl1:
  mount ovl1
  open fd1 ovl1
  write fd1
  open fd2 ovl1
  syncfs fd2
  syncfs fd1
ovl2:
  mount ovl2
env:
  wberror ovl1

exists (wberror ovl1 < mount ovl2 and mount ovl2 < open fd2 ovl1
        and syncfs fd2 = 0 and syncfs fd1 = EIO)
"""


def ref(actor: str, index: int, name: str = "") -> EventRef:
    return EventRef((actor, index), name)


def test_model_example_ast() -> None:
    c = parse_claim(MODEL_EXAMPLE, "seed.claim")
    assert c.name == "seed-overlay-mount-hides-error" and c.source == "seed.claim"
    assert c.question == (
        "Jeff Layton, 1334bba9cefa81f80005f8416680afb29044379c.camel@kernel.org:",
        "with the intervening mount, syncfs(fd1) returns an error and syncfs(fd2) does not.",
    )
    assert c.bounds == (BoundSetting("mount-options", "normal", 4), BoundSetting("host-fds", 0, 4))
    assert c.results == {
        "vivek-v3-seen": claim_mod.Result("vivek-v3-seen", ClaimVerdict.SOMETIMES, 5),
        "plain": claim_mod.Result("plain", ClaimVerdict.NEVER, 6),
        "amir": claim_mod.Result("amir", ClaimVerdict.NEVER, 6),
    }
    assert c.expects == () and c.specs is None and c.unsettled is None and c.filter is None
    assert list(c.programs) == ["ovl1", "ovl2", "env"]
    ovl1 = c.programs["ovl1"]
    assert [pl.text for pl in ovl1 if isinstance(pl, ProgramLine)] == [
        "mount ovl1",
        "open fd1 ovl1",
        "write fd1",
        "open fd2 ovl1",
        "syncfs fd2",
        "syncfs fd1",
    ]
    assert [pl.line for pl in ovl1] == [9, 10, 11, 12, 13, 14]
    assert ovl1[3] == ProgramLine(
        "ovl1", 3, Event("open", fd="fd2", target="ovl1", line=12), None, 12
    )
    assert c.programs["ovl2"] == (
        ProgramLine("ovl2", 0, Event("mount", target="ovl2", line=16), None, 16),
    )
    assert c.programs["env"] == (
        ProgramLine("env", 0, Event("wberror", target="ovl1", line=18), None, 18),
    )
    assert c.quantifier is Quantifier.EXISTS
    assert c.formula == And(
        (
            Before(ref("env", 0), ref("ovl2", 0)),
            Before(ref("ovl2", 0), ref("ovl1", 3)),
            Returns(ref("ovl1", 4), 0),
            Returns(ref("ovl1", 5), EIO),
        )
    )
    assert str(c.formula) == (
        "wberror ovl1 < mount ovl2 and mount ovl2 < open fd2 ovl1 and syncfs fd2 = 0 "
        "and syncfs fd1 = EIO"
    )
    assert c.formula.events() == {("env", 0), ("ovl2", 0), ("ovl1", 3), ("ovl1", 4), ("ovl1", 5)}
    assert required_bounds(c) == ClaimBounds(2, 2, 0, "normal", 8, ("EIO",), None, "own")


def run_record(order: list[tuple[str, int]], results: dict[tuple[str, int], int]) -> dict:
    return {id: Ran(pos, results.get(id)) for pos, id in enumerate(order)}


def test_model_example_evaluates_the_seed_order() -> None:
    c = parse_claim(MODEL_EXAMPLE, "seed.claim")
    assert c.formula is not None
    # The seed's order (docs/model.md §2): mount ovl1, open fd1, write, wberror, mount ovl2,
    # open fd2, syncfs fd2, syncfs fd1.
    seed = [("ovl1", 0), ("ovl1", 1), ("ovl1", 2), ("env", 0), ("ovl2", 0)]
    seed += [("ovl1", 3), ("ovl1", 4), ("ovl1", 5)]
    fd2_ok = {("ovl1", 4): 0, ("ovl1", 5): EIO, ("ovl2", 0): 0, ("ovl1", 0): 0}
    assert evaluate(c.formula, run_record(seed, fd2_ok))  # vivek-v3-seen's results
    both = fd2_ok | {("ovl1", 4): EIO}
    assert not evaluate(c.formula, run_record(seed, both))  # plain's results
    # ovl2 mounted after fd2's open: the order atoms fail whatever the results.
    late = [id for id in seed if id != ("ovl2", 0)] + [("ovl2", 0)]
    assert not evaluate(c.formula, run_record(late, fd2_ok))


# --- formulas ------------------------------------------------------------------------

PROGRAMS = """\
claim f
ovl1:
  mount ovl1
  open fd1 ovl1
  A: write fd1
  B: fsync fd1
  C: syncfs fd1
  D: close fd1
env:
  wberror ovl1
"""
A, B, C, D = (Returns(ref("ovl1", i), 0) for i in (2, 3, 4, 5))


def formula(text: str):
    c = parse_claim(PROGRAMS + text + "\n", "f.claim")
    return c.formula


@pytest.mark.parametrize(
    "text, expected",
    [
        ("A = 0 or B = 0 and C = 0", Or((A, And((B, C))))),
        ("A = 0 and B = 0 or C = 0", Or((And((A, B)), C))),
        ("not A = 0 and B = 0", And((Not(A), B))),
        ("not (A = 0 and B = 0)", Not(And((A, B)))),
        ("A = 0 -> B = 0 -> C = 0", Implies(A, Implies(B, C))),
        ("(A = 0 -> B = 0) -> C = 0", Implies(Implies(A, B), C)),
        ("A = 0 or B = 0 -> C = 0 and D = 0", Implies(Or((A, B)), And((C, D)))),
        ("A = 0 -> B = 0 or C = 0", Implies(A, Or((B, C)))),
        ("not not A = 0", Not(Not(A))),
        ("A = 0 and (B = 0 or C = 0) and D = 0", And((A, Or((B, C)), D))),
        ("((A = 0))", A),
        ("A < B", Before(ref("ovl1", 2), ref("ovl1", 3))),
        ("write fd1 < fsync   fd1", Before(ref("ovl1", 2), ref("ovl1", 3))),
        ("wberror ovl1 EIO < C", Before(ref("env", 0), ref("ovl1", 4))),
        ("C = ENOSPC", Returns(ref("ovl1", 4), ENOSPC)),
    ],
)
def test_precedence_and_associativity(text: str, expected) -> None:
    assert formula(f"forall ({text})") == expected


def test_formula_text_round_trips() -> None:
    for text in [
        "A = 0 or B = 0 and C = 0",
        "(A = 0 or B = 0) and C = 0",
        "A = 0 -> B = 0 -> C = 0",
        "(A = 0 -> B = 0) -> C = 0",
        "not (A = 0 or B < C) -> D = 0",
    ]:
        f = formula(f"exists ({text})")
        assert str(f) == text
        assert formula(f"exists ({f})") == f


def test_multi_line_condition_and_filter() -> None:
    c = parse_claim(
        PROGRAMS + "filter (wberror ovl1 < C)  # only the runs where it fails first\n"
        "~exists (C = EIO\n   and\n   D = 0)\n",
        "f.claim",
    )
    assert c.filter == Before(ref("env", 0), ref("ovl1", 4))
    assert c.quantifier is Quantifier.NOT_EXISTS
    assert c.formula == And((Returns(ref("ovl1", 4), EIO), D))


def test_evaluate_on_hand_made_records() -> None:
    w, f, s = ("ovl1", 2), ("ovl1", 3), ("ovl1", 4)
    err = ("env", 0)
    imp = formula("forall (wberror ovl1 < C -> C = EIO)")
    # error before the syncfs, syncfs reports it: holds
    assert evaluate(imp, {w: Ran(0, 0), err: Ran(1, None), s: Ran(2, EIO)})
    # error before the syncfs, syncfs returns 0: fails
    assert not evaluate(imp, {w: Ran(0, 0), err: Ran(1, None), s: Ran(2, 0)})
    # error after the syncfs: premise false, holds whatever the syncfs returned
    assert evaluate(imp, {s: Ran(1, 0), err: Ran(2, None)})
    # the error never ran: `<` needs both to run, so the premise is false
    assert evaluate(imp, {s: Ran(0, 0)})
    assert evaluate(imp, {s: Ran(0, 0), err: None})
    # `=` needs the event to have run
    assert not evaluate(formula("exists (C = 0)"), {})
    assert evaluate(formula("exists (not C = 0)"), {})
    assert not evaluate(formula("exists (C = EIO)"), {s: Ran(0, 0)})
    assert evaluate(formula("exists (not C = EIO)"), {s: Ran(0, 0)})
    # order atoms compare positions, strictly
    order = formula("exists (A < B and not B < A)")
    assert evaluate(order, {w: Ran(3, 0), f: Ran(7, 0)})
    assert not evaluate(order, {w: Ran(7, 0), f: Ran(3, 0)})
    assert not evaluate(formula("exists (A < A)"), {w: Ran(3, 0)})
    either = formula("exists (B = EIO or C = EIO)")
    assert evaluate(either, {f: Ran(0, 0), s: Ran(1, EIO)})
    assert not evaluate(either, {f: Ran(0, 0), s: Ran(1, 0)})


def test_atoms_are_what_evaluation_reads() -> None:
    f = formula("forall ((A < C and C = EIO) -> C = EIO or wberror ovl1 < C)")
    assert f.atoms() == (
        Before(ref("ovl1", 2), ref("ovl1", 4)),
        Returns(ref("ovl1", 4), EIO),
        Before(ref("env", 0), ref("ovl1", 4)),
    )
    assert f.events() == {("ovl1", 2), ("ovl1", 4), ("env", 0)}


# --- bounds --------------------------------------------------------------------------


def bounds_of(text: str) -> ClaimBounds:
    return required_bounds(parse(text))


def test_defaults_when_programs_need_little() -> None:
    assert bounds_of(
        """
        claim b
        ovl1:
          mount ovl1
        exists (mount ovl1 = 0)
        """
    ) == ClaimBounds(2, 2, 1, "both", 8, ("EIO",), None, "own")


def test_three_fds_at_once_raise_fds() -> None:
    b = bounds_of(
        """
        claim b
        ovl1:
          mount ovl1
          open fd1 ovl1
          open fd2 ovl1
          close fd1
          open fd3 ovl1
          open fd4 ovl1
        ovl2:
          mount ovl2
          open fd5 ovl2
          close fd5
          open fd6 ovl2
        exists (mount ovl1 = 0)
        """
    )
    assert b.fds == 3  # fd2, fd3, fd4 in ovl1; ovl2 never holds two
    assert b.depth == 10  # 6 + 4 events


def test_host_fds_count_host_opens_in_program_order() -> None:
    b = bounds_of(
        """
        claim b
        host:
          open fd1 host
          open fd2 host ovl1
          close fd1
          open fd3 host
          sync
        exists (sync = 0)
        """
    )
    assert (b.host_fds, b.host_files, b.mounts) == (2, "any", 2)


def test_ovl3_raises_mounts() -> None:
    assert bounds_of("claim b\novl3:\n  mount ovl3\nexists (mount ovl3 = 0)\n").mounts == 3
    # a container named only as a file raises mounts too
    b = bounds_of("claim b\nenv:\n  wberror ovl4\nexists (wberror ovl4 < wberror ovl4)\n")
    assert b.mounts == 4
    b = bounds_of("claim b\nhost:\n  open fd1 host ovl5\nexists (open fd1 host ovl5 = 0)\n")
    assert (b.mounts, b.host_files) == (5, "any")


def test_enospc_raises_errnos_when_written() -> None:
    text = "claim b\nhost:\n  sync\nenv:\n  wberror host ENOSPC\nexists (sync = 0)\n"
    assert bounds_of(text).errnos == ("EIO", "ENOSPC")
    assert bounds_of(text.replace("ENOSPC", "EIO")).errnos == ("EIO",)


def test_depth_sums_events_and_any() -> None:
    b = bounds_of(
        """
        claim b
        ovl1:
          mount ovl1
          any 4
          umount ovl1
        ovl2:
          any 3
        env:
          evict ovl1
        exists (mount ovl1 = 0)
        """
    )
    assert b.depth == 10 and b.mounts == 2


def test_stated_bounds_are_kept_and_raised_ones_only_when_missing() -> None:
    b = bounds_of(
        """
        claim b
        bounds: depth 12, fds 3, counter-bits 4, mount-options volatile
        ovl1:
          mount ovl1 volatile
          open fd1 ovl1
          open fd2 ovl1
        exists (mount ovl1 volatile = EIO)
        """
    )
    assert b == ClaimBounds(2, 3, 1, "volatile", 12, ("EIO",), 4, "own")
    assert b.world().slots == 2 * 3 + 1


# --- malformed claims ----------------------------------------------------------------

GOOD = """\
claim t
# a question
bounds: host-fds 0
result: plain Sometimes

ovl1:
  mount ovl1
  open fd1 ovl1
  write fd1
  L1: syncfs fd1
ovl2:
  mount ovl2
env:
  wberror ovl1

exists (wberror ovl1 < L1 and L1 = EIO)
"""


def edits(new: dict[int, str]) -> str:
    lines = GOOD.splitlines()
    for line, text in new.items():
        lines[line - 1] = text
    return "\n".join(lines) + "\n"


def edit(line: int, new: str) -> str:
    return edits({line: new})


def insert(after: int, new: str) -> str:
    lines = GOOD.splitlines()
    lines[after:after] = new.splitlines()
    return "\n".join(lines) + "\n"


COND = "exists (wberror ovl1 < L1 and L1 = EIO)"
BAD = [
    # (id, text, line, token, reason)
    ("empty", "# only a comment\n", 0, "", "empty"),
    ("no-claim-line", edit(1, "ovl1:"), 1, "ovl1:", "starts with 'claim NAME'"),
    ("claim-indented", edit(1, "  claim t"), 1, "claim", "starts with 'claim NAME'"),
    ("claim-two-words", edit(1, "claim t u"), 1, "u", "usage is 'claim NAME'"),
    ("claim-name-dots", edit(1, "claim .."), 1, "..", "a claim name is"),
    ("claim-twice", insert(3, "claim u"), 4, "claim", "one claim per file (it began at line 1)"),
    ("unknown-header", edit(3, "bound: depth 3"), 3, "bound:", "expected a header"),
    ("unknown-bound", edit(3, "bounds: depht 3"), 3, "depht", "unknown bound"),
    ("bound-range", edit(3, "bounds: fds 9"), 3, "9", "fds is a number from 1 to 8"),
    ("bound-not-number", edit(3, "bounds: depth x"), 3, "x", "depth is a number"),
    ("bound-huge", edit(3, "bounds: depth " + "9" * 30), 3, "9" * 30, "depth is a number"),
    ("bound-pair", edit(3, "bounds: depth 3 4"), 3, "4", "usage is 'depth VALUE'"),
    ("bound-empty-item", edit(3, "bounds: depth 9,, fds 2"), 3, ",", "an empty item"),
    ("bound-twice", insert(3, "bounds: host-fds 1"), 4, "host-fds", "first at line 3"),
    ("errnos-word", edit(3, "bounds: errnos ENOSPC+EIO"), 3, "ENOSPC+EIO", "errnos is one of"),
    ("counter-bits-1", edit(3, "bounds: counter-bits 1"), 3, "1", "from 2 to 19"),
    ("verdict-case", edit(4, "result: plain never"), 4, "never", "Never, Sometimes or Always"),
    ("unknown-spec", edit(4, "result: linus Never"), 4, "linus", "unknown spec"),
    (
        "result-twice",
        edit(4, "result: plain Never, amir Never, plain Always"),
        4,
        "plain",
        "result given twice (first at line 4)",
    ),
    (
        "result-not-in-specs",
        insert(4, "specs: amir mainline"),
        4,
        "plain",
        "not among the claim's specs",
    ),
    (
        "expect-holds-length",
        insert(4, "expect: plain no-loss holds 5"),
        5,
        "5",
        "no witness length",
    ),
    ("expect-property", insert(4, "expect: plain no-lose holds"), 5, "no-lose", "unknown property"),
    ("expect-word", insert(4, "expect: plain no-loss held"), 5, "held", "usage is 'expect:"),
    (
        "expect-too-long",
        insert(4, "bounds: depth 9\nexpect: amir isolation fails 12"),
        6,
        "12",
        "longer than the depth (9)",
    ),
    (
        "expect-twice",
        insert(4, "expect: amir isolation fails, amir isolation holds"),
        5,
        "isolation",
        "expectation given twice",
    ),
    (
        "header-after-program",
        insert(10, "result: amir Never"),
        11,
        "result:",
        "header lines come before the first program",
    ),
    (
        "stated-result",
        edit(10, "  L1: syncfs fd1 = EIO"),
        10,
        "=",
        "a stated result is not allowed",
    ),
    ("mount-other", edit(7, "  mount ovl2"), 7, "mount", "only ovl2 mounts ovl2"),
    ("open-other-file", edit(8, "  open fd1 ovl2"), 8, "ovl2", "ovl1 opens its own file only"),
    ("sync-not-host", insert(9, "  sync"), 10, "sync", "only the host calls sync"),
    ("wberror-not-env", insert(9, "  wberror ovl1"), 10, "wberror", "the environment's"),
    ("env-opens", edit(14, "  open fd2 host"), 14, "open", "env's events are wberror and evict"),
    (
        "host-opens-container",
        insert(14, "host:\n  open fd2 ovl1"),
        16,
        "ovl1",
        "the host opens 'open FD host'",
    ),
    (
        "fd-before-open",
        edits({8: "  write fd1", 9: "  open fd1 ovl1"}),
        8,
        "fd1",
        "used before its open (line 9)",
    ),
    (
        "fd-opened-twice",
        insert(9, "  open fd1 ovl1"),
        10,
        "fd1",
        "fd1 is opened twice (first at line 8)",
    ),
    (
        "fd-other-actor",
        insert(12, "  open fd2 ovl2\nhost:\n  syncfs fd2"),
        15,
        "fd2",
        "fd2 is ovl2's (opened at line 13): only ovl2 uses it",
    ),
    ("fd-unknown", edit(9, "  write fd7"), 9, "fd7", "unknown fd"),
    ("fd-after-close", insert(8, "  close fd1"), 10, "fd1", "fd1 was closed at line 9"),
    ("fd-keyword", edit(8, "  open and ovl1"), 8, "and", "may not be a formula word"),
    ("label-twice", edit(9, "  L1: write fd1"), 10, "L1", "label given twice (first at line 9)"),
    ("label-verb", edit(10, "  sync: syncfs fd1"), 10, "sync", "may not be a verb"),
    ("label-actor", edit(10, "  ovl2: syncfs fd1"), 10, "ovl2", "may not be a verb, actor"),
    ("label-fd", edit(9, "  fd1: write fd1"), 9, "fd1", "may not be an fd name"),
    ("label-syntax", edit(10, "  1L: syncfs fd1"), 10, "1L", "a label is letters"),
    ("label-alone", edit(10, "  L1:"), 10, "L1:", "names the event that follows"),
    (
        "ambiguous-line",
        insert(10, "  syncfs fd1").replace(COND, "exists (syncfs fd1 = EIO)"),
        17,
        "syncfs fd1",
        "ambiguous: written at lines 10 and 11",
    ),
    ("no-such-line", edit(16, "exists (syncfs fd9 = EIO)"), 16, "syncfs fd9", "no program line"),
    (
        "any-unnamed",
        edit(12, "  any 2").replace(COND, "exists (mount ovl2 < L1)"),
        16,
        "mount ovl2",
        "events of 'any K' cannot be named",
    ),
    ("unknown-label", edit(16, "exists (L9 = EIO)"), 16, "L9", "neither a label"),
    ("label-then-words", edit(16, "exists (L1 fd1 = EIO)"), 16, "fd1", "after the label L1"),
    (
        "wberror-result",
        edit(16, "exists (wberror ovl1 = EIO)"),
        16,
        "=",
        "wberror is an environment event: it returns nothing",
    ),
    ("write-result", edit(16, "exists (write fd1 = EIO)"), 16, "EIO", "write always returns 0"),
    ("result-word", edit(16, "exists (L1 = EINVAL)"), 16, "EINVAL", "a result is 0, EIO or ENOSPC"),
    (
        "no-operator",
        edit(16, "exists (L1 and L1 = 0)"),
        16,
        "and",
        "expected '=' or '<' after 'L1'",
    ),
    ("no-parens", edit(16, "exists L1 = EIO"), 16, "L1", "expected '(' after exists"),
    ("unclosed", edit(16, "exists (L1 = EIO and\n  (L1 = 0)"), 17, "", "expected ')'"),
    (
        "after-condition",
        edit(16, COND + " or (L1 = 0)"),
        16,
        "or",
        "nothing may follow the condition",
    ),
    ("second-condition", insert(16, "forall (L1 = 0)"), 17, "forall", "nothing may follow"),
    ("filter-alone", edit(16, "filter (L1 = 0)"), 16, "", "expected the condition"),
    ("too-deep", edit(16, "exists " + "(" * 150 + "L1 = 0" + ")" * 150), 16, "(", "nested deeper"),
    (
        "program-after-condition",
        insert(16, "host:\n  sync"),
        17,
        "host:",
        "the condition comes last",
    ),
    ("no-condition", GOOD.replace(COND, ""), 6, "ovl1:", "programs need a condition"),
    (
        "condition-no-programs",
        "claim t\nexists (L1 = 0)\n",
        2,
        "exists",
        "a condition needs programs before it",
    ),
    ("nothing-to-check", "claim t\n# why\nbounds: depth 3\n", 1, "t", "nothing to check"),
    (
        "result-without-condition",
        "claim t\nresult: amir Never\nexpect: amir no-loss holds\n",
        2,
        "amir",
        "result: is a verdict of the condition",
    ),
    (
        "unsettled-with-program",
        insert(4, "unsettled: an opinion"),
        3,
        "bounds:",
        "an unsettled claim has nothing to check",
    ),
    ("unsettled-twice", "claim t\nunsettled: a\nunsettled: b\n", 3, "unsettled:", "given twice"),
    ("unsettled-empty", "claim t\nunsettled:\n", 2, "unsettled:", "needs a value"),
    ("empty-program", insert(10, "ovl3:"), 11, "ovl3:", "at least one line"),
    (
        "program-twice",
        insert(14, "ovl1:\n  umount ovl1"),
        15,
        "ovl1:",
        "a second program (first at line 6)",
    ),
    ("actor-ovl0", edit(11, "ovl0:"), 11, "ovl0", "expected a container name"),
    ("actor-ovl17", edit(11, "ovl17:"), 11, "ovl17", "at most 16 containers"),
    ("actor-with-line", edit(11, "ovl2: mount ovl2"), 11, "mount", "on their own lines"),
    ("line-before-actor", insert(4, "  mount ovl1"), 5, "mount", "goes under its actor"),
    ("line-unindented", edit(9, "write fd1"), 9, "write", "indented under its actor"),
    ("unknown-verb", edit(9, "  scribble fd1"), 9, "scribble", "unknown verb"),
    ("any-zero", edit(12, "  any 0"), 12, "0", "K is a number from 1 to 64"),
    ("any-labelled", edit(12, "  M: any 2"), 12, "M", "cannot be named"),
    ("wberror-errno", edit(14, "  wberror ovl1 EINVAL"), 14, "EINVAL", "records EIO or ENOSPC"),
    (
        "open-ext-not-host",
        edit(8, "  open fd1 ovl1 ovl2"),
        8,
        "ovl2",
        "only the host opens a container's",
    ),
    (
        "host-open-ext-host",
        insert(14, "host:\n  open fd2 host host"),
        16,
        "host",
        "the host's own file is 'open FD host'",
    ),
    (
        "fds-below-need",
        edit(3, "bounds: fds 1").replace("  write fd1", "  open fd2 ovl1"),
        3,
        "fds",
        "fds 1 is below what the programs need: ovl1 has 2 open at once (fd1, fd2, line 9)",
    ),
    (
        "host-fds-below-need",
        insert(14, "host:\n  open fd2 host"),
        3,
        "host-fds",
        "host-fds 0 is below what the programs need",
    ),
    ("mounts-below-need", edit(3, "bounds: mounts 1"), 3, "mounts", "a program for ovl2"),
    (
        "depth-below-need",
        edit(3, "bounds: depth 5"),
        3,
        "depth",
        "depth 5 is below what the programs need: they have 6 events",
    ),
    (
        "mount-options-below-need",
        edit(3, "bounds: mount-options volatile"),
        3,
        "mount-options",
        "mount-options volatile is below what the programs need: mount ovl1 at line 7",
    ),
    (
        "errnos-below-need",
        edit(3, "bounds: errnos EIO").replace("wberror ovl1", "wberror ovl1 ENOSPC"),
        3,
        "errnos",
        "ENOSPC at line 14",
    ),
    (
        "host-files-below-need",
        edits({3: "bounds: host-files own", 14: "  wberror ovl1\nhost:\n  open fd2 host ovl1"}),
        3,
        "host-files",
        "host-files own is below what the programs need: open fd2 host ovl1 at line 16",
    ),
    ("depth-over-max", edit(12, "  any 64"), 14, "depth", "more than the tool explores (64)"),
    (
        "fds-over-max",
        edit(9, "\n".join(f"  open g{i} ovl1" for i in range(8))),
        16,
        "fds",
        "the programs need fds 9, more than the tool explores (8): ovl1 has 9 open",
    ),
]


def _bad_cases():
    for id, text, line, token, reason in BAD:
        yield pytest.param(text, line, token, reason, id=id)


@pytest.mark.parametrize("text, line, token, reason", list(_bad_cases()))
def test_malformed_claim_is_located(text: str, line: int, token: str, reason: str) -> None:
    with pytest.raises(ClaimError) as info:
        parse_claim(text, "bad.claim", PROPERTIES)
    err = info.value
    assert (err.source, err.line, err.token) == ("bad.claim", line, token), str(err)
    assert reason in err.reason, str(err)
    where = f"bad.claim:{line}:" if line else "bad.claim:"
    assert str(err).startswith(where) and (not token or f"{token!r}:" in str(err))
    assert isinstance(err, ValueError)


def test_the_good_claim_of_the_table_is_good() -> None:
    c = parse_claim(GOOD, "t.claim")
    assert c.formula == And((Before(ref("env", 0), ref("ovl1", 3)), Returns(ref("ovl1", 3), EIO)))


def test_load_claim_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ClaimError, match="cannot read"):
        load_claim(tmp_path / "missing.claim")
    bad = tmp_path / "bin.claim"
    bad.write_bytes(b"claim x\n\xff\xfe\n")
    with pytest.raises(ClaimError, match="bin.claim: not a UTF-8 text file"):
        load_claim(bad)


# --- fuzz: any mutation of a library claim parses or is a ClaimError ------------------

WORDS = [
    "(",
    ")",
    "<",
    "=",
    "->",
    "not",
    "and",
    "or",
    "~exists",
    "exists",
    "forall",
    "filter",
    "any",
    "0",
    "EIO",
    "ENOSPC",
    "ovl1",
    "ovl2",
    "ovl99",
    "host",
    "env",
    "fd1",
    "fd9",
    "L1",
    "mount",
    "open",
    "write",
    "sync",
    "syncfs",
    "wberror",
    "volatile",
    "bounds:",
    "result:",
    "expect:",
    "specs:",
    "unsettled:",
    "ovl1:",
    "env:",
    "#",
    ",",
    ":",
    "999999999999",
    "é",
]
LIBRARY = [p.read_text() for p in CLAIMS]


@st.composite
def mutated(draw) -> str:
    lines = draw(st.sampled_from(LIBRARY)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["drop", "dup", "swap", "word", "text", "indent"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if not lines:
            lines = [draw(st.text(max_size=30))]
        elif kind == "drop":
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "word":
            words = lines[i].split(" ")
            k = draw(st.integers(0, len(words) - 1))
            words[k] = draw(st.sampled_from(WORDS) | st.text(max_size=8))
            lines[i] = " ".join(words)
        elif kind == "text":
            lines.insert(i, draw(st.text(max_size=40)))
        else:
            lines[i] = draw(st.sampled_from(["", "  ", "\t"])) + lines[i].strip()
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_claims_parse_or_raise_claim_error(text: str) -> None:
    try:
        parse_claim(text, "fuzz.claim")
    except ClaimError as e:
        assert str(e).startswith("fuzz.claim")


# --- the conclusion ------------------------------------------------------------------


def test_a_conclusion_is_not_part_of_the_question_and_may_continue() -> None:
    c = parse(
        """
        claim c
        # The question.
        # Conclusion: True of plain,
        #   and of nothing else.
        #
        # More question.
        expect: plain no-loss holds
        """
    )
    assert c.conclusion == "True of plain, and of nothing else."
    assert c.question == ("The question.", "", "More question.")


def test_a_conclusion_given_twice_or_empty_is_refused() -> None:
    with pytest.raises(
        ClaimError, match=r"t.claim:3: 'Conclusion:': given twice \(first at line 2\)"
    ):
        parse("claim c\n# Conclusion: a\n# Conclusion: b\nexpect: plain no-loss holds\n")
    with pytest.raises(ClaimError, match="a conclusion says something"):
        parse("claim c\n# Conclusion:\nexpect: plain no-loss holds\n")


# --- spec and property files: checked where they are named ---------------------------

FILE_CLAIM = """\
claim f
{header}
ovl1:
  mount ovl1
exists (mount ovl1 = 0)
"""


@pytest.mark.parametrize(
    "header, token, what",
    [
        ("specs: plain ./gone.py", "./gone.py", "spec"),
        ("result: ./gone.py Never", "./gone.py", "spec"),
        ("expect: ./gone.py no-loss holds", "./gone.py", "spec"),
        ("expect: plain ./gone.py holds", "./gone.py", "property"),
    ],
)
def test_a_missing_spec_or_property_file_is_located(
    tmp_path: Path, header: str, token: str, what: str
) -> None:
    """A `result:` naming a spec file that does not exist is refused as `specs:` is (it
    was never checked when no `specs:` line named the file): where it is written."""
    path = tmp_path / "f.claim"
    path.write_text(FILE_CLAIM.format(header=header))
    with pytest.raises(ClaimError) as info:
        load_claim(path, PROPERTIES)
    err = info.value
    assert (err.line, err.token) == (2, token)
    assert err.reason == f"no such {what} file ({tmp_path / 'gone.py'})"
    parse_claim(path.read_text(), str(path), PROPERTIES)  # the text alone names no file
    r = CliRunner().invoke(app, ["claim", str(path)])
    assert r.exit_code == 2, r.output
    assert r.stderr.strip() == f"explore: error: {err}" and "Traceback" not in r.output


def test_a_spec_file_beside_the_claim_is_found(tmp_path: Path) -> None:
    (tmp_path / "iso.py").write_text((ROOT / "tests/isolated_spec.py").read_text())
    path = tmp_path / "f.claim"
    path.write_text(FILE_CLAIM.format(header="specs: ./iso.py\nresult: ./iso.py Sometimes"))
    assert load_claim(path).results["./iso.py"].line == 3


# --- a stated result: one rule in claims and scenarios ---------------------------------

RULE_PROGRAMS = """\
claim r
bounds: errnos EIO+ENOSPC
ovl1:
  mount ovl1
  open fd1 ovl1
  write fd1
  fsync fd1
  syncfs fd1
  close fd1
  umount ovl1
host:
  sync
env:
  wberror ovl1
  evict ovl1
"""
RULE_EVENTS = [
    "mount ovl1",
    "open fd1 ovl1",
    "write fd1",
    "fsync fd1",
    "syncfs fd1",
    "close fd1",
    "umount ovl1",
    "sync",
    "wberror ovl1",
    "evict ovl1",
]


@pytest.mark.parametrize("event", RULE_EVENTS)
@pytest.mark.parametrize("result", ["0", "EIO", "ENOSPC", "EPERM"])
def test_a_stated_result_is_one_rule_in_both_languages(event: str, result: str) -> None:
    """`EVENT = RESULT` in a claim's condition and on a scenario line: both accept it or
    both refuse it, for the same reason and token.  open may state an errno (a spec's
    ovl_open may fail); write, close, umount and sync only 0; wberror and evict none."""
    stated = f"{event} = {result}"
    try:
        parse_claim(f"{RULE_PROGRAMS}exists ({stated})\n", "r.claim")
        in_claim = None
    except ClaimError as e:
        in_claim = (e.token, e.reason)
    try:
        parse_line("r.scn", 1, stated)  # a scenario's line; its fds are parse's business
        in_scenario = None
    except ScenarioError as e:
        in_scenario = (e.token, e.reason)
    assert in_claim == in_scenario
    verb = event.split()[0]
    allowed = verb in ("mount", "open", "fsync", "syncfs") or (
        verb in ("write", "close", "umount", "sync") and result == "0"
    )
    assert (in_claim is None) == (allowed and result != "EPERM")


def test_an_errno_stated_on_open_is_compared_with_the_models() -> None:
    """Every built-in spec's open returns 0: `open fd1 ovl1 = EIO` never holds in a claim,
    and replaying it as a scenario lists it under every spec as a mismatch (exit 1)."""
    from explorer.checker.claims import observe
    from explorer.checker.replay import mismatches, replay_all
    from explorer.domain.catalog import builtin_names, load_spec, load_specs

    c = parse_claim(
        "claim o\novl1:\n  mount ovl1\n  open fd1 ovl1\n~exists (open fd1 ovl1 = EIO)\n"
    )
    for name in builtin_names():
        o = observe(c, name, load_spec(name))
        assert (o.verdict, o.satisfied, o.unsatisfied) == (ClaimVerdict.NEVER, 0, 1), name
    sc = scenario_parse("mount ovl1\nopen fd1 ovl1 = EIO\n", "o.scn")
    runs = replay_all(sc, load_specs(None))
    assert [(m.line, m.stated, m.got) for m in mismatches(sc, runs)] == [(2, "EIO", "0")] * len(
        runs
    )
