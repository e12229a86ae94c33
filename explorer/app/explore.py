"""The main job's command (`explore --mounts 2 --depth 8`): its options, checked into the
run's configuration, then the run itself (explorer.app.job, imported when the main job
runs: the other commands do not load its machinery).

No `from __future__ import annotations` here: typer reads the options' annotations at
every start, and as strings each would be compiled again (typing.get_type_hints)."""

from typing import Annotated

import typer

from explorer import __version__
from explorer.app.exits import fail
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
    SpecOpt,
    ThreadsOpt,
)
from explorer.bridge.model import KIND_ORDER
from explorer.checker.config import configure
from explorer.checker.options import ISOLATION_BUDGET, MAX_JOBS, RunOptions, check_limits
from explorer.checker.properties import PROPERTIES
from explorer.render.outdir import out_folder


def show_version(value: bool) -> None:
    if value:
        typer.echo(f"errseq-explorer {__version__}")
        raise typer.Exit(0)


def explore(
    ctx: typer.Context,
    mounts: MountsOpt = 2,
    depth: DepthOpt = 8,
    fds: FdsOpt = 2,
    host_fds: HostFdsOpt = 1,
    mount_options: MountOptionsOpt = "both",
    errnos: ErrnosOpt = "EIO",
    counter_bits: CounterBitsOpt = None,
    host_files: HostFilesOpt = "own",
    spec: SpecOpt = None,
    races: RacesOpt = False,
    threads: ThreadsOpt = 1,
    prop: Annotated[
        list[str] | None,
        typer.Option(
            "--property",
            "-p",
            help=f"Property to check: {', '.join(PROPERTIES)}; or a user property's .py "
            "file (docs/claims-language.md); repeatable. Default: every built-in.",
        ),
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
            help="Audit mode: isolation violations caused only by these event kinds are "
            f"accepted: {', '.join(KIND_ORDER)}; repeatable."
        ),
    ] = None,
    out: Annotated[
        str,
        typer.Option(
            metavar="<path>",
            help="Folder for timelines, pictures, report.json, summary.txt and index.html "
            "(the report in one page, docs/report.md).",
        ),
    ] = "out",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on stdout.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    full_graph: Annotated[
        bool, typer.Option("--full-graph", help="Also write each spec's whole state graph as DOT.")
    ] = False,
    show: Annotated[int, typer.Option(help="How many witnesses to print as timelines.")] = 3,
    trace: Annotated[
        bool,
        typer.Option(
            "--trace",
            help="Write the witness files in their trace form: under each line of their "
            "scenarios, the errseq_t fields it changed, decoded, as comments.",
        ),
    ] = False,
    max_states: Annotated[
        int | None,
        typer.Option("--max-states", help="Stop a search beyond this many states (1 or more)."),
    ] = None,
    max_memory: Annotated[
        float | None,
        typer.Option(
            "--max-memory",
            help="Stop a search or check (cleanly) beyond this many GiB resident, a number "
            "above 0: it is undecided (exit 3), the others still decide, and isolation is "
            "decided as deep as fits. Default: 3/4 of RAM.",
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help=f"Processes for independent specs, 0 to {MAX_JOBS}; 0 = 2 when the run is "
            "large enough.",
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
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="[ADDRESS]",
            help="Run on Ray: alone, a local runtime started for the run; auto or "
            "HOST:PORT, the cluster there (ray start --head). Needs the ray extra "
            "(docs/scale-out.md).",
        ),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            "--partitions",
            help="With --ray: Ray actors each spec's states are shared among, 1 or more; "
            "1 = each spec whole in one task. Default: the cluster's CPUs.",
            show_default=False,
        ),
    ] = None,
    symmetry: Annotated[
        bool | None,
        typer.Option(
            "--symmetry/--no-symmetry",
            help="Store one state per class of interchangeable containers and fds. "
            "Default: on for runs with 3+ containers or depth 10+, where it pays.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=show_version,
            expose_value=False,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Explore every bounded event sequence of an upper fs shared by N overlay mounts.

    Checks each kernel variant (spec) against the guarantees argued in the 2020
    thread, prints a verdict matrix and the shortest witnesses as timelines, and
    writes out/ (timelines, DOT/SVG pictures, report.json, summary.txt for mail, and
    index.html: the whole report in one self-contained page).  The options before a
    command (replay, diff, specs, conform) are the main job's: give a command's
    options after its name.

    Examples:

        explore --mounts 2 --depth 8

        explore --spec vivek-v3-seen --spec amir --property isolation

        explore --allow syncfs --json > audit.json

        explore --errnos EIO,ENOSPC --host-files any --depth 7

        explore --counter-bits 2 --mounts 1 --depth 16 -p no-loss

        explore --mounts 4 --depth 16 --ray auto

        explore --races --threads 2 --mounts 1 --spec mainline --spec mainline-flock

    \b
    Exit codes:
      0    every checked property holds (every result as expected, the specs agree)
      1    a property is violated (a result not as expected, the specs differ)
      2    bad input: an option, a file, a scenario, a spec that misbehaves
      3    undecided: the memory guard stopped a check before it decided
      70   internal error: a bug in errseq-explorer (its traceback goes to a file)
      130  interrupted (Ctrl-C)
      143  terminated (SIGTERM)
    """
    if ctx.invoked_subcommand is not None:
        misplaced_options(ctx)
        return
    opts = RunOptions(
        mounts=mounts,
        depth=depth,
        fds=fds,
        host_fds=host_fds,
        mount_options=mount_options,
        errnos=errnos,
        host_files=host_files,
        counter_bits=counter_bits,
        specs=spec,
        properties=prop,
        against=against,
        containers=container,
        allow=allow,
        max_states=max_states,
        max_memory=max_memory,
        symmetry=symmetry,
        isolation_budget=isolation_budget,
        races=races,
        threads=threads,
    )
    from explorer.app import job as main  # the run's machinery, for the main job alone

    job = main.Job(
        out_folder(out), as_json, quiet, full_graph, show, jobs, ray, partitions, races, trace
    )
    check_limits(opts)
    job.check()
    raise typer.Exit(main.main_job(configure(opts), job))


def misplaced_options(ctx: typer.Context) -> None:
    """Options of the main job given before a command would be silently unused: refuse
    them and say where they go (`explore --spec amir replay x.scn`)."""
    sub = ctx.invoked_subcommand or ""
    given = [
        p
        for p in ctx.command.params
        if p.name and getattr(ctx.get_parameter_source(p.name), "name", "") == "COMMANDLINE"
    ]
    if not given:
        return
    cmd = ctx.command.get_command(ctx, sub)  # type: ignore[attr-defined]
    takes = {o for p in (cmd.params if cmd else []) for o in (*p.opts, *p.secondary_opts)}
    said = []
    for p in given:
        flag = max(p.opts, key=len)
        if takes & {*p.opts, *p.secondary_opts}:
            said.append(f"put {flag} after the command (explore {sub} {flag} ...)")
        else:
            said.append(f"{sub} has no {flag}")
    fail(f"options before '{sub}' are the main job's, which {sub} does not run: {'; '.join(said)}")
