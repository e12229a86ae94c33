"""The report as one self-contained HTML file: a jinja2 template, its stylesheet and
script inlined, its data embedded as JSON.

Nothing is fetched from anywhere (no network, no CDN), so the file works from file://,
as a mail attachment, and offline; `explore browse` serves the same page with the
state browser asking the model (explorer.render.html.serve).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
TITLE = "errseq-explorer report"
#: The page says who wrote it: `--html FILE` replaces only a file that says so.
GENERATOR = '<meta name="generator" content="errseq-explorer">'


@cache
def template():
    """The page's template, compiled once per process; its compiled code is kept
    between runs in jinja2's bytecode cache (a private folder in the temporary
    directory), since compiling it each run cost more than rendering the page."""
    import jinja2  # the main job pays for it here, not at start-up

    def environment(cache: jinja2.BytecodeCache | None) -> jinja2.Environment:
        return jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            bytecode_cache=cache,
        )

    try:
        return environment(jinja2.FileSystemBytecodeCache()).get_template("index.html.j2")
    except (OSError, RuntimeError):  # no private temporary folder: compile it here
        return environment(None).get_template("index.html.j2")


def script_json(data: Any) -> str:
    """JSON that can sit inside <script>: no `</` or `<!--` can end or confuse it."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


def static(name: str) -> str:
    return (HERE / "static" / name).read_text()


def render(data: dict[str, Any], title: str = TITLE, extra_js: str = "") -> str:
    """The page for `data` (explorer.render.html.data's, or a claim campaign's)."""
    from markupsafe import Markup

    return template().render(
        title=title,
        data=data,
        data_json=Markup(script_json(data)),
        generator=Markup(GENERATOR),
        css=Markup(static("report.css")),
        js=Markup(static("report.js") + extra_js),
    )
