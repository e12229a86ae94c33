"""One run of the main job: explore each spec, check each property, collect verdicts.

This is the model configuration half of the TLA+ split: the bounds, the mount
options, the specs and the properties of one run.  The semantics live in specs/.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from explorer.guarantees import monitors
from explorer.model import ErrseqModel
from explorer.properties import agreement, safety
from explorer.properties.verdict import Verdict
from explorer.search import Exploration, bfs
from explorer.spec import Spec
from explorer.world import Bounds

# In the order the matrix shows them: isolation is the seed's question.
PROPERTIES = ("isolation", "open-before-syncfs", "open-before-fsync", "no-loss", "agreement")
PROPERTY_HELP = {
    "isolation": "a container's results do not depend on events outside it (the seed)",
    "open-before-syncfs": "an fd open when an error is recorded gets it from its next syncfs (Willy)",
    "open-before-fsync": "an fd open when an error is recorded gets it from its next fsync (Willy)",
    "no-loss": "an error stays reportable until it has been reported to someone (Jeff)",
    "agreement": "every result equals the reference spec's (overlay behaves like a plain fs)",
}


@dataclass
class Config:
    bounds: Bounds
    depth: int
    options: tuple[int, ...]
    specs: list[Spec]
    properties: tuple[str, ...] = PROPERTIES
    against: Spec | None = None  # agreement reference (plain by default)
    viewers: list[int] | None = None  # isolation: containers to check (None: a representative)
    allow: frozenset[str] = frozenset()
    max_states: int | None = None
    symmetry: bool = True  # search up to container/fd symmetry (isolation searches in full)
    max_bytes: int | None = None  # memory guard (resident bytes)


@dataclass
class SpecResult:
    spec: Spec
    model: ErrseqModel
    ex: Exploration
    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)
    coverage: Counter = field(default_factory=Counter)
    seconds: float = 0.0


@dataclass
class Outcome:
    config: Config
    results: list[SpecResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def failing(self) -> list[Verdict]:
        return [v for r in self.results for vs in r.verdicts.values() for v in vs if not v.holds]


def coverage(ex: Exploration) -> Counter:
    """How often each kind of event fired, and how often fsync/syncfs/mount failed."""
    c: Counter = Counter()
    for a, o in zip(ex.action, ex.obs, strict=True):
        c[a.verb] += 1
        if o:
            c[f"{a.verb} EIO"] += 1
    return c


def run(cfg: Config, progress: Callable[[str, int, int, int], None] | None = None) -> Outcome:
    """Explore and check everything `cfg` asks for."""
    t0 = time.perf_counter()
    out = Outcome(cfg, [])
    cache: dict[tuple[str, bool], tuple[ErrseqModel, Exploration]] = {}

    def explore(spec: Spec, symmetry: bool) -> tuple[ErrseqModel, Exploration]:
        key = (spec.name, symmetry)
        if key not in cache:
            model = ErrseqModel(spec, cfg.bounds, cfg.options, symmetry=symmetry)
            cb = (lambda d, n, e: progress(spec.name, d, n, e)) if progress else None
            cache[key] = (model, bfs(model, cfg.depth, cfg.max_states, cb, cfg.max_bytes))
        return cache[key]

    if cfg.symmetry:
        out.notes.append(
            "states and transitions are counted up to symmetry (interchangeable containers "
            "and fds stored once); --no-symmetry counts every world"
        )
    viewers = cfg.viewers
    if "isolation" in cfg.properties and viewers is None:
        viewers = [0]
        if cfg.bounds.mounts > 1:
            out.notes.append(
                f"isolation: ovl1 is checked as the representative of ovl1..ovl{cfg.bounds.mounts} "
                "(every container has the same bounds and mount options, so they are interchangeable)"
            )
    for spec in cfg.specs:
        t = time.perf_counter()
        model, ex = explore(spec, cfg.symmetry)
        r = SpecResult(spec, model, ex, coverage=coverage(ex))
        for prop in cfg.properties:
            if prop == "isolation":
                from explorer.properties import isolation

                # The isolation product fixes one container, so it runs on the full graph.
                full_model, full_ex = explore(spec, False)
                r.verdicts[prop] = [
                    isolation.check(full_ex, full_model, v, cfg.allow) for v in viewers or []
                ]
            elif prop == "agreement":
                ref = cfg.against
                if ref is None or ref.name == spec.name:
                    continue
                ref_model, ref_ex = explore(ref, cfg.symmetry)
                r.verdicts[prop] = [
                    agreement.check(ex, ref_ex, model, ref_model, max_bytes=cfg.max_bytes)
                ]
            else:
                r.verdicts[prop] = [safety.check(ex, monitors(model)[prop], model, cfg.max_bytes)]
        r.seconds = time.perf_counter() - t
        out.results.append(r)
    out.seconds = time.perf_counter() - t0
    return out
