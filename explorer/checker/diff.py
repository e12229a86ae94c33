"""`explore diff A B`: where two specs part ways, shortest first, one run per kind of
difference.

A kind of difference is the call that differs and the two results (say `syncfs:
EIO vs 0`), so a reader sees every way the specs disagree, not only the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.bridge.model import ErrseqModel
from explorer.checker.options import RunOptions, parse_model
from explorer.domain.catalog import load_spec
from explorer.domain.scenario import result_name
from explorer.domain.vfs import Spec
from explorer.domain.world import Bounds, Event
from explorer.engine.properties import agreement
from explorer.engine.search import bfs
from explorer.engine.verdict import Step


@dataclass
class Differences:
    """Two specs compared on every run within the bounds: per kind of difference, the
    shortest run under each (A's first), shortest kinds first."""

    a: Spec
    b: Spec
    bounds: Bounds
    depth: int
    counter_bits: int | None
    agree: bool
    classes: list[tuple[str, tuple[list[Step], list[Step]]]]


def kind(action: Event, oa: int | None, ob: int | None) -> str:
    """A kind of difference: the call and the two results."""
    return f"{action.verb}: {result_name(oa)} vs {result_name(ob)}"


def differences(opts: RunOptions, a: str, b: str) -> Differences:
    """Every kind of difference between specs `a` and `b` (names or .py paths) on the
    runs of `opts`' bounds."""
    model = parse_model(opts)
    bits = model.counter_bits
    spec_a, spec_b = load_spec(a).with_counter_bits(bits), load_spec(b).with_counter_bits(bits)
    model_a = ErrseqModel(spec_a, model.bounds, model.options)
    model_b = ErrseqModel(spec_b, model.bounds, model.options)
    ex_a, ex_b = bfs(model_a, opts.depth), bfs(model_b, opts.depth)
    v = agreement.check(ex_a, ex_b, model_a, model_b, kind)
    found = v.agreement.classes if v.agreement is not None else {}
    named = [(str(k), runs) for k, runs in found.items()]  # kinds are `kind`'s strings
    classes = sorted(named, key=lambda kv: (len(kv[1][0]), kv[0]))
    return Differences(spec_a, spec_b, model.bounds, opts.depth, bits, v.holds, classes)
