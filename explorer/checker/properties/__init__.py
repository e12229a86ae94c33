"""The registry of properties: every list of property names derives from `BUILTIN`.

A property is one module of this package implementing `base.Property` and one entry
in `BUILTIN`, whose order is the matrix's columns and the order in which violations
matter (isolation first: the seed's question).  The option checks, the claim
parser's `expect:` lines, the renderers and the user properties' reserved names all
read it from here.  The property modules load the engine's checks when they check
(function-level imports): every command's start-up reads the registry (--help lists
its names), and only runs pay for the checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.bridge.model import ErrseqModel
from explorer.checker.properties.agreement import Agreement
from explorer.checker.properties.base import Property
from explorer.checker.properties.isolation import Isolation
from explorer.checker.properties.linearizable import Linearizable
from explorer.checker.properties.monitors import MonitorProperty, NoLoss, OpenBefore
from explorer.checker.properties.user import UserProperty
from explorer.engine.contract import Monitor

if TYPE_CHECKING:
    from explorer.checker.config import Config

#: Every built-in property, in the matrix's order.
BUILTIN: tuple[Property, ...] = (
    Isolation(),
    OpenBefore("syncfs"),
    OpenBefore("fsync"),
    NoLoss(),
    Agreement(),
    Linearizable(),
)

#: Their names, in that order: those of a run without races (linearizable asks of
#: calls in steps) and those of a run with them (docs/model.md §8).
PROPERTIES: tuple[str, ...] = tuple(p.name for p in BUILTIN if not p.races_only)
RACE_PROPERTIES: tuple[str, ...] = tuple(p.name for p in BUILTIN)

_BY_NAME = {p.name: p for p in BUILTIN}
assert len(_BY_NAME) == len(BUILTIN), "two built-in properties with one name"

__all__ = [
    "BUILTIN",
    "PROPERTIES",
    "RACE_PROPERTIES",
    "Property",
    "checks",
    "get",
    "monitors",
    "owner",
    "reserved",
]


def get(name: str) -> Property | None:
    """The built-in property `name` (None: none is)."""
    return _BY_NAME.get(name)


def checks(cfg: Config) -> list[Property]:
    """The properties a run checks, in its order: the built-ins asked, then the user's."""
    return [_BY_NAME.get(n) or UserProperty(cfg.user_properties[n]) for n in cfg.properties]


def owner(verdict: str) -> str:
    """The property a verdict (`Verdict.prop`) belongs to: agreement-plain -> agreement;
    a user property's verdicts are its own."""
    return next((p.name for p in BUILTIN if p.owns(verdict)), verdict)


def reserved(name: str) -> bool:
    """Whether a user property may not take `name`: a built-in's, or its verdicts'."""
    return any(p.owns(name) for p in BUILTIN)


def monitors(model: ErrseqModel) -> dict[str, Monitor]:
    """Every monitor-checked built-in property's monitor over `model`, by name."""
    return {p.name: p.monitor(model) for p in BUILTIN if isinstance(p, MonitorProperty)}
