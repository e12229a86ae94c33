"""What a run found, as the renderers read it: a run's outcome, a replay's runs, a
claim's observations.

The checker fills them (explorer.checker.run an `Outcome`, explorer.checker.replay
`Run`s and `Mismatch`es, explorer.checker.claims `ClaimOutcome`s); the renderers
(explorer.render) read them and never import the code that made them.  They hold
verdicts and figures, never a model or an exploration: they travel back from worker
processes by pickle, and --full-graph gets the graphs by a way of its own
(`explorer.checker.sites.Graphs.kept`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from explorer.domain import world
from explorer.domain.scenario import Event
from explorer.domain.vfs import Spec
from explorer.domain.world import Bounds
from explorer.engine.verdict import Step, Verdict

if TYPE_CHECKING:
    # The claim types appear only in annotations: the main job, which holds no claim,
    # does not load the claims language for them.
    from explorer.checker.config import Config
    from explorer.domain.claim import Claim, ClaimBounds, ClaimVerdict, Expect


@dataclass
class Region:
    """The states a report's state browser holds for one spec, made where its
    exploration was (explorer.checker.region): each expanded state's successors in the
    model's order as (event, result, state), and shortest-path parent pointers (state
    -> (parent, event, result)).  `whole`: every state within the depth is here."""

    expanded: dict[world.State, list[tuple[world.Event, int | None, world.State]]] = field(
        default_factory=dict
    )
    parent: dict[world.State, tuple[world.State, world.Event, int | None]] = field(
        default_factory=dict
    )
    whole: bool = False

    def merge(self, other: Region) -> None:
        """Add another part of the same spec's region (a prefix of a shortest path is a
        shortest path to its end, so parent pointers from any of them may be mixed)."""
        for s, succ in other.expanded.items():
            self.expanded.setdefault(s, succ)
        for s, p in other.parent.items():
            self.parent.setdefault(s, p)
        self.whole = self.whole and other.whole


@dataclass
class SpecResult:
    """One spec's verdicts (by property, in the run's order) and figures; `regions`:
    the state browser's regions its checks made, by spec (an agreement witness's other
    run is the reference's)."""

    spec: Spec
    states: int
    transitions: int
    search_seconds: float
    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)
    coverage: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    regions: dict[str, Region] = field(default_factory=dict)


@dataclass
class Outcome:
    config: Config
    results: list[SpecResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Notes on how the runs were searched (symmetry), not on what was found: the terminal
    # prints them, report.json does not (it is the same however the runs were searched).
    searched: list[str] = field(default_factory=list)
    regions: dict[str, Region] = field(default_factory=dict)  # the state browser's, by spec

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
    race: list[str] | None = None  # with races on: the run in the step notation


@dataclass(frozen=True)
class StateCount:
    """One of herd7's `States`: each named event's result ("0", "EIO"; "-" when it did
    not run), the runs that end with it, and how many of those satisfy the condition."""

    results: tuple[str, ...]
    runs: int
    satisfying: int


@dataclass
class ClaimStates:
    """A claim's `States` under one spec (explorer.checker.claim_states): the events its
    condition names that can fail, and every outcome of them, most runs first."""

    events: list[str]
    counts: list[StateCount]


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
    outcomes: ClaimStates | None = None  # herd7's States (None: no run)

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
    config: Config | None = None  # with races on, the run's: how its witnesses are shown

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
