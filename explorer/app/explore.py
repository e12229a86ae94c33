"""The main job (`explore --mounts 2 --depth 8`): validate options, run, print, write out/."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from explorer.app.options import (
    OptionError,
    errnos_text,
    parse_counter_bits,
    parse_options,
    user_properties,
)
from explorer.app.outcome import Config
from explorer.app.runner import Execute, run, worth_parallel
from explorer.domain.catalog import load_spec, load_specs
from explorer.domain.world import Bounds
from explorer.engine.limits import SearchLimit, default_memory_limit
from explorer.render import report as rep
from explorer.render import terminal
from explorer.render.outdir import OutDir

#: Seconds between progress lines when stderr is not a terminal (a CI log); the
#: environment variable EXPLORE_PROGRESS_SECONDS (not an option: tests) shortens it.
PROGRESS_SECONDS = 5.0

#: Exit code of a run ended by Ctrl-C (128 + SIGINT, what a shell reports).
INTERRUPTED = 130


@contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """Ctrl-C waits until the block is done, then is raised as usual.  rich's status line
    interrupted halfway through its start hides the cursor and then cannot be stopped
    (an IndexError from its render hooks, shown as a traceback)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            signal.raise_signal(signal.SIGINT)


def progress_seconds() -> float:
    try:
        return max(0.05, float(os.environ.get("EXPLORE_PROGRESS_SECONDS", PROGRESS_SECONDS)))
    except ValueError:
        return PROGRESS_SECONDS


class Progress:
    """How far the run is, on stderr: the search under way (or, in a parallel run, the
    tasks done so far) and the time spent.  (A rate would mislead: the states are one
    search's, the time the run's.)

    On a terminal it is rich's status line, once the run has taken a second.  Elsewhere
    (a CI log) it is a plain line every few seconds, each standing alone, printed by a
    timer thread: the checks after a search report nothing, and a log that stays silent
    for minutes looks like a hung job."""

    def __init__(
        self, quiet: bool, stream: TextIO | None = None, specs: list[str] | None = None
    ) -> None:
        self.quiet = quiet
        self.specs = specs or []  # the run's specs, in the order a one-process run checks them
        self.stream = stream if stream is not None else sys.stderr
        self.t0 = time.perf_counter()
        self.status = None
        self.last = ("", 0, 0, 0)
        self.plain = not self.stream.isatty()
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None

    def text(self) -> str:
        elapsed = f"{time.perf_counter() - self.t0:,.0f} s so far"
        what, depth, states, edges = self.last
        if what in self.specs:
            what += f", spec {self.specs.index(what) + 1} of {len(self.specs)}"
        counts = f"{states:,} states, {edges:,} transitions, " if states else ""
        return f"{what}: depth {depth}, {counts}{elapsed}"

    def __call__(self, spec: str, depth: int, states: int, edges: int) -> None:
        if self.quiet:
            return
        self.last = (spec, depth, states, edges)
        if self.plain:
            # Started on the first report, not before: a parallel run forks its workers
            # first, and a thread alive at a fork may hold a lock the child then needs.
            if self._ticker is None and not self._stopped.is_set():
                self._ticker = threading.Thread(
                    target=self._tick, args=(progress_seconds(),), name="progress", daemon=True
                )
                self._ticker.start()
            return
        if time.perf_counter() - self.t0 < 1.0:
            return
        with ctrl_c_deferred():
            if self.status is None:
                self.status = terminal.console(stderr=True).status(self.text())
                self.status.start()
            else:
                self.status.update(self.text())

    def _tick(self, seconds: float) -> None:
        while not self._stopped.wait(seconds):
            try:
                print(f"explore: {self.text()}", file=self.stream, flush=True)
            except (OSError, ValueError):  # stderr closed: nobody to tell
                return

    def stop(self) -> None:
        """End the progress display; safe to call twice.  Stopping the status line shows
        the terminal's cursor again, however the run ended (Ctrl-C included)."""
        self._stopped.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1.0)
        if self.status is not None:
            status, self.status = self.status, None
            with ctrl_c_deferred():
                status.stop()


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


def worth_symmetry(bounds: Bounds, depth: int) -> bool:
    """Symmetry pays once graphs are big; below that one exploration per spec is cheaper
    (isolation needs the full graph anyway, so a reduced one would be a second search)."""
    return bounds.mounts >= 3 or depth >= 10 or bounds.fds >= 3 or bounds.host_fds >= 2


def on_ray(address: str | None, partitions: int | None, full_graph: bool) -> Execute | None:
    """The executor of `--ray` (None without it); ray is imported only here."""
    if address is None:
        if partitions is not None:
            raise OptionError("--partitions needs --ray (the partitions are Ray actors)")
        return None
    if partitions is not None and partitions < 1:
        raise OptionError(f"--partitions {partitions}: give 1 or more")
    if full_graph:
        raise OptionError("--full-graph needs every spec's whole graph in this process: drop --ray")
    from explorer.scale.cluster import connect, cpus
    from explorer.scale.execute import executor

    ray = connect(address)
    return executor(ray, partitions or cpus(ray))


def main_job(
    *,
    mounts: int,
    depth: int,
    fds: int,
    host_fds: int,
    mount_options: str,
    specs: list[str] | None,
    props: list[str] | None,
    against: str,
    containers: list[str] | None,
    allow: list[str] | None,
    out: Path,
    as_json: bool,
    quiet: bool,
    full_graph: bool,
    show: int,
    max_states: int | None,
    symmetry: bool | None = None,
    max_memory: float | None = None,
    jobs: int = 0,
    isolation_budget: int | None = None,
    errnos: str = "EIO",
    host_files: str = "own",
    counter_bits: int | None = None,
    ray: str | None = None,
    partitions: int | None = None,
) -> int:
    bounds, options, props_t, viewers, allowed = parse_options(
        mounts, depth, fds, host_fds, mount_options, props, containers, allow, errnos, host_files
    )
    bits = parse_counter_bits(counter_bits)
    users = user_properties(props)
    props_t += tuple(users)
    cfg = Config(
        bounds,
        depth,
        options,
        [s.with_counter_bits(bits) for s in load_specs(specs)],
        props_t,
        against=load_spec(against).with_counter_bits(bits) if "agreement" in props_t else None,
        viewers=viewers,
        allow=allowed,
        max_states=max_states,
        symmetry=worth_symmetry(bounds, depth) if symmetry is None else symmetry,
        max_bytes=int(max_memory * 2**30) if max_memory else default_memory_limit(),
        isolation_budget=isolation_budget or None,
        counter_bits=bits,
        user_properties=users,
    )
    execute = on_ray(ray, partitions, full_graph)
    target = OutDir.claim(out)  # before the search: a folder it cannot use is bad input
    cfg.costs = target.last_seconds()
    progress = Progress(quiet or as_json, specs=[s.name for s in cfg.specs])
    try:
        if jobs == 0:
            jobs = min(2, os.cpu_count() or 1) if worth_parallel(cfg) else 1
        outcome = run(cfg, progress, 1 if full_graph else jobs, execute)
    except SearchLimit as exc:
        raise ValueError(str(exc)) from None
    except KeyboardInterrupt:
        progress.stop()
        print("explore: interrupted", file=sys.stderr, flush=True)
        return INTERRUPTED
    finally:
        progress.stop()
    code = outcome.exit_code()
    files, data = rep.write_outputs(outcome, target, full_graph, code, max_memory or None)
    if as_json:
        print(json.dumps(data, indent=2))
        return code
    con = terminal.console()
    opts = "+".join(
        n for n in ("normal", "volatile") if n == mount_options or mount_options == "both"
    )
    con.print(
        f"errseq-explorer: {mounts} container{'s' if mounts > 1 else ''}, {fds} fd{'s' if fds > 1 else ''} each, "
        f"{host_fds} host fd{'s' if host_fds != 1 else ''}, depth {depth}, {opts} mounts, "
        f"{model_options(cfg)}"
        f"{len(cfg.specs)} spec{'s' if len(cfg.specs) > 1 else ''} in {outcome.seconds:.2f}s"
    )
    con.print(terminal.matrix(outcome))
    table = terminal.interference(outcome)
    if table is not None:
        con.print(table)
        if allowed:
            con.print(
                f"* allowed by --allow {' --allow '.join(sorted(allowed))}: not counted as violations"
            )
    for note in outcome.notes:
        con.print(f"note: {note}")
    con.print(terminal.coverage_table(outcome))
    for v in terminal.most_important(outcome, show):
        con.print()
        con.print(rep.witness_text(bounds, v), end="", markup=False)
    n_files = sum(len(f) for f in files.values())
    con.print()
    con.print(f"wrote {out}/report.json and {n_files} witness files under {out}/", end="")
    if not any(p.endswith(".svg") for f in files.values() for p in f) and files:
        con.print(
            f" (no `dot` binary: render with  dot -Tsvg {out}/SPEC/PROP.dot -o PROP.svg)", end=""
        )
    con.print()
    if full_graph:
        con.print(
            f"state graphs as DOT in {out}/SPEC/graph.dot, not drawn: dot takes many minutes "
            "on thousands of states; dot -Tsvg -O FILE draws one"
        )
    return code
