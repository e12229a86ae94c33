"""Compare what `explore` writes at an older commit and in this checkout (not a test).

    python bench/compare_reports.py BEFORE_REV                 # the whole grid
    python bench/compare_reports.py BEFORE_REV --quick         # depths 4, 7 and 10 only
    python bench/compare_reports.py BEFORE_REV -- --mounts 3 --depth 12 --host-fds 0

A change that is only meant to be faster must leave every verdict, witness and group
as it was.  This extracts BEFORE_REV with `git archive` into a temporary folder, runs
the same `explore` command there and here (each with `--out` in a fresh folder, `-q`),
and compares the exit codes and every file of out/ byte for byte: report.json
(verdicts, witnesses, groups, figures), the witness timelines, the DOT and SVG
pictures.  Only timings.json, which holds the seconds, and the manifest, which holds
its hash, are left out.

The grid: every built-in spec and property, mounts 1 to 3, depths 4 to 10, host fds 0
and 1, and the main job (`explore` with its defaults).  Prints one line per command
and exits 1 if any output differs.
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trees import EXPLORE, HERE, env, extract

#: timings.json holds the seconds; the manifest, the hashes of the files (timings.json too).
IGNORED = {"timings.json", ".explore-manifest.json"}


def grid(quick: bool) -> list[list[str]]:
    depths = [4, 7, 10] if quick else list(range(4, 11))
    runs: list[list[str]] = [[]]  # the main job
    for mounts in (1, 2, 3):
        for depth in depths:
            for host in (0, 1):
                runs.append(
                    ["--mounts", str(mounts), "--depth", str(depth), "--host-fds", str(host)]
                )
    return runs


def explore(tree: Path, args: list[str], out: Path) -> tuple[int, float]:
    t = time.perf_counter()
    done = subprocess.run(
        [*EXPLORE, *args, "-q", "--out", str(out)],
        cwd=tree,
        env=env(tree),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if done.returncode not in (0, 1, 3):
        sys.exit(f"explore {' '.join(args)} in {tree} failed ({done.returncode}): {done.stderr}")
    return done.returncode, time.perf_counter() - t


def differences(a: Path, b: Path) -> list[str]:
    """Files of out/ (timings aside) that are missing on one side or differ."""

    def files(root: Path) -> set[str]:
        return {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and p.name not in IGNORED
        }

    fa, fb = files(a), files(b)
    out = [f"only before: {f}" for f in sorted(fa - fb)]
    out += [f"only after: {f}" for f in sorted(fb - fa)]
    out += [f for f in sorted(fa & fb) if not filecmp.cmp(a / f, b / f, shallow=False)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", help="the commit to compare against (e.g. main)")
    ap.add_argument("args", nargs="*", help="one explore command's options instead of the grid")
    ap.add_argument("--quick", action="store_true", help="depths 4, 7 and 10 only")
    opts = ap.parse_args()
    runs = [opts.args] if opts.args else grid(opts.quick)
    bad = 0
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        before = extract(opts.before, Path(tmp, "before"))
        rev = subprocess.run(
            ["git", "rev-parse", "--short", opts.before],
            cwd=HERE,
            check=True,
            text=True,
            capture_output=True,
        ).stdout.strip()
        print(f"before: {opts.before} ({rev}); after: this checkout ({HERE.name})")
        for n, args in enumerate(runs):
            oa, ob = Path(tmp, f"a{n}"), Path(tmp, f"b{n}")
            ca, ta = explore(before, args, oa)
            cb, tb = explore(HERE, args, ob)
            diff = differences(oa, ob)
            if ca != cb:
                diff.insert(0, f"exit {ca} before, {cb} after")
            name = " ".join(args) or "(the main job)"
            state = "identical" if not diff else "DIFFERS: " + ", ".join(diff[:6])
            print(f"explore {name}: {state} (exit {cb}; {ta:.1f} s before, {tb:.1f} s after)")
            bad += bool(diff)
    print(f"\n{len(runs) - bad} of {len(runs)} commands identical")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
