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
    help=__doc__,
)

SpecOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--spec",
        "-s",
        help=f"Spec name or path to a spec .py file; repeatable. Default: all ({', '.join(builtin_names())}).",
    ),
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
def explore(ctx: typer.Context) -> None:
    """Explore every bounded event sequence of an upper fs shared by N overlay mounts."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


@app.command()
def replay(
    file: Annotated[
        str, typer.Argument(help="Scenario file in the scenario language, or - for stdin.")
    ],
    spec: SpecOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of the table.")
    ] = False,
) -> None:
    """Run a scenario under each spec and print the results side by side.

    Example:

        explore replay seed.scn --spec plain --spec vivek-v3-seen --spec amir
    """
    from explorer.render.table import replay_json, replay_table

    try:
        scenario = read_scenario(file)
        runs = replay_all(scenario, load_specs(spec))
    except (ScenarioError, SpecError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(replay_json(scenario, runs), indent=2))
    else:
        typer.echo(replay_table(scenario, runs), nl=False)


# conform: registered here


def main() -> None:
    app()


if __name__ == "__main__":
    main()
