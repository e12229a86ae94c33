"""A real browser for the report's tests: Debian's chromium-headless-shell driven by
playwright (playwright's own browser download cannot reach its host here, so it is
launched by path).  `make browser-host` installs the browser; `pip install -e .[dev]`
playwright."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Where Debian's package puts the browser (dpkg -L chromium-headless-shell; the one in
#: /usr/bin is a shell script that runs it).
CHROMIUM = "/usr/lib/chromium/chromium-headless-shell"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium-headless-shell "
            "(make browser-host, or apt-get install --no-install-recommends chromium-headless-shell)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need playwright: pip install -e '.[dev]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh page that fails the test on any console error or uncaught exception."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on(
        "console",
        lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    pg.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    pg.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    pg.errors = errors
    yield pg
    context.close()
    assert errors == [], errors
