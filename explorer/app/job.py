"""The main job's run: the executor it runs on, out/ and what the terminal shows.

The renderers (rich, graphviz, jinja2 and the page) are loaded after the workers have
forked, while they search (`ready_to_write`): the workers never use them, and the
parent is otherwise idle then."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from explorer.app.progress import Progress
from explorer.checker.config import Config
from explorer.checker.executor import Executor, Serial, worth_parallel
from explorer.checker.options import MAX_JOBS, OptionError, errnos_text
from explorer.checker.pool import Pool
from explorer.checker.results import Outcome
from explorer.checker.run import run
from explorer.checker.signals import stopped
from explorer.domain.world import NORMAL, VOLATILE
from explorer.engine.limits import paused_gc
from explorer.render.outdir import OutDir


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
    races: bool = False
    trace: bool = False  # the witness files in their trace form

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
    if job.races:
        raise OptionError("--races: not with --ray (a search by cost is not partitioned)")
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
    if executor is None and jobs > 1 and len(cfg.specs) > 1:
        executor = Pool(jobs, meanwhile=ready_to_write)
    progress = Progress(job.quiet or job.as_json, specs=[s.name for s in cfg.specs])
    try:
        with paused_gc():
            outcome = run(cfg, progress, jobs, executor)
            # The run's objects live until the process ends: frozen, the collector's
            # first pass after the pause does not walk them all.
            gc.freeze()
    except KeyboardInterrupt as exc:
        progress.stop()
        said, code = stopped(exc)
        print(f"explore: {said}", file=sys.stderr, flush=True)
        return code
    finally:
        progress.stop()
    code = outcome.exit_code()
    from explorer.render import report as rep

    files, data = rep.write_outputs(outcome, target, code, kept, job.trace)
    if job.as_json:
        print(json.dumps(data, indent=2))
    else:
        print_outcome(outcome, job, files)
    return code


def ready_to_write() -> None:
    """Load what writing out/ and the terminal need, and compile the page's template:
    the parent's work while its workers search."""
    from explorer.render import report, terminal  # noqa: F401
    from explorer.render.html import page

    page.template()


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
    if cfg.races:
        said.append(f"races, {cfg.threads} thread{'s' if cfg.threads > 1 else ''} per actor")
    return "".join(f"{s}, " for s in said)


def print_outcome(outcome: Outcome, job: Job, files: dict[tuple[str, str, str], list[str]]) -> None:
    """The terminal's account of a run: the matrix, the tables, the notes and the most
    important witnesses, then where the files went."""
    from explorer.render import report as rep
    from explorer.render import terminal

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
    for note in outcome.notes + outcome.searched:
        con.print(f"note: {note}")
    con.print(terminal.coverage_table(outcome))
    for v in terminal.most_important(outcome, job.show):
        con.print()
        con.print(rep.witness_text(cfg.bounds, v, cfg), end="", markup=False)
    n_files = sum(len(f) for f in files.values())
    con.print()
    con.print(
        f"wrote {out}/index.html (the report in one page), {out}/summary.txt, "
        f"{out}/report.json and {n_files} witness files under {out}/",
        end="",
    )
    dots = [p for f in files.values() for p in f if p.endswith((".dot", ".svg"))]
    if dots and not any(p.endswith(".svg") for p in dots):
        con.print(
            f" (no `dot` binary: render with  dot -Tsvg {out}/SPEC/PROP.dot -o PROP.svg)", end=""
        )
    con.print()
    if job.full_graph:
        con.print(
            f"state graphs as DOT in {out}/SPEC/graph.dot, not drawn: dot takes many minutes "
            "on thousands of states; dot -Tsvg -O FILE draws one"
        )
