"""What a property is to the checker: the protocol every property implements.

The checker decides each property of a run for each spec, in one place
(`explorer.checker.executor.check_spec`), wherever the run's work happens: in this
process, where the spec's explorations are `Graphs`, or over the partitions of a
partitioned search (`explore --ray --partitions P`), where they are `Partitions`.  A
property says what it needs and how it is checked in each; the executors never ask
for a property by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from explorer.checker.config import Config
    from explorer.checker.sites import Graphs, Partitions
    from explorer.domain.vfs import Spec
    from explorer.engine.verdict import Verdict


class Property(Protocol):
    """A property the checker decides for each spec of a run (docs/model.md §5).

    `name` labels its column, its verdicts and its files of out/; `column` is the
    matrix's heading (`{against}` stands for the agreement reference's name).
    `symmetric` says whether its check follows the symmetry reduction: one that cannot
    (its bookkeeping is keyed by containers) is checked on the graph explored without
    it.  An `apart` property searches on its own, as deep as the memory guard lets it
    (isolation, whose graph is the full one and grows fastest): it is decided even when
    the run's search of the spec reached the guard, a parallel run makes it a task of
    its own, and a partitioned run checks it whole, as a task beside the partitions (so
    its `check_partitioned` is never called).  A `races_only` property is among a run's
    properties only with races on (docs/model.md §8).

    A property subclasses this protocol (PEP 544), so the defaults below hold unless it
    says otherwise, and is registered in `explorer.checker.properties.BUILTIN`.
    """

    name: str
    column: str
    symmetric: bool = True
    apart: bool = False
    races_only: bool = False  # it asks of calls in steps: checked with --races only

    def owns(self, verdict: str) -> bool:
        """Whether a verdict labelled `verdict` (`Verdict.prop`) is one of this property's."""
        return verdict == self.name

    def applies(self, cfg: Config, spec: Spec) -> bool:
        """Whether the property is checked on `spec` at all (agreement: not on its
        reference)."""
        return True

    def check(self, spec: Spec, graphs: Graphs) -> list[Verdict]:
        """The verdicts on `spec`, checked in this process on its explorations."""
        ...

    def check_partitioned(self, spec: Spec, parts: Partitions) -> list[Verdict]:
        """The verdicts on `spec`, checked over the partitions of a partitioned search
        (never asked of an `apart` property)."""
        ...
