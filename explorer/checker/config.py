"""A run's configuration, built once from its options (`configure`), read by everything
after: the executors, the properties, the renderers and report.json.

This is the model configuration half of the TLA+ split: the bounds, the mount
options, the specs and the properties of one run.  The semantics live in specs/.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.bridge.user_property import Property
from explorer.checker.options import (
    OptionError,
    RunOptions,
    check_bounds,
    check_limits,
    check_races,
    parse_choices,
    parse_model,
    user_properties,
)
from explorer.checker.properties import PROPERTIES
from explorer.domain.catalog import SpecError, load_spec, load_specs
from explorer.domain.vfs import Spec
from explorer.domain.world import Bounds
from explorer.engine.limits import default_memory_limit


@dataclass(frozen=True)
class Config:
    bounds: Bounds
    depth: int
    options: tuple[int, ...]
    specs: list[Spec]
    properties: tuple[str, ...] = PROPERTIES  # the built-ins in the matrix's order, then the user's
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
    # user properties (explorer.bridge.user_property), by name; their names are in
    # `properties` too, after the built-ins
    user_properties: dict[str, Property] = field(default_factory=dict)
    # each spec's seconds in an earlier run, by name: only the order work is handed out
    costs: dict[str, float] = field(default_factory=dict)
    max_memory: float | None = None  # --max-memory as given (GiB), for report.json
    races: bool = False  # calls in steps (docs/model.md §8); the depth counts calls
    threads: int = 1  # threads per actor, with races


def worth_symmetry(bounds: Bounds, depth: int) -> bool:
    """Symmetry pays once graphs are big; below that one exploration per spec is cheaper
    (isolation needs the full graph anyway, so a reduced one would be a second search)."""
    return bounds.mounts >= 3 or depth >= 10 or bounds.fds >= 3 or bounds.host_fds >= 2


def configure(opts: RunOptions, specs: list[Spec] | None = None) -> Config:
    """The run `opts` asks for, checked in the order the options are documented: the
    first bad one is an OptionError (or the SpecError, PropertyError of a file) naming
    it.  `specs`, when given, are the run's specs already loaded (`explore claim` loads
    a claim's relative to its file); `opts.specs` names them otherwise."""
    check_limits(opts)
    try:  # checked even when agreement is not: a typo must not pass unseen
        reference = load_spec(opts.against)
    except SpecError as exc:
        raise OptionError(f"--against: {exc}") from None
    check_bounds(opts)
    check_races(opts)
    props, viewers, allowed = parse_choices(opts)
    model = parse_model(opts)
    bits = model.counter_bits
    users = user_properties(opts.properties)
    if users and opts.races:
        raise OptionError(
            f"--property {next(iter(users))}: a user property follows calls, each in one "
            "step; not with --races"
        )
    props += tuple(users)
    named = list(opts.specs) if opts.specs else None
    loaded = load_specs(named, races=opts.races) if specs is None else specs
    symmetry = opts.symmetry
    return Config(
        model.bounds,
        opts.depth,
        model.options,
        [s.with_counter_bits(bits) for s in loaded],
        props,
        against=reference.with_counter_bits(bits) if "agreement" in props else None,
        viewers=viewers,
        allow=allowed,
        max_states=opts.max_states,
        symmetry=worth_symmetry(model.bounds, opts.depth) if symmetry is None else symmetry,
        max_bytes=int(opts.max_memory * 2**30) if opts.max_memory else default_memory_limit(),
        isolation_budget=opts.isolation_budget or None,
        counter_bits=bits,
        user_properties=users,
        max_memory=opts.max_memory or None,
        races=opts.races,
        threads=opts.threads,
    )
