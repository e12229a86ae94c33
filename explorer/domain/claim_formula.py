"""The condition of a claim: `filter (F)` and `exists (F)`, `~exists (F)` or `forall (F)`.

F is built from two kinds of atoms, `EVENT = RESULT` (that event ran and returned
RESULT) and `EVENT < EVENT` (both ran, the first earlier), with `not` (binds
tightest), `and`, `or`, `->` (implies, loosest, right associative) and parentheses.
An EVENT is a program line of the claim, named as written or by its label; which
line a name means is the claim parser's business (`Resolve`), so this module knows
only words, lines and ids.

A formula is evaluated on a *record* of one run: for each event id the formula needs
(`Formula.events()`), where it ran and what it returned.  A later search records only
those, which is why `atoms()` and `events()` exist.

Decisions where the language doc is silent: the formula after `exists`, `~exists`,
`forall` and `filter` must be in parentheses, as the doc writes it (`exists (F)`),
and nothing but comments may follow the condition; nesting deeper than
`MAX_NESTING` is refused (a located error, not a RecursionError).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple, NoReturn

from explorer.domain.scenario import RESULT_TOKENS, ScenarioError, stated_result_error
from explorer.errors import InputError

# A program line's stable id: (actor, index in that actor's program).
LineId = tuple[str, int]

# The results an atom `EVENT = RESULT` may name, and which event may name which: the
# scenario language's rule (explorer.domain.scenario.stated_result_error).
RESULTS = RESULT_TOKENS
RESULT_NAMES = {v: k for k, v in RESULTS.items()}
KEYWORDS = ("not", "and", "or", "exists", "~exists", "forall", "filter", "attempts", "warned")
TALLIES = ("attempts", "warned")  # what a Tally counts: cmpxchgs, WARN_ONs
MAX_NESTING = 100

TOKEN_RE = re.compile(r"~exists\b|->|[<>]=|[()<=>]|[A-Za-z0-9_]+|\S")


class ClaimError(InputError):
    """Bad input in a claim file, located as a ScenarioError is: `FILE:LINE: 'TOKEN': reason`."""

    def __init__(self, source: str, line: int, token: str, reason: str) -> None:
        self.source, self.line, self.token, self.reason = source, line, token, reason
        super().__init__(str(ScenarioError(source, line, token, reason)))


class Quantifier(StrEnum):
    EXISTS = "exists"
    NOT_EXISTS = "~exists"
    FORALL = "forall"


class Ran(NamedTuple):
    """Where an event ran in a run (0-based) and what it returned (None: no result)."""

    position: int
    result: int | None


# For each event id a formula needs: how it ran, or None (or missing) if it did not.
Record = Mapping[LineId, Ran | None]


@dataclass(frozen=True)
class EventRef:
    """An event named in a formula: the program line it means and the name written."""

    id: LineId
    name: str = field(compare=False)

    def __str__(self) -> str:
        return self.name


class Formula:
    """Base of the formula nodes: evaluation, atoms, text."""

    prec = 5

    def evaluate(self, record: Record) -> bool:
        """Whether one run, given as a record of the events the formula needs, satisfies it."""
        return self.decide(lambda atom: atom.evaluate(record))

    def decide(self, atom: Callable[[Atom], bool]) -> bool:
        """The formula's value when each atom's is `atom(a)`: a search that keeps one bit
        per atom (explorer.bridge.claim_model) evaluates it without positions."""
        raise NotImplementedError

    def children(self) -> tuple[Formula, ...]:
        return ()

    def atoms(self) -> tuple[Atom, ...]:
        """The distinct atoms, in the order they are written."""
        seen: dict[Atom, None] = {}
        for f in self._walk():
            if isinstance(f, Returns | Before | Tally):
                seen.setdefault(f)
        return tuple(seen)

    def events(self) -> frozenset[LineId]:
        """The ids of every event whose result or position the evaluation reads."""
        ids: set[LineId] = set()
        for a in self.atoms():
            ids.update((a.first.id, a.then.id) if isinstance(a, Before) else (a.event.id,))
        return frozenset(ids)

    def _walk(self) -> Iterator[Formula]:
        stack: list[Formula] = [self]
        while stack:
            f = stack.pop()
            yield f
            stack.extend(reversed(f.children()))

    def _wrap(self, child: Formula, below: int) -> str:
        return f"({child})" if child.prec <= below else str(child)


@dataclass(frozen=True)
class Returns(Formula):
    """`EVENT = RESULT`: the event ran and returned `result` (0 or -errno)."""

    event: EventRef
    result: int
    line: int = field(default=0, compare=False)

    def evaluate(self, record: Record) -> bool:
        ran = record.get(self.event.id)
        return ran is not None and ran.result == self.result

    def decide(self, atom: Callable[[Atom], bool]) -> bool:
        return atom(self)

    def __str__(self) -> str:
        return f"{self.event} = {RESULT_NAMES[self.result]}"


@dataclass(frozen=True)
class Before(Formula):
    """`EVENT < EVENT`: both ran, `first` earlier than `then`."""

    first: EventRef
    then: EventRef
    line: int = field(default=0, compare=False)

    def evaluate(self, record: Record) -> bool:
        a, b = record.get(self.first.id), record.get(self.then.id)
        return a is not None and b is not None and a.position < b.position

    def decide(self, atom: Callable[[Atom], bool]) -> bool:
        return atom(self)

    def __str__(self) -> str:
        return f"{self.first} < {self.then}"


@dataclass(frozen=True)
class Tally(Formula):
    """`attempts(E) OP N`: E's call made OP N cmpxchgs; `warned(E)`: it hit a WARN_ON
    (explorer.domain.claim_tally; with races on only, docs/model.md §8)."""

    event: EventRef
    what: str  # one of TALLIES
    op: str = ">"
    n: int = 0
    line: int = field(default=0, compare=False)

    def evaluate(self, record: Record) -> bool:  # a record has no step counts
        raise ValueError("a call's accesses are counted by a search with races on")

    def decide(self, atom: Callable[[Atom], bool]) -> bool:
        return atom(self)

    def __str__(self) -> str:
        head = f"{self.what}({self.event})"
        return head if self.what == "warned" else f"{head} {self.op} {self.n}"


Atom = Returns | Before | Tally


@dataclass(frozen=True)
class Not(Formula):
    operand: Formula
    prec = 4

    def decide(self, atom: Callable[[Atom], bool]) -> bool:
        return not self.operand.decide(atom)

    def children(self) -> tuple[Formula, ...]:
        return (self.operand,)

    def __str__(self) -> str:
        return f"not {self._wrap(self.operand, 3)}"


@dataclass(frozen=True)
class And(Formula):
    operands: tuple[Formula, ...]
    prec = 3

    def decide(self, atom: Callable[[Atom], bool]) -> bool:
        return all(f.decide(atom) for f in self.operands)

    def children(self) -> tuple[Formula, ...]:
        return self.operands

    def __str__(self) -> str:
        return " and ".join(self._wrap(f, 3) for f in self.operands)


@dataclass(frozen=True)
class Or(Formula):
    operands: tuple[Formula, ...]
    prec = 2

    def decide(self, atom: Callable[[Atom], bool]) -> bool:
        return any(f.decide(atom) for f in self.operands)

    def children(self) -> tuple[Formula, ...]:
        return self.operands

    def __str__(self) -> str:
        return " or ".join(self._wrap(f, 2) for f in self.operands)


@dataclass(frozen=True)
class Implies(Formula):
    premise: Formula
    conclusion: Formula
    prec = 1

    def decide(self, atom: Callable[[Atom], bool]) -> bool:
        return not self.premise.decide(atom) or self.conclusion.decide(atom)

    def children(self) -> tuple[Formula, ...]:
        return (self.premise, self.conclusion)

    def __str__(self) -> str:
        return f"{self._wrap(self.premise, 1)} -> {self._wrap(self.conclusion, 0)}"


def evaluate(formula: Formula, record: Record) -> bool:
    """Whether one run, given as a record of the events `formula` needs, satisfies it."""
    return formula.evaluate(record)


Token = tuple[str, int]  # text, line
# Resolve an event's words (one or more tokens) to the line it names and that line's verb.
Resolve = Callable[[list[Token]], tuple[EventRef, str]]


def tokenize(line: int, text: str) -> list[Token]:
    return [(m.group(), line) for m in TOKEN_RE.finditer(text)]


def is_word(tok: str) -> bool:
    return tok[0].isascii() and (tok[0].isalnum() or tok[0] == "_") and tok not in KEYWORDS


@dataclass(frozen=True)
class Condition:
    filter: Formula | None
    quantifier: Quantifier
    formula: Formula


def parse_condition(source: str, tokens: list[Token], resolve: Resolve) -> Condition:
    """`[filter (F)] QUANTIFIER (F)`, the whole rest of a claim file after its programs."""
    p = _Parser(source, tokens, resolve)
    flt = None
    if p.peek() == "filter":
        p.take()
        flt = p.parenthesised("filter")
    q = p.peek() or ""
    if q not in tuple(Quantifier):
        p.fail(q, "expected the condition: exists (F), ~exists (F) or forall (F)")
    p.take()
    formula = p.parenthesised(q)
    if p.peek() is not None:
        p.fail(p.peek() or "", "nothing may follow the condition (one condition per claim)")
    return Condition(flt, Quantifier(q), formula)


class _Parser:
    """Recursive descent over the tokens of a condition; every error is a ClaimError."""

    def __init__(self, source: str, tokens: list[Token], resolve: Resolve) -> None:
        self.source, self.tokens, self.resolve = source, tokens, resolve
        self.pos, self.depth = 0, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def line(self) -> int:
        if not self.tokens:
            return 0
        return self.tokens[min(self.pos, len(self.tokens) - 1)][1]

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            self.fail("", "the condition ends too early")
        self.pos += 1
        return tok

    def fail(self, token: str, reason: str, back: int = 0) -> NoReturn:
        self.pos -= back
        raise ClaimError(self.source, self.line(), token, reason)

    def expect(self, want: str, reason: str) -> None:
        if self.peek() != want:
            self.fail(self.peek() or "", reason)
        self.pos += 1

    def parenthesised(self, what: str) -> Formula:
        self.expect("(", f"expected '(' after {what}: write {what} (F)")
        f = self.implies()
        self.expect(")", "expected ')' to close the parenthesis")
        return f

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail(self.peek() or "", f"nested deeper than {MAX_NESTING} levels")

    def implies(self) -> Formula:
        self.nest()
        left = self.disjunction()
        if self.peek() == "->":
            self.take()
            left = Implies(left, self.implies())
        self.depth -= 1
        return left

    def disjunction(self) -> Formula:
        parts = [self.conjunction()]
        while self.peek() == "or":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Formula:
        parts = [self.unary()]
        while self.peek() == "and":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Formula:
        tok = self.peek()
        if tok == "not":
            self.take()
            self.nest()
            f: Formula = Not(self.unary())
            self.depth -= 1
            return f
        if tok == "(":
            self.take()
            f = self.implies()
            self.expect(")", "expected ')' to close the parenthesis")
            return f
        return self.atom()

    def event(self) -> tuple[EventRef, str]:
        words: list[Token] = []
        while (tok := self.peek()) is not None and is_word(tok):
            words.append(self.tokens[self.pos])
            self.pos += 1
        if not words:
            self.fail(self.peek() or "", "expected an event (a program line or its label)")
        return self.resolve(words)

    def atom(self) -> Formula:
        if self.peek() in TALLIES:
            from explorer.domain.claim_tally import parse_tally  # it builds on this module

            return parse_tally(self)
        line = self.line()
        ref, verb = self.event()
        op = self.peek()
        if op == "<":
            self.take()
            then, _ = self.event()
            return Before(ref, then, line)
        if op != "=":
            self.fail(op or "", f"expected '=' or '<' after '{ref}'")
        self.take()
        res = self.take()
        if wrong := stated_result_error(verb, res):
            token, reason = wrong
            self.fail(token, reason, back=2 if token == "=" else 1)
        return Returns(ref, RESULTS[res], line)
