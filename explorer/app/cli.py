"""The `explore` command line (typer): the main job, replay, diff, specs, conform.

Every command ends in one of the exit codes of the main --help: bad input of any kind
is one line on stderr (`explore: error: ...`) and exit 2, a bug of the tool is one line
naming a file that holds the traceback and exit 70.  `ExploreGroup` does it for every
command in one place.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import tempfile
import traceback
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup
from typer.main import get_command as typer_command

from explorer import __version__
from explorer.app import explore
from explorer.app.exits import fail, one_line
from explorer.checker.signals import stopped, terminate_like_interrupt
from explorer.checker.timelimit import limit_from_environment, time_limit
from explorer.engine.limits import SearchLimit
from explorer.errors import InputError

#: click's exception for bad command lines (typer 0.28 vendors click: reached through a
#: class typer exports).
ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def bad_input(exc: BaseException) -> str | None:
    """The message for an exception that is the input's fault (exit 2), else None."""
    if isinstance(exc, InputError | SearchLimit):
        return str(exc)
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


#: The commands besides the main job, by name: (module, function).  Each module is
#: imported when its command is run or listed (--help), so that the main job does not
#: load the claims language, conform's or browse's machinery it never uses.
COMMANDS = {
    "replay": ("explorer.app.replay", "replay"),
    "diff": ("explorer.app.diff", "diff"),
    "specs": ("explorer.app.listing", "specs_command"),
    "claim": ("explorer.app.claims", "claim_command"),
    "browse": ("explorer.app.browse", "browse_command"),
    "conform": ("explorer.conform.cli", "conform_command"),
}


def command(name: str) -> Any:
    """The click command of `COMMANDS[name]`, built by typer as `app.command(name)` would."""
    module, attr = COMMANDS[name]
    one = typer.Typer(add_completion=False, rich_markup_mode=None)
    one.command(name)(getattr(importlib.import_module(module), attr))
    return typer_command(one)


class ExploreGroup(TyperGroup):
    """Turns what a command raises into its exit code and one line on stderr; builds
    each command of `COMMANDS` when it is asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        built = super().list_commands(ctx)
        return [*built, *(n for n in COMMANDS if n not in built)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.commands[cmd_name] = command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def make_context(self, info_name: str | None, args: list[str], parent=None, **extra: Any):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except (typer.Exit, typer.Abort):
            raise
        except ClickException as exc:
            fail(usage_error(exc))
        except Exception as exc:
            internal_error(exc)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # the base names click's Context, which typer vendors privately; typer hands its own
        try:
            # A user's spec or property that loops is stopped, whatever the command.
            with time_limit(limit_from_environment()):
                return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            # Ctrl-C or SIGTERM outside the search (the main job handles them there):
            # while writing out/, replaying or diffing.  One line, no traceback, the
            # shell's 130 or 143.
            said, code = stopped(exc)
            typer.echo(f"explore: {said}", err=True)
            raise typer.Exit(code) from None
        except (typer.Exit, typer.Abort, SystemExit, BrokenPipeError):
            raise  # click and typer end these themselves (a closed pipe)
        except ClickException as exc:
            fail(usage_error(exc))
        except BaseException as exc:
            message = bad_input(exc)
            if message is None:
                internal_error(exc)
            fail(message)


app = typer.Typer(
    cls=ExploreGroup,
    add_completion=False,
    no_args_is_help=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.callback(invoke_without_command=True)(explore.explore)


def ray_address(args: list[str]) -> list[str]:
    """`--ray` alone means a local runtime: give it its value, `local`, when no address
    follows (typer's options take a value always or never)."""
    commands = set(COMMANDS)
    out = []
    for k, arg in enumerate(args):
        out.append(arg)
        if arg == "--ray":
            nxt = args[k + 1] if k + 1 < len(args) else None
            if nxt is None or nxt.startswith("-") or nxt in commands:
                out.append("local")
    return out


def main() -> None:
    terminate_like_interrupt()
    app(args=ray_address(sys.argv[1:]))


if __name__ == "__main__":
    main()
