"""The `explore` command line (typer): the main job, replay, diff, conform."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from explorer.replay import replay_all
from explorer.scenario import ScenarioError, parse
from explorer.specs import SpecError, builtin_names, load_specs

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

SpecOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--spec",
        "-s",
        help=f"Spec name or path to a spec .py file; repeatable. Default: all ({', '.join(builtin_names())}).",
    ),
]

#: About 10 s and 300 MB of the witness search per spec; the main job needs 2% of it.
ISOLATION_BUDGET = 1_000_000

MountsOpt = Annotated[int, typer.Option(help="Overlay containers sharing the upper fs.")]
DepthOpt = Annotated[int, typer.Option(help="Longest event sequence explored.")]
FdsOpt = Annotated[int, typer.Option(help="Open fds per container at most.")]
HostFdsOpt = Annotated[int, typer.Option("--host-fds", help="Open host fds at most.")]
MountOptionsOpt = Annotated[
    str, typer.Option("--mount-options", help="Mounts explored: normal, volatile or both.")
]


def fail(message: str) -> NoReturn:
    """Bad input: one clear line on stderr, exit code 2, no traceback."""
    typer.echo(f"explore: error: {message}", err=True)
    raise typer.Exit(2)


def read_scenario(path: str):
    """Parse a scenario file, or stdin for '-'."""
    if path == "-":
        return parse(sys.stdin.read(), "<stdin>")
    p = Path(path)
    if not p.is_file():
        fail(f"{path}: no such scenario file")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read: {exc}")
    return parse(text, path)


@app.callback(invoke_without_command=True)
def explore(
    ctx: typer.Context,
    mounts: MountsOpt = 2,
    depth: DepthOpt = 8,
    fds: FdsOpt = 2,
    host_fds: HostFdsOpt = 0,
    mount_options: MountOptionsOpt = "both",
    spec: SpecOpt = None,
    prop: Annotated[
        list[str] | None,
        typer.Option("--property", "-p", help="Property to check; repeatable. Default: all."),
    ] = None,
    against: Annotated[str, typer.Option(help="Reference spec for agreement.")] = "plain",
    container: Annotated[
        list[str] | None,
        typer.Option(
            help="Container whose isolation is checked (ovlN); repeatable. Default: a representative."
        ),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            help="Audit mode: isolation violations caused only by these event kinds are accepted."
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Folder for timelines, pictures and report.json.")
    ] = Path("out"),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on stdout.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    full_graph: Annotated[
        bool, typer.Option("--full-graph", help="Also write each spec's whole state graph as DOT.")
    ] = False,
    show: Annotated[int, typer.Option(help="How many witnesses to print as timelines.")] = 3,
    max_states: Annotated[
        int | None, typer.Option("--max-states", help="Stop a search beyond this many states.")
    ] = None,
    max_memory: Annotated[
        float | None,
        typer.Option(
            "--max-memory",
            help="Stop (cleanly) beyond this many GiB resident. Default: 3/4 of RAM.",
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="Processes for independent specs; 0 = 2 when the run is large enough.",
        ),
    ] = 0,
    isolation_budget: Annotated[
        int,
        typer.Option(
            "--isolation-budget",
            min=0,
            help="Pair states the isolation witness search may store; beyond it, witnesses "
            "are sorted by kind only up to the length reached (verdicts stay exact). 0 = no cap.",
        ),
    ] = ISOLATION_BUDGET,
    symmetry: Annotated[
        bool | None,
        typer.Option(
            "--symmetry/--no-symmetry",
            help="Store one state per class of interchangeable containers and fds. "
            "Default: on for runs with 3+ containers or depth 10+, where it pays.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Explore every bounded event sequence of an upper fs shared by N overlay mounts.

    Checks each kernel variant (spec) against the guarantees argued in the 2020
    thread, prints a verdict matrix and the shortest witnesses as timelines, and
    writes out/ (timelines, DOT/SVG pictures, report.json).  Exit code: 0 every
    checked property holds, 1 a violation, 2 bad input.

    Examples:

        explore --mounts 2 --depth 8

        explore --spec vivek-v3-seen --spec amir --property isolation

        explore --allow syncfs --json > audit.json
    """
    if ctx.invoked_subcommand is not None:
        return
    from explorer.main_job import main_job

    try:
        code = main_job(
            mounts=mounts,
            depth=depth,
            fds=fds,
            host_fds=host_fds,
            mount_options=mount_options,
            specs=spec,
            props=prop,
            against=against,
            containers=container,
            allow=allow,
            out=out,
            as_json=as_json,
            quiet=quiet,
            full_graph=full_graph,
            show=show,
            max_states=max_states,
            symmetry=symmetry,
            max_memory=max_memory,
            jobs=jobs,
            isolation_budget=isolation_budget,
        )
    except (SpecError, ValueError) as exc:
        fail(str(exc))
    raise typer.Exit(code)


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


@app.command()
def replay(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Scenario files, folders (every *.scn below, sorted), or - for stdin.",
            metavar="PATH...",
            show_default=False,
        ),
    ],
    spec: SpecOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of the tables.")
    ] = False,
) -> None:
    """Run scenarios under each spec, print the results side by side, and check the
    results the scenarios state.

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
    """
    from explorer.render.table import replay_json, replay_table, summary
    from explorer.replay import mismatches, stated

    try:
        specs = load_specs(spec)
        scenarios = [read_scenario(path) for path in scenario_paths(paths)]
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
            "scenarios": [replay_json(sc, runs, ms) for sc, runs, ms in done],
            "checked": checked,
            "mismatches": [m.as_json() for m in missed],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        tables = [
            (f"{sc.source}\n" if len(done) > 1 else "") + replay_table(sc, runs, ms)
            for sc, runs, ms in done
        ]
        text = "\n".join(tables)
        if checked:
            text += "\n" + summary(checked, missed)
        typer.echo(text, nl=False)
    raise typer.Exit(1 if missed else 0)


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="First spec (name or .py path).")],
    b: Annotated[str, typer.Argument(help="Second spec (name or .py path).")],
    mounts: MountsOpt = 2,
    depth: DepthOpt = 8,
    fds: FdsOpt = 2,
    host_fds: HostFdsOpt = 0,
    mount_options: MountOptionsOpt = "both",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of timelines.")
    ] = False,
) -> None:
    """The shortest runs on which two specs give different results, one per kind of difference.

    Exit code 0 when they agree on every run within the bounds, 1 when they differ.

    Example:

        explore diff mainline amir --depth 6
    """
    from explorer.diff import diff_specs

    try:
        code = diff_specs(a, b, mounts, depth, fds, host_fds, mount_options, as_json)
    except (SpecError, ValueError) as exc:
        fail(str(exc))
    raise typer.Exit(code)


# conform: registered here
from explorer.conform.cli import conform_command  # noqa: E402

app.command("conform")(conform_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
