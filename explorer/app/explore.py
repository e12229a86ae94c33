"""The main job (`explore --mounts 2 --depth 8`): its options, then the run, the
terminal's tables and out/."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
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
    SpecOpt,
)
from explorer.app.progress import Progress
from explorer.bridge.model import KIND_ORDER
from explorer.checker.config import Config, configure
from explorer.checker.executor import Executor, Serial, worth_parallel
from explorer.checker.options import (
    ISOLATION_BUDGET,
    MAX_JOBS,
    OptionError,
    RunOptions,
    check_limits,
    errnos_text,
)
from explorer.checker.properties import PROPERTIES
from explorer.checker.results import Outcome
from explorer.checker.run import run
from explorer.domain.world import NORMAL, VOLATILE
from explorer.render import report as rep
from explorer.render import terminal
from explorer.render.outdir import OutDir

#: Exit code of a run ended by Ctrl-C (128 + SIGINT, what a shell reports).
INTERRUPTED = 130


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
    writes out/ (timelines, DOT/SVG pictures, report.json).  The options before a
    command (replay, diff, specs, conform) are the main job's: give a command's
    options after its name.

    Examples:

        explore --mounts 2 --depth 8

        explore --spec vivek-v3-seen --spec amir --property isolation

        explore --allow syncfs --json > audit.json

        explore --errnos EIO,ENOSPC --host-files any --depth 7

        explore --counter-bits 2 --mounts 1 --depth 16 -p no-loss

        explore --mounts 4 --depth 16 --ray auto

    \b
    Exit codes:
      0    every checked property holds (every result as expected, the specs agree)
      1    a property is violated (a result not as expected, the specs differ)
      2    bad input: an option, a file, a scenario, a spec that misbehaves
      3    undecided: the memory guard stopped a check before it decided
      70   internal error: a bug in errseq-explorer (its traceback goes to a file)
      130  interrupted (Ctrl-C)
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
    )
    job = Job(out, as_json, quiet, full_graph, show, jobs, ray, partitions)
    check_limits(opts)
    job.check()
    raise typer.Exit(main_job(configure(opts), job))


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


@dataclass(frozen=True)
class Job:
    """What the main job does besides the run: where its files go, what it prints, how
    many processes (or which Ray runtime) do the work."""

    out: Path
    as_json: bool
    quiet: bool
    full_graph: bool
    show: int
    jobs: int
    ray: str | None
    partitions: int | None

    def check(self) -> None:
        if self.show < 0:
            raise OptionError(f"--show {self.show}: must be 0 or more")
        if not 0 <= self.jobs <= MAX_JOBS:
            raise OptionError(f"--jobs {self.jobs}: must be 0 to {MAX_JOBS}")


def on_ray(job: Job) -> Executor | None:
    """The executor of `--ray` (None without it); ray is imported only there."""
    if job.ray is None:
        if job.partitions is not None:
            raise OptionError("--partitions needs --ray (the partitions are Ray actors)")
        return None
    if job.partitions is not None and job.partitions < 1:
        raise OptionError(f"--partitions {job.partitions}: give 1 or more")
    if job.full_graph:
        raise OptionError("--full-graph needs every spec's whole graph in this process: drop --ray")
    from explorer.scale.cluster import connect, cpus
    from explorer.scale.execute import RayExecutor

    ray = connect(job.ray)
    return RayExecutor(ray, job.partitions or cpus(ray))


def main_job(cfg: Config, job: Job) -> int:
    """Run `cfg`, write out/ and print what the run found; the exit code."""
    executor = on_ray(job)
    target = OutDir.claim(job.out)  # before the search: a folder it cannot use is bad input
    cfg = dataclasses.replace(cfg, costs=target.last_seconds())
    kept: dict | None = {} if job.full_graph else None
    if job.full_graph:
        executor = Serial(kept)  # the graphs stay in this process
    jobs = job.jobs or (min(2, os.cpu_count() or 1) if worth_parallel(cfg) else 1)
    progress = Progress(job.quiet or job.as_json, specs=[s.name for s in cfg.specs])
    try:
        outcome = run(cfg, progress, jobs, executor)
    except KeyboardInterrupt:
        progress.stop()
        print("explore: interrupted", file=sys.stderr, flush=True)
        return INTERRUPTED
    finally:
        progress.stop()
    code = outcome.exit_code()
    files, data = rep.write_outputs(outcome, target, code, kept)
    if job.as_json:
        print(json.dumps(data, indent=2))
    else:
        print_outcome(outcome, job, files)
    return code


def header(outcome: Outcome) -> str:
    """The run's first line: its bounds, the model's options, its specs and time."""
    cfg, b = outcome.config, outcome.config.bounds
    opts = "+".join(n for n, o in (("normal", NORMAL), ("volatile", VOLATILE)) if o in cfg.options)
    return (
        f"errseq-explorer: {b.mounts} container{'s' if b.mounts > 1 else ''}, "
        f"{b.fds} fd{'s' if b.fds > 1 else ''} each, "
        f"{b.host_fds} host fd{'s' if b.host_fds != 1 else ''}, depth {cfg.depth}, "
        f"{opts} mounts, {model_options(cfg)}"
        f"{len(cfg.specs)} spec{'s' if len(cfg.specs) > 1 else ''} in {outcome.seconds:.2f}s"
    )


def model_options(cfg: Config) -> str:
    """The model's options a run departs from the defaults with, for its header line."""
    b = cfg.bounds
    said = []
    if b.errnos != (-5,):
        said.append(f"errnos {errnos_text(b.errnos)}")
    if cfg.counter_bits is not None:
        said.append(f"{cfg.counter_bits}-bit errseq counter")
    if b.host_any:
        said.append("host fds on any upper file")
    return "".join(f"{s}, " for s in said)


def print_outcome(outcome: Outcome, job: Job, files: dict[tuple[str, str, str], list[str]]) -> None:
    """The terminal's account of a run: the matrix, the tables, the notes and the most
    important witnesses, then where the files went."""
    cfg, out = outcome.config, job.out
    con = terminal.console()
    con.print(header(outcome))
    con.print(terminal.matrix(outcome))
    table = terminal.interference(outcome)
    if table is not None:
        con.print(table)
        if cfg.allow:
            con.print(
                f"* allowed by --allow {' --allow '.join(sorted(cfg.allow))}: not counted as violations"
            )
    for note in outcome.notes:
        con.print(f"note: {note}")
    con.print(terminal.coverage_table(outcome))
    for v in terminal.most_important(outcome, job.show):
        con.print()
        con.print(rep.witness_text(cfg.bounds, v), end="", markup=False)
    n_files = sum(len(f) for f in files.values())
    con.print()
    con.print(f"wrote {out}/report.json and {n_files} witness files under {out}/", end="")
    if not any(p.endswith(".svg") for f in files.values() for p in f) and files:
        con.print(
            f" (no `dot` binary: render with  dot -Tsvg {out}/SPEC/PROP.dot -o PROP.svg)", end=""
        )
    con.print()
    if job.full_graph:
        con.print(
            f"state graphs as DOT in {out}/SPEC/graph.dot, not drawn: dot takes many minutes "
            "on thousands of states; dot -Tsvg -O FILE draws one"
        )
