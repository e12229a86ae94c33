"""The `explore` command line (typer): the main job, replay, diff, specs, conform.

Every command ends in one of the exit codes of the main --help: bad input of any kind
is one line on stderr (`explore: error: ...`) and exit 2, a bug of the tool is one line
naming a file that holds the traceback and exit 70.  `ExploreGroup` does it for every
command in one place.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from explorer import __version__
from explorer.app.options import ISOLATION_BUDGET, MAX_JOBS, OptionError, check_run_options
from explorer.app.outcome import PROPERTIES
from explorer.app.replay import replay_all, scenarios_in
from explorer.bridge.model import KIND_ORDER
from explorer.domain.catalog import (
    BUILTIN,
    SpecError,
    builtin_names,
    load_spec,
    load_specs,
    resolved_hooks,
)
from explorer.domain.scenario import ScenarioError
from explorer.domain.world import MAX_DEPTH, MAX_FDS, MAX_HOST_FDS, MAX_MOUNTS
from explorer.engine.limits import SearchLimit
from explorer.errors import InputError

#: click's exception for bad command lines (typer 0.28 vendors click: reached through a
#: class typer exports).
ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def one_line(text: str) -> str:
    """A message as one line: an exception's text may hold newlines (a user's may)."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def fail(message: str) -> NoReturn:
    """Bad input: one clear line on stderr, exit code 2, no traceback."""
    typer.echo(f"explore: error: {one_line(message)}", err=True)
    raise typer.Exit(2)


def bad_input(exc: BaseException) -> str | None:
    """The message for an exception that is the input's fault (exit 2), else None."""
    if isinstance(exc, InputError | SearchLimit):
        return str(exc)
    if type(exc) is ValueError and isinstance(exc.__context__, SearchLimit):
        return str(exc)  # the main job passes a limit on as a ValueError
    if isinstance(exc, OSError):
        return str(exc)  # a folder or file the run cannot write or read (--out)
    return None


def usage_error(exc: Exception) -> str:
    """click's complaint about the command line, with where to look."""
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "explore"
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    return f"{message} (see {where} --help)"


def internal_error(exc: BaseException) -> NoReturn:
    """A bug of the tool: one line that says so, the traceback in a file (or, with
    EXPLORE_DEBUG=1, on stderr), exit 70."""
    report = "".join(traceback.format_exception(exc))
    what = one_line(f"{type(exc).__name__}: {exc}")
    where = ""
    if os.environ.get("EXPLORE_DEBUG", "") not in ("", "0"):
        typer.echo(report, err=True, nl=False)
        where = "the traceback is above"
    else:
        try:
            fd, path = tempfile.mkstemp(prefix="explore-bug-", suffix=".txt")
            with os.fdopen(fd, "w") as f:
                f.write(
                    f"errseq-explorer {__version__}, Python {platform.python_version()}\n"
                    f"command: {' '.join(sys.argv)}\n\n{report}"
                )
            where = f"the traceback is in {path} (EXPLORE_DEBUG=1 prints it instead)"
        except OSError:
            typer.echo(report, err=True, nl=False)
            where = "the traceback is above"
    typer.echo(
        f"explore: internal error: {what}: this is a bug in errseq-explorer, please "
        f"report it; {where}",
        err=True,
    )
    raise typer.Exit(70)


class ExploreGroup(TyperGroup):
    """Turns what a command raises into its exit code and one line on stderr."""

    def make_context(self, info_name: str | None, args: list[str], parent=None, **extra: Any):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except (typer.Exit, typer.Abort):
            raise
        except ClickException as exc:
            fail(usage_error(exc))
        except Exception as exc:
            internal_error(exc)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Ctrl-C outside the search (the main job handles it there): while writing
            # out/, replaying or diffing.  One line, no traceback, the shell's 130.
            typer.echo("explore: interrupted", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit, BrokenPipeError):
            raise  # click and typer end these themselves (a closed pipe)
        except ClickException as exc:
            fail(usage_error(exc))
        except BaseException as exc:
            message = bad_input(exc)
            if message is None:
                internal_error(exc)
            fail(message)


def show_version(value: bool) -> None:
    if value:
        typer.echo(f"errseq-explorer {__version__}")
        raise typer.Exit(0)


app = typer.Typer(
    cls=ExploreGroup,
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

MountsOpt = Annotated[
    int, typer.Option(help=f"Overlay containers sharing the upper fs, 1 to {MAX_MOUNTS}.")
]
DepthOpt = Annotated[int, typer.Option(help=f"Longest event sequence explored, 1 to {MAX_DEPTH}.")]
FdsOpt = Annotated[int, typer.Option(help=f"Open fds per container at most, 1 to {MAX_FDS}.")]
HostFdsOpt = Annotated[
    int, typer.Option("--host-fds", help=f"Open host fds at most, 0 to {MAX_HOST_FDS}.")
]
MountOptionsOpt = Annotated[
    str, typer.Option("--mount-options", help="Mounts explored: normal, volatile or both.")
]
ErrnosOpt = Annotated[
    str,
    typer.Option(
        "--errnos",
        help="Errnos a writeback error may record: EIO, ENOSPC or EIO,ENOSPC (wberror "
        "FILE ENOSPC as well as EIO; errseq keeps the latest).",
    ),
]
CounterBitsOpt = Annotated[
    int | None,
    typer.Option(
        "--counter-bits",
        metavar="K",
        help="Width of the errseq counter, 2 to 19, so that it wraps within a run "
        "(jeff-split's split flags get K-1 bits). Default: the kernel's 19 (18 split).",
        show_default=False,
    ),
]
HostFilesOpt = Annotated[
    str,
    typer.Option(
        "--host-files",
        help="Files a host fd may open: own (the host's file) or any (also a "
        "container's upper file, as upperdir/file: open fdN host ovlK).",
    ),
]


def read_scenarios(path: str):
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


@app.callback(invoke_without_command=True)
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
    check_run_options(max_states, max_memory, show, jobs)
    try:  # checked even when agreement is not: a typo must not pass unseen
        load_spec(against)
    except SpecError as exc:
        raise OptionError(f"--against: {exc}") from None
    from explorer.app.explore import main_job

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
        errnos=errnos,
        host_files=host_files,
        counter_bits=counter_bits,
        ray=ray,
        partitions=partitions,
    )
    raise typer.Exit(code)


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
            help="Scenario files, witness .txt files, folders (every *.scn below, "
            "sorted), or - for stdin.",
            metavar="PATH...",
            show_default=False,
        ),
    ],
    spec: SpecOpt = None,
    counter_bits: CounterBitsOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of the tables.")
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
    """
    from explorer.app.options import parse_counter_bits
    from explorer.app.replay import mismatches, stated
    from explorer.render.table import replay_json, replay_table, summary

    bits = parse_counter_bits(counter_bits)
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
    host_fds: HostFdsOpt = 1,
    mount_options: MountOptionsOpt = "both",
    errnos: ErrnosOpt = "EIO",
    counter_bits: CounterBitsOpt = None,
    host_files: HostFilesOpt = "own",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of timelines.")
    ] = False,
) -> None:
    """The shortest runs on which two specs give different results, one per kind of difference.

    Exit code 0 when they agree on every run within the bounds, 1 when they differ.

    Examples:

        explore diff mainline amir --depth 6

        explore diff mainline v5.11 --host-files any --errnos EIO,ENOSPC --depth 6
    """
    from explorer.app.diff import diff_specs

    raise typer.Exit(
        diff_specs(
            a,
            b,
            mounts,
            depth,
            fds,
            host_fds,
            mount_options,
            as_json,
            errnos=errnos,
            host_files=host_files,
            counter_bits=counter_bits,
        )
    )


@app.command("specs")
def specs_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of the list.")
    ] = False,
    show: Annotated[
        str | None,
        typer.Option(
            "--show",
            metavar="NAME",
            help="A spec's hooks (a built-in's name or a .py path): the class and "
            "file:line each one runs, * for those the spec itself defines.",
        ),
    ] = None,
    source: Annotated[
        bool, typer.Option("--source", help="With --show: each hook's code too.")
    ] = False,
) -> None:
    """The built-in specs (kernel variants): name, one-line summary, and the sources their
    hooks follow, kernel commit ids and mailing-list Message-IDs (as lore.kernel.org links).

    A spec of your own is a copy of one of specs/*.py with its hooks changed, given by
    path: explore --spec my_spec.py.  --show NAME says which class each of a spec's
    hooks comes from along its chain of bases.

    Example:

        explore specs --show amir --source
    """
    if show is not None:
        from explorer.render.hooks import hooks_json, hooks_text

        spec = load_spec(show)
        hooks = resolved_hooks(spec)
        if as_json:
            typer.echo(json.dumps(hooks_json(spec, hooks), indent=2))
        else:
            typer.echo(hooks_text(spec, hooks, source), nl=False)
        return
    if source:
        raise OptionError("--source: it goes with --show NAME")
    specs = [load_spec(name) for name in BUILTIN]
    if as_json:
        rows = [{"name": s.name, "summary": s.summary, "sources": list(s.sources)} for s in specs]
        typer.echo(json.dumps(rows, indent=2))
        return
    width = max(len(s.name) for s in specs)
    lines = []
    for s in specs:
        lines.append(f"{s.name:<{width}}  {s.summary}")
        lines.extend(f"{'':<{width}}    {source_link(src)}" for src in s.sources)
    typer.echo("\n".join(lines))


def source_link(source: str) -> str:
    """A commit id as `commit ID`, a Message-ID as its lore.kernel.org address."""
    return f"https://lore.kernel.org/r/{source}" if "@" in source else f"commit {source}"


@app.command("claim")
def claim_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Claim files, or folders (every *.claim below, sorted).",
            metavar="PATH...",
            show_default=False,
        ),
    ],
    spec: SpecOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    markdown: Annotated[
        bool,
        typer.Option("--markdown", help="Print the table of docs/claims.md instead of text."),
    ] = False,
) -> None:
    """Settle claim files: per claim and spec, the verdict over every run of its programs.

    A claim file (docs/claims-language.md) gives one program per actor and a condition
    over the results and the order of their events; its runs are every interleaving of
    the programs in which each event is enabled.  Per spec (every built-in, the claim's
    specs:, or --spec) one line says Never, Sometimes or Always, with the runs that
    satisfy the condition and those that do not, and whether that is what the claim
    expects (its result: line, or its quantifier); expect: lines hold a property's
    verdict at the claim's bounds.  A run that satisfies the condition, or one that
    refutes a failed expectation, follows as a timeline and a scenario.

    Exit code: 0 every expectation met, 1 one is not (all are listed at the end), 2 bad
    input (a claim file, a spec or property file, a spec under which the claim has no
    run: one line naming the file and line), 3 none refuted but the memory guard left an
    expect: line undecided.

    Examples:

    \b
        explore claim claims/examples/seed-overlay-mount-hides-error.claim
        explore claim claims/ --spec mainline
        explore claim claims/ --markdown > docs/claims.md
    """
    from explorer.app.claims import check_all, exit_code, load_claims
    from explorer.render import claims as render

    if as_json and markdown:
        raise OptionError("--json and --markdown: choose one")
    if spec:
        load_specs(spec)  # an unknown spec is bad input before anything runs
    outcomes = check_all(load_claims(paths), spec)
    code = exit_code(outcomes)
    for line in render.mismatch_lines([o for o in outcomes if o.errors()]):
        if "no run under" in line:
            typer.echo(f"explore: error: {line}", err=True)
    if as_json:
        typer.echo(json.dumps(render.as_json(outcomes, code), indent=2))
    elif markdown:
        typer.echo(render.markdown(outcomes), nl=False)
    else:
        typer.echo(render.text(outcomes), nl=False)
    raise typer.Exit(code)


# conform: registered here
from explorer.conform.cli import conform_command  # noqa: E402

app.command("conform")(conform_command)


def ray_address(args: list[str]) -> list[str]:
    """`--ray` alone means a local runtime: give it its value, `local`, when no address
    follows (typer's options take a value always or never)."""
    commands = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    out = []
    for k, arg in enumerate(args):
        out.append(arg)
        if arg == "--ray":
            nxt = args[k + 1] if k + 1 < len(args) else None
            if nxt is None or nxt.startswith("-") or nxt in commands:
                out.append("local")
    return out


def main() -> None:
    app(args=ray_address(sys.argv[1:]))


if __name__ == "__main__":
    main()
