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
from explorer.domain.vfs import Spec
from explorer.domain.world import Bounds
from explorer.engine.verdict import Verdict

if TYPE_CHECKING:
    from explorer.bridge.model import ErrseqModel
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
