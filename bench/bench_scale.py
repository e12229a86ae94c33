"""The issue's scale table, as the user runs the commands: whole processes, wall time.

    python bench/bench_scale.py --before REV          # the table of docs/performance.md
    python bench/bench_scale.py --skip-large          # the main job only
    python bench/bench_scale.py --before REV --runs 9 --large-runs 3

Rows (targets of the performance issue):

1. `explore --mounts 2 --depth 8`, the main job (one host fd by default): --runs runs,
   median, into a fresh out/ and then rerun into an out/ it wrote before; with
   --before, the same command at REV in turn with this checkout (A B A B ...), so that
   a drift of the machine hits both alike, and the ratio taken pair by pair.
2. `explore --mounts 3 --depth 12 --host-fds 0` (all specs, all properties):
   --large-runs runs, alternated with REV likewise.
3. `explore --mounts 4 --depth 14 --host-fds 0`: once, this checkout only (REV stops at
   the memory guard after minutes and some 17 GiB); from its report.json, how deep
   isolation was decided per spec and whether every other verdict was decided at 14.
4. open-before-syncfs, plain, against Spin's BFS (compile included): the ratio of
   `bench/spin/run.py --time-only --spec plain --grid 3:12 --grid 3:14 --grid 4:12`
   (needs spin and gcc; skipped with the reason when missing).

REV is extracted with `git archive` into a temporary folder and run with this
interpreter (PYTHONPATH), so both sides share Python and libraries.  Each run is a
fresh process with out/ in a temporary folder, timed from fork to exit; memory is the
largest resident set of the command and the workers it reaped (wait4).  Prints
markdown, with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trees import EXPLORE, HERE, env, extract

MAIN_JOB = ["--mounts", "2", "--depth", "8"]
M3D12 = ["--mounts", "3", "--depth", "12", "--host-fds", "0"]
M4D14 = ["--mounts", "4", "--depth", "14", "--host-fds", "0"]


def timed(
    tree: Path, args: list[str], keep: Path | None = None, into: Path | None = None
) -> tuple[float, float, int]:
    """(wall seconds, peak MiB of the command and its workers, exit code) of one run;
    `keep`: a folder to copy report.json into; `into`: the out/ folder to write (a run
    before wrote it: a rerun), else a fresh one."""
    with tempfile.TemporaryDirectory() as fresh:
        out = str(into) if into is not None else fresh
        t = time.perf_counter()
        proc = subprocess.Popen(
            [*EXPLORE, *args, "--quiet", "--out", out],
            stdout=subprocess.DEVNULL,
            env=env(tree),
            cwd=tree,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        if keep is not None:
            shutil.copy(Path(out, "report.json"), keep / "report.json")
    # wait4's ru_maxrss is the larger of the command's own peak and its reaped workers'.
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def paired(
    before: Path | None, args: list[str], runs: int, rerun: Path | None = None
) -> tuple[list, list]:
    """`runs` runs of this checkout, each after one of `before` when given (A B A B);
    with `rerun` (a scratch folder), each side writes into its own out/ folder, which
    one run not counted wrote first (as a user reruns the command)."""
    a: list = []
    b: list = []
    outs: dict[Path, Path | None] = {HERE: None}
    if before is not None:
        outs[before] = None
    if rerun is not None:
        for k, tree in enumerate(outs):
            outs[tree] = rerun / f"out{k}"
            timed(tree, args, into=outs[tree])
    for _ in range(runs):
        if before is not None:
            b.append(timed(before, args, into=outs[before]))
        a.append(timed(HERE, args, into=outs[HERE]))
    return a, b


def cell(results: list) -> str:
    if not results:
        return "-"
    walls = [w for w, _, _ in results]
    peak = max(m for _, m, _ in results)
    return (
        f"{statistics.median(walls):.2f} s ({', '.join(f'{w:.2f}' for w in walls)}; "
        f"{peak:,.0f} MiB; exit {results[-1][2]})"
    )


def ratio(a: list, b: list) -> str:
    if not b:
        return ""
    pairs = [wa / wb for (wa, _, _), (wb, _, _) in zip(a, b, strict=True)]
    return f" = {statistics.median(pairs):.2f}x of before (median of {len(pairs)} pairs)"


def four_containers(keep: Path) -> str:
    """Row 3: how deep each verdict was decided, from the run's report.json."""
    wall, peak, code = timed(HERE, M4D14, keep)
    data = json.loads((keep / "report.json").read_text())
    iso, rest_undecided = {}, 0
    for v in data["verdicts"]:
        if v["property"] == "isolation":
            iso[v["spec"]] = v.get("decided_depth", 14)
        elif v.get("decided_depth") is not None:
            rest_undecided += 1
    depths = sorted(set(iso.values()))
    deep = ", ".join(f"{d}: {', '.join(s for s, x in iso.items() if x == d)}" for d in depths)
    others = (
        "every other verdict decided at 14"
        if not rest_undecided
        else (f"{rest_undecided} other verdicts undecided")
    )
    return (
        f"{wall:.0f} s, {peak:,.0f} MiB, exit {code}; isolation decided at depth {deep}; {others}"
    )


def spin(runs: int) -> str:
    """Row 4: ours / Spin BFS wall time, per grid, from bench/spin/run.py."""
    if shutil.which("spin") is None or shutil.which("gcc") is None:
        return "not measured: spin or gcc is not installed (bench/spin/run.py installs spin)"
    with tempfile.TemporaryDirectory() as tmp:
        res = Path(tmp, "spin.md")
        grid = ["--grid", "3:12", "--grid", "3:14", "--grid", "4:12"]
        cmd = [sys.executable, str(HERE / "bench/spin/run.py"), "--time-only", "--spec", "plain"]
        cmd += [*grid, "--runs", str(runs), "--results", str(res)]
        done = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True)
        if done.returncode != 0 or not res.exists():
            return f"not measured: bench/spin/run.py failed ({done.stderr.strip()[-200:]})"
        return "; ".join(_spin_ratios(res.read_text()))


def _spin_ratios(md: str) -> list[str]:
    """`mM dD: ratio` from run.py's timing table (its `ours/BFS wall` column)."""
    out = []
    head: list[str] = []
    for line in md.splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if "ours/BFS wall" in cols:
            head = cols
        elif head and len(cols) == len(head) and cols[1].isdigit():
            row = dict(zip(head, cols, strict=True))
            out.append(f"m{row['M']} d{row['D']}: {row['ours/BFS wall']}")
    return out or ["not measured: no timing table in bench/spin/run.py's results"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="a commit to measure against, in turn (e.g. main)")
    ap.add_argument("--runs", type=int, default=7, help="runs of the main job (median)")
    ap.add_argument("--large-runs", type=int, default=2, help="runs of m3 d12 (median)")
    ap.add_argument("--spin-runs", type=int, default=3, help="runs per tool for Spin")
    ap.add_argument("--skip-large", action="store_true", help="only the main job")
    ap.add_argument("--skip-m4", action="store_true", help="not the m4 d14 row (minutes)")
    ap.add_argument("--skip-spin", action="store_true", help="not the Spin row")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        before = extract(opts.before, Path(tmp, "before")) if opts.before else None
        rev = opts.before or "-"
        print(f"load average before: {os.getloadavg()[0]:.2f}, cores: {os.cpu_count()}; ")
        print(f"before: {rev}; now: this checkout\n")
        print(f"| command | before ({rev}) | now | target |\n|---|---|---|---|")
        for how, rerun in (("fresh out/", None), ("rerun", Path(tmp))):
            a, b = paired(before, MAIN_JOB, opts.runs, rerun)
            print(
                f"| `explore {' '.join(MAIN_JOB)}`, {how} | {cell(b)} | {cell(a)}{ratio(a, b)} "
                "| at most 0.85x |",
                flush=True,
            )
        if not opts.skip_large:
            a, b = paired(before, M3D12, opts.large_runs)
            print(
                f"| `explore {' '.join(M3D12)}` | {cell(b)} | {cell(a)}{ratio(a, b)} "
                "| at most 0.55x |",
                flush=True,
            )
            if not opts.skip_m4:
                print(
                    f"| `explore {' '.join(M4D14)}` | not run (stops at the memory guard) "
                    f"| {four_containers(Path(tmp))} | every verdict, isolation as deep "
                    "as fits, under 10 min |",
                    flush=True,
                )
        if not opts.skip_spin:
            print(
                "| open-before-syncfs, plain, ours / Spin BFS wall (compile included) | - "
                f"| {spin(opts.spin_runs)} | at most 0.45 at m3 d12; m3 d14, m4 d12 quoted |"
            )
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
