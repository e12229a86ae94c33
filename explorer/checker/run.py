"""One run of the main job: every spec explored, every property checked, the verdicts
and the run's notes collected into an `Outcome`, whichever executor does the work."""

from __future__ import annotations

import time

from explorer.checker import region
from explorer.checker.config import Config
from explorer.checker.executor import Executor, Serial
from explorer.checker.guard import limited
from explorer.checker.pool import Pool
from explorer.checker.results import Outcome
from explorer.checker.sites import Progress, model_of
from explorer.engine.limits import paused_gc
from explorer.engine.properties import isolation


@paused_gc()
def run(
    cfg: Config,
    progress: Progress | None = None,
    jobs: int = 1,
    executor: Executor | None = None,
) -> Outcome:
    """Explore and check everything `cfg` asks for, by `executor` (default: `jobs` worker
    processes when there are specs to share, else this process); the outcome lists the
    specs in `cfg` order either way.  The cyclic collector stays paused throughout
    (workers fork with it paused): the checks, like the search, build millions of
    objects without cycles, and its passes over them cost isolation dearly
    (docs/performance.md)."""
    t0 = time.perf_counter()
    if executor is None:
        executor = Pool(jobs) if jobs > 1 and len(cfg.specs) > 1 else Serial()
    out = Outcome(cfg, [])
    if cfg.symmetry:
        out.notes.append(
            "states and transitions are counted up to symmetry (interchangeable containers "
            "and fds stored once); --no-symmetry counts every world"
        )
    if cfg.symmetry and cfg.user_properties:
        out.notes.append(
            f"{', '.join(cfg.user_properties)}: checked on the graph explored without "
            "symmetry (a user property's bookkeeping cannot follow the reduction)"
        )
    out.results = executor.execute(cfg, viewers(cfg, out.notes), progress)
    out.regions = region.gathered(cfg, out.results)
    out.notes += capped(out)
    out.notes += limited(out, executor.split)
    out.seconds = time.perf_counter() - t0
    return out


def viewers(cfg: Config, notes: list[str]) -> list[int]:
    """The containers whose isolation is checked: those asked, or one representative of
    each class of interchangeable containers (the notes say so)."""
    if cfg.viewers is not None or "isolation" not in cfg.properties:
        return cfg.viewers or []
    found = isolation.representatives(model_of(cfg, cfg.specs[0]))
    if len(found) < cfg.bounds.mounts:
        names = ", ".join(f"ovl{v + 1}" for v in found)
        notes.append(
            f"isolation: {names} checked as the representative of ovl1..ovl{cfg.bounds.mounts} "
            "(every container has the same bounds and mount options, so they are interchangeable)"
        )
    return found


def capped(out: Outcome) -> list[str]:
    """A note on the isolation verdicts whose witnesses the removal search's budget left
    sorted only up to some length (the verdicts themselves are exact)."""
    cfg = out.config
    capped = [
        f"{r.spec.name} ({v.isolation.removal_complete} events)"
        for r in out.results
        for v in r.verdicts.get("isolation", [])
        if v.isolation is not None
        and v.decided != 0
        and v.isolation.removal_complete < (v.decided or cfg.depth)
    ]
    if not capped:
        return []
    return [
        "isolation: the verdicts are exact, but the witnesses sorted by kind of outside "
        f"event are complete only up to the length shown for {', '.join(capped)}: "
        f"the removal search stopped at {cfg.isolation_budget:,} pair states "
        "(--isolation-budget raises it)"
    ]
