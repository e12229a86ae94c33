"""The main job loads only what it runs: the other commands' machinery (the claims
language, conform, browse's server, replay, Ray) stays out of its process, imports
being a good part of a small run's time (docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys

from explorer.app.cli import COMMANDS, app

#: Modules (and packages, with everything below them) only other commands use.
NOT_THE_MAIN_JOBS = (
    "explorer.domain.claim",
    "explorer.domain.claim_formula",
    "explorer.domain.claim_bounds",
    "explorer.checker.claims",
    "explorer.checker.replay",
    "explorer.conform",
    "explorer.app.browse",
    "explorer.app.claims",
    "explorer.app.replay",
    "explorer.app.diff",
    "explorer.render.claims",
    "explorer.render.html.serve",
    "ray",
)

#: Runs the main job in a fresh interpreter and prints, at its exit, every module loaded.
PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules))))
from explorer.app.cli import main
sys.argv = ["explore", *sys.argv[1:]]
main()
"""


def loaded(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode in (0, 1), done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def others(modules: set[str]) -> list[str]:
    return sorted(m for m in modules for o in NOT_THE_MAIN_JOBS if m == o or m.startswith(o + "."))


def test_main_job_loads_no_other_commands_machinery(tmp_path):
    modules = loaded("--mounts", "1", "--depth", "4", "-q", "-j", "1", "--out", str(tmp_path))
    assert "explorer.render.report" in modules  # the probe saw the run itself
    assert (tmp_path / "index.html").is_file()
    assert others(modules) == []


def test_every_command_is_listed_and_built_when_asked():
    """The commands are built on demand, yet each is there, under its name, with its
    own options (what typer would have made of it at start)."""
    import typer.main

    group = typer.main.get_command(app)
    ctx = group.make_context("explore", [])
    assert group.list_commands(ctx) == list(COMMANDS)  # type: ignore[attr-defined]
    for name in COMMANDS:
        cmd = group.get_command(ctx, name)  # type: ignore[attr-defined]
        assert cmd is not None and cmd.name == name
        assert any("--help" in p.opts or "-h" in p.opts for p in cmd.get_params(ctx))
    assert group.get_command(ctx, "no-such-command") is None  # type: ignore[attr-defined]
