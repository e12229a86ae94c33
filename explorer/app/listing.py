"""`explore specs`: the built-in specs with their sources, or one spec's hooks."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from explorer.checker.options import OptionError
from explorer.domain.catalog import builtin_names, load_spec, resolved_hooks


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
        from explorer.render.hooks import hooks_json, hooks_text  # only this way needs it

        spec = load_spec(show)
        hooks = resolved_hooks(spec)
        if as_json:
            typer.echo(json.dumps(hooks_json(spec, hooks), indent=2))
        else:
            typer.echo(hooks_text(spec, hooks, source), nl=False)
        return
    if source:
        raise OptionError("--source: it goes with --show NAME")
    specs = [load_spec(name) for name in builtin_names(races=True)]  # mainline-flock too
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
