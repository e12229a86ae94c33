"""What every property check returns: holds or violated, the shortest witness, a count.

A check that says more than one witness gives it in a typed detail: isolation an
`IsolationResult` (its groups of pairs of runs), agreement an `AgreementResult`.  The
renderers read their fields; no words are made here.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from explorer.engine.search import Step

__all__ = [
    "AgreementResult",
    "IsolationResult",
    "RemovalGroup",
    "ReorderedPair",
    "Step",
    "Verdict",
]


@dataclass(frozen=True)
class RemovalGroup:
    """Run A, and run B: A without the outside actions at `removed`.  Both end in the
    same inside action after the same view, with different results (at `differs_at`).
    `kinds` are the kinds of the removed actions, most important first; `allowed` when
    the audit accepts all of them."""

    kinds: list[str]
    witness: list[Step]
    other: list[Step]
    removed: list[int]
    differs_at: list[int]
    allowed: bool


@dataclass(frozen=True)
class ReorderedPair:
    """Two runs with the same view that no removal explains (the general form): the
    longer run first; `removed` and `added` mark the outside actions outside a longest
    common subsequence of the two runs' outside actions, whose kinds are `kinds`.
    `capped` when the removal search stopped at its budget before it could look."""

    kinds: list[str]
    witness: list[Step]
    other: list[Step]
    removed: list[int]
    added: list[int]
    differs_at: list[int]
    allowed: bool
    capped: bool


@dataclass(frozen=True)
class IsolationResult:
    """Isolation of one viewer.

    `groups`: the removal pairs, one per set of kinds, fewest kinds first, then by the
    kinds' rank, then by length; `general`: a flip no removal explains, if any; `shown`:
    the pair the verdict's witness is (the first not allowed, else the first);
    `shortest`: (longer run, sum of both) of the shortest violation; the states each
    search stored; `removal_complete`: every removal witness of at most this many
    actions is in `groups` (below the depth when the budget stopped the search)."""

    viewer: int
    groups: list[RemovalGroup]
    general: ReorderedPair | None
    shown: RemovalGroup | ReorderedPair | None
    shortest: tuple[int, int] | None
    exact_states: int
    removal_states: int
    removal_complete: int


@dataclass(frozen=True)
class AgreementResult:
    """Agreement with the model named `against`: with a classifier, the shortest pair of
    runs (this model's, the other's) of every class of difference."""

    against: str
    classes: dict[Hashable, tuple[list[Step], list[Step]]]


@dataclass
class Verdict:
    """A property's outcome on one model.

    `witness` is the shortest run that violates it (the violating step is the last);
    `other` is a second run where the property compares two (agreement: the same
    actions under the other model; isolation: the run with outside actions removed).
    `violations` counts the distinct violating transitions found (of a product, for
    the properties checked on one; isolation: the states in a conflict).
    """

    prop: str
    model: str
    holds: bool
    witness: list[Step] = field(default_factory=list)
    other: list[Step] = field(default_factory=list)
    reason: str = ""
    violations: int = 0
    explored: int = 0  # product states the check visited
    isolation: IsolationResult | None = None
    agreement: AgreementResult | None = None
    # A limit kept the check below the run's depth: the depth it was decided at (0: not
    # at all) and the limit's message.  A verdict that holds up to there is undecided; a
    # violation found there is one at every greater depth too.
    decided: int | None = None
    limit: str = ""

    @property
    def undecided(self) -> bool:
        return self.holds and self.decided is not None

    @property
    def length(self) -> int:
        """The witness's length as the depth counts it (its steps' costs)."""
        return max(sum(s.cost for s in self.witness), sum(s.cost for s in self.other))
