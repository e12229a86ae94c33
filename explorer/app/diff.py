"""`explore diff A B`: where two specs part ways, shortest first, one run per kind of difference.

A kind of difference is the call that differs and the two results (say `syncfs:
EIO vs 0`), so a reader sees every way the specs disagree, not only the first.
"""

from __future__ import annotations

import json

from explorer.app.options import errnos_text, parse_counter_bits, parse_options
from explorer.bridge.model import ErrseqModel
from explorer.domain.catalog import load_spec
from explorer.domain.scenario import result_name
from explorer.engine.properties import agreement
from explorer.engine.search import bfs
from explorer.render.report import steps_json
from explorer.render.timeline import compare, scenario_text


def plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def extra(bounds, bits: int | None) -> str:
    """The model's options a diff ran with, when not the defaults."""
    said = ""
    if bounds.errnos != (-5,):
        said += f", errnos {errnos_text(bounds.errnos)}"
    if bits is not None:
        said += f", {bits}-bit errseq counter"
    if bounds.host_any:
        said += ", host fds on any upper file"
    return said


def options_json(bounds, bits: int | None) -> dict:
    """The model's options for --json, each only when not its default."""
    out: dict = {}
    if bounds.errnos != (-5,):
        out["errnos"] = errnos_text(bounds.errnos).split(",")
    if bits is not None:
        out["counter_bits"] = bits
    if bounds.host_any:
        out["host_files"] = bounds.host_files
    return out


def diff_specs(
    a: str,
    b: str,
    mounts: int,
    depth: int,
    fds: int,
    host_fds: int,
    mount_options: str,
    as_json: bool,
    errnos: str = "EIO",
    host_files: str = "own",
    counter_bits: int | None = None,
) -> int:
    bounds, options, *_ = parse_options(
        mounts, depth, fds, host_fds, mount_options, None, None, None, errnos, host_files
    )
    bits = parse_counter_bits(counter_bits)
    spec_a, spec_b = load_spec(a).with_counter_bits(bits), load_spec(b).with_counter_bits(bits)
    model_a, model_b = ErrseqModel(spec_a, bounds, options), ErrseqModel(spec_b, bounds, options)
    ex_a, ex_b = bfs(model_a, depth), bfs(model_b, depth)

    def kind(action, oa, ob) -> str:
        return f"{action.verb}: {result_name(oa)} vs {result_name(ob)}"

    v = agreement.check(ex_a, ex_b, model_a, model_b, kind)
    found = v.agreement.classes if v.agreement is not None else {}
    classes = sorted(found.items(), key=lambda kv: (len(kv[1][0]), kv[0]))
    if as_json:
        print(
            json.dumps(
                {
                    "a": spec_a.name,
                    "b": spec_b.name,
                    "depth": depth,
                    **options_json(bounds, bits),
                    "agree": v.holds,
                    "differences": [
                        {
                            "kind": k,
                            "length": len(wa),
                            "run": steps_json(bounds, wa),
                            "results_b": [result_name(s.obs) for s in wb],
                            "scenario": scenario_text(bounds, wa),
                        }
                        for k, (wa, wb) in classes
                    ],
                },
                indent=2,
            )
        )
        return 0 if v.holds else 1
    if v.holds:
        print(
            f"{spec_a.name} and {spec_b.name} agree on every run of at most {depth} events "
            f"({plural(mounts, 'container')}, {plural(fds, 'fd')} each, "
            f"{plural(host_fds, 'host fd')}, {mount_options} mounts{extra(bounds, bits)})."
        )
        return 0
    print(
        f"{spec_a.name} and {spec_b.name} differ in {len(classes)} way(s) within {depth} events; "
        "the shortest run of each:\n"
    )
    for k, (wa, wb) in classes:
        print(compare(bounds, wa, wb, (spec_a.name, spec_b.name), f"{k}  ({len(wa)} events)"))
    return 1
