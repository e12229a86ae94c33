"""isolation (docs/model.md §5): what a container sees does not depend on what it
cannot see (explorer.engine.properties.isolation decides it).

It fixes one container, which breaks the container symmetry, so it runs on the graph
explored without the reduction, the one that grows fastest: it is decided as deep as
fits under the memory guard (explorer.checker.guard.deepen), and a parallel run hands
it out as a task of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.checker.guard import deepen, stopped_by_guard, undecided
from explorer.checker.properties.base import Property
from explorer.checker.sites import model_of
from explorer.engine.limits import Projection, SearchLimit

if TYPE_CHECKING:
    from explorer.checker.config import Config
    from explorer.checker.sites import Graphs, Partitions
    from explorer.domain.vfs import Spec
    from explorer.engine.verdict import Verdict


class Isolation(Property):
    name = "isolation"
    column = "isolation"
    symmetric = False
    apart = True

    def check(self, spec: Spec, graphs: Graphs) -> list[Verdict]:
        """One verdict per viewer, at the run's depth or the deepest that fits; the
        full search foresees the guard from its first depths (`Projection`)."""
        from explorer.engine.properties import isolation  # see the registry: loaded to check

        cfg = graphs.cfg

        def attempt(depth: int, proj: Projection | None) -> list[Verdict]:
            try:
                if depth == cfg.depth:
                    model, ex = graphs.explore(spec, False, proj)
                else:
                    model = model_of(cfg, spec)
                    ex = isolation.full_graph(
                        model, depth, cfg.max_states, None, cfg.max_bytes, proj, cfg.symmetry
                    )
                return [
                    isolation.check(
                        ex,
                        model,  # type: ignore[arg-type]  # the protocol's `symmetry` is a mutable attribute (invariant); ErrseqModel narrows it to the bridge's Symmetry, which implements the contract
                        v,
                        cfg.allow,
                        budget=cfg.isolation_budget,
                        max_bytes=cfg.max_bytes,
                    )
                    for v in graphs.viewers
                ]
            except SearchLimit as exc:
                if stopped_by_guard(exc):
                    raise
                raise amended(cfg, exc) from None

        verdicts, limit = deepen(cfg, attempt, lambda: graphs.forget(spec, False))
        if verdicts is None:
            return [undecided(self.name, spec, limit, v) for v in graphs.viewers]
        if cfg.races:
            return [with_atomic(cfg, spec, v) for v in verdicts]
        return verdicts

    def check_partitioned(self, spec: Spec, parts: Partitions) -> list[Verdict]:
        """Never called: isolation needs one spec's whole graph, so a partitioned run
        checks it (`check`) in a task of its own beside the partitions."""
        raise NotImplementedError("isolation is checked whole, in a task of its own")


def amended(cfg: Config, exc: SearchLimit) -> SearchLimit:
    """A limit hit by isolation's full search, with the way out of a run with symmetry."""
    if not cfg.symmetry:
        return exc
    from explorer.checker.properties import PROPERTIES  # the registry holds this module

    # The other properties search up to symmetry: say how to check them alone.
    others = " ".join(f"-p {p}" for p in PROPERTIES if p != "isolation")
    return exc.amended(
        " (isolation searches every world, without symmetry)",
        f"; the other properties search up to symmetry, several times fewer states: {others}",
    )


def with_atomic(cfg: Config, spec: Spec, v: Verdict) -> Verdict:
    """With races, a view holds each step of the container's own calls, so two runs
    where outside activity changed how many steps one of its calls took are told
    apart: a flip of the runs whose calls do not overlap (the model without races,
    whose runs are runs with races) could go unseen.  So the verdict is the shorter
    of the two checks' violations (docs/model.md §8): the one with steps, or the one
    of the atomic model."""
    import dataclasses

    from explorer.engine.properties import isolation

    atomic_cfg = dataclasses.replace(cfg, races=False)
    model = model_of(atomic_cfg, spec)
    ex = isolation.full_graph(
        model, cfg.depth, cfg.max_states, None, cfg.max_bytes, unfold=cfg.symmetry
    )
    a = isolation.check(
        ex,
        model,  # type: ignore[arg-type]  # see `check`
        v.isolation.viewer if v.isolation is not None else 0,
        cfg.allow,
        budget=cfg.isolation_budget,
        max_bytes=cfg.max_bytes,
    )
    if a.holds or (not v.holds and v.length <= a.length):
        return v
    return a
