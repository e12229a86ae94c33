"""`explore conform`: the model's predictions against real kernels, event by event."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from explorer.checker.replay import replay
from explorer.conform import core
from explorer.domain.catalog import SpecError, load_spec
from explorer.domain.claim_formula import ClaimError
from explorer.domain.scenario import ScenarioError

if TYPE_CHECKING:
    from explorer.conform.build import KernelImage
    from explorer.conform.claims import ClaimCheck
    from explorer.conform.vm import KernelRun, VmError

STATUS_STYLE = {
    core.AGREE: "green",
    core.MISMATCH: "bold red",
    core.NOT_REPRESENTABLE: "yellow",
    core.INVALID: "bold magenta",
    core.ERROR: "bold red",
}


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"explore conform: error: {message}", err=True)
    raise typer.Exit(code)


def _kernels(choice: str) -> list[str]:
    if choice == "all":
        return list(core.KERNEL_ORDER)
    if choice not in core.KERNEL_SPEC:
        _fail(f"--kernel {choice!r}: expected one of 6.1, 6.12, all")
    return [choice]


def plan(
    items: list[core.Item], kernels: list[str]
) -> tuple[list[core.Outcome], list[tuple[core.Item, str, list[str | None]]]]:
    """Model side: outcomes that need no VM (not representable) and the runs to do."""
    done: list[core.Outcome] = []
    todo: list[tuple[core.Item, str, list[str | None]]] = []
    for item in items:
        for k in kernels:
            if item.only_kernel and item.only_kernel != k:
                continue
            spec = core.KERNEL_SPEC[k]
            model = replay(item.scenario, load_spec(spec))
            why = item.unrepresentable or core.not_representable(item.scenario, spec, k)
            if why:
                done.append(
                    core.Outcome(
                        item.name,
                        k,
                        spec,
                        core.NOT_REPRESENTABLE,
                        why,
                        rows=core.model_rows(item, model),
                        origin=item.origin,
                    )
                )
            else:
                todo.append((item, k, model))
    return done, todo


def judge(
    item: core.Item,
    kernel: str,
    model: list[str | None],
    image: KernelImage,
    run: KernelRun | VmError,
) -> core.Outcome:
    """Turn one VM run into an outcome: error, invalid, agree or mismatch."""
    spec = core.KERNEL_SPEC[kernel]
    out = core.Outcome(
        item.name, kernel, spec, core.ERROR, release=image.release, origin=item.origin
    )
    from explorer.conform.vm import VmError, check_run

    if isinstance(run, VmError):
        out.reason = str(run)
        out.rows = core.model_rows(item, model)
        return out
    out.wall_s = round(run.wall_s, 2)
    out.release = run.release or image.release
    invalid = check_run(run)
    n = len(item.scenario.events)
    out.status, out.rows = core.compare(item, kernel, model, run.result_list(n), run.details)
    if invalid:
        out.status, out.reason = core.INVALID, invalid
    return out


def render(console: Console, o: core.Outcome) -> None:
    """One side-by-side table per scenario and kernel."""
    style = STATUS_STYLE.get(o.status, "")
    title = f"{o.name} on {o.release or o.kernel} (model: {o.spec}): [{style}]{o.status}[/]"
    console.print(title)
    t = Table(show_edge=False, pad_edge=False)
    t.add_column("line", justify="right")
    t.add_column("event")
    t.add_column(f"model {o.spec}")
    t.add_column(f"kernel {o.kernel}")
    t.add_column("")
    for r in o.rows:
        mark = "[bold red]<< MISMATCH[/]" if r.mismatch else ""
        kern = core.show(r.kernel) if o.status not in (core.NOT_REPRESENTABLE, core.ERROR) else ""
        detail = f" ({r.detail})" if r.detail and r.detail not in ("evicted",) else ""
        t.add_row(str(r.line), r.event, core.show(r.model), kern + detail, mark)
    console.print(t)
    if o.reason:
        console.print(f"  [{style}]{o.status}[/]: {o.reason}")
    console.print()


def conform_command(
    scenarios: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Scenario files, claim files (*.claim) whose runs to replay, or folders "
            "of both (default: the built-in corpus).",
            show_default=False,
        ),
    ] = None,
    kernel: Annotated[
        str, typer.Option("--kernel", "-k", help="6.1 (model v5.11), 6.12 (model mainline) or all.")
    ] = "all",
    accel: Annotated[
        str, typer.Option("--accel", help="qemu accelerator: tcg (works everywhere) or kvm.")
    ] = "tcg",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    witness: Annotated[
        Path | None,
        typer.Option(
            "--witness",
            help="An explorer report.json: replay its mainline/v5.11 "
            "witnesses on the matching kernel.",
        ),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="VMs at once (default: number of cores).")
    ] = 0,
) -> None:
    """Run scenarios on real Debian kernels in qemu and compare every result with the model.

    Each scenario gets a fresh VM; `wberror F` fails exactly F's data blocks
    through device-mapper.  A claim file's runs under each kernel's spec (v5.11 for
    6.1, mainline for 6.12) are replayed as scenarios: all of them when there are at
    most 48, else a satisfying and a refuting one; each kernel then gets an
    Observation line of its own, from its own results.  Exit 0 if every run agrees
    (or is reported as not representable), 1 on a mismatch or a run that could not
    be checked, 2 on bad input.

    Examples:

    \b
        explore conform --kernel 6.12 explorer/conform/corpus/seed.scn
        explore conform claims/thread/04-normal-fs-both-syncfs-fail.claim
    """
    if accel not in ("tcg", "kvm"):
        _fail(f"--accel {accel!r}: expected tcg or kvm")
    kernels = _kernels(kernel)
    items, checks, done, todo = _prepare(_files(scenarios or []), kernels, witness, not scenarios)
    start = time.monotonic()
    images, runs = _run_vms(todo, accel, jobs)
    raced, race_failed = _run_races(checks, accel)
    outcomes = done + [
        judge(item, k, model, images[k], r) for (item, k, model), r in zip(todo, runs, strict=True)
    ]
    order = {(it.name, k): n for n, (it, k) in enumerate((i, k) for i in items for k in kernels)}
    outcomes.sort(key=lambda o: order.get((o.name, o.kernel), 0))
    for c in checks:
        mine = {i.name for i in c.items}
        c.outcomes = [o for o in outcomes if o.name in mine and o.kernel == c.kernel]
    elapsed = time.monotonic() - start
    if as_json:
        _print_json(outcomes, checks, images, elapsed)
    else:
        _print_tables(outcomes, checks, images, len(runs) + raced, elapsed)
    if any(o.failed for o in outcomes) or race_failed:
        raise typer.Exit(1)


def _run_races(checks: list[ClaimCheck], accel: str) -> tuple[int, bool]:
    """A race claim's program, many times in one boot per kernel: the boots made, and
    whether a kernel showed an outcome the model calls Never (or did not run)."""
    from explorer.conform import race_claims

    err = Console(stderr=True, highlight=False)
    raced, failed = 0, False
    for c in checks:
        if c.race is not None and c.race.program is not None and not c.race.skipped:
            err.print(f"[dim]racing {c.claim.name} on {c.kernel}...[/]")
            race_claims.run(c.race, accel)
            raced += 1
            failed = failed or race_claims.failed(c.race)
    return raced, failed


def _files(paths: list[Path]) -> list[Path]:
    """The files given, each folder replaced by its *.claim and *.scn files."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix in (".claim", ".scn"))
            if not found:
                _fail(f"{p}: no *.claim or *.scn files below this folder")
            files += found
        else:
            files.append(p)
    return files


def _prepare(
    files: list[Path], kernels: list[str], witness: Path | None, corpus: bool
) -> tuple[
    list[core.Item],
    list[ClaimCheck],
    list[core.Outcome],
    list[tuple[core.Item, str, list[str | None]]],
]:
    """The scenarios to run (the files', the claims' runs, a report's witnesses, or the
    built-in corpus when nothing is given), the claims they settle, and their `plan`;
    bad input ends the command."""
    # Imported here: the claim checker is not needed by every `explore` run.
    from explorer.conform import claims as claim_checks

    try:
        claim_files = [p for p in files if p.suffix == ".claim"]
        items = [core.load_item(p) for p in files if p.suffix != ".claim"]
        checks = claim_checks.plan_claims(claim_files, kernels)
        items += [i for c in checks for i in c.items]
        if witness is not None:
            items += core.witnesses(witness)
        elif corpus:
            items = core.corpus()
        if not items and not checks:
            _fail(f"{witness}: no mainline or v5.11 witness to replay")
        done, todo = plan(items, kernels)
    except (ScenarioError, SpecError, ClaimError) as exc:
        _fail(str(exc))
    return items, checks, done, todo


def _run_vms(
    todo: list[tuple[core.Item, str, list[str | None]]], accel: str, jobs: int
) -> tuple[dict[str, KernelImage], list[KernelRun | VmError]]:
    """Build each kernel the runs need (cached) and run every scenario in its own VM,
    saying on stderr how each went."""
    if not todo:
        return {}, []
    # Imported here: the VM and build machinery are not needed by every `explore` run.
    from explorer.conform.build import BuildError, build
    from explorer.conform.vm import KernelRun, qemu_available, run_many

    err = Console(stderr=True, highlight=False)
    why = qemu_available()
    if why:
        _fail(why, 1)
    images: dict[str, KernelImage] = {}
    try:
        for k in sorted({k for _, k, _ in todo}):
            err.print(f"[dim]building {k} (cached after the first time)...[/]")
            images[k] = build(k)
    except BuildError as exc:
        _fail(str(exc), 1)
    err.print(f"[dim]running {len(todo)} VM(s) ({accel})...[/]")

    def progress(i: int, r: KernelRun | VmError) -> None:
        item, k, _ = todo[i]
        what = f"{r.wall_s:.1f}s" if isinstance(r, KernelRun) else f"error: {r}"
        err.print(f"[dim]  {item.name} on {k}: {what}[/]")

    texts = [(images[k], item.text) for item, k, _ in todo]
    return images, run_many(texts, accel, workers=jobs or None, on_done=progress)


def _print_json(
    outcomes: list[core.Outcome],
    checks: list[ClaimCheck],
    images: dict[str, KernelImage],
    elapsed: float,
) -> None:
    from explorer.conform import claims as claim_checks

    doc = core.to_json(outcomes)
    doc["claims"] = [claim_checks.as_json(c) for c in checks]
    doc["seconds"] = round(elapsed, 1)
    doc["kernels"] = {k: {"release": im.release, "version": im.version} for k, im in images.items()}
    typer.echo(json.dumps(doc, indent=2))


def _print_tables(
    outcomes: list[core.Outcome],
    checks: list[ClaimCheck],
    images: dict[str, KernelImage],
    vm_runs: int,
    elapsed: float,
) -> None:
    """Each run's table (a claim's runs that agree are counted in its Observation lines
    instead), each claim's lines, then a summary per kernel."""
    from explorer.conform import claims as claim_checks

    console = Console(highlight=False, stderr=False, width=None if sys.stdout.isatty() else 110)
    claim_runs = {i.name for c in checks for i in c.items}
    for o in outcomes:
        if o.name not in claim_runs or o.status != core.AGREE:
            render(console, o)
    for c in checks:
        rel = images[c.kernel].release if c.kernel in images else ""
        for line in claim_checks.lines(c, rel):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        console.print()
    for k, counts in core.summary(outcomes).items():
        rel = images[k].release if k in images else k
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        console.print(f"[bold]{k}[/] ({rel}): {parts}")
    console.print(f"[dim]{vm_runs} VM run(s) in {elapsed:.1f}s[/]")
