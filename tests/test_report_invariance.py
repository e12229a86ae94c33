"""report.json and every witness file say what the runs are, never how they were searched
(docs/model.md §5, "Which witness is shown"): the same bytes with and without symmetry,
with one worker or two, and over Ray partitions, on a grid of specs and bounds.  Only
timings.json (times, what the searches stored), index.html and summary.txt (their state
counts, and the page's state browser, are the graph that was searched) and the
manifest's lines for them differ."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app

runner = CliRunner()

#: Every spec and property, at bounds where every property has witnesses: symmetry off
#: and on differ in their graphs (fds of one owner, containers, host fds on container
#: files), and isolation's pairs, groups and general forms are there to compare.
GRID = {
    "two containers": ["--mounts", "2", "--depth", "7"],
    "three containers": ["--mounts", "3", "--depth", "6", "--host-fds", "0"],
    "one fd, host files": ["--mounts", "2", "--fds", "1", "--host-files", "any", "--depth", "7"],
    "three, one fd, audit": ["--mounts", "3", "--fds", "1", "--depth", "7", "--allow", "syncfs"],
}

#: How the runs are searched: none of it may show in the report.
HOW = {
    "symmetry, 1 worker": ["--symmetry", "--jobs", "1"],
    "symmetry, 2 workers": ["--symmetry", "--jobs", "2"],
    "no symmetry, 1 worker": ["--no-symmetry", "--jobs", "1"],
    "no symmetry, 2 workers": ["--no-symmetry", "--jobs", "2"],
}


#: The files that show the search itself.
SEARCHED = ("timings.json", "index.html", "summary.txt")


def outputs(out: Path) -> dict[str, bytes]:
    """Every file the run wrote but those of SEARCHED, and the manifest without theirs."""
    files = {}
    for p in sorted(out.rglob("*")):
        if p.is_file() and p.name not in SEARCHED:
            data = p.read_bytes()
            if p.name == ".explore-manifest.json":
                data = re.sub(rb'"(timings.json|index.html|summary.txt)": "[0-9a-f]+",?', b"", data)
            files[str(p.relative_to(out))] = data
    return files


def run(tmp_path: Path, name: str, *args: str) -> dict[str, bytes]:
    out = tmp_path / name
    r = runner.invoke(app, [*args, "--quiet", "--show", "0", "--out", str(out)])
    assert r.exit_code == 1, r.output  # every grid point has violations to compare
    return outputs(out)


@pytest.mark.parametrize(
    "grid",
    # the first grid is the quick one; make test runs the others too
    [g if i == 0 else pytest.param(g, marks=pytest.mark.slow) for i, g in enumerate(GRID.values())],
    ids=GRID.keys(),
)
def test_the_report_is_the_same_however_the_runs_are_searched(tmp_path: Path, grid: list[str]):
    got = {how: run(tmp_path, str(k), *grid, *args) for k, (how, args) in enumerate(HOW.items())}
    first, *rest = got.values()
    assert len(first) > 10 and "report.json" in first  # the report and the witnesses
    assert sum(name.endswith(".txt") for name in first) >= 10
    for how, files in got.items():
        assert sorted(files) == sorted(first), how
        assert [n for n in files if files[n] != first[n]] == [], how


@pytest.mark.ray
@pytest.mark.parametrize("grid", list(GRID.values())[:2], ids=list(GRID)[:2])
def test_the_report_is_the_same_over_ray_partitions(tmp_path: Path, grid: list[str]):
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        one = run(tmp_path, "one", *grid, "--jobs", "1")
        for k, (symmetry, parts) in enumerate([("--symmetry", "2"), ("--no-symmetry", "3")]):
            on_ray = run(
                tmp_path, f"ray{k}", *grid, symmetry, "--ray", "local", "--partitions", parts
            )
            assert sorted(on_ray) == sorted(one)
            assert [n for n in on_ray if on_ray[n] != one[n]] == [], (symmetry, parts)
    finally:
        if started:
            ray.shutdown()
