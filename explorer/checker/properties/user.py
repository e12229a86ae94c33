"""A user's property (a .py file, explorer.bridge.user_property) as a checker property."""

from __future__ import annotations

from explorer.bridge import user_property
from explorer.bridge.model import ErrseqModel
from explorer.bridge.race_model import RaceModel
from explorer.checker.properties.monitors import MonitorProperty
from explorer.engine.contract import Monitor


class UserProperty(MonitorProperty):
    """A monitor the user wrote in the world's words.  Its bookkeeping cannot follow the
    symmetry's permutations (it has no translate), so it is checked on the graph
    explored without the reduction."""

    symmetric = False

    def __init__(self, prop: user_property.Property) -> None:
        self.prop = prop
        self.name = self.column = prop.name

    def monitor(self, model: ErrseqModel | RaceModel) -> Monitor:
        assert isinstance(model, ErrseqModel), "a user property follows calls, not steps"
        return user_property.UserMonitor(self.prop, model.bounds)
