"""Where a spec's properties are checked: on its explorations in this process
(`Graphs`), or over the partitions of a partitioned search (`Partitions`).

Both search the spec once for the run's figures and hand each property what it asks
for (`Property.symmetric`); `explorer.checker.executor.check_spec` drives either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import compress
from operator import attrgetter
from typing import TYPE_CHECKING, Protocol

from explorer.bridge.model import ErrseqModel
from explorer.bridge.race_model import RaceModel, race_tally
from explorer.bridge.race_symmetry import RaceSymmetry
from explorer.bridge.symmetry import Symmetry
from explorer.checker.results import SpecResult
from explorer.domain.race_world import Call, RaceLayout, Resume
from explorer.domain.scenario import result_name
from explorer.domain.vfs import Spec
from explorer.engine.search import Exploration, bfs

if TYPE_CHECKING:
    from explorer.checker.config import Config
    from explorer.checker.properties.base import Property
    from explorer.engine.partition import Transport
    from explorer.engine.verdict import Verdict

#: Says how far a search is: (what, depth, states, transitions).
Progress = Callable[[str, int, int, int], None]

#: A run's model of a spec: calls in one step, or in steps with races.
AnyModel = ErrseqModel | RaceModel

#: The explorations of a process, by (spec name, searched with symmetry).
Cache = dict[tuple[str, bool], tuple[AnyModel, Exploration]]


def coverage(ex: Exploration) -> Counter:
    """How often each kind of event fired, and how often fsync/syncfs/mount failed, with
    which errno ("fsync EIO", "fsync ENOSPC")."""
    return tally(ex.action, ex.obs)


def tally(actions: list, obs: list) -> Counter:
    """`coverage` of the edges given as their actions and observations (a partitioned
    search tallies each partition's).  With races, the edges that begin a call count
    it, and those that end it with an error its failure."""
    if actions and type(actions[0]) in (Call, Resume):
        return race_tally(actions, obs)
    c: Counter = Counter(map(attrgetter("verb"), actions))
    edges = zip(actions, obs, strict=True)
    failed = Counter((a.verb, o) for a, o in compress(edges, obs))
    for (verb, o), n in failed.items():
        c[f"{verb} {result_name(o)}"] += n
    return c


def model_of(
    cfg: Config, spec: Spec, symmetry: bool | Symmetry | RaceSymmetry = False
) -> ErrseqModel | RaceModel:
    """`spec` over the run's world, with or without the symmetry reduction: every model
    of a run is made here (calls in steps with races).  Given a `Symmetry`, the model
    shares it (its tables are built once for every spec of the run's bounds, not once
    per model)."""
    if cfg.races:
        return RaceModel(spec, cfg.bounds, cfg.options, cfg.threads, symmetry)  # type: ignore[arg-type]
    return ErrseqModel(spec, cfg.bounds, cfg.options, symmetry=symmetry)  # type: ignore[arg-type]


class SharedSymmetry:
    """One `Symmetry` of the run's bounds for every model a site makes, built when the
    first model asks for it."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._table: Symmetry | RaceSymmetry | None = None

    def __call__(self, on: bool) -> bool | Symmetry | RaceSymmetry:
        if not on:
            return False
        if self._table is None:
            cfg = self.cfg
            self._table = (
                RaceSymmetry(RaceLayout(cfg.bounds, cfg.threads, cfg.options))
                if cfg.races
                else Symmetry(cfg.bounds)
            )
        return self._table


class Site(Protocol):
    """What `check_spec` asks of the place a spec is checked."""

    def search(self, spec: Spec) -> SpecResult:
        """The run's search of `spec`: its figures and coverage, no verdict yet."""
        ...

    def check(self, prop: Property, spec: Spec) -> list[Verdict]:
        """`prop`'s verdicts on `spec`, checked here."""
        ...


class Graphs:
    """A run's explorations in this process, each searched once: each spec's (up to
    symmetry when the run has it), without symmetry where a property needs that, and
    the agreement reference's.  `kept`, when given, receives each spec's searched graph
    (--full-graph draws it)."""

    def __init__(
        self,
        cfg: Config,
        viewers: list[int],
        cache: Cache | None = None,
        progress: Progress | None = None,
        kept: dict[str, tuple[AnyModel, Exploration]] | None = None,
    ) -> None:
        self.cfg, self.viewers, self.progress, self.kept = cfg, viewers, progress, kept
        self.cache: Cache = {} if cache is None else cache
        self.symmetry = SharedSymmetry(cfg)

    def explore(
        self, spec: Spec, symmetry: bool, levels: Callable[[list[int]], None] | None = None
    ) -> tuple[AnyModel, Exploration]:
        """The spec's model and exploration, with or without symmetry, searched once;
        `levels` watches the search's growth (see `bfs`)."""
        from explorer.engine.properties import isolation  # its full_graph: see the registry

        key = (spec.name, symmetry)
        if key not in self.cache:
            cfg, progress = self.cfg, self.progress
            model = model_of(cfg, spec, self.symmetry(symmetry))
            cb = (lambda d, n, e: progress(spec.name, d, n, e)) if progress else None
            if symmetry:
                ex = bfs(model, cfg.depth, cfg.max_states, cb, cfg.max_bytes, levels)
            else:  # with the run's symmetry on, the whole graph is isolation's: unfolded
                ex = isolation.full_graph(
                    model, cfg.depth, cfg.max_states, cb, cfg.max_bytes, levels, cfg.symmetry
                )
            self.cache[key] = (model, ex)
        return self.cache[key]

    def forget(self, spec: Spec, symmetry: bool) -> None:
        self.cache.pop((spec.name, symmetry), None)

    def search(self, spec: Spec) -> SpecResult:
        model, ex = self.explore(spec, self.cfg.symmetry)
        if self.kept is not None:
            self.kept[spec.name] = (model, ex)
        return SpecResult(spec, ex.n_states, ex.n_edges, ex.seconds, coverage=coverage(ex))

    def of(self, spec: Spec, prop: Property) -> tuple[AnyModel, Exploration]:
        """The exploration `prop` is checked on: the run's, or, for a property that
        cannot follow the reduction, the one explored without it."""
        model, ex = self.explore(spec, self.cfg.symmetry)
        if ex.reduced and not prop.symmetric:
            return self.explore(spec, False)
        return model, ex

    def check(self, prop: Property, spec: Spec) -> list[Verdict]:
        return prop.check(spec, self)


class Partitions:
    """A spec searched by P partitions over a `Transport` (explorer.engine.partition),
    one spec after the other; the properties' products are partitioned searches too."""

    def __init__(self, cfg: Config, transport: Transport, progress: Progress | None = None):
        self.cfg, self.transport, self.progress = cfg, transport, progress
        self._searched: dict[str, AnyModel] = {}
        self.symmetry = SharedSymmetry(cfg)

    def model(self, spec: Spec, symmetry: bool) -> AnyModel:
        return model_of(self.cfg, spec, self.symmetry(symmetry))

    def search(self, spec: Spec) -> SpecResult:
        from explorer.engine.partition import partitioned_bfs  # explore --ray's alone

        cfg, progress = self.cfg, self.progress

        def cb(d: int, n: int, e: int) -> None:
            if progress is not None:
                progress(spec.name, d, n, e)

        m = self.model(spec, cfg.symmetry)
        run = partitioned_bfs(m, cfg.depth, self.transport, cfg.max_states, cb, cfg.max_bytes)
        self._searched[spec.name] = m
        return SpecResult(
            spec, run.n_states, run.n_edges, run.seconds, coverage=run.coverage(tally)
        )

    def of(self, spec: Spec, prop: Property) -> AnyModel:
        """The model `prop` is checked on: the one searched, or, for a property that
        cannot follow the reduction, one without it."""
        if not prop.symmetric:
            return self.model(spec, False)
        return self._searched[spec.name]

    def check(self, prop: Property, spec: Spec) -> list[Verdict]:
        return prop.check_partitioned(spec, self)
