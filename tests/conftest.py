"""The test tiers' one rule: a selected test whose dependency is missing is an error.

`make test` (CI) runs every marker, so a run without qemu or without the ray extra
must fail, not pass by skipping.  Leave such tests out by marker instead (`-m 'not
vm'`, `-m 'not ray'`, or `make test-fast`): deselected tests are never set up, so
they need nothing.  The markers are declared in pyproject.toml.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
from pathlib import Path

import pytest

SETUP_HOST = Path(__file__).resolve().parent.parent / "explorer/conform/setup-host.sh"


@functools.cache
def missing(marker: str) -> str | None:
    """What a test with this marker needs and this machine lacks, or None."""
    if marker == "ray":
        if importlib.util.find_spec("ray") is None:
            return "the ray extra is not installed (make ray, or pip install -e '.[ray]')"
        return None
    if marker == "vm":
        check = subprocess.run(
            ["bash", str(SETUP_HOST), "--check"], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            return (
                f"Debian packages missing: {check.stdout.strip() or check.stderr.strip()}"
                " (make conform-host installs them)"
            )
        return None
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("vm", "ray"):
        if item.get_closest_marker(marker) is None:
            continue
        why = missing(marker)
        if why:
            pytest.fail(
                f"cannot run this {marker} test: {why}; or leave them out: -m 'not {marker}'", False
            )
