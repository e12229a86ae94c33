"""linearizable (docs/model.md §8): every run's results are those of an atomic order of
its calls that keeps real time.  A monitor decides it (explorer.bridge.linearizable),
over the product of a spec's graph with calls in steps and the monitor, so the first
violation found ends a shortest run (fewest calls) with no such order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.checker.properties.base import Property

if TYPE_CHECKING:
    from explorer.checker.sites import Graphs, Partitions
    from explorer.domain.vfs import Spec
    from explorer.engine.verdict import Verdict


class Linearizable(Property):
    name = "linearizable"
    column = "linear-\nizable"
    races_only = True

    def check(self, spec: Spec, graphs: Graphs) -> list[Verdict]:
        from explorer.bridge.linearizable import Linearizable as Monitor
        from explorer.engine.properties import safety  # see the registry: loaded to check

        model, ex = graphs.of(spec, self)
        monitor = Monitor(model)  # type: ignore[arg-type]
        return [safety.check(ex, monitor, model, graphs.cfg.max_bytes, first_only=True)]

    def check_partitioned(self, spec: Spec, parts: Partitions) -> list[Verdict]:
        """Never called: a run with races is not partitioned (its search goes by cost)."""
        raise NotImplementedError("runs with races are not partitioned")
