"""out/index.html in a real browser (tests/browser/conftest.py): written by an `explore`
run (its worker processes make the browser's regions), opened from file://, no console
error in any view, a FAILS cell leads to its witness, each step's state is what
`explore replay --trace` prints for the same run, the state browser's next steps are
the model's successors, a permalink restores its view; and `explore browse`'s server
answers for states the page does not hold."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import HTTPServer
from urllib.parse import quote

import pytest

from explorer.bridge.model import ErrseqModel
from explorer.checker.config import Config
from explorer.checker.properties import monitors
from explorer.checker.run import run
from explorer.domain.catalog import load_spec
from explorer.domain.scenario import format_run, result_name
from explorer.domain.world import Bounds
from explorer.engine.properties.isolation import full_graph
from explorer.render.html.serve import Browser, handler
from explorer.render.timeline import SHOWN

pytestmark = pytest.mark.browser

SPECS = ("plain", "mainline", "vivek-v3-seen", "jeff-split")
DEPTH = 7


@pytest.fixture(scope="module")
def outcome():
    specs = [load_spec(n) for n in SPECS]
    cfg = Config(Bounds(), DEPTH, (1, 2), specs, against=load_spec("plain"), symmetry=False)
    return run(cfg)


#: The command line, as a process of its own.
EXPLORE = [sys.executable, "-c", "from explorer.app.cli import main; main()"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    specs = [w for name in SPECS for w in ("--spec", name)]
    args = ["--mounts", "2", "--depth", str(DEPTH), *specs, "-q", "--out", str(out)]
    done = subprocess.run([*EXPLORE, *args], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # violations found
    return (out / "index.html").as_uri()


def goto(page, url: str, fragment: str = "") -> None:
    page.goto(url + fragment)
    page.wait_for_load_state("load")


def changed_rows(page) -> list[str]:
    return page.eval_on_selector_all(
        "#witness table.state tr.changed", "rows => rows.map(r => r.dataset.line)"
    )


def trace_by_step(text: str) -> list[list[str]]:
    """One spec's block of `explore replay --trace` (after its `# ... under SPEC:`
    line, up to the blank line that ends it): per scenario line, its comments."""
    steps: list[list[str]] = []
    for line in text.splitlines()[1:]:
        if not line.strip():
            break
        if line.startswith("    # "):
            steps[-1].append(line[len("    # ") :])
        else:
            steps.append([])
    return steps


def replay_trace(scenario: str, spec: str) -> list[list[str]]:
    """`explore replay - --spec SPEC --trace` of a scenario: its trace, per line."""
    done = subprocess.run(
        [*EXPLORE, "replay", "-", "--spec", spec, "--trace"],
        input=scenario,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return trace_by_step(done.stdout.split("\n# <stdin> under ", 1)[1])


def test_every_view_opens_from_file_without_errors(page, report, outcome):
    goto(page, report)
    assert page.is_visible("#v-matrix table.matrix")
    for tab in ("witness", "browse", "mail", "matrix"):
        page.click(f"#tabs a[data-tab={tab}]")
        page.wait_for_selector(f"#v-{tab}", state="visible")
    page.click("#tabs a[data-tab=witness]")
    ids = page.eval_on_selector_all("#witness-list a", "as => as.map(a => a.getAttribute('href'))")
    assert len(ids) >= 8
    for href in ids:
        page.click(f'#witness-list a[href="{href}"]')
        page.wait_for_function(f"location.hash === {href!r}")
        page.wait_for_selector("#witness table.lanes")
    for spec in SPECS:
        page.evaluate(f"location.hash = 'b={spec}'")
        page.wait_for_selector("#v-browse", state="visible")
        assert page.inner_text("ul.next").strip()


def test_a_fails_cell_leads_to_its_witness_and_each_step_is_replays_trace(page, report):
    goto(page, report)
    row = page.locator("table.matrix tr", has=page.locator("th", has_text="vivek-v3-seen"))
    row.locator("td.fails a").first.click()
    assert page.inner_text("#witness h2").startswith("vivek-v3-seen: isolation of ovl1")
    mail_text = page.inner_text("#mail-text")
    # both runs of the pair, step by step, against explore replay --trace of each run
    for k, label in ((0, "Run A as a scenario"), (1, "Run B:")):
        scenario = mail_text.split(label, 1)[1].split("\n", 1)[1]
        if k == 0:
            scenario = scenario.split("Run B:", 1)[0]
        want = replay_trace(scenario, "vivek-v3-seen")
        n = len(want)
        assert n >= 6
        for step in range(1, n + 1):
            page.click(f'#witness a[data-run="{k}"][data-step="{step}"]')
            page.wait_for_selector(f'#witness[data-at="vivek-v3-seen/isolation/0/{k}/{step}"]')
            assert page.inner_text("#witness td.n.current") == str(step)
            assert changed_rows(page) == want[step - 1], (k, step)


def test_next_steps_are_the_models_successors(page, report, outcome):
    """Along a witness, the browser's next steps at each state are the model's
    successors, named as the scenario language names them after that path."""
    bounds, options = outcome.config.bounds, outcome.config.options
    r = next(r for r in outcome.results if r.spec.name == "mainline")
    v = r.verdicts["open-before-syncfs"][0]
    model = ErrseqModel(r.spec, bounds, options)
    state, path, actions = bounds.initial(), [], []
    for st in [None, *v.witness]:
        if st is not None:
            succ = model.successors(state)
            idx = next(i for i, (a, _, o) in enumerate(succ) if a == st.action)
            path.append(idx)
            actions.append(st.action)
            state = succ[idx][1]
        goto(page, report, f"#b=mainline&path={'.'.join(map(str, path))}")
        shown = page.eval_on_selector_all("ul.next li", "li => li.map(x => x.dataset.text)")
        want = []
        for a, _, o in model.successors(state):
            line = format_run(bounds, [*actions, a])[-1]
            res = result_name(o)
            want.append(f"{line}" + (f" = {res}" if a.verb in SHOWN and res is not None else ""))
        assert shown == want, path
    # the last step violates open-before-syncfs, as the verdict says
    status = page.inner_text('ul.props li[data-prop="open-before-syncfs"]')
    assert f"violated at step {len(v.witness)}" in status and v.reason in status


def test_a_permalink_restores_the_view(page, chromium, report):
    goto(page, report, "#w=" + quote("vivek-v3-seen/isolation"))
    page.click('#witness a[data-run="1"][data-step="3"]')
    page.wait_for_selector('#witness[data-at="vivek-v3-seen/isolation/0/1/3"]')
    page.click("#witness h2 a.permalink")
    url = page.url
    rows = changed_rows(page)
    other = chromium.new_page()
    try:
        other.goto(url)
        other.wait_for_load_state("load")
        assert other.is_visible("#v-witness")
        cell = other.locator("#witness td.n.current")
        assert cell.inner_text() == "3"
        assert (
            other.eval_on_selector_all(
                "#witness table.state tr.changed", "rows => rows.map(r => r.dataset.line)"
            )
            == rows
        )
    finally:
        other.close()


def test_a_shortest_path_from_the_browser(page, report, outcome):
    """At a state the page holds, reached by a longer path (a witness's prefix and one
    more step), the shortest-path link leads to the same state by a path as long as its
    depth in a full search."""
    bounds, options = outcome.config.bounds, outcome.config.options
    spec = next(s for s in outcome.config.specs if s.name == "vivek-v3-seen")
    r = next(r for r in outcome.results if r.spec.name == "vivek-v3-seen")
    model = ErrseqModel(spec, bounds, options)
    ex = full_graph(ErrseqModel(spec, bounds, options), DEPTH)
    state, path = bounds.initial(), []
    for st in r.verdicts["no-loss"][0].witness:
        succ = model.successors(state)
        longer = [
            (i, t) for i, (_, t, _) in enumerate(succ) if 0 < ex.depth[ex.index[t]] < len(path) + 1
        ]
        if longer:
            path.append(longer[0][0])
            state = longer[0][1]
            break
        idx = next(i for i, (a, _, _) in enumerate(succ) if a == st.action)
        path.append(idx)
        state = succ[idx][1]
    depth = ex.depth[ex.index[state]]
    assert depth < len(path)
    goto(page, report, f"#b=vivek-v3-seen&path={'.'.join(map(str, path))}")
    fields = "rows => rows.map(r => r.cells[0].textContent + ': ' + r.cells[1].textContent)"
    before = page.eval_on_selector_all("#browse table.state tr", fields)
    page.click("a.shortest")
    page.wait_for_function(f"document.querySelectorAll('ol.trail li').length === {depth + 1}")
    # the same state, reached the short way (only the changed-field arrows differ)
    after = page.eval_on_selector_all("#browse table.state tr", fields)
    assert [x.split("\u2192")[-1] for x in after] == [x.split("\u2192")[-1] for x in before]


def test_copy_button_copies_the_mail_text(page, report):
    goto(page, report, "#t=mail")
    page.click("#v-mail button.copy")
    page.wait_for_function("document.querySelector('#v-mail button.copy').textContent !== 'Copy'")
    assert page.inner_text("#v-mail button.copy") == "Copied"


@pytest.fixture
def served():
    specs = [load_spec("vivek-v3-seen"), load_spec("plain")]
    b = Browser(Bounds(), (1, 2), specs, monitors, DEPTH, "test")
    server = HTTPServer(("127.0.0.1", 0), handler(b))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_explore_browse_asks_the_model_beyond_the_page(page, served):
    """Six steps in, far from anything a page would embed, the served browser still
    lists the model's successors, and finds a shortest path by searching."""
    bounds = Bounds()
    spec = load_spec("vivek-v3-seen")
    model = ErrseqModel(spec, bounds)
    state, path, actions = bounds.initial(), [], []
    for verb in ("mount", "open", "write", "open", "write", "wberror"):
        succ = model.successors(state)
        idx = next(i for i, (a, _, _) in enumerate(succ) if a.verb == verb)
        path.append(idx)
        actions.append(succ[idx][0])
        state = succ[idx][1]
    goto(page, served, f"#b=vivek-v3-seen&path={'.'.join(map(str, path))}")
    page.wait_for_selector("ul.next li")
    shown = page.eval_on_selector_all("ul.next li", "li => li.map(x => x.dataset.text)")
    want = []
    for a, _, o in model.successors(state):
        line = format_run(bounds, [*actions, a])[-1]
        res = result_name(o)
        want.append(f"{line}" + (f" = {res}" if a.verb in SHOWN and res is not None else ""))
    assert shown == want
    page.click("text=a shortest path here")
    page.wait_for_selector("a.shortest")
    page.click("a.shortest")
    ex = full_graph(ErrseqModel(spec, bounds), DEPTH)
    depth = ex.depth[ex.index[state]]
    page.wait_for_function(f"document.querySelectorAll('ol.trail li').length === {depth + 1}")


ROWS = "rows => rows.map(r => r.cells[0].textContent + ': ' + r.cells[1].textContent)"


def test_from_a_witness_step_into_the_browser_then_back_and_forward(page, report):
    goto(page, report, "#w=" + quote("vivek-v3-seen/isolation"))
    page.click('#witness a[data-run="0"][data-step="5"]')
    page.wait_for_selector('#witness[data-at="vivek-v3-seen/isolation/0/0/5"]')
    at_step = page.eval_on_selector_all("#witness table.state tr", ROWS)
    page.click("#witness a.jump")
    page.wait_for_selector("#v-browse", state="visible")
    assert page.eval_on_selector_all("ol.trail li", "li => li.length") == 6
    assert page.eval_on_selector_all("#browse table.state tr", ROWS) == at_step
    assert page.inner_text("ol.trail li.current") == "mount ovl2 = 0"
    page.click("a.back")
    page.wait_for_function("document.querySelectorAll('ol.trail li').length === 5")
    assert page.inner_text("ol.trail li.current") == "wberror ovl1"
    page.click("a.forward")
    page.wait_for_function("document.querySelectorAll('ol.trail li').length === 6")
    assert page.eval_on_selector_all("#browse table.state tr", ROWS) == at_step
    assert "disabled" in (page.get_attribute("a.forward", "class") or "")
