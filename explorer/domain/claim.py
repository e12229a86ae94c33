"""The claim language (docs/claims-language.md): read a *.claim file into a Claim.

A claim file states one claim from a mailing-list argument: `claim NAME`, the question
as comments, header lines (`bounds:`, `result:`, `expect:`, `specs:`, `unsettled:`),
one program per actor (`ovlN:`, `host:`, `env:`) of scenario-language lines
(explorer.domain.claim_program), and a condition (explorer.domain.claim_formula); the
bounds it is checked at are explorer.domain.claim_bounds'.  Whatever is wrong whatever
the spec is a ClaimError naming the file, line, token and reason; whether an event can
run under a spec is for the search to find.

The language is read line by line, by hand: a line's first word says what it is
(`claim`, a header, an actor, a condition keyword, an indented program line), and a
word's meaning depends on where it stands (`volatile` is a mount option, a bound's
value or a bad fd name), which is what gives each error its own token and reason.

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
- A spec or property file is named by a path relative to the claim's folder; a claim
  read from a file (`load_claim`) names files that exist.
- A program has at least one line.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from explorer.domain.claim_bounds import (
    BoundSetting,
    ClaimBounds,
    bound_setting,
    required_bounds,
)
from explorer.domain.claim_formula import (
    ClaimError,
    Formula,
    LineId,
    Quantifier,
    Tally,
    Token,
    parse_condition,
    tokenize,
)
from explorer.domain.claim_headers import ClaimVerdict, Expect, Headers, Result, claim_file
from explorer.domain.claim_program import (
    KEY_RE,
    THREAD_RE,
    AnyLine,
    Program,
    ProgramLine,
    Resolver,
    actor_of,
    check_programs,
    program_line,
    thread_of,
)
from explorer.domain.race_world import MAX_THREADS
from explorer.domain.scenario import ARITY, ScenarioError, parse_line

__all__ = [
    "AnyLine",
    "BoundSetting",
    "Claim",
    "ClaimBounds",
    "ClaimError",
    "ClaimVerdict",
    "Expect",
    "Program",
    "ProgramLine",
    "Quantifier",
    "Result",
    "claim_file",
    "load_claim",
    "parse_claim",
    "required_bounds",
]

HEADERS = ("bounds", "result", "expect", "specs", "unsettled")
CONCLUSION = "Conclusion:"
CONDITION_RE = re.compile(r"(~exists|exists|forall|filter)(?![A-Za-z0-9_])")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*$")
HEADER_OR_PROGRAM = (
    "expected a header (bounds:, result:, expect:, specs:, unsettled:), "
    "a program (ovlN:, host:, env:, a thread ovlN.K: or host.K:) or the condition (exists, ~exists, forall)"
)


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


def load_claim(path: str | Path, properties: Collection[str] | None = None) -> Claim:
    """Read and parse one claim file (`parse_claim`), whose spec and property files
    must exist; an unreadable file is a ClaimError too."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ClaimError(str(path), 0, "", "not a UTF-8 text file") from None
    except OSError as e:
        raise ClaimError(str(path), 0, "", f"cannot read: {e.strerror or e}") from None
    return parse_claim(text, str(path), properties, files=True)


def parse_claim(
    text: str,
    source: str = "<stdin>",
    properties: Collection[str] | None = None,
    files: bool = False,
) -> Claim:
    """Parse and validate one claim; raise ClaimError on the first bad line.
    `properties`: the property names `expect:` may give besides a .py file (those the
    checker has); None takes any name, for a caller that checks no `expect:` line.
    `files`: the spec and property files the claim names must exist."""
    reader = _Reader(source, properties, files)
    for n, raw in enumerate(text.splitlines(), 1):
        reader.feed(n, raw)
    return reader.finish()


class _Reader:
    """Reads a claim line by line (claim, question, headers, programs, condition), then
    checks what needs the whole file (fds, labels, the condition, the bounds)."""

    def __init__(self, source: str, properties: Collection[str] | None, files: bool) -> None:
        self.source = source
        self.name: str | None = None
        self.claim_line = 0
        self.question: list[str] = []
        self.bounds: dict[str, BoundSetting] = {}
        self.headers = Headers(source, properties, files)
        self.unsettled: tuple[str, int] | None = None
        self.programs: dict[str, list[ProgramLine | AnyLine]] = {}
        self.actor_line: dict[str, int] = {}
        self.cond: list[Token] | None = None
        self.body = False  # a header, program or condition has been read
        self.conclusion: tuple[str, int] | None = None
        self.continued = -1  # the last line of the conclusion
        self.threads_at: dict[str, int] = {}  # thread programs (ACTOR.K) -> their line

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
        if THREAD_RE.match(key):
            return True  # ACTOR.K: checked by _actor, so a bad actor gets its own error
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
            self.headers.specs_line(n, rest.split())
        else:
            read = {"bounds": self._bounds_item, "result": self.headers.result_item}
            read["expect"] = self.headers.expect_item
            for item in rest.split(","):
                if not item.split():
                    self.fail(n, ",", f"an empty item: {key}: items are separated by commas")
                read[key](n, item.split())

    def _bounds_item(self, n: int, words: list[str]) -> None:
        bound = bound_setting(self.source, n, words)
        if first := self.bounds.get(bound.key):
            self.fail(n, bound.key, f"bound given twice (first at line {first.line})")
        self.bounds[bound.key] = bound

    def _actor(self, n: int, actor: str, rest: str) -> None:
        base = actor_of(actor)
        if base != actor and base == "env":
            self.fail(n, actor + ":", "the environment has no threads: env:")
        if base != actor and base != "host" and not base.startswith("ovl"):
            self.fail(n, actor + ":", f"unknown actor '{base}' (a thread is ovlN.K or host.K)")
        if base != actor and not 1 <= thread_of(actor) <= MAX_THREADS:
            self.fail(n, actor + ":", f"a thread is numbered from 1 to {MAX_THREADS}")
        if base != actor:
            self.threads_at.setdefault(actor, n)
        if base not in ("host", "env"):
            try:
                parse_line(self.source, n, f"umount {base}")  # a valid container name
            except ScenarioError as e:
                self.fail(n, e.token, e.reason)
        if rest:
            self.fail(n, rest.split()[0], f"program lines go on their own lines under {actor}:")
        if actor in self.programs:
            self.fail(n, actor + ":", f"a second program (first at line {self.actor_line[actor]})")
        self.programs[actor], self.actor_line[actor] = [], n

    def _program_line(self, n: int, text: str) -> None:
        actor = next(reversed(self.programs))
        program = self.programs[actor]
        program.append(program_line(self.source, n, actor, len(program), text))

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
        check_programs(self.source, programs)
        flt = quantifier = formula = None
        if self.cond is not None:
            cond = parse_condition(self.source, self.cond, Resolver(self.source, programs))
            flt, quantifier, formula = cond.filter, cond.quantifier, cond.formula
        h = self.headers
        h.within_specs()
        claim = Claim(
            self.name,
            self.source,
            tuple(self.question),
            tuple(self.bounds.values()),
            h.results,
            tuple(h.expects.values()),
            None if h.specs is None else tuple(h.specs),
            self.unsettled[0] if self.unsettled else None,
            programs,
            flt,
            quantifier,
            formula,
            self.conclusion[0] if self.conclusion else None,
        )
        cb = required_bounds(claim)
        self._races(claim, cb.races == "on", cb.threads)
        depth = cb.depth
        for e in claim.expects:
            if e.length is not None and e.length > depth:
                self.fail(e.line, str(e.length), f"a witness longer than the depth ({depth})")
        return claim

    def _races(self, claim: Claim, races: bool, threads: int) -> None:
        """Threads and step counts need races on; a thread program's K is within
        `threads`; `any K` is not read with races on."""
        stated = {b.key: b for b in claim.bounds}
        if "threads" in stated and not races:
            self.fail(stated["threads"].line, "threads", "threads need 'races on' in bounds:")
        for actor, n in self.threads_at.items():
            if "." in actor and not races:
                self.fail(n, actor + ":", "a thread program needs 'races on' in bounds:")
            if thread_of(actor) > threads:
                why = f"thread {thread_of(actor)} of {actor_of(actor)}, but threads {threads}"
                self.fail(n, actor + ":", why + " (bounds: threads T gives ACTOR.1 to ACTOR.T)")
        for f in (claim.filter, claim.formula):
            for a in f.atoms() if f is not None and not races else ():
                if isinstance(a, Tally):
                    self.fail(a.line, a.what, "counting a call's accesses needs 'races on'")
        if races:
            for pl in claim.lines():
                if isinstance(pl, AnyLine):
                    self.fail(pl.line, "any", "'any K' is not read with races on")

    def _only_unsettled(self) -> None:
        others = [(b.line, "bounds:") for b in self.bounds.values()]
        others += [(r.line, "result:") for r in self.headers.results.values()]
        others += [(e.line, "expect:") for e in self.headers.expects.values()]
        others += [(line, "specs:") for line in (self.headers.specs or {}).values()]
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
        if not programs and not self.headers.expects and not self.unsettled:
            why = "nothing to check: programs and a condition, expect: lines, or unsettled:"
            self.fail(self.claim_line, self.name or "", why)
        if self.headers.results and self.cond is None:
            r = next(iter(self.headers.results.values()))
            self.fail(r.line, r.spec, "result: is a verdict of the condition; there is none")


#: The verdicts each quantifier accepts when a spec has no `result:` line (docs/model.md §7).
QUANTIFIER_ACCEPTS = {
    Quantifier.EXISTS: (ClaimVerdict.SOMETIMES, ClaimVerdict.ALWAYS),
    Quantifier.NOT_EXISTS: (ClaimVerdict.NEVER,),
    Quantifier.FORALL: (ClaimVerdict.ALWAYS,),
}


def expected(claim: Claim, spec: str) -> tuple[tuple[ClaimVerdict, ...], int]:
    """The verdicts that meet the claim's expectation under `spec`, and the line of its
    `result:` (0 when the quantifier's default applies)."""
    result = claim.results.get(spec)
    if result is not None:
        return (result.verdict,), result.line
    assert claim.quantifier is not None
    return QUANTIFIER_ACCEPTS[claim.quantifier], 0
