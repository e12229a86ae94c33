"""The types renderers read: a run's configuration and outcome, and a replay's runs.

`explorer.app.runner` fills an `Outcome`, `explorer.app.replay` `Run`s and
`Mismatch`es; the renderers (explorer.render) read them and never import the code that
made them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from explorer.domain import world
from explorer.domain.claim import Claim, ClaimBounds, ClaimVerdict, Expect
from explorer.domain.claim_formula import Quantifier
from explorer.domain.scenario import Event
from explorer.domain.vfs import Spec
from explorer.domain.world import Bounds
from explorer.engine.verdict import Step, Verdict

if TYPE_CHECKING:
    from explorer.bridge.model import ErrseqModel
    from explorer.bridge.user_property import Property
    from explorer.engine.search import Exploration

# In the order the matrix shows them: isolation is the seed's question.
PROPERTIES = ("isolation", "open-before-syncfs", "open-before-fsync", "no-loss", "agreement")


@dataclass
class Config:
    bounds: Bounds
    depth: int
    options: tuple[int, ...]
    specs: list[Spec]
    properties: tuple[str, ...] = PROPERTIES
    against: Spec | None = None  # agreement reference (plain by default)
    viewers: list[int] | None = None  # isolation: containers to check (None: a representative)
    allow: frozenset[str] = frozenset()
    max_states: int | None = None
    symmetry: bool = True  # search up to container/fd symmetry (isolation searches in full)
    max_bytes: int | None = None  # memory guard (resident bytes)
    # isolation: pair states the removal witness search may store (None: no cap)
    isolation_budget: int | None = None
    # the errseq counter's width (--counter-bits; None: the kernel's), already applied
    # to `specs` and `against`
    counter_bits: int | None = None
    # user properties (explorer.bridge.user_property), by name; their names are in
    # `properties` too, after the built-ins
    user_properties: dict[str, Property] = field(default_factory=dict)
    # each spec's seconds in an earlier run, by name: only the order work is handed out
    costs: dict[str, float] = field(default_factory=dict)


@dataclass
class SpecResult:
    """One spec's verdicts and figures.  `ex` and `model` are dropped when the work ran in
    another process (only --full-graph needs them, and it runs in this one)."""

    spec: Spec
    states: int
    transitions: int
    search_seconds: float
    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)
    coverage: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    model: ErrseqModel | None = None
    ex: Exploration | None = None


@dataclass
class Outcome:
    config: Config
    results: list[SpecResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def failing(self) -> list[Verdict]:
        return [v for r in self.results for vs in r.verdicts.values() for v in vs if not v.holds]

    def undecided(self) -> list[Verdict]:
        """Verdicts that hold as far as the memory guard let them be checked, no further."""
        return [v for r in self.results for vs in r.verdicts.values() for v in vs if v.undecided]

    def exit_code(self) -> int:
        """1 a violation, else 3 something undecided, else 0 (docs/exit codes)."""
        return 1 if self.failing() else 3 if self.undecided() else 0


#: A replayed event that a spec had to skip (the reason is given alongside).
SKIPPED = "skipped"


@dataclass
class Run:
    """One spec's run of a scenario: results, skipped lines with reasons, final state."""

    spec: Spec
    results: list[str | None] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # event index -> reason
    states: list[world.State] = field(default_factory=list)  # state after each event


@dataclass(frozen=True)
class Mismatch:
    """A stated result that one spec does not give (or an event it skipped)."""

    source: str
    line: int
    event: str
    spec: str
    stated: str
    got: str | None  # "0", "EIO" or SKIPPED
    reason: str = ""  # why the spec skipped the event

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}: {self.event}: stated {self.stated}"
        if self.got == SKIPPED:
            return f"{where}, skipped under {self.spec} ({self.reason})"
        return f"{where}, got {self.got} under {self.spec}"

    def as_json(self) -> dict:
        d = {
            "file": self.source,
            "line": self.line,
            "event": self.event,
            "spec": self.spec,
            "stated": self.stated,
            "got": self.got,
        }
        if self.reason:
            d["reason"] = self.reason
        return d


# --- explore claim ------------------------------------------------------------------

#: The verdicts each quantifier accepts when a spec has no `result:` line (docs/model.md §7).
QUANTIFIER_ACCEPTS = {
    Quantifier.EXISTS: (ClaimVerdict.SOMETIMES, ClaimVerdict.ALWAYS),
    Quantifier.NOT_EXISTS: (ClaimVerdict.NEVER,),
    Quantifier.FORALL: (ClaimVerdict.ALWAYS,),
}

#: Why a claim is not checked: it says it cannot be settled.
UNSETTLED = "unsettled"


@dataclass
class ClaimRun:
    """A run shown with an observation: one that satisfies the condition, or one that
    does not (it refutes a `result:` that expected Always).  `lines` are its events as
    the claim names them (its fd names, fresh ones for an `any` line's opens)."""

    satisfies: bool
    steps: list[Step]
    lines: list[Event]


@dataclass
class Observation:
    """A claim's verdict under one spec: how many runs (that pass the filter) satisfy the
    condition and how many do not, and the expectation it is held to."""

    spec: str  # as the claim or the command line names it
    verdict: ClaimVerdict | None  # None: no run (see `error`)
    satisfied: int = 0
    unsatisfied: int = 0
    filtered: int = 0  # runs the filter leaves out
    expected: tuple[ClaimVerdict, ...] = ()  # the verdicts that pass
    expected_line: int = 0  # its `result:` line; 0: the quantifier's default
    run: ClaimRun | None = None
    error: str = ""  # no run under this spec: why (bad input, exit 2)
    error_line: int = 0
    states: int = 0  # product states searched

    @property
    def ok(self) -> bool:
        return not self.error and self.verdict in self.expected


@dataclass
class ExpectOutcome:
    """An `expect:` line checked by the explorer's runner at the claim's bounds."""

    expect: Expect
    holds: bool
    length: int | None  # the shortest witness's, when it fails
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def undecided(self) -> bool:
        """No verdict fails and the memory guard kept one from being decided: neither
        met nor refuted (exit 3, as for `explore`)."""
        return self.holds and any(v.undecided for v in self.verdicts)

    @property
    def ok(self) -> bool:
        e = self.expect
        if self.undecided:
            return False
        if self.holds != e.holds:
            return False
        return e.holds or e.length is None or e.length == self.length


@dataclass
class ClaimOutcome:
    """Everything `explore claim` found about one claim file."""

    claim: Claim
    bounds: ClaimBounds | None = None
    world_bounds: Bounds | None = None
    observations: list[Observation] = field(default_factory=list)
    expects: list[ExpectOutcome] = field(default_factory=list)
    not_checked: str = ""  # UNSETTLED, or "" when checked
    reason: str = ""  # why not checked
    notes: list[str] = field(default_factory=list)

    def mismatches(self) -> int:
        return sum(not o.ok for o in self.observations if not o.error) + sum(
            not e.ok and not e.undecided for e in self.expects
        )

    def undecided(self) -> int:
        return sum(e.undecided for e in self.expects)

    def errors(self) -> list[Observation]:
        return [o for o in self.observations if o.error]
