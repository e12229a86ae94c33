"""`explore replay`: scenario files run under each spec, their results side by side and
the results they state checked (explorer.checker.replay runs them)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from explorer.app.exits import fail
from explorer.app.options import CounterBitsOpt, RacesOpt, SpecOpt, ThreadsOpt
from explorer.checker.options import RunOptions, check_races, parse_counter_bits
from explorer.checker.replay import mismatches, replay_all, scenarios_in, stated
from explorer.domain.catalog import SpecError, load_specs
from explorer.domain.scenario import Scenario, ScenarioError


def replay(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Scenario files, witness .txt files, folders (every *.scn below, "
            "sorted), or - for stdin.",
            metavar="PATH...",
            show_default=False,
        ),
    ],
    spec: SpecOpt = None,
    counter_bits: CounterBitsOpt = None,
    races: RacesOpt = False,
    threads: ThreadsOpt = 1,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of the tables.")
    ] = False,
    trace: Annotated[
        bool,
        typer.Option(
            "--trace",
            help="Also print, under each spec, the scenario with the results it got and, "
            "under each line, the errseq_t fields it changed, decoded, as comments (it "
            "replays as printed).",
        ),
    ] = False,
) -> None:
    """Run scenarios under each spec, print the results side by side, and check the
    results the scenarios state.

    The model's options come with the scenario: `wberror ovl1 ENOSPC` records ENOSPC
    (results print `= ENOSPC`), `open fd3 host ovl1` is a host fd on ovl1's upper
    file; --counter-bits K replays with a K-bit errseq counter.

    A line may state its result (`syncfs fd1 = EIO`, as the tool prints it).  A stated
    result is checked under every spec replayed, so a file whose results hold for one
    kernel is replayed with --spec NAME; every one a spec does not give (or an event it
    skipped) is listed as FILE:LINE: EVENT: stated R, got R under SPEC.  Specs that
    disagree with each other are what replay shows (rows marked *), not a failure.

    Exit code: 0 every stated result holds (or none is stated), 1 a stated result is
    not met, 2 bad input (a bad scenario line, an unknown spec: one line naming it).

    Examples:

    \b
        explore replay scenarios/plain/seed.scn --spec plain
        explore replay scenarios/plain/seed.scn -s plain -s vivek-v3-seen -s amir
        explore replay scenarios/mainline --spec mainline
        explore replay - --spec amir < run.scn
        explore replay wrap.scn --spec plain --counter-bits 2
        explore replay out/vivek-v3-seen/isolation.txt --spec vivek-v3-seen --trace
        explore replay --races out/plain/linearizable.txt --spec plain

    With --races each file is a run in the step notation (docs/model.md §8: a thread
    per line, a whole call or one step of it), a witness file of a run with races
    included; each spec takes its steps as written, and a spec under which a step
    cannot be taken (its call waits, ends sooner or goes on longer) stops there.
    """
    from explorer.render.mail import replay_trace  # this command's renderers
    from explorer.render.table import replay_json, replay_table, summary

    bits = parse_counter_bits(counter_bits)
    if races or threads > 1:
        check_races(RunOptions(races=races, threads=threads))
        raise typer.Exit(replay_races_command(paths, spec, bits, threads, as_json))
    try:
        specs = [s.with_counter_bits(bits) for s in load_specs(spec)]
        scenarios = [sc for path in scenario_paths(paths) for sc in read_scenarios(path)]
        done = []
        for sc in scenarios:
            runs = replay_all(sc, specs)
            done.append((sc, runs, mismatches(sc, runs)))
    except (ScenarioError, SpecError) as exc:
        fail(str(exc))
    missed = [m for _, _, ms in done for m in ms]
    checked = sum(stated(sc, runs) for sc, runs, _ in done)
    if as_json:
        doc = {
            "scenarios": [
                replay_json(sc, runs, ms) | ({"trace": replay_trace(sc, runs)} if trace else {})
                for sc, runs, ms in done
            ],
            "checked": checked,
            "mismatches": [m.as_json() for m in missed],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        tables = [
            (f"{sc.source}\n" if len(done) > 1 else "")
            + replay_table(sc, runs, ms)
            + (f"\n{replay_trace(sc, runs)}" if trace else "")
            for sc, runs, ms in done
        ]
        text = "\n".join(tables)
        if checked:
            text += "\n" + summary(checked, missed)
        typer.echo(text, nl=False)
    raise typer.Exit(1 if missed else 0)


def scenario_paths(paths: list[str]) -> list[str]:
    """The files `explore replay` runs: each file as given, every *.scn below a folder
    (sorted), and - (stdin) at most once."""
    files: list[str] = []
    for path in paths:
        if path == "-":
            if "-" in files:
                fail("- given twice: stdin is read once")
            files.append(path)
        elif Path(path).is_dir():
            found = sorted(str(f) for f in Path(path).rglob("*.scn") if f.is_file())
            if not found:
                fail(f"{path}: no *.scn files below this folder")
            files += found
        else:
            files.append(path)
    return files


def read_scenarios(path: str) -> list[Scenario]:
    """Parse a scenario file (or a witness file's scenarios), or stdin for '-'."""
    if path == "-":
        return scenarios_in(sys.stdin.read(), "<stdin>")
    p = Path(path)
    if not p.is_file():
        fail(f"{path}: no such scenario file")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read: {exc}")
    return scenarios_in(text, path)


def replay_races_command(
    paths: list[str], spec: list[str] | None, bits: int | None, threads: int, as_json: bool
) -> int:
    """`explore replay --races`: the step notation under each spec; the exit code."""
    from explorer.checker.race_replay import race_mismatches, race_scenarios_in, replay_races
    from explorer.render.race_report import replay_text
    from explorer.render.table import summary

    try:
        specs = [s.with_counter_bits(bits) for s in load_specs(spec, races=True)]
        done = []
        for path in scenario_paths(paths):
            text = sys.stdin.read() if path == "-" else _text(path)
            for rs in race_scenarios_in(text, "<stdin>" if path == "-" else path):
                runs = replay_races(rs, specs, threads)
                done.append((rs, runs, race_mismatches(rs, runs)))
    except (ScenarioError, SpecError) as exc:
        fail(str(exc))
    missed = [m for _, _, ms in done for m in ms]
    checked = sum(1 for rs, runs, _ in done for ln in rs.lines if ln.expect for _ in runs)
    if as_json:
        doc = {
            "scenarios": [
                {"file": rs.source, "results": {r.spec.name: r.results for r in runs}}
                for rs, runs, _ in done
            ],
            "checked": checked,
            "mismatches": [m.as_json() for m in missed],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        text = "\n".join(
            (f"{rs.source}\n" if len(done) > 1 else "") + replay_text(rs, runs)
            for rs, runs, _ in done
        )
        typer.echo(text + ("\n" + summary(checked, missed) if checked else ""), nl=False)
    return 1 if missed else 0


def _text(path: str) -> str:
    p = Path(path)
    if not p.is_file():
        fail(f"{path}: no such scenario file")
    try:
        return p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read: {exc}")
