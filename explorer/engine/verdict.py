"""What every property check returns: holds or violated, the shortest witness, a count."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.engine.search import Step

__all__ = ["Step", "Verdict"]


@dataclass
class Verdict:
    """A property's outcome on one model.

    `witness` is the shortest run that violates it (the violating step is the last);
    `other` is a second run where the property compares two (agreement: the same
    actions under the other spec; isolation: the run with outside events removed).
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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def length(self) -> int:
        return max(len(self.witness), len(self.other))
