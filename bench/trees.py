"""Another commit's tree beside this checkout, and `explore` run from either, for the
benches that compare two commits back to back (bench_scale.py --before,
compare_reports.py).  Both trees run with this interpreter and its libraries: only
explorer/ and specs/ differ."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

#: `explore` from whichever tree PYTHONPATH names (see `env`).
EXPLORE = [sys.executable, "-c", "from explorer.app.cli import main; main()"]


def extract(rev: str, into: Path) -> Path:
    """The tree of commit `rev` in the new folder `into` (git archive: no .git, no venv)."""
    into.mkdir()
    tar = subprocess.run(["git", "archive", rev], cwd=HERE, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=tar.stdout, check=True)
    return into


def env(tree: Path) -> dict[str, str]:
    """The environment that makes EXPLORE run `tree`'s explorer."""
    return dict(os.environ, PYTHONPATH=str(tree))
