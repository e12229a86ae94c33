"""The header lines that say what a claim expects under which specs: `result:`,
`expect:` and `specs:` (docs/claims-language.md, Headers).

`result: SPEC VERDICT, ...` and `expect: SPEC PROPERTY holds|fails [LENGTH], ...` take
comma-separated items; `specs: SPEC SPEC ...` words.  A spec is a built-in's name or
a .py file, a property one the checker has (the caller's list) or a .py file; a file
is named by a path relative to the claim's folder and, for a claim read from a file,
must exist.  Given twice is an error naming the first: a spec's `result:`, a spec in
`specs:`, a (spec, property) in `expect:`.  A result or expect for a spec outside
`specs:` is an error.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

from explorer.domain.catalog import builtin_names
from explorer.domain.claim_formula import ClaimError
from explorer.domain.claim_program import NUMBER_RE
from explorer.domain.world import MAX_DEPTH

EXPECT_USAGE = "usage is 'expect: SPEC PROPERTY holds' or 'expect: SPEC PROPERTY fails [LENGTH]'"


class ClaimVerdict(StrEnum):
    NEVER = "Never"
    SOMETIMES = "Sometimes"
    ALWAYS = "Always"


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


def claim_file(source: str, name: str) -> Path:
    """A spec or property file a claim names: a path relative to the claim's folder."""
    path = Path(name)
    return path if path.is_absolute() else Path(source).parent / path


class Headers:
    """The `result:`, `expect:` and `specs:` items of one claim, each checked as read.
    `properties`: the property names besides .py files (None: any name); `files`: the
    files named must exist."""

    def __init__(self, source: str, properties: Collection[str] | None, files: bool) -> None:
        self.source, self.properties, self.files = source, properties, files
        self.results: dict[str, Result] = {}
        self.expects: dict[tuple[str, str], Expect] = {}
        self.specs: dict[str, int] | None = None  # spec -> its line; None: every spec

    def fail(self, line: int, token: str, reason: str) -> NoReturn:
        raise ClaimError(self.source, line, token, reason)

    def specs_line(self, n: int, words: list[str]) -> None:
        self.specs = self.specs or {}
        for spec in words:
            self.spec(n, spec)
            if spec in self.specs:
                self.fail(n, spec, f"spec given twice (first at line {self.specs[spec]})")
            self.specs[spec] = n

    def result_item(self, n: int, words: list[str]) -> None:
        if len(words) != 2:
            self.fail(n, words[-1], "usage is 'result: SPEC VERDICT, SPEC VERDICT, ...'")
        spec, verdict = words
        self.spec(n, spec)
        if verdict not in tuple(ClaimVerdict):
            self.fail(n, verdict, "a verdict is Never, Sometimes or Always")
        if spec in self.results:
            self.fail(n, spec, f"result given twice (first at line {self.results[spec].line})")
        self.results[spec] = Result(spec, ClaimVerdict(verdict), n)

    def expect_item(self, n: int, words: list[str]) -> None:
        if not 3 <= len(words) <= 4:
            self.fail(n, words[-1], EXPECT_USAGE)
        spec, prop, word = words[:3]
        self.spec(n, spec)
        self.property(n, prop)
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

    def spec(self, n: int, spec: str) -> None:
        if spec.endswith(".py"):
            self._file(n, spec, "spec")
        elif spec not in builtin_names(races=True):
            known = ", ".join(builtin_names(races=True))
            self.fail(n, spec, f"unknown spec (built-in: {known}; or a .py file)")

    def property(self, n: int, prop: str) -> None:
        if prop.endswith(".py"):
            self._file(n, prop, "property")
        elif self.properties is not None and prop not in self.properties:
            known = ", ".join(self.properties)
            self.fail(n, prop, f"unknown property (one of: {known}; or a .py file)")

    def _file(self, n: int, name: str, what: str) -> None:
        path = claim_file(self.source, name)
        if self.files and not path.is_file():
            self.fail(n, name, f"no such {what} file ({path})")

    def within_specs(self) -> None:
        """Every result and expect is for one of the claim's `specs:`, when it has them."""
        if self.specs is None:
            return
        named = [(r.spec, r.line) for r in self.results.values()]
        named += [(e.spec, e.line) for e in self.expects.values()]
        for spec, line in named:
            if spec not in self.specs:
                self.fail(line, spec, f"not among the claim's specs: {' '.join(self.specs)}")
