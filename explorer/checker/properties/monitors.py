"""The properties a monitor decides (docs/model.md §5): open-before for syncfs and for
fsync, and no-loss, each over the product of a spec's graph and its monitor
(explorer.bridge.monitors says what the monitors carry, and why; with races, calls in
steps, explorer.bridge.race_monitors)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.bridge import monitors, race_monitors
from explorer.bridge.model import ErrseqModel
from explorer.bridge.race_model import RaceModel
from explorer.checker.properties.base import Property
from explorer.engine.contract import Monitor

if TYPE_CHECKING:
    from explorer.checker.sites import Graphs, Partitions
    from explorer.domain.vfs import Spec
    from explorer.engine.verdict import Verdict


class MonitorProperty(Property):
    """A safety property: a monitor follows every run of at most the depth, and the
    first step it complains about ends a shortest witness (explorer.engine.properties.
    safety)."""

    def monitor(self, model: ErrseqModel | RaceModel) -> Monitor:
        """The monitor over `model`'s runs."""
        raise NotImplementedError

    def check(self, spec: Spec, graphs: Graphs) -> list[Verdict]:
        from explorer.engine.properties import safety  # see the registry: loaded to check

        model, ex = graphs.of(spec, self)
        cfg = graphs.cfg
        # With races a check ends at its first violation's length (the graphs are many
        # times larger, and the count of violations says little more there).
        return [safety.check(ex, self.monitor(model), model, cfg.max_bytes, cfg.races)]

    def check_partitioned(self, spec: Spec, parts: Partitions) -> list[Verdict]:
        from explorer.engine.properties import safety

        model, cfg = parts.of(spec, self), parts.cfg
        monitor = self.monitor(model)
        return [safety.check_partitioned(model, monitor, cfg.depth, parts.transport, cfg.max_bytes)]


class OpenBefore(MonitorProperty):
    """open-before (Matthew Wilcox): an fd open when an error was recorded sees it on its
    next syncfs (or fsync: one property each)."""

    def __init__(self, call: str) -> None:
        self.call = call
        self.name = f"open-before-{call}"
        self.column = f"open-\nbefore\n{call}"

    def monitor(self, model: ErrseqModel | RaceModel) -> Monitor:
        if isinstance(model, RaceModel):
            return race_monitors.RaceOpenBefore(model, self.call)
        return monitors.OpenBefore(model, self.call)


class NoLoss(MonitorProperty):
    """no-loss (Jeff Layton, the seed): a recorded error stays reportable until someone
    has been told."""

    name = "no-loss"
    column = "no-loss"

    def monitor(self, model: ErrseqModel | RaceModel) -> Monitor:
        if isinstance(model, RaceModel):
            return race_monitors.RaceNoLoss(model)
        return monitors.NoLoss(model)
