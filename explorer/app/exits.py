"""Bad input's one line: every command ends a refusal the same way (exit code 2)."""

from __future__ import annotations

from typing import NoReturn

import typer


def one_line(text: str) -> str:
    """A message as one line: an exception's text may hold newlines (a user's may)."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def fail(message: str) -> NoReturn:
    """Bad input: one clear line on stderr, exit code 2, no traceback."""
    typer.echo(f"explore: error: {one_line(message)}", err=True)
    raise typer.Exit(2)
