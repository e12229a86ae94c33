"""Where one `explore` command's time goes, phase by phase, in one process (not a test).

    python bench/profile_main_job.py                       # the main job, -j 1
    python bench/profile_main_job.py -- --mounts 3 --depth 10 --host-fds 0

Runs the command in this process with `--jobs 1` (so that every phase is timed where
it runs; with `--jobs 2` only the parent's phases are seen), after timing the imports
of `explorer.app.cli`, and wraps the functions that make up a run with timers: the search,
each check and the parts of isolation, the writing of out/ (texts, DOT, the one `dot`
process for the SVGs, report.json) and the terminal.  A wrapped function called from
inside another wrapped one is counted in both (the table shows the nesting by
indentation, inner phases below their caller).  Prints markdown.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

T0 = time.perf_counter()

import explorer.app.cli as cli  # noqa: E402

T_IMPORT = time.perf_counter() - T0

from explorer.app import job  # noqa: E402
from explorer.checker import sites  # noqa: E402
from explorer.engine.properties import agreement, isolation, safety  # noqa: E402
from explorer.engine.properties.isolation import assemble  # noqa: E402
from explorer.render import dot, report, terminal  # noqa: E402

# (label, module holding the name the caller looks up, attribute, depth of nesting)
PHASES = [
    ("run (explore and check)", job, "run", 0),
    ("search (reduced or full)", sites, "bfs", 1),
    ("search (full, for isolation)", isolation, "full_graph", 1),
    ("coverage", sites, "coverage", 1),
    ("open-before-syncfs", safety, "check", 1),
    ("open-before-fsync", safety, "check", 1),
    ("no-loss", safety, "check", 1),
    ("agreement", agreement, "check", 1),
    ("isolation (all of it)", isolation, "check", 1),
    ("isolation: split", assemble, "split_graph", 2),
    ("isolation: exact check", assemble.METHODS, "subset", 2),
    ("isolation: removal search", assemble, "removal_search", 2),
    ("write out/", report, "write_outputs", 0),
    ("witness texts", report, "witness_text", 1),
    ("witness pictures (DOT built)", report, "witness_picture", 1),
    ("dot: waiting for its one process", dot.Drawing, "wait", 1),
    ("report.json built", report, "report", 1),
    ("terminal: matrix, tables", terminal, "matrix", 0),
    ("terminal: coverage", terminal, "coverage_table", 0),
]

SAFETY_CHECK = safety.check
spent: dict[str, float] = defaultdict(float)
calls: dict[str, int] = defaultdict(int)


def wrap(label: str, mod: object, attr: str) -> None:
    get = mod.get if isinstance(mod, dict) else lambda k: getattr(mod, k)
    f = get(attr)
    if getattr(f, "wrapped", False):
        return  # one monitor label wraps safety.check for all three

    def timed(*a, **k):
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            # safety.check is one function for three monitors: label by the monitor's name
            name = a[1].name if f is SAFETY_CHECK else label
            spent[name] += time.perf_counter() - t
            calls[name] += 1

    timed.wrapped = True  # type: ignore[attr-defined]
    if isinstance(mod, dict):
        mod[attr] = timed
    else:
        setattr(mod, attr, timed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("args", nargs="*", help="explore's options (after --)")
    ap.add_argument("--jobs", default="1", help="explore's --jobs (1: every phase timed)")
    opts = ap.parse_args()
    args = opts.args or ["--mounts", "2", "--depth", "8"]
    for label, mod, attr, _ in PHASES:
        wrap(label, mod, attr)
    with tempfile.TemporaryDirectory() as out:
        argv = ["explore", *args, "--quiet", "--jobs", opts.jobs, "--out", out]
        sys.argv = argv
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the terminal's text: timed, not shown
        t = time.perf_counter()
        try:
            cli.app(args=argv[1:], prog_name="explore", standalone_mode=False)
        except SystemExit:
            pass
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
        command = time.perf_counter() - t
    print(f"`explore {' '.join(args)} --quiet --jobs {opts.jobs}`\n")
    print("| phase | s | calls |\n|---|--:|--:|")
    print(f"| imports of explorer.app.cli (typer, rich, ...) | {T_IMPORT:.3f} | 1 |")
    print(f"| the command, after imports | {command:.3f} | 1 |")
    for label, _, _, depth in PHASES:
        if calls[label]:
            pad = "&nbsp;&nbsp;" * depth
            print(f"| {pad}{label} | {spent[label]:.3f} | {calls[label]} |")


if __name__ == "__main__":
    main()
