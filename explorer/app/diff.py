"""`explore diff A B`: the shortest runs on which two specs give different results, one
per kind of difference (explorer.checker.diff finds them), as timelines or JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from explorer.app.options import (
    CounterBitsOpt,
    DepthOpt,
    ErrnosOpt,
    FdsOpt,
    HostFdsOpt,
    HostFilesOpt,
    MountOptionsOpt,
    MountsOpt,
    RacesOpt,
    ThreadsOpt,
)
from explorer.checker.options import RunOptions, check_races, errnos_text
from explorer.domain.scenario import result_name
from explorer.domain.world import Bounds

if TYPE_CHECKING:
    from explorer.checker.diff import Differences


def diff(
    a: Annotated[str, typer.Argument(help="First spec (name or .py path).")],
    b: Annotated[str, typer.Argument(help="Second spec (name or .py path).")],
    mounts: MountsOpt = 2,
    depth: DepthOpt = 8,
    fds: FdsOpt = 2,
    host_fds: HostFdsOpt = 1,
    mount_options: MountOptionsOpt = "both",
    errnos: ErrnosOpt = "EIO",
    counter_bits: CounterBitsOpt = None,
    host_files: HostFilesOpt = "own",
    races: RacesOpt = False,
    threads: ThreadsOpt = 1,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of timelines.")
    ] = False,
) -> None:
    """The shortest runs on which two specs give different results, one per kind of difference.

    Exit code 0 when they agree on every run within the bounds, 1 when they differ.

    Examples:

        explore diff mainline amir --depth 6

        explore diff mainline v5.11 --host-files any --errnos EIO,ENOSPC --depth 6

        explore diff mainline mainline-flock --races --threads 2 --mounts 1 --depth 5

    With --races, calls in steps: two specs differ where one gives a history (calls
    begun and ended in an order, with their results) the other never gives; the
    shortest such run of each spec is shown.
    """
    # Imported when the command runs: the main job's start-up does not pay for them.
    from explorer.checker.diff import differences
    from explorer.render.timeline import compare

    opts = RunOptions(
        mounts=mounts,
        depth=depth,
        fds=fds,
        host_fds=host_fds,
        mount_options=mount_options,
        errnos=errnos,
        host_files=host_files,
        counter_bits=counter_bits,
        races=races,
        threads=threads,
    )
    check_races(opts)
    if races:
        raise typer.Exit(race_diff(opts, a, b, as_json))
    d = differences(opts, a, b)
    if as_json:
        print(json.dumps(as_dict(d), indent=2))
    elif d.agree:
        print(
            f"{d.a.name} and {d.b.name} agree on every run of at most {depth} events "
            f"({plural(mounts, 'container')}, {plural(fds, 'fd')} each, "
            f"{plural(host_fds, 'host fd')}, {mount_options} mounts{extra(d.bounds, d.counter_bits)})."
        )
    else:
        print(
            f"{d.a.name} and {d.b.name} differ in {len(d.classes)} way(s) within {depth} events; "
            "the shortest run of each:\n"
        )
        for k, (wa, wb) in d.classes:
            print(compare(d.bounds, wa, wb, (d.a.name, d.b.name), f"{k}  ({len(wa)} events)"))
    raise typer.Exit(0 if d.agree else 1)


def as_dict(d: Differences) -> dict[str, Any]:
    """--json: the specs, the bounds' options, and each kind's shortest run."""
    from explorer.render.report import steps_json
    from explorer.render.timeline import scenario_text

    return {
        "a": d.a.name,
        "b": d.b.name,
        "depth": d.depth,
        **options_json(d.bounds, d.counter_bits),
        "agree": d.agree,
        "differences": [
            {
                "kind": k,
                "length": len(wa),
                "run": steps_json(d.bounds, wa),
                "results_b": [result_name(s.obs) for s in wb],
                "scenario": scenario_text(d.bounds, wa),
            }
            for k, (wa, wb) in d.classes
        ],
    }


def plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def extra(bounds: Bounds, bits: int | None) -> str:
    """The model's options a diff ran with, when not the defaults."""
    said = ""
    if bounds.errnos != (-5,):
        said += f", errnos {errnos_text(bounds.errnos)}"
    if bits is not None:
        said += f", {bits}-bit errseq counter"
    if bounds.host_any:
        said += ", host fds on any upper file"
    return said


def options_json(bounds: Bounds, bits: int | None) -> dict[str, Any]:
    """The model's options for --json, each only when not its default."""
    out: dict[str, Any] = {}
    if bounds.errnos != (-5,):
        out["errnos"] = errnos_text(bounds.errnos).split(",")
    if bits is not None:
        out["counter_bits"] = bits
    if bounds.host_any:
        out["host_files"] = bounds.host_files
    return out


def race_diff(opts: RunOptions, a: str, b: str, as_json: bool) -> int:
    """`explore diff --races`: each spec's shortest run the other never gives."""
    from explorer.checker.race_diff import race_differences
    from explorer.domain.race_scenario import format_race
    from explorer.domain.race_world import RaceLayout
    from explorer.render.race_timeline import race_timeline

    d = race_differences(opts, a, b)
    layout = RaceLayout(d.bounds, d.threads)
    if as_json:
        runs = [
            {
                "run_of": mine.name,
                "never_under": other.name,
                "scenario": "\n".join(format_race(layout, [(s.action, s.obs) for s in run])),
            }
            for mine, other, run in d.runs
        ]
        print(json.dumps({"a": d.a.name, "b": d.b.name, "agree": d.agree, "runs": runs}, indent=2))
    elif d.agree:
        print(f"{d.a.name} and {d.b.name} give the same histories within {d.depth} calls.")
    for mine, other, run in [] if as_json else d.runs:
        steps = [(s.action, s.obs) for s in run]
        title = f"{mine.name} gives these results, {other.name} never with these overlaps"
        print(race_timeline(layout, steps, {len(steps) - 1: "the call that differs"}, title))
        print("\n".join(format_race(layout, steps)) + "\n")
    return 0 if d.agree else 1
