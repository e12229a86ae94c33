"""The checker's extension points (docs/architecture.md, "The checker"): a property is
one class plus its registration, checked the same in this process and over partitions;
every list of property names derives from the registry."""

from __future__ import annotations

import pytest

from explorer.checker import properties as registry
from explorer.checker.config import Config
from explorer.checker.executor import check_spec
from explorer.checker.properties import PROPERTIES, checks, owner, reserved
from explorer.checker.properties.monitors import MonitorProperty
from explorer.checker.run import run
from explorer.checker.sites import Partitions
from explorer.domain import claim
from explorer.domain.catalog import load_spec
from explorer.domain.world import MOUNT_OPTIONS, Bounds
from explorer.engine.contract import Monitor
from explorer.engine.partition import InProcess


class NeverUnmounted(Monitor):
    """A monitor that complains at the first umount: one mount and one umount, the
    shortest witness is two events long whatever the spec."""

    name = "never-unmounted"

    def initial(self) -> int:
        return 0

    def step(self, m, state, action, obs):
        return m, "unmounted" if action.verb == "umount" else ""


class NeverUnmountedProperty(MonitorProperty):
    name = column = "never-unmounted"

    def monitor(self, model):
        return NeverUnmounted()


@pytest.fixture
def registered(monkeypatch):
    """The new property registered beside the built-ins, as one entry would do it."""
    prop = NeverUnmountedProperty()
    monkeypatch.setitem(registry._BY_NAME, prop.name, prop)
    return prop


def config(props: tuple[str, ...]) -> Config:
    specs = [load_spec("plain"), load_spec("mainline")]
    return Config(Bounds(1, 1, 0), 3, MOUNT_OPTIONS["normal"], specs, props)


def test_a_new_property_is_checked_in_this_process_and_over_partitions(registered):
    cfg = config(("no-loss", registered.name))
    assert [p.name for p in checks(cfg)] == ["no-loss", registered.name]
    for r in run(cfg).results:
        assert list(r.verdicts) == ["no-loss", registered.name]
        (v,) = r.verdicts[registered.name]
        assert not v.holds and v.length == 2, v
        assert [s.action.verb for s in v.witness] == ["mount", "umount"]
    for spec in cfg.specs:
        r = check_spec(cfg, spec, Partitions(cfg, InProcess(2)))
        (v,) = r.verdicts[registered.name]
        assert not v.holds and [s.action.verb for s in v.witness] == ["mount", "umount"]


def test_every_list_of_names_is_the_registry_s():
    assert PROPERTIES == tuple(p.name for p in registry.BUILTIN if not p.races_only)
    assert registry.RACE_PROPERTIES == tuple(p.name for p in registry.BUILTIN)
    assert PROPERTIES[0] == "isolation"  # the seed's question comes first
    assert not hasattr(claim, "PROPERTIES")  # the claim parser takes the registry's names
    assert len(set(PROPERTIES)) == len(PROPERTIES)


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("no-loss", True),
        ("agreement", True),
        ("agreement-plain", True),  # agreement's verdicts are named after the reference
        ("no-loss-strict", False),
        ("agreements", False),
        ("my-property", False),
    ],
)
def test_the_names_a_user_property_may_not_take(name, taken):
    assert reserved(name) is taken
    assert owner(name) == ("agreement" if name.startswith("agreement-") else name)
