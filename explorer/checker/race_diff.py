"""`explore diff A B --races`: where two specs' histories part ways (docs/model.md §8).

With calls in steps, one sequence of calls is many runs, so two specs are compared
history by history (explorer.bridge.race_agreement): each difference is a shortest run
of one spec whose calls, in that order, with those overlaps, the other spec never
returns with those results.  One per direction: A's run B never gives, B's run A
never gives.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.bridge.race_agreement import HistoryIn
from explorer.bridge.race_model import RaceModel
from explorer.checker.options import RunOptions, parse_model
from explorer.domain.catalog import load_spec
from explorer.domain.vfs import Spec
from explorer.domain.world import Bounds
from explorer.engine.properties import safety
from explorer.engine.search import bfs
from explorer.engine.verdict import Step


@dataclass
class RaceDifferences:
    """Per direction that differs: the spec whose run it is, and the run."""

    a: Spec
    b: Spec
    bounds: Bounds
    threads: int
    depth: int
    runs: list[tuple[Spec, Spec, list[Step]]]  # (whose run, the one that never gives it, run)

    @property
    def agree(self) -> bool:
        return not self.runs


def race_differences(opts: RunOptions, a: str, b: str) -> RaceDifferences:
    """The shortest run of each spec whose history the other never gives."""
    model = parse_model(opts)
    bits = model.counter_bits
    specs = load_spec(a).with_counter_bits(bits), load_spec(b).with_counter_bits(bits)
    runs = []
    for mine, other in (specs, specs[::-1]):
        m = RaceModel(mine, model.bounds, model.options, opts.threads)
        ex = bfs(m, opts.depth)
        v = safety.check(
            ex, HistoryIn(RaceModel(other, model.bounds, model.options, opts.threads)), m
        )
        if not v.holds:
            runs.append((mine, other, v.witness))
    return RaceDifferences(specs[0], specs[1], model.bounds, opts.threads, opts.depth, runs)
