"""The size rules of the code (issue 20, the project's standards): no module over 400
lines in explorer/ and specs/, no function over 80 lines.

A module's size is its number of lines.  A function's (or method's, nested ones
included, each on its own and as part of the function around it) runs from its `def`
line to its last line; its decorators do not count.  The one exception is a typer
command, a function the `explore` app registers as its callback or as a command: its
parameters are its options' declarations (names, annotations with their help, defaults)
and its docstring is its --help, so it is measured from the first statement after the
docstring to its last line.  Blank lines and comments count everywhere.
"""

from __future__ import annotations

import ast
import importlib
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

from explorer.app.cli import COMMANDS, app

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80

Function = ast.FunctionDef | ast.AsyncFunctionDef


def sources() -> list[Path]:
    return sorted(p for d in ("explorer", "specs") for p in (ROOT / d).rglob("*.py"))


def functions(tree: ast.AST) -> Iterator[Function]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def body_start(node: Function) -> int:
    """The line of a function's first statement after its docstring (its `def` line's
    next statement when the docstring is all there is)."""
    body = node.body
    first = body[0]
    docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    return body[1].lineno if docstring and len(body) > 1 else first.lineno


def length(node: Function, command: bool) -> int:
    start = body_start(node) if command else node.lineno
    return (node.end_lineno or node.lineno) - start + 1


def first_line(node: Function) -> int:
    """The line Python reports as the function's first (co_firstlineno): its first
    decorator's, or its `def`."""
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def typer_commands() -> set[tuple[str, int]]:
    """(file, first line) of every function the `explore` app runs as a command."""
    found: list[Callable] = [c.callback for c in app.registered_commands if c.callback]
    # the commands the app builds when asked for (explorer.app.cli.COMMANDS)
    found += [getattr(importlib.import_module(m), f) for m, f in COMMANDS.values()]
    if app.registered_callback is not None and app.registered_callback.callback:
        found.append(app.registered_callback.callback)
    return {(os.path.realpath(f.__code__.co_filename), f.__code__.co_firstlineno) for f in found}


def oversized(path: Path, text: str, commands: set[tuple[str, int]]) -> list[str]:
    """What in one source file breaks the rules, as 'path:line name: N lines'."""
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    n = len(text.splitlines())
    if n > MAX_MODULE_LINES:
        found.append(f"{rel}: {n} lines (at most {MAX_MODULE_LINES})")
    real = os.path.realpath(path)
    for node in functions(ast.parse(text)):
        command = (real, first_line(node)) in commands
        size = length(node, command)
        if size > MAX_FUNCTION_LINES:
            kind = "typer command body" if command else "function"
            found.append(
                f"{rel}:{node.lineno} {node.name}: {kind} of {size} lines "
                f"(at most {MAX_FUNCTION_LINES})"
            )
    return found


def test_no_module_or_function_is_over_the_limits() -> None:
    commands = typer_commands()
    problems = [p for path in sources() for p in oversized(path, path.read_text(), commands)]
    assert not problems, "\n".join(problems)


def test_every_command_is_found_where_the_rule_measures_it() -> None:
    """The exception applies to real functions: each registered command is a function
    of the sources at the line the rule looks for it (else it would be measured whole,
    or the exception would silently cover nothing)."""
    commands = typer_commands()
    assert len(commands) >= 5  # the main job, replay, diff, specs, claim, conform
    located = {
        (os.path.realpath(p), first_line(node))
        for p in sources()
        for node in functions(ast.parse(p.read_text()))
    }
    assert commands <= located, commands - located


def test_the_measure_itself(tmp_path: Path) -> None:
    """A function of 81 lines is refused and one of 80 is not; a typer command's
    parameters and docstring do not count, its statements do; decorators never count."""

    def source(lines: int, doc: int = 0, params: int = 0, decorated: bool = False) -> str:
        head = "@decorator\n" if decorated else ""
        sig = "def f(\n" + "".join(f"    a{i}: int = 0,\n" for i in range(params)) + "):\n"
        if not params:
            sig = "def f():\n"
        docstring = ('    """' + "\n" * doc + '    """\n') if doc else ""
        used = len(sig.splitlines()) + len(docstring.splitlines())
        body = "    x = 1\n" * (lines - used)
        return head + sig + docstring + body

    path = tmp_path / "m.py"
    assert oversized(path, source(80), set()) == []
    assert oversized(path, source(80, decorated=True), set()) == []
    assert len(oversized(path, source(81), set())) == 1
    command = {(os.path.realpath(path), 1)}
    # 150 lines, most of them parameters and --help: the 70 statements are what count.
    long_signature = source(150, doc=40, params=38)
    assert len(oversized(path, long_signature, set())) == 1
    assert oversized(path, long_signature, command) == []
    assert len(oversized(path, source(120, doc=10, params=10), command)) == 1
    big_module = textwrap.dedent("x = 1\n") * 401
    assert oversized(path, big_module, set()) == [f"{path}: 401 lines (at most 400)"]
