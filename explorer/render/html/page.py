"""The report as one self-contained HTML file: its markup (explorer.render.html.layout),
its stylesheet and script inlined, its data embedded as JSON.

Nothing is fetched from anywhere (no network, no CDN), so the file works from file://,
as a mail attachment, and offline; `explore browse` serves the same page with the
state browser asking the model (explorer.render.html.serve).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from explorer.render.html.layout import Safe, page

HERE = Path(__file__).parent
TITLE = "errseq-explorer report"
#: The page says who wrote it: `--html FILE` replaces only a file that says so.
GENERATOR = '<meta name="generator" content="errseq-explorer">'


def script_json(data: Any) -> str:
    """JSON that can sit inside <script>: no `</` or `<!--` can end or confuse it."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


@cache
def static(name: str) -> str:
    return (HERE / "static" / name).read_text()


def render(data: dict[str, Any], title: str = TITLE, extra_js: str = "") -> str:
    """The page for `data` (explorer.render.html.data's, or a claim campaign's)."""
    return page(
        title,
        data,
        generator=Safe(GENERATOR),
        css=Safe(static("report.css")),
        js=Safe(static("report.js") + extra_js),
        data_json=Safe(script_json(data)),
    )
