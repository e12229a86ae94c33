"""The claim language (docs/model.md §7 and its extensions): parse a *.claim file into a Claim.

A claim file states one claim from a mailing-list argument: `claim NAME`, the question
as comments, header lines (`bounds:`, `result:`, `expect:`, `specs:`, `unsettled:`),
one program per actor (`ovlN:`, `host:`, `env:`) of scenario-language lines, and a
condition (explorer.domain.claim_formula).  Whatever is wrong whatever the spec is a
ClaimError naming the file, line, token and reason; whether an event can run under a
spec is for the search to find.

Decisions where the language doc is silent (each enforced and tested):
- A claim is settled by programs with a condition, or by `expect:` lines alone (a
  property's verdict); programs and the condition come together, and `result:` lines
  need the condition.  An `unsettled:` claim has nothing else but its question:
  bounds, results or expects there would never be checked.
- NAME starts with a letter or digit (a name of dots would be a path); it need not
  equal the file's stem (a convention, as in herd7).
- The question is the whole-line comments between `claim NAME` and the first header,
  program or condition, without their `# `.
- A whole-line comment `# Conclusion: TEXT` (anywhere, once) is the claim's conclusion,
  the sentence docs/claims.md shows for it, continued on the comment lines right after
  it that start with `#` and two spaces or more; it is not part of the question.
- Given twice is an error naming the first: a bound, a spec's `result:`, a spec in
  `specs:`, a (spec, property) in `expect:`, an actor's program, `unsettled:`, a label.
  `expect:` takes comma-separated items like `result:`.  `errnos` is `EIO` or
  `EIO+ENOSPC` exactly.  A result or expect for a spec outside `specs:` is an error; so
  is a witness length longer than the claim's depth.
- Results: mount, fsync and syncfs may be `= 0`, `= EIO` or `= ENOSPC` (a spec's mount
  hook may refuse with any errno); open, write, close, umount and sync only `= 0`
  (anything else could never hold); wberror and evict have none.
- A program has at least one line; `any K` has 1 <= K <= MAX_DEPTH and no label.
- Labels are identifiers, unique, and none of: a verb, an actor, a container name,
  `any`, `volatile`, a result or formula word, an fd name of the claim.  fd names may
  not be formula words (`not`, `and`, `or`, ...).
- A host fd on a container's file (`open fdN host ovlK`) counts against host-fds.
- `wberror FILE EIO` is the line `wberror FILE`: a condition names both the same way.
- errnos is raised by `ENOSPC` in a program only: `= ENOSPC` in the condition is an
  atom that may just never hold.  A stated `mount-options` must cover the kinds of
  mount the programs make.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

from explorer.domain.catalog import builtin_names
from explorer.domain.claim_formula import (
    KEYWORDS,
    RESULTS,
    ClaimError,
    EventRef,
    Formula,
    LineId,
    Quantifier,
    Token,
    parse_condition,
    tokenize,
)
from explorer.domain.scenario import ARITY, CONTAINER_RE, Event, ScenarioError, _parse_line
from explorer.domain.world import ERRNOS, MAX_DEPTH, MAX_FDS, MAX_HOST_FDS, MAX_MOUNTS, Bounds

# The properties `expect:` may name, unless the caller gives them: the checker's
# registry, explorer.checker.properties.PROPERTIES, passes its own (the domain does not
# import the checker; a test keeps the two equal).
PROPERTIES = ("isolation", "open-before-syncfs", "open-before-fsync", "no-loss", "agreement")
HEADERS = ("bounds", "result", "expect", "specs", "unsettled")
CONCLUSION = "Conclusion:"
CONDITION_RE = re.compile(r"(~exists|exists|forall|filter)(?![A-Za-z0-9_])")
KEY_RE = re.compile(r"([^\s:]+):(.*)$")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*$")
LABEL_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
NUMBER_RE = re.compile(r"[0-9]{1,6}$")
RESERVED = {*ARITY, *KEYWORDS, *RESULTS, "host", "env", "any", "volatile", "claim"}
EXPECT_USAGE = "usage is 'expect: SPEC PROPERTY holds' or 'expect: SPEC PROPERTY fails [LENGTH]'"
HEADER_OR_PROGRAM = (
    "expected a header (bounds:, result:, expect:, specs:, unsettled:), "
    "a program (ovlN:, host:, env:) or the condition (exists, ~exists, forall)"
)


class ClaimVerdict(StrEnum):
    NEVER = "Never"
    SOMETIMES = "Sometimes"
    ALWAYS = "Always"


def _scenario_line(source: str, n: int, text: str) -> Event:
    try:
        event = _parse_line(source, n, text)
    except ScenarioError as e:
        raise ClaimError(source, n, e.token, e.reason) from None
    assert event is not None
    return event


def parse_event(source: str, n: int, text: str) -> Event:
    """One event as a claim writes it: a line of the scenario language."""
    event = _scenario_line(source, n, text)
    if event.fd in KEYWORDS:
        raise ClaimError(source, n, event.fd or "", "an fd name may not be a formula word")
    return event


@dataclass(frozen=True)
class BoundSetting:
    key: str  # as written: mounts, fds, host-fds, mount-options, depth, errnos, ...
    value: int | str
    line: int


@dataclass(frozen=True)
class Result:
    spec: str
    verdict: ClaimVerdict
    line: int


@dataclass(frozen=True)
class Expect:
    spec: str
    property: str
    holds: bool
    length: int | None
    line: int


@dataclass(frozen=True)
class ProgramLine:
    """One event of an actor's program; `id` is (actor, index in the program)."""

    actor: str
    index: int
    event: Event
    label: str | None
    line: int

    @property
    def id(self) -> LineId:
        return (self.actor, self.index)

    @property
    def text(self) -> str:
        return str(self.event)


@dataclass(frozen=True)
class AnyLine:
    """`any K`: every sequence of at most K events the actor can perform."""

    actor: str
    index: int
    k: int
    line: int

    @property
    def id(self) -> LineId:
        return (self.actor, self.index)


Program = tuple[ProgramLine | AnyLine, ...]


@dataclass(frozen=True)
class Claim:
    name: str
    source: str
    question: tuple[str, ...]
    bounds: tuple[BoundSetting, ...]
    results: dict[str, Result]
    expects: tuple[Expect, ...]
    specs: tuple[str, ...] | None  # None: every spec
    unsettled: str | None  # the reason
    programs: dict[str, Program]  # actor -> its program, in file order
    filter: Formula | None
    quantifier: Quantifier | None
    formula: Formula | None
    conclusion: str | None = None  # the `# Conclusion:` comment

    def lines(self) -> Iterator[ProgramLine | AnyLine]:
        for program in self.programs.values():
            yield from program

    def program_line(self, id: LineId) -> ProgramLine | AnyLine:
        return self.programs[id[0]][id[1]]


@dataclass(frozen=True)
class ClaimBounds:
    """The bounds a claim is checked at: stated, defaulted, raised to what it needs."""

    mounts: int = 2
    fds: int = 2
    host_fds: int = 1
    mount_options: str = "both"
    depth: int = 8
    errnos: tuple[str, ...] = ("EIO",)
    counter_bits: int | None = None  # None: the errseq counter's full width
    host_files: str = "own"

    def world(self) -> Bounds:
        """The world's bounds: its shape, the errnos a wberror may record and the files a
        host fd may open.  The counter's width is the spec's (`Spec.with_counter_bits`)."""
        errnos = tuple(ERRNOS[name] for name in self.errnos)
        return Bounds(self.mounts, self.fds, self.host_fds, errnos, self.host_files)


# key -> (smallest, largest) for a number, or the words allowed, weakest first.
BOUND_KEYS: dict[str, tuple[int, int] | tuple[str, ...]] = {
    "mounts": (1, MAX_MOUNTS),
    "fds": (1, MAX_FDS),
    "host-fds": (0, MAX_HOST_FDS),
    "mount-options": ("normal", "volatile", "both"),
    "depth": (1, MAX_DEPTH),
    "errnos": ("EIO", "EIO+ENOSPC"),
    "counter-bits": (2, 19),
    "host-files": ("own", "any"),
}
DEFAULTS = {"mounts": 2, "fds": 2, "host-fds": 1, "mount-options": "both", "depth": 8}
DEFAULTS |= {"errnos": "EIO", "counter-bits": None, "host-files": "own"}
MOUNT_KINDS = {"normal": {"normal"}, "volatile": {"volatile"}, "both": {"normal", "volatile"}}


def load_claim(path: str | Path, properties: Sequence[str] = PROPERTIES) -> Claim:
    """Read and parse one claim file; an unreadable file is a ClaimError too.
    `properties`: the names an `expect:` line may give."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ClaimError(str(path), 0, "", "not a UTF-8 text file") from None
    except OSError as e:
        raise ClaimError(str(path), 0, "", f"cannot read: {e.strerror or e}") from None
    return parse_claim(text, str(path), properties)


def parse_claim(
    text: str, source: str = "<stdin>", properties: Sequence[str] = PROPERTIES
) -> Claim:
    """Parse and validate one claim; raise ClaimError on the first bad line."""
    reader = _Reader(source, properties)
    for n, raw in enumerate(text.splitlines(), 1):
        reader.feed(n, raw)
    return reader.finish()


class _Reader:
    """Reads a claim line by line (claim, question, headers, programs, condition), then
    checks what needs the whole file (fds, labels, the condition, the bounds)."""

    def __init__(self, source: str, properties: Sequence[str] = PROPERTIES) -> None:
        self.source = source
        self.properties = properties
        self.name: str | None = None
        self.claim_line = 0
        self.question: list[str] = []
        self.bounds: dict[str, BoundSetting] = {}
        self.results: dict[str, Result] = {}
        self.expects: dict[tuple[str, str], Expect] = {}
        self.specs: dict[str, int] | None = None
        self.unsettled: tuple[str, int] | None = None
        self.programs: dict[str, list[ProgramLine | AnyLine]] = {}
        self.actor_line: dict[str, int] = {}
        self.cond: list[Token] | None = None
        self.body = False  # a header, program or condition has been read
        self.conclusion: tuple[str, int] | None = None
        self.continued = -1  # the last line of the conclusion

    def fail(self, line: int, token: str, reason: str) -> NoReturn:
        raise ClaimError(self.source, line, token, reason)

    def feed(self, n: int, raw: str) -> None:
        code = raw.split("#", 1)[0]
        text = code.strip()
        comment = raw.strip()[1:] if raw.strip().startswith("#") else ""
        if comment.strip().startswith(CONCLUSION):
            if self.conclusion is not None:
                self.fail(n, CONCLUSION, f"given twice (first at line {self.conclusion[1]})")
            said = comment.strip().removeprefix(CONCLUSION).strip()
            if not said:
                self.fail(n, CONCLUSION, "a conclusion says something: # Conclusion: TEXT")
            self.conclusion, self.continued = (said, n), n
            return
        if self.continued == n - 1 and comment.startswith("  ") and comment.strip():
            assert self.conclusion is not None
            self.conclusion = (f"{self.conclusion[0]} {comment.strip()}", self.conclusion[1])
            self.continued = n
            return
        if not text:
            if self.name is not None and not self.body and raw.strip():
                self.question.append(raw.strip()[1:].removeprefix(" "))
            return
        indented, first, m = raw[0].isspace(), text.split()[0], KEY_RE.match(text)
        if self.cond is not None:
            if m and not indented and self._section(m[1]):
                self.fail(n, m[1] + ":", "the condition comes last: nothing but it after it")
            self.cond.extend(tokenize(n, code))
        elif self.name is None:
            self._claim_line(n, indented, text.split())
        elif indented:
            if not self.programs:
                self.fail(n, first, "a program line goes under its actor (ovlN:, host: or env:)")
            self._program_line(n, text)
        elif CONDITION_RE.match(text):
            self.body, self.cond = True, tokenize(n, code)
        elif first == "claim":
            self.fail(n, first, f"one claim per file (it began at line {self.claim_line})")
        elif m and m[1] in HEADERS:
            if self.programs:
                self.fail(n, m[1] + ":", "header lines come before the first program")
            self.body = True
            self._header(n, m[1], m[2].strip())
        elif m and self._section(m[1]):
            self.body = True
            self._actor(n, m[1], m[2].strip())
        elif self.programs and (first in ARITY or first == "any"):
            self.fail(n, first, "a program line is indented under its actor")
        else:
            self.fail(n, first, HEADER_OR_PROGRAM)

    @staticmethod
    def _section(key: str) -> bool:
        return key in HEADERS or key in ("host", "env") or key.startswith("ovl")

    def _claim_line(self, n: int, indented: bool, words: list[str]) -> None:
        if words[0] != "claim" or indented:
            self.fail(n, words[0], "a claim file starts with 'claim NAME'")
        if len(words) != 2:
            self.fail(n, words[2] if len(words) > 2 else "claim", "usage is 'claim NAME'")
        if not NAME_RE.match(words[1]):
            why = "a claim name is letters, digits, '.', '_', '-', first a letter or digit"
            self.fail(n, words[1], why)
        self.name, self.claim_line = words[1], n

    def _header(self, n: int, key: str, rest: str) -> None:
        if not rest:
            self.fail(n, key + ":", f"{key}: needs a value")
        if key == "unsettled":
            if self.unsettled:
                self.fail(n, "unsettled:", f"given twice (first at line {self.unsettled[1]})")
            self.unsettled = (rest, n)
        elif key == "specs":
            self.specs = self.specs or {}
            for spec in rest.split():
                self._spec(n, spec)
                if spec in self.specs:
                    self.fail(n, spec, f"spec given twice (first at line {self.specs[spec]})")
                self.specs[spec] = n
        else:
            for item in rest.split(","):
                if not item.split():
                    self.fail(n, ",", f"an empty item: {key}: items are separated by commas")
                getattr(self, f"_{key}_item")(n, item.split())

    def _bounds_item(self, n: int, words: list[str]) -> None:
        key = words[0]
        if key not in BOUND_KEYS:
            self.fail(n, key, f"unknown bound (one of: {', '.join(BOUND_KEYS)})")
        if len(words) != 2:
            self.fail(n, words[2] if len(words) > 2 else key, f"usage is '{key} VALUE'")
        allowed, word = BOUND_KEYS[key], words[1]
        value: int | str = word
        if isinstance(allowed[0], int):
            lo, hi = allowed
            if not NUMBER_RE.match(word) or not lo <= int(word) <= int(hi):
                self.fail(n, word, f"{key} is a number from {lo} to {hi}")
            value = int(word)
        elif word not in allowed:
            self.fail(n, word, f"{key} is one of: {', '.join(map(str, allowed))}")
        if key in self.bounds:
            self.fail(n, key, f"bound given twice (first at line {self.bounds[key].line})")
        self.bounds[key] = BoundSetting(key, value, n)

    def _result_item(self, n: int, words: list[str]) -> None:
        if len(words) != 2:
            self.fail(n, words[-1], "usage is 'result: SPEC VERDICT, SPEC VERDICT, ...'")
        spec, verdict = words
        self._spec(n, spec)
        if verdict not in tuple(ClaimVerdict):
            self.fail(n, verdict, "a verdict is Never, Sometimes or Always")
        if spec in self.results:
            self.fail(n, spec, f"result given twice (first at line {self.results[spec].line})")
        self.results[spec] = Result(spec, ClaimVerdict(verdict), n)

    def _expect_item(self, n: int, words: list[str]) -> None:
        if not 3 <= len(words) <= 4:
            self.fail(n, words[-1], EXPECT_USAGE)
        spec, prop, word = words[:3]
        self._spec(n, spec)
        if prop not in self.properties and not prop.endswith(".py"):
            known = ", ".join(self.properties)
            self.fail(n, prop, f"unknown property (one of: {known}; or a .py)")
        if word not in ("holds", "fails"):
            self.fail(n, word, EXPECT_USAGE)
        length = None
        if len(words) == 4:
            if word == "holds":
                self.fail(n, words[3], "a property that holds has no witness length")
            if not NUMBER_RE.match(words[3]) or not 1 <= int(words[3]) <= MAX_DEPTH:
                self.fail(n, words[3], f"a witness length is a number from 1 to {MAX_DEPTH}")
            length = int(words[3])
        if first := self.expects.get((spec, prop)):
            self.fail(n, prop, f"expectation given twice (first at line {first.line})")
        self.expects[(spec, prop)] = Expect(spec, prop, word == "holds", length, n)

    def _spec(self, n: int, spec: str) -> None:
        if spec not in builtin_names() and not spec.endswith(".py"):
            known = ", ".join(builtin_names())
            self.fail(n, spec, f"unknown spec (built-in: {known}; or a .py file)")

    def _actor(self, n: int, actor: str, rest: str) -> None:
        if actor not in ("host", "env"):
            _scenario_line(self.source, n, f"umount {actor}")  # a valid container name
        if rest:
            self.fail(n, rest.split()[0], f"program lines go on their own lines under {actor}:")
        if actor in self.programs:
            self.fail(n, actor + ":", f"a second program (first at line {self.actor_line[actor]})")
        self.programs[actor], self.actor_line[actor] = [], n

    def _program_line(self, n: int, text: str) -> None:
        actor = next(reversed(self.programs))
        program = self.programs[actor]
        label = None
        if m := KEY_RE.match(text):
            label, text = m[1], m[2].strip()
            if not LABEL_RE.match(label):
                self.fail(n, label, "a label is letters, digits and _, first not a digit")
            if label in RESERVED or CONTAINER_RE.match(label):
                self.fail(n, label, "a label may not be a verb, actor, result or keyword")
            if not text:
                self.fail(n, label + ":", "a label names the event that follows it")
        if "=" in text:
            self.fail(
                n,
                "=",
                "a stated result is not allowed in a program: results belong in the condition",
            )
        words = text.split()
        if words[0] != "any":
            event = parse_event(self.source, n, text)
            program.append(ProgramLine(actor, len(program), event, label, n))
            return
        if label:
            self.fail(n, label, "events of 'any K' cannot be named: no label")
        if len(words) != 2 or not NUMBER_RE.match(words[1]):
            self.fail(n, words[-1], "usage is 'any K'")
        if not 1 <= int(words[1]) <= MAX_DEPTH:
            self.fail(n, words[1], f"K is a number from 1 to {MAX_DEPTH}")
        program.append(AnyLine(actor, len(program), int(words[1]), n))

    def finish(self) -> Claim:
        if self.name is None:
            self.fail(0, "", "empty: a claim file starts with 'claim NAME'")
        programs = {a: tuple(p) for a, p in self.programs.items()}
        for actor, program in programs.items():
            if not program:
                why = "a program has at least one line ('any K' for whatever the actor does)"
                self.fail(self.actor_line[actor], actor + ":", why)
        if self.unsettled:
            self._only_unsettled()
        self._settled(programs)
        _check_programs(self.source, programs)
        flt = quantifier = formula = None
        if self.cond is not None:
            cond = parse_condition(self.source, self.cond, _Resolver(self.source, programs))
            flt, quantifier, formula = cond.filter, cond.quantifier, cond.formula
        specs = None if self.specs is None else tuple(self.specs)
        for spec, line in [(r.spec, r.line) for r in self.results.values()] + [
            (e.spec, e.line) for e in self.expects.values()
        ]:
            if specs is not None and spec not in specs:
                self.fail(line, spec, f"not among the claim's specs: {' '.join(specs)}")
        claim = Claim(
            self.name,
            self.source,
            tuple(self.question),
            tuple(self.bounds.values()),
            self.results,
            tuple(self.expects.values()),
            specs,
            self.unsettled[0] if self.unsettled else None,
            programs,
            flt,
            quantifier,
            formula,
            self.conclusion[0] if self.conclusion else None,
        )
        depth = required_bounds(claim).depth
        for e in claim.expects:
            if e.length is not None and e.length > depth:
                self.fail(e.line, str(e.length), f"a witness longer than the depth ({depth})")
        return claim

    def _only_unsettled(self) -> None:
        others = [(b.line, "bounds:") for b in self.bounds.values()]
        others += [(r.line, "result:") for r in self.results.values()]
        others += [(e.line, "expect:") for e in self.expects.values()]
        others += [(line, "specs:") for line in (self.specs or {}).values()]
        others += [(line, actor + ":") for actor, line in self.actor_line.items()]
        others += [(self.cond[0][1], self.cond[0][0])] if self.cond else []
        if others:
            line, token = min(others)
            why = "an unsettled claim has nothing to check: only its question and the reason"
            self.fail(line, token, why)

    def _settled(self, programs: dict[str, Program]) -> None:
        if programs and self.cond is None:
            actor = next(iter(programs))
            why = "programs need a condition after them: exists (F), ~exists (F) or forall (F)"
            self.fail(self.actor_line[actor], actor + ":", why)
        if self.cond is not None and not programs:
            self.fail(self.cond[0][1], self.cond[0][0], "a condition needs programs before it")
        if not programs and not self.expects and not self.unsettled:
            why = "nothing to check: programs and a condition, expect: lines, or unsettled:"
            self.fail(self.claim_line, self.name or "", why)
        if self.results and self.cond is None:
            r = next(iter(self.results.values()))
            self.fail(r.line, r.spec, "result: is a verdict of the condition; there is none")


def _check_programs(source: str, programs: dict[str, Program]) -> None:
    """Who may write which event, and fd names: each opened once, by one actor, used
    only by it, after its open and before its close in that actor's program."""

    def fail(pl: ProgramLine, token: str | None, reason: str) -> NoReturn:
        raise ClaimError(source, pl.line, token or "", reason)

    lines = [pl for p in programs.values() for pl in p if isinstance(pl, ProgramLine)]
    opens: dict[str, ProgramLine] = {}
    for pl in lines:
        if pl.event.verb == "open" and (fd := pl.event.fd):
            if fd in opens:
                fail(pl, fd, f"{fd} is opened twice (first at line {opens[fd].line})")
            opens[fd] = pl
    opened: set[str] = set()
    closed: dict[str, int] = {}
    labels: dict[str, int] = {}
    for pl in lines:
        actor, e = pl.actor, pl.event
        if e.verb in ("mount", "umount") and e.target != actor:
            fail(pl, e.verb, f"only {e.target} {e.verb}s {e.target}: put it under {e.target}:")
        if e.verb == "open" and actor == "env":
            fail(pl, "open", "env's events are wberror and evict")
        if e.verb == "open" and actor == "host" and e.target != "host":
            fail(pl, e.target, "the host opens 'open FD host' or 'open FD host ovlK'")
        if e.verb == "open" and actor not in ("host", "env") and e.target != actor:
            fail(pl, e.target, f"{actor} opens its own file only: 'open {e.fd} {actor}'")
        if e.verb == "sync" and actor != "host":
            fail(pl, "sync", "only the host calls sync")
        if e.verb in ("wberror", "evict") and actor != "env":
            fail(pl, e.verb, f"{e.verb} is the environment's: put it under env:")
        if e.verb == "open" and e.fd:
            opened.add(e.fd)
        elif e.fd:
            owner = opens.get(e.fd)
            if owner is None:
                fail(pl, e.fd, f"unknown fd (no 'open {e.fd} ...' in any program)")
            if owner.actor != actor:
                who = owner.actor
                fail(
                    pl, e.fd, f"{e.fd} is {who}'s (opened at line {owner.line}): only {who} uses it"
                )
            if e.fd not in opened:
                fail(pl, e.fd, f"used before its open (line {owner.line})")
            if e.fd in closed:
                fail(pl, e.fd, f"{e.fd} was closed at line {closed[e.fd]}")
            if e.verb == "close":
                closed[e.fd] = pl.line
        if pl.label in labels:
            fail(pl, pl.label, f"label given twice (first at line {labels[pl.label]})")
        if pl.label in opens:
            fail(pl, pl.label, "a label may not be an fd name of the claim")
        if pl.label:
            labels[pl.label] = pl.line


class _Resolver:
    """Which program line a condition names: a label, or a line as written (whitespace
    and `wberror F EIO` normalised), which must then be written once."""

    def __init__(self, source: str, programs: dict[str, Program]) -> None:
        self.source = source
        self.labels: dict[str, ProgramLine] = {}
        self.by_text: dict[str, list[ProgramLine]] = {}
        lines = [pl for p in programs.values() for pl in p]
        self.has_any = any(isinstance(pl, AnyLine) for pl in lines)
        for pl in lines:
            if isinstance(pl, ProgramLine):
                self.by_text.setdefault(pl.text, []).append(pl)
                if pl.label:
                    self.labels[pl.label] = pl

    def __call__(self, words: list[Token]) -> tuple[EventRef, str]:
        first, n = words[0]
        if first in self.labels:
            if len(words) > 1:
                why = f"expected '=' or '<' after the label {first}"
                raise ClaimError(self.source, words[1][1], words[1][0], why)
            pl = self.labels[first]
            return EventRef(pl.id, first), pl.event.verb
        if len(words) == 1 and first not in ARITY:
            raise ClaimError(self.source, n, first, "neither a label of this claim nor an event")
        event = parse_event(self.source, n, " ".join(w for w, _ in words))
        text = str(event)
        found = self.by_text.get(text, [])
        if not found:
            hint = " (events of 'any K' cannot be named)" if self.has_any else ""
            raise ClaimError(self.source, n, text, f"no program line is this event{hint}")
        if len(found) > 1:
            at = " and ".join(str(pl.line) for pl in found)
            why = f"ambiguous: written at lines {at}; name the one meant by its label"
            raise ClaimError(self.source, n, text, why)
        return EventRef(found[0].id, text), event.verb


def _needs(claim: Claim) -> dict[str, tuple[int | str, int, str]]:
    """What the programs need, per bound: (value, line, why)."""
    need: dict[str, tuple[int | str, int, str]] = {}

    def at_least(key: str, value: int, line: int, why: str) -> None:
        if value > int(need.get(key, (0, 0, ""))[0]):
            need[key] = (value, line, why)

    kinds: dict[str, str] = {}  # normal/volatile -> the first mount of that kind
    depth = 0
    for actor, program in claim.programs.items():
        if m := CONTAINER_RE.match(actor):
            at_least("mounts", int(m[1]), program[0].line, f"a program for {actor}")
        live: list[str] = []
        for pl in program:
            depth += pl.k if isinstance(pl, AnyLine) else 1
            at_least("depth", depth, pl.line, f"they have {depth} events")
            if isinstance(pl, AnyLine):
                continue
            e, why = pl.event, f"{pl.event} at line {pl.line}"
            for name in (e.target, e.file):
                if name and (m := CONTAINER_RE.match(name)):
                    at_least("mounts", int(m[1]), pl.line, why)
            if e.verb == "mount":
                kinds.setdefault("volatile" if e.volatile else "normal", why)
                want = "both" if len(kinds) == 2 else next(iter(kinds))
                need["mount-options"] = (want, pl.line, ", ".join(kinds.values()))
            if e.verb == "open" and e.fd:
                live.append(e.fd)
                held = f"{actor} has {len(live)} open at once ({', '.join(live)}, line {pl.line})"
                at_least("host-fds" if actor == "host" else "fds", len(live), pl.line, held)
            if e.verb == "close" and e.fd in live:
                live.remove(e.fd)
            if e.verb == "wberror" and e.errno == "ENOSPC":
                need.setdefault("errnos", ("EIO+ENOSPC", pl.line, why))
            if e.file:
                need.setdefault("host-files", ("any", pl.line, why))
    return need


def _covers(key: str, have: int | str, want: int | str) -> bool:
    if isinstance(want, int):
        return int(have) >= want
    if key == "mount-options":
        return MOUNT_KINDS[str(have)] >= MOUNT_KINDS[str(want)]
    order = BOUND_KEYS[key]
    return order.index(have) >= order.index(want)  # type: ignore[arg-type]


def required_bounds(claim: Claim) -> ClaimBounds:
    """The bounds the claim is checked at: its `bounds:`, the defaults for the others,
    raised as far as the programs need; a stated bound below that is a ClaimError."""
    stated = {b.key: b for b in claim.bounds}
    out = {k: stated[k].value if k in stated else v for k, v in DEFAULTS.items()}
    for key, (want, line, why) in _needs(claim).items():
        limit = BOUND_KEYS[key][1]
        if isinstance(want, int) and isinstance(limit, int) and want > limit:
            why = f"the programs need {key} {want}, more than the tool explores ({limit}): {why}"
            raise ClaimError(claim.source, line, key, why)
        if not _covers(key, out[key], want):  # type: ignore[arg-type]
            if key in stated:
                why = f"{key} {out[key]} is below what the programs need: {why}"
                raise ClaimError(claim.source, stated[key].line, key, why)
            out[key] = want
    errnos = tuple(str(out.pop("errnos")).split("+"))
    fields = {k.replace("-", "_"): v for k, v in out.items()}
    return ClaimBounds(errnos=errnos, **fields)  # type: ignore[arg-type]
