"""The memory guard's policy: no verdict is lost to it.

A search or check the guard stops (`--max-memory`, explorer.engine.limits) is
*undecided*, not the end of the run: every other check still decides.  A property
that searches on its own (`Property.apart`) is decided as deep as fits instead
(`deepen`).  Any other limit (--max-states, a bound the user chose) ends the run.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING

from explorer.domain.vfs import Spec
from explorer.engine.limits import Projection, SearchLimit
from explorer.engine.verdict import IsolationResult, Verdict

if TYPE_CHECKING:
    from explorer.checker.config import Config
    from explorer.checker.results import Outcome

#: The flag of the memory guard: a check it stops is undecided, not the end of the run.
MEMORY = "--max-memory"


def stopped_by_guard(exc: SearchLimit) -> bool:
    return exc.flag == MEMORY


def undecided(prop: str, spec: Spec, limit: str, viewer: int | None = None) -> Verdict:
    """A verdict the memory guard kept from being decided at all (isolation: of `viewer`)."""
    v = Verdict(prop, spec.name, holds=True, decided=0, limit=limit)
    if viewer is not None:
        v.isolation = IsolationResult(viewer, [], None, None, None, 0, 0, 0)
    return v


#: One try at a depth: the verdicts, given the depth and the projection that watches it.
Attempt = Callable[[int, Projection | None], list[Verdict]]


def deepen(
    cfg: Config, attempt: Attempt, forget: Callable[[], None]
) -> tuple[list[Verdict] | None, str]:
    """The verdicts of `attempt` at the run's depth, or, when that does not fit under the
    guard, at the deepest depth that does, in steps of two events (14, 12, 10, ...:
    a full graph's checks grow so fast that an odd depth would cost several times the
    even one below it for one event more; docs/performance.md).

    The projection foresees the guard from a search's first depths, before the memory
    is spent, and names the depth to try next; a guard the checks reach anyway lowers it
    by two (`forget` drops what the failed try kept).  Each verdict decided below the
    run's depth says where (`Verdict.decided`) and why (`limit`): a violation found
    there is one at the run's depth too, holding there is undecided.  Nothing decided
    at any depth: (None, the guard's words)."""
    depth, limit = cfg.depth, ""
    while depth > 0:
        proj = Projection(depth, cfg.max_bytes) if cfg.max_bytes is not None else None
        try:
            verdicts = attempt(depth, proj)
        except SearchLimit as exc:
            if not stopped_by_guard(exc):
                raise
            # Keep its words only: its traceback would keep the graph and the checks
            # alive through the next depth.
            limit = limit or str(exc)
            forget()
            gc.collect()  # the try's graphs hold cycles, and the collector is paused
            depth = proj.deepest(depth) if proj is not None else depth - 2
            continue
        if limit:
            for v in verdicts:
                v.decided, v.limit = depth, limit
        return verdicts, limit
    return None, limit


def limited(out: Outcome, split: str) -> list[str]:
    """Notes on the verdicts the memory guard kept below the run's depth: per property,
    the specs and the depth each was decided at, and the guard's words once (with
    `split`, how the guard was shared among the run's workers)."""
    below: dict[str, list[str]] = {}
    limit = ""
    for r in out.results:
        for prop, verdicts in r.verdicts.items():
            for v in verdicts:
                if v.decided is not None:
                    at = f"depth {v.decided}" if v.decided else "not decided"
                    below.setdefault(prop, []).append(f"{r.spec.name} ({at})")
                    limit = limit or v.limit
    if not below:
        return []
    notes = [
        f"{prop}: checked below depth {out.config.depth} by the memory guard: "
        f"{', '.join(specs)}; a violation found there is one at depth {out.config.depth} "
        "too, holding there is undecided"
        for prop, specs in below.items()
    ]
    return [*notes, f"the memory guard: {limit}{split}"]
