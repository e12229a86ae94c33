"""scenarios/: scenarios whose stated results were derived by hand from docs/model.md, one
folder per spec, replayed as a regression suite (`explore replay scenarios/SPEC --spec SPEC`).

A folder is named after the spec its files' results hold under; each file says so on its
first line (`# spec: NAME`) and gives, on the comment line above each stated result, why
that result is what it is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.domain.catalog import builtin_names

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"
FOLDERS = sorted(p for p in LIBRARY.iterdir() if p.is_dir())
STATED = re.compile(r"^[^#]*=\s*(0|EIO|ENOSPC)\s*(#.*)?$")

runner = CliRunner()


def test_the_library_holds_the_kernel_readings_it_promises() -> None:
    files = {str(p.relative_to(LIBRARY)) for p in LIBRARY.rglob("*.scn")}
    assert {
        "plain/seed.scn",
        "vivek-v3-seen/seed.scn",
        "amir/seed.scn",
        "vivek-v3-seen/jeff-close.scn",
        "mainline/volatile-refused.scn",
    } <= files
    assert {p.name for p in FOLDERS} <= set(builtin_names())


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_every_file_says_its_spec_and_why_each_result(folder: Path) -> None:
    for path in sorted(folder.glob("*.scn")):
        lines = path.read_text().splitlines()
        assert lines[0].startswith(f"# spec: {folder.name} "), path
        stated = [i for i, x in enumerate(lines) if STATED.match(x)]
        assert stated, f"{path}: no stated result"
        for i in stated:
            assert lines[i - 1].startswith("# "), f"{path}:{i + 1}: no reason above"


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_the_library_holds_under_its_spec(folder: Path) -> None:
    r = runner.invoke(app, ["replay", str(folder), "--spec", folder.name])
    assert r.exit_code == 0, r.output
    n = sum(1 for p in folder.glob("*.scn") for x in p.read_text().splitlines() if STATED.match(x))
    assert r.stdout.splitlines()[-1] == f"stated results: {n} checked, all hold"


def test_a_wrong_stated_result_exits_1_with_its_line(tmp_path: Path) -> None:
    # vivek-v3-seen: the mount of ovl2 marked the error SEEN, so syncfs fd2 returns 0;
    # state EIO instead and the replay must say so, with the line.
    text = (LIBRARY / "vivek-v3-seen" / "seed.scn").read_text()
    assert text.count("syncfs fd2 = 0\n") == 1
    wrong = tmp_path / "seed.scn"
    wrong.write_text(text.replace("syncfs fd2 = 0\n", "syncfs fd2 = EIO\n"))
    line = text.splitlines().index("syncfs fd2 = 0") + 1
    r = runner.invoke(app, ["replay", str(LIBRARY / "plain"), str(wrong), "-s", "vivek-v3-seen"])
    assert r.exit_code == 1, r.output
    # plain's files replayed under vivek-v3-seen miss too (that is why a folder is
    # replayed under its spec alone); the wrong line is listed among them.
    assert f"{wrong}:{line}: syncfs fd2: stated EIO, got 0 under vivek-v3-seen" in r.stdout
    alone = runner.invoke(app, ["replay", str(wrong), "-s", "vivek-v3-seen"])
    assert alone.exit_code == 1
    assert alone.stdout.splitlines()[-2:] == [
        "stated results: 4 checked, 1 not met:",
        f"{wrong}:{line}: syncfs fd2: stated EIO, got 0 under vivek-v3-seen",
    ]


def test_the_seed_under_three_readings_differs_only_where_the_thread_says() -> None:
    """plain's stated results replayed under vivek-v3-seen and amir (the README's example):
    only vivek-v3-seen's syncfs fd2 misses (Jeff: "syncfs(fd2) will not" return an error;
    Amir: under his method both fail)."""
    seed = LIBRARY / "plain" / "seed.scn"
    r = runner.invoke(
        app, ["replay", str(seed), "-s", "plain", "-s", "vivek-v3-seen", "-s", "amir"]
    )
    assert r.exit_code == 1, r.output
    misses = [x for x in r.stdout.splitlines() if ": stated " in x]
    assert len(misses) == 1 and misses[0].endswith(
        "syncfs fd2: stated EIO, got 0 under vivek-v3-seen"
    )


def test_the_readme_shows_what_replay_prints(monkeypatch) -> None:
    """Every `$ explore replay ...` block of the README is the command's real output."""
    monkeypatch.chdir(LIBRARY.parent)  # the README's paths are the repository's
    readme = (LIBRARY.parent / "README.md").read_text()
    blocks = re.findall(r"```\n\$ explore (replay [^\n]*)\n(.*?)```", readme, re.S)
    assert blocks
    for command, shown in blocks:
        r = runner.invoke(app, command.split())
        assert r.stdout == shown, command
