"""`explore claim`: claim files settled per spec (explorer.checker.claims), printed as
Observation lines, JSON or the table of docs/claims.md (explorer.render.claims)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from explorer.app.options import SpecOpt
from explorer.checker.options import OptionError
from explorer.domain.catalog import load_specs


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
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            help="Also write the campaign as one self-contained page: the table coloured "
            "by expected against got, each run step by step with its state, herd7's "
            "States (docs/report.md).",
        ),
    ] = None,
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
        explore claim claims/ --html claims.html
    """
    # Imported when the command runs: the main job's start-up does not pay for them.
    from explorer.checker.claims import check_all, exit_code, load_claims
    from explorer.render import claims as render

    if as_json and markdown:
        raise OptionError("--json and --markdown: choose one")
    if spec:
        load_specs(spec)  # an unknown spec is bad input before anything runs
    if html is not None:
        writable_page(html)  # before the work: a file explore did not write is kept
    outcomes = check_all(load_claims(paths), spec)
    code = exit_code(outcomes)
    if html is not None:
        write_page(html, outcomes, code, spec)
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


def writable_page(path: Path) -> None:
    """`--html FILE` may replace a page explore wrote, never anything else."""
    from explorer.render.html.page import GENERATOR

    if path.is_dir():
        raise OptionError(f"--html {path}: a folder; give a file name")
    if path.exists():
        try:
            head = path.read_text(errors="replace")[:2000]
        except OSError as exc:
            raise OptionError(f"--html {path}: cannot read it: {exc}") from None
        if GENERATOR not in head:
            raise OptionError(
                f"--html {path}: the file exists and explore did not write it: "
                "move it away or choose another name"
            )


def write_page(path: Path, outcomes: list, code: int, chosen: list[str] | None) -> None:
    """The campaign's page (explorer.render.html.claims), written whole or not at all."""
    from explorer.checker.claims import Specs
    from explorer.checker.region import for_claims
    from explorer.render import claims as render
    from explorer.render.html.claims import claims_data
    from explorer.render.html.page import render as page

    specs = Specs()

    def spec_of(c, name: str):
        return specs.get(name, None if chosen else c.claim).with_counter_bits(
            c.bounds.counter_bits if c.bounds is not None else None
        )

    regions = for_claims(outcomes, spec_of)
    data = claims_data(outcomes, code, spec_of, regions, render.text(outcomes))
    tmp = path.with_name(f".{path.name}.explore-tmp")
    tmp.write_text(page(data, "errseq-explorer claims"))
    os.replace(tmp, path)
