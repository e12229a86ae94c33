#!/usr/bin/env python3
"""Side by side with Spin: the same world, the same question, two tools.

`bench/spin/errseq.pml` is the project's own Promela model of the `plain` and
`mainline` specs (docs/model.md §1-4; explorer/domain/world.py, explorer/domain/vfs.py, specs/): the
same state fields, events, enabling rules and bounds, one process whose `do` loop
takes any enabled event, each event one `d_step`, a step counter bounding runs to D
events, and the open-before (syncfs) guarantee as an assertion over one duty bit per
fd slot, as explorer.bridge.monitors.OpenBefore.  Models are always built with
`spin -o2` (keep variables Spin's data-flow analysis would call dead) and pan with
`-DNOREDUCE -DSAFETY`: with a single process partial-order reduction has nothing to
reduce (every transition belongs to the one process, none is "safe" to prefer), so
turning it off only removes its bookkeeping and any doubt about what was explored.

Usage:  python bench/spin/run.py              # install spin if missing, check, time
        python bench/spin/run.py --beyond --runs 1   # mounts 3 depth 14, mounts 4 depth 12
        python bench/spin/run.py --check-only
        python bench/spin/run.py --time-only --runs 1 --quick
        python bench/spin/run.py --grid 3:12 --grid 3:14 --spec plain --results R.md

1. Install.  If `spin` is not on PATH: `apt-get install -y spin` (Debian 6.5.2;
   through sudo when not root).  gcc must be present.

2. Count check: Spin's distinct worlds must equal ours.  Spin's state vector holds
   the world *plus* the step counter, the monitor bits and the program counter, so
   like is compared with like, three ways, on every configuration of the grid
   (plain and mainline; mounts 1-3; depths 2-6; fds 2, host fds 0, both mount options;
   the program counter is the same in every stored state, since each event is one
   d_step of the single loop, and the d_step temporaries are zeroed at its end):

   a. worlds.  The model built with STEPS=0 MONITOR=0 has the world alone in its
      state vector; pan -DBFS with -mD expands no state at depth >= D, and a BFS
      reaches each state first at its shortest depth, so "states, stored" is the
      number of distinct worlds within D events: our `bfs(model, D).n_states`.
   b. (world, steps).  The model as timed (a step counter in the state), without
      the monitor, searched depth first: Spin stores each (world, k) with the world
      reachable in exactly k events, k <= D.  Our side counts the same from its
      graph: the sum over k = 0..D of |R_k|, R_0 the initial state and R_k+1 the
      successors of R_k.  (Equal sums for every D mean equal layers.)
   c. product with the monitor.  STEPS=0 MONITOR=1, BFS, -mD, -c0 (do not stop at
      an error): Spin's stored states are the distinct (world, duty bits) within D
      events, its error count the violating transitions explored; ours are the
      `explored` and `violations` of the open-before-syncfs verdict of
      `explore --json`.
   Our side runs without symmetry reduction (`ErrseqModel(symmetry=False)`,
   `explore --no-symmetry`) whenever the installed version has it, since Spin
   stores every permutation.  Any difference is printed and the script exits 1.

3. Timing: open-before (syncfs) for plain and mainline at mounts 2 depth 8, 12, 16
   and mounts 3 depth 10, 12 (fds 2, host fds 0, both mount options).
   - ours: `explore --spec X --property open-before-syncfs --mounts M --depth D
     --quiet --json --out TMP` as a user runs it (the whole graph, then the monitor
     product; witnesses are shortest), once with the tool's defaults (symmetry on,
     if it has it) and once with `--no-symmetry` if that flag exists.
   - Spin: errseq.pml with the step counter and the monitor, `spin -o2 -a`, `gcc -O2
     -DNOREDUCE -DSAFETY -DMEMLIM=16384 [-DBFS]`, `./pan -m(D+10) -wW`.  BFS (the
     main comparison: like ours, its first counterexample is a shortest one) and
     DFS (pan's default: fewer bytes per state, long counterexamples).  Both stop at
     the first assertion violation, as a Spin user would run them.  The hash-table
     size W is fitted by one untimed pilot run (log2 of the states stored, plus 1,
     at least 16), so that pan's memory is not its default 128 MB table.
     A third Spin column, "no counter", builds the model with -DSTEPS=0 and runs
     pan -DBFS with -mD: pan's depth bound replaces the step counter, so pan stores
     (world, duty bits) only, the same states as our product without symmetry (the
     count check c proves it).  That is what a Spin expert would do to cut states;
     the issue's model (with the counter) stays the main comparison.
   Each timed run is a fresh process; Spin's wall time includes `spin -a` and gcc
   (shown apart too), ours includes Python's start-up and imports (the report's own
   `seconds`, search and check only, shown apart too).  Medians of --runs runs (default 3), fewer when a run takes
   over a minute; a run of ours over --timeout seconds (default 180) is killed and
   recorded as "> 180 s".  Memory is the peak RSS of the explore or pan process
   (os.wait4).  "ratio" = our wall time / Spin's (compile included): below 1 we
   are faster.  The markdown table is printed and written to bench/spin/results.md
   (or --results), with the machine and the tool versions.

Generated pan.c and pan binaries live in temporary directories only.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PML = HERE / "errseq.pml"
SPEC_IDS = {"plain": 0, "mainline": 1}
PROPERTY = "open-before-syncfs"
FDS, HOST_FDS = 2, 0
CHECK_GRID = [(m, d) for m in (1, 2) for d in range(2, 7)] + [(3, 4), (3, 6)]
TIME_GRID = [(2, 8), (2, 12), (2, 16), (3, 10), (3, 12)]
# --beyond: past the grid, where symmetry has more to give (minutes; one run)
BEYOND_GRID = [(3, 14), (4, 12)]
CHECK_CFLAGS = ["-O0", "-DNOREDUCE", "-DSAFETY", "-DMEMLIM=16384"]
TIME_CFLAGS = ["-O2", "-DNOREDUCE", "-DSAFETY", "-DMEMLIM=16384"]


# --- processes ------------------------------------------------------------------------


@dataclasses.dataclass
class Proc:
    rc: int
    wall: float
    rss_mb: float
    out: str
    timed_out: bool = False
    cpu: float = 0.0  # user + system seconds of the child


def measure(cmd: list[str], cwd: Path | None = None, timeout: float | None = None) -> Proc:
    """Run `cmd`; wall time, peak RSS (this child only, via wait4) and its output."""
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        timed_out = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - t0 > timeout:
                os.killpg(p.pid, signal.SIGKILL)  # the group of the child we started
                pid, status, ru = os.wait4(p.pid, 0)
                timed_out = True
                break
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        cpu = ru.ru_utime + ru.ru_stime
        return Proc(p.returncode, wall, ru.ru_maxrss / 1024, out.read(), timed_out, cpu)


def run_ok(cmd: list[str], cwd: Path | None = None) -> Proc:
    r = measure(cmd, cwd)
    if r.rc != 0:
        sys.exit(f"command failed ({r.rc}): {' '.join(cmd)}\n{r.out[-3000:]}")
    return r


# --- Spin -------------------------------------------------------------------------------


def ensure_spin() -> str:
    """The `spin -V` line; installs Debian's spin if it is missing."""
    if shutil.which("spin") is None:
        cmd = ["apt-get", "install", "-y", "spin"]
        if os.geteuid() != 0 and shutil.which("sudo"):
            cmd = ["sudo", "-n", *cmd]
        print(f"spin not found: {' '.join(cmd)}", file=sys.stderr)
        r = measure(cmd)
        if r.rc != 0 or shutil.which("spin") is None:
            sys.exit(f"could not install spin (rc {r.rc}):\n{r.out[-2000:]}")
    if shutil.which("gcc") is None:
        sys.exit("gcc is needed to compile Spin's verifier")
    return subprocess.run(["spin", "-V"], capture_output=True, text=True).stdout.strip()


@dataclasses.dataclass
class Build:
    pan: Path
    spin_s: float
    gcc_s: float
    cpu: float

    @property
    def compile_s(self) -> float:
        return self.spin_s + self.gcc_s


def build(
    tmp: Path,
    spec: str,
    mounts: int,
    depth: int,
    *,
    steps: bool,
    monitor: bool,
    bfs: bool,
    cflags: list[str],
) -> Build:
    """spin -o2 -a, then gcc, in `tmp`; the model is copied there first."""
    shutil.copy(PML, tmp / "errseq.pml")
    defs = [
        f"-DM={mounts}",
        f"-DF={FDS}",
        f"-DHF={HOST_FDS}",
        f"-DD={depth}",
        f"-DSPEC={SPEC_IDS[spec]}",
        f"-DSTEPS={int(steps)}",
        f"-DMONITOR={int(monitor)}",
    ]
    s = run_ok(["spin", "-o2", *defs, "-a", "errseq.pml"], cwd=tmp)
    g = run_ok(["gcc", *cflags, *(["-DBFS"] if bfs else []), "-o", "pan", "pan.c"], cwd=tmp)
    return Build(tmp / "pan", s.wall, g.wall, s.cpu + g.cpu)


@dataclasses.dataclass
class PanResult:
    stored: int
    errors: int
    first_error_len: int | None  # events in the first counterexample
    vector: int
    run: Proc


def run_pan(b: Build, args: list[str], timeout: float | None = None) -> PanResult:
    r = measure([str(b.pan), *args], cwd=b.pan.parent, timeout=timeout)
    if r.timed_out:
        return PanResult(-1, -1, None, -1, r)
    stored = re.search(r"^\s*(\d+) states, stored", r.out, re.M)
    errors = re.search(r"errors: (\d+)", r.out)
    vector = re.search(r"State-vector (\d+) byte", r.out)
    first = re.search(r"assertion violated .*\(at depth (\d+)\)", r.out)
    if not (stored and errors and vector):
        sys.exit(f"unexpected pan output:\n{r.out[-3000:]}")
    return PanResult(
        int(stored.group(1)),
        int(errors.group(1)),
        # "at depth N": N events before the violating one (whose d_step fired the assert)
        int(first.group(1)) + 1 if first else None,
        int(vector.group(1)),
        r,
    )


# --- our side ---------------------------------------------------------------------------


# This interpreter's explorer, not whatever `explore` PATH finds first: a pyenv shim
# alone adds 0.07 s to every run.
EXPLORE = [sys.executable, "-m", "explorer.app.cli"]


def explore_flags() -> set[str]:
    out = subprocess.run([*EXPLORE, "--help"], capture_output=True, text=True).stdout
    return set(re.findall(r"--[a-z][a-z-]+", out))


def no_symmetry_args(flags: set[str]) -> list[str]:
    return ["--no-symmetry"] if "--no-symmetry" in flags else []


def explore_cmd(spec: str, mounts: int, depth: int, out: Path, extra: list[str]) -> list[str]:
    return [
        *EXPLORE,
        "--spec",
        spec,
        "--property",
        PROPERTY,
        "--mounts",
        str(mounts),
        "--depth",
        str(depth),
        "--fds",
        str(FDS),
        "--host-fds",
        str(HOST_FDS),
        "--mount-options",
        "both",
        "--quiet",
        "--json",
        "--out",
        str(out),
        *extra,
    ]


def parse_report(text: str) -> dict:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(text[text.index("{") : text.rindex("}") + 1])


@dataclasses.dataclass
class OurResult:
    states: int
    seconds: float  # the report's own figure: search + check, without start-up
    holds: bool
    length: int | None
    explored: int
    violations: int
    run: Proc


def run_ours(spec: str, mounts: int, depth: int, extra: list[str], timeout: float) -> OurResult:
    with tempfile.TemporaryDirectory(prefix="errseq-bench-") as tmp:
        r = measure(explore_cmd(spec, mounts, depth, Path(tmp) / "out", extra), timeout=timeout)
        # What the search stored and the run's own seconds are in timings.json
        # (report.json says what the runs are, the same however they were searched).
        path = Path(tmp) / "out" / "timings.json"
        timings = json.loads(path.read_text()) if path.exists() else None
    if r.timed_out or timings is None:
        return OurResult(-1, -1.0, False, None, -1, -1, r)
    if r.rc not in (0, 1):
        sys.exit(f"explore failed ({r.rc}):\n{r.out[-3000:]}")
    rep = parse_report(r.out)
    v = next(v for v in rep["verdicts"] if v["spec"] == spec and v["property"] == PROPERTY)
    effort = next(e for e in timings["verdicts"] if e["spec"] == spec and e["property"] == PROPERTY)
    return OurResult(
        timings["specs"][spec]["states"],
        timings["specs"][spec]["seconds"],
        bool(v["holds"]),
        v.get("length"),
        effort["explored"],
        effort["violations"],
        r,
    )


def our_graph_counts(spec: str, mounts: int, depth: int) -> tuple[int, int]:
    """(distinct worlds within `depth`, sum over k <= depth of |worlds at exactly k|)."""
    from explorer.bridge.model import ErrseqModel
    from explorer.domain.catalog import load_spec
    from explorer.domain.world import Bounds
    from explorer.engine.search import bfs

    kwargs = {}
    if "symmetry" in inspect.signature(ErrseqModel).parameters:
        kwargs["symmetry"] = False
    model = ErrseqModel(
        load_spec(spec), Bounds(mounts=mounts, fds=FDS, host_fds=HOST_FDS), **kwargs
    )
    ex = bfs(model, depth)
    layer = {sid for sid, d in enumerate(ex.depth) if d == 0}
    total = len(layer)
    for _ in range(depth):
        layer = {ex.dst[e] for sid in layer for e in ex.out_edges(sid)}
        total += len(layer)
    return ex.n_states, total


# --- 2. the count check -------------------------------------------------------------


def count_check(grid: list[tuple[int, int]], flags: set[str]) -> tuple[bool, list[str]]:
    rows = [
        "| spec | mounts | depth | worlds: Spin / ours | (world, steps): Spin / ours "
        "| (world, duty): Spin / ours | violations: Spin / ours | equal |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    all_equal = True
    nosym = no_symmetry_args(flags)
    for spec in SPEC_IDS:
        for mounts in sorted({m for m, _ in grid}):
            depths = [d for m, d in grid if m == mounts]
            with tempfile.TemporaryDirectory(prefix="errseq-spin-") as t:
                tw, tp = Path(t) / "w", Path(t) / "p"
                tw.mkdir()
                tp.mkdir()
                bw = build(
                    tw, spec, mounts, 0, steps=False, monitor=False, bfs=True, cflags=CHECK_CFLAGS
                )
                bp = build(
                    tp, spec, mounts, 0, steps=False, monitor=True, bfs=True, cflags=CHECK_CFLAGS
                )
                for depth in depths:
                    tl = Path(t) / f"l{depth}"
                    tl.mkdir()
                    bl = build(
                        tl,
                        spec,
                        mounts,
                        depth,
                        steps=True,
                        monitor=False,
                        bfs=False,
                        cflags=CHECK_CFLAGS,
                    )
                    sw = run_pan(bw, [f"-m{depth}"])
                    sl = run_pan(bl, [f"-m{depth + 10}"])
                    sp = run_pan(bp, [f"-m{depth}", "-c0"])
                    worlds, layered = our_graph_counts(spec, mounts, depth)
                    with tempfile.TemporaryDirectory(prefix="errseq-bench-") as o:
                        r = measure(explore_cmd(spec, mounts, depth, Path(o) / "out", nosym))
                        if r.rc not in (0, 1):
                            sys.exit(f"explore failed ({r.rc}):\n{r.out[-3000:]}")
                        # The counts are the run's effort: timings.json, as in `run_ours`.
                        timings = json.loads((Path(o) / "out" / "timings.json").read_text())
                    v = next(v for v in timings["verdicts"] if v["property"] == PROPERTY)
                    pairs = [
                        (sw.stored, worlds),
                        (sl.stored, layered),
                        (sp.stored, v["explored"]),
                        (sp.errors, v["violations"]),
                    ]
                    ok = all(a == b for a, b in pairs)
                    all_equal &= ok
                    cells = " | ".join(f"{a} / {b}" for a, b in pairs)
                    rows.append(
                        f"| {spec} | {mounts} | {depth} | {cells} | {'yes' if ok else '**NO**'} |"
                    )
                    print(rows[-1], flush=True)
    return all_equal, rows


# --- 3. timing -----------------------------------------------------------------------------


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def fmt_s(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def time_ours(spec, mounts, depth, extra, runs, timeout) -> dict:
    results: list[OurResult] = []
    for _ in range(runs):
        r = run_ours(spec, mounts, depth, extra, timeout)
        if r.run.timed_out:
            return {"timeout": timeout}
        results.append(r)
        if r.run.wall > 60:
            break
    last = results[-1]
    return {
        "wall": med([r.run.wall for r in results]),
        "inner": med([r.seconds for r in results]),
        "cpu": med([r.run.cpu for r in results]),
        "rss": med([r.run.rss_mb for r in results]),
        "states": last.states,
        "holds": last.holds,
        "length": last.length,
        "runs": len(results),
    }


def time_spin(spec, mounts, depth, bfs, runs, steps=True) -> dict:
    """One untimed pilot (fits -w), then `runs` fresh builds + runs."""
    pan_args = [f"-m{depth + 10}" if steps else f"-m{depth}"]
    with tempfile.TemporaryDirectory(prefix="errseq-spin-") as t:
        b = build(
            Path(t), spec, mounts, depth, steps=steps, monitor=True, bfs=bfs, cflags=TIME_CFLAGS
        )
        pilot = run_pan(b, [*pan_args, "-w24"])
    w = max(16, math.ceil(math.log2(max(pilot.stored, 2))) + 1)
    pan_args.append(f"-w{w}")
    totals, compiles, pans, rss, cpus, res = [], [], [], [], [], None
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="errseq-spin-") as t:
            b = build(
                Path(t), spec, mounts, depth, steps=steps, monitor=True, bfs=bfs, cflags=TIME_CFLAGS
            )
            res = run_pan(b, pan_args)
        compiles.append(b.compile_s)
        pans.append(res.run.wall)
        totals.append(b.compile_s + res.run.wall)
        rss.append(res.run.rss_mb)
        cpus.append(b.cpu + res.run.cpu)
        if totals[-1] > 60:
            break
    assert res is not None
    return {
        "wall": med(totals),
        "compile": med(compiles),
        "pan": med(pans),
        "rss": med(rss),
        "cpu": med(cpus),
        "states": res.stored,
        "holds": res.errors == 0,
        "length": res.first_error_len,
        "vector": res.vector,
        "w": w,
        "runs": len(totals),
    }


def verdict(r: dict) -> str:
    if "timeout" in r:
        return "?"
    return "holds" if r["holds"] else f"violated ({r['length']})"


def timing(grid, runs, timeout, flags, specs) -> list[str]:
    nosym = no_symmetry_args(flags)
    head = (
        "| spec | M | D | verdict (witness length) | ours s (in-tool) | cpu s | states | MB "
        + ("| --no-symmetry s (in-tool) | cpu s | states | MB " if nosym else "")
        + "| Spin BFS s (compile) | cpu s | states | MB | Spin DFS s (compile) | cpu s | states "
        "| MB | Spin BFS no counter s (compile) | cpu s | states | MB | ours/BFS wall "
        "| ours/BFS cpu | ours/DFS wall | ours/no-counter wall | ours/no-counter cpu | load |"
    )
    rows = [head, "|" + " --- |" * (head.count("|") - 1)]
    for spec in specs:
        for mounts, depth in grid:
            ours = time_ours(spec, mounts, depth, [], runs, timeout)
            plain = time_ours(spec, mounts, depth, nosym, runs, timeout) if nosym else None
            sb = time_spin(spec, mounts, depth, True, runs)
            sd = time_spin(spec, mounts, depth, False, runs)
            sn = time_spin(spec, mounts, depth, True, runs, steps=False)

            def our_cells(r: dict) -> str:
                if "timeout" in r:
                    return f"> {r['timeout']:.0f} | ? | ? | ?"
                return (
                    f"{fmt_s(r['wall'])} ({fmt_s(r['inner'])}) | {fmt_s(r['cpu'])} "
                    f"| {r['states']} | {r['rss']:.0f}"
                )

            def spin_cells(r: dict) -> str:
                return (
                    f"{fmt_s(r['wall'])} ({fmt_s(r['compile'])}) | {fmt_s(r['cpu'])} "
                    f"| {r['states']} | {r['rss']:.0f}"
                )

            def ratio(a: dict, b: dict, key: str = "wall") -> str:
                if "timeout" in a:
                    return f"> {a['timeout'] / b[key]:.1f}"
                return f"{a[key] / b[key]:.2f}"

            verdicts = {
                verdict(sb),
                *(verdict(r) for r in (ours, plain) if r and "timeout" not in r),
            }
            vcell = " / ".join(sorted(verdicts))
            if sn["holds"] != sb["holds"] or sn["length"] != sb["length"]:
                vcell += " (BFS without counter disagrees!)"
            if sd["holds"] != sb["holds"]:
                vcell += " (DFS disagrees!)"
            elif not sd["holds"]:
                vcell += f"; DFS {sd['length']}"
            cells = [spec, str(mounts), str(depth), vcell, our_cells(ours)]
            if plain is not None:
                cells.append(our_cells(plain))
            cells += [
                spin_cells(sb),
                spin_cells(sd),
                spin_cells(sn),
                ratio(ours, sb),
                ratio(ours, sb, "cpu"),
                ratio(ours, sd),
                ratio(ours, sn),
                ratio(ours, sn, "cpu"),
                f"{os.getloadavg()[0]:.1f}",
            ]
            rows.append("| " + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
    return rows


# --- main ----------------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[
        0
    ]
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return [
        f"- machine: {os.cpu_count()} CPUs ({cpu}), {int(mem) // 1024 // 1024} GB RAM, {platform.platform()}",
        f"- Python {platform.python_version()}; {gcc}",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check-only", action="store_true", help="only the count check")
    ap.add_argument("--time-only", action="store_true", help="only the timing")
    ap.add_argument("--quick", action="store_true", help="small grids (smoke test)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool (median)")
    ap.add_argument("--timeout", type=float, default=180.0, help="give up on our run after this")
    ap.add_argument("--beyond", action="store_true", help=f"time {BEYOND_GRID} only")
    ap.add_argument("--results", type=Path, help="markdown output (default: results.md)")
    ap.add_argument(
        "--grid", action="append", metavar="M:D", help="time these bounds only (repeatable)"
    )
    ap.add_argument("--spec", action="append", choices=list(SPEC_IDS), help="time these only")
    a = ap.parse_args()
    if a.beyond or a.grid:
        a.time_only = True
    if a.results is None:
        name = "results-beyond.md" if a.beyond else "results-grid.md" if a.grid else "results.md"
        a.results = HERE / name

    spin_version = ensure_spin()
    flags = explore_flags()
    lines = [
        "# errseq-explorer vs Spin: open-before (syncfs), plain and mainline",
        "",
        f"Produced by `python bench/spin/run.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`"
        f" on {time.strftime('%Y-%m-%d %H:%M')}; the method is in that script's docstring.",
        "",
        *machine(),
        f"- {spin_version}; explore flags used: {' '.join(no_symmetry_args(flags)) or '(no --no-symmetry flag)'} for counts",
        "",
    ]
    status = 0
    if not a.time_only:
        grid = [(1, 2), (2, 4)] if a.quick else CHECK_GRID
        print("## Count check: Spin vs ours (fds 2, host fds 0, both mount options)", flush=True)
        ok, rows = count_check(grid, flags)
        lines += ["## Count check (fds 2, host fds 0, both mount options)", "", *rows, ""]
        lines.append("All counts equal." if ok else "**Counts differ: one model is wrong.**")
        lines.append("")
        print("all counts equal" if ok else "COUNTS DIFFER", flush=True)
        status = 0 if ok else 1
    if not a.check_only:
        grid = [(2, 8)] if a.quick else BEYOND_GRID if a.beyond else TIME_GRID
        if a.grid:
            grid = [(int(m), int(d)) for m, d in (g.split(":") for g in a.grid)]
        print("## Timing: open-before (syncfs)", flush=True)
        rows = timing(grid, a.runs, a.timeout, flags, a.spec or list(SPEC_IDS))
        lines += [
            f"## Timing: open-before (syncfs), medians of up to {a.runs} runs",
            "",
            "Seconds are wall time; Spin's include `spin -a` + gcc -O2 (the figure in "
            "parentheses), ours include Python start-up (the report's own `seconds`, search and "
            "check, in parentheses).  cpu s is user + system time of the processes (for Spin: "
            "spin, gcc and pan), steadier than wall time on a shared machine; load is the "
            "1-minute load average when the row finished.  MB is the peak RSS of `explore` or "
            "`pan`.  Ours: `explore --spec S --property open-before-syncfs --mounts M --depth D "
            "--quiet --json --out TMP` (defaults, then `--no-symmetry` if it exists).  Spin: "
            "`spin -o2 -DM=M -DD=D -DSPEC=0|1 -a errseq.pml; gcc -O2 -DNOREDUCE -DSAFETY "
            "-DMEMLIM=16384 [-DBFS] -o pan pan.c; ./pan -m(D+10) -wW`.  Spin's states are "
            "(world, step counter, duty bits); ours are distinct worlds (one per symmetry class "
            "unless --no-symmetry).  Both Spin searches stop at the first violation, BFS's "
            "being a shortest one; ours explores every state and reports a shortest witness.  "
            "'no counter': the same model built with -DSTEPS=0 and searched by BFS with "
            "`./pan -mD`: pan's own depth bound replaces the counter, so it stores (world, duty "
            "bits) only, exactly our product without symmetry (count check c); a Spin "
            "expert's choice, not the model the issue asks for.",
            "",
            *rows,
            "",
        ]
    a.results.write_text("\n".join(lines))
    print(f"wrote {a.results}")
    return status


if __name__ == "__main__":
    sys.exit(main())
