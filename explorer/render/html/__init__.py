"""The report as one HTML page (out/index.html), `explore browse`'s server and
`explore claim --html`'s campaign: data.py gathers what a run found, witness.py
shapes each witness, browser.py turns the checker's regions (explorer.checker.region)
into the state browser's data, page.py renders the template, serve.py serves it,
claims.py does claims."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.checker.results import Outcome

from explorer.render.outdir import INDEX

__all__ = ["INDEX", "index_html"]


def index_html(
    outcome: Outcome,
    files: Mapping[tuple[str, str, str], list[str]],
    out_dir: Path | None = None,
    pictures: Callable[[], None] | None = None,
) -> str:
    """The page of a run: its verdicts, witnesses and state browser (`files` are the
    witness files by (spec, property, container), relative to `out_dir`, where the
    pictures are read from once `pictures` has returned: it waits for them)."""
    from explorer.engine.limits import paused_gc
    from explorer.render.html.data import report_data
    from explorer.render.html.page import render

    # The page's data is tens of thousands of small objects and no cycles; a collection
    # pass over a parent that still holds a run's results would cost more than the page.
    with paused_gc():
        return render(report_data(outcome, files, out_dir, pictures))
