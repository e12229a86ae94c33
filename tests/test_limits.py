"""Limits that protect the user: a clear stop, never a killed process (issue 6)."""

from __future__ import annotations

import io
import json
import pickle
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.bridge.model import ErrseqModel
from explorer.checker.config import Config
from explorer.checker.run import run
from explorer.domain.catalog import load_spec
from explorer.domain.world import MOUNT_OPTIONS, Bounds
from explorer.engine.limits import Projection, SearchLimit
from explorer.engine.properties import isolation
from explorer.engine.properties.isolation import assemble
from explorer.engine.search import bfs


def test_max_states_stops_with_how_far_it_got():
    with pytest.raises(SearchLimit) as info:
        bfs(ErrseqModel(load_spec("plain"), Bounds(2, 2, 0)), 8, max_states=500)
    msg = str(info.value)
    assert "stopped at 500 distinct states" in msg and "depth" in msg and "--max-states" in msg


def test_memory_guard_stops_a_search_that_would_grow_past_it():
    # 1 byte is below any resident size: the first check (every 4096 states) trips.
    with pytest.raises(SearchLimit) as info:
        bfs(ErrseqModel(load_spec("plain"), Bounds(3, 2, 0)), 10, max_bytes=1)
    assert "--max-memory" in str(info.value)


def test_cli_reports_the_limit_as_bad_input_without_traceback():
    r = CliRunner().invoke(app, ["--max-states", "100", "--quiet", "-p", "no-loss"])
    assert r.exit_code == 2
    assert "stopped at 100 distinct states" in r.output
    assert "Traceback" not in r.output


@pytest.mark.slow
def test_big_runs_start_the_costliest_spec_first_and_report_in_spec_order():
    from explorer.checker.executor import biggest_first
    from explorer.domain.world import MOUNT_OPTIONS

    specs = [load_spec(n) for n in ("mainline", "vivek-v3-seen", "v5.10")]
    small = Config(Bounds(2, 2, 0), 8, MOUNT_OPTIONS["both"], specs, ("no-loss",))
    assert biggest_first(small) == [0, 1, 2]  # ranking would cost more than it saves
    big = Config(Bounds(3, 2, 0), 10, MOUNT_OPTIONS["both"], specs, ("no-loss",))
    order = biggest_first(big)
    assert sorted(order) == [0, 1, 2] and order[0] == 1  # vivek-v3-seen: 4x mainline's states
    one, two = run(big, jobs=1), run(big, jobs=2)
    assert [r.spec.name for r in two.results] == ["mainline", "vivek-v3-seen", "v5.10"]
    for a, b in zip(one.results, two.results, strict=True):
        assert (a.states, a.transitions) == (b.states, b.transitions)
        assert [(v.holds, v.length, v.explored) for v in a.verdicts["no-loss"]] == [
            (v.holds, v.length, v.explored) for v in b.verdicts["no-loss"]
        ]


def test_isolation_is_a_task_apart_on_reduced_runs_and_merges_back_in_order():
    """With symmetry the isolation check has a full graph of its own, so a parallel run
    hands it out as a task of its own; the merged results equal one process's."""
    from explorer.checker.executor import ALL, APART, REST, tasks
    from explorer.domain.world import MOUNT_OPTIONS

    specs = [load_spec(n) for n in ("vivek-v3-seen", "mainline", "amir")]
    props = ("isolation", "no-loss", "agreement")
    cfg = Config(Bounds(3, 2, 0), 7, MOUNT_OPTIONS["both"], specs, props, load_spec("plain"))
    assert tasks(cfg) == [
        (0, APART),
        (1, APART),
        (2, APART),
        (0, REST),
        (1, REST),
        (2, REST),
    ]
    full = Config(Bounds(3, 2, 0), 7, MOUNT_OPTIONS["both"], specs, props, symmetry=False)
    assert tasks(full) == [(0, ALL), (1, ALL), (2, ALL)]  # one graph serves every property

    def summary(outcome):
        return [
            (r.spec.name, r.states, list(r.verdicts))
            + tuple(
                (
                    v.holds,
                    v.length,
                    v.explored,
                    [g.kinds for g in (v.isolation.groups if v.isolation else [])],
                )
                for vs in r.verdicts.values()
                for v in vs
            )
            for r in outcome.results
        ]

    one, two = summary(run(cfg, jobs=1)), summary(run(cfg, jobs=2))
    assert one == two
    assert [s[2] for s in two] == [list(props)] * 3  # the matrix's column order
    assert two[0][3][0] is False  # vivek-v3-seen: the seed's mount interferes


@pytest.mark.slow
def test_two_processes_change_no_output(tmp_path):
    import json

    args = [
        "--mounts",
        "2",
        "--depth",
        "6",
        "-p",
        "no-loss",
        "-p",
        "agreement",
        "--quiet",
        "--json",
    ]
    outs = []
    for jobs in ("1", "2"):
        r = CliRunner().invoke(app, [*args, "--jobs", jobs, "--out", str(tmp_path / jobs)])
        assert r.exit_code == 1
        outs.append(json.loads(r.output))  # times are in timings.json, paths relative
    assert outs[0] == outs[1]


def test_a_limit_hit_in_a_worker_is_the_same_clear_error():
    """Workers send the limit back by pickle: it must survive the trip, or the user
    gets a BrokenProcessPool traceback instead of the message (a bug found in #6)."""
    import pickle

    err = SearchLimit(1000, 8, "--max-states 1,000 reached", "--max-states")
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) and (back.states, back.flag) == (1000, "--max-states")
    args = ["--mounts", "3", "--depth", "10", "-j", "2", "--quiet", "--max-states", "1000"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2
    assert "stopped at 1,000 distinct states" in r.output and "Traceback" not in r.output


@pytest.mark.slow
def test_the_memory_guard_is_shared_by_the_workers(tmp_path):
    from explorer.checker.executor import worker_config
    from explorer.domain.world import MOUNT_OPTIONS

    cfg = Config(
        Bounds(3, 2, 0), 10, MOUNT_OPTIONS["both"], [load_spec("plain")], max_bytes=8 << 30
    )
    assert worker_config(cfg, 2).max_bytes == 4 << 30 and cfg.max_bytes == 8 << 30
    args = ["--mounts", "3", "--depth", "10", "-j", "2", "--quiet", "--max-memory", "0.01"]
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path)])
    assert r.exit_code == 3 and "split between the 2 processes" in r.output


def test_a_guard_below_any_run_leaves_every_verdict_undecided_exit_3(tmp_path):
    # 10 MB is below the resident size of the process itself: every search and check
    # that looks at the guard (every 4096 states, every 256 c-view classes) stops, so
    # nothing is decided (isolation not even at depth 1), and nothing may pass for holding.
    args = ["-s", "plain", "-s", "v5.10", "--mounts", "3", "--depth", "10", "-j", "1"]
    args += ["--max-memory", "0.01"]
    r = CliRunner().invoke(app, [*args, "--quiet", "--out", str(tmp_path)])
    assert r.exit_code == 3 and "Traceback" not in r.output
    assert "undecided" in r.output and "the memory guard:" in r.output
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["exit"] == 3
    assert {(v["holds"], v["decided_depth"]) for v in data["verdicts"]} == {(None, 0)}
    assert all("--max-memory" in v["limit"] for v in data["verdicts"])
    _valid(data)


def _valid(data: dict) -> None:
    import jsonschema

    path = Path(__file__).resolve().parents[1] / "explorer" / "schemas" / "report.schema.json"
    jsonschema.Draft202012Validator(json.loads(path.read_text())).validate(data)


def _guard_above(depth: int, monkeypatch) -> list[int]:
    """Make isolation's check reach the memory guard on every graph deeper than `depth`
    (as a big run does), and record the depths it was tried at."""
    from explorer.engine.properties.isolation import assemble

    tried: list[int] = []
    real = assemble.check

    def check(ex, *a, **k):
        tried.append(ex.max_depth)
        if ex.max_depth > depth:
            raise SearchLimit(
                123, ex.max_depth, "memory 9 GiB reached the 8 GiB guard", "--max-memory"
            )
        return real(ex, *a, **k)

    monkeypatch.setattr(isolation, "check", check)
    return tried


def test_isolation_is_decided_at_the_deepest_depth_that_fits(monkeypatch):
    # Holding at depth 6 is not holding at depth 8: undecided, decided at 6.  A violation
    # found at depth 6 is one at depth 8 (every run of 6 events is one of 8): violated.
    tried = _guard_above(6, monkeypatch)
    b = Bounds(2, 2, 1)
    specs = [load_spec("mainline"), load_spec("v5.10")]
    cfg = Config(b, 8, MOUNT_OPTIONS["both"], specs, ("isolation",), max_bytes=1 << 40)
    out = run(cfg)
    assert tried == [8, 6, 8, 6]  # each spec: the run's depth, then two events less
    for r in out.results:
        (v,) = r.verdicts["isolation"]
        model = ErrseqModel(r.spec, b, MOUNT_OPTIONS["both"])
        direct = assemble.check(assemble.full_graph(model, 6), model, 0)
        assert v.decided == 6 and "8 GiB guard" in v.limit
        assert (v.holds, v.length, v.witness) == (direct.holds, direct.length, direct.witness)
    # At 2 containers and a host fd, v5.10 keeps containers isolated even at depth 8;
    # mainline does not from 5 events on (a host syncfs decides whether a volatile
    # mount is refused): docs/architecture.md.
    by = {r.spec.name: r.verdicts["isolation"][0] for r in out.results}
    assert by["v5.10"].undecided and not by["mainline"].holds and by["mainline"].length == 5
    assert out.exit_code() == 1  # a violation outranks an undecided verdict
    assert any("checked below depth 8" in n and "v5.10 (depth 6)" in n for n in out.notes)


def test_undecided_only_exits_3_and_shows_the_depth(monkeypatch, tmp_path):
    _guard_above(6, monkeypatch)
    args = ["-s", "v5.10", "--mounts", "2", "--depth", "8", "-j", "1"]
    r = CliRunner().invoke(app, [*args, "-p", "isolation", "--out", str(tmp_path)])
    assert r.exit_code == 3, r.output
    assert "holds to 6" in r.output and "none up to depth 6" in r.output
    data = json.loads((tmp_path / "report.json").read_text())
    (v,) = data["verdicts"]
    assert (v["holds"], v["decided_depth"], data["exit"]) == (None, 6, 3)
    _valid(data)


def test_the_projection_foresees_the_guard_and_names_the_depth_that_fits():
    p = Projection(12, max_bytes=10_000_000, factor=2.0, least=1)
    p.start = 0
    p.levels = [1, 10, 100, 1000]  # growth 10x per depth
    p.per_state = 100.0
    assert p.states(3) == 1111 and round(p.states(5)) == 111_111
    # depth d needs 2 * 100 bytes per state: 5 (111,111 states, 22 MB) does not fit in
    # 10 MB, 4 (11,111 states, 2.2 MB) does
    assert p.deepest(12) == 4 and p.deepest(11) == 3 and p.deepest(4) == 2
    assert p.deepest(12, step=1) == 4 and p.deepest(2) == 0
    p.depth, p.start = 4, 0
    with pytest.raises(SearchLimit, match="depth 4 and its checks would take"):
        p([1, 10, 100, 1000, 100_000])  # measured memory aside, 101,111 states at 4


def test_a_limit_in_isolation_says_the_other_properties_need_less(tmp_path):
    # plain at 3 containers, depth 8: 1,147 classes up to symmetry, 7,197 worlds in full
    # (docs/performance.md, no host fd); isolation needs the full graph, so 3,000 stops
    # only it.
    args = ["-s", "plain", "--mounts", "3", "--depth", "8", "--host-fds", "0", "--quiet"]
    args += ["--out", str(tmp_path)]
    r = CliRunner().invoke(app, [*args, "--max-states", "3000"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "isolation searches every world" in r.output and "-p no-loss" in r.output
    ok = CliRunner().invoke(app, [*args, "--max-states", "3000", "-p", "no-loss"])
    assert ok.exit_code == 0


def test_progress_says_how_far_the_run_is_without_a_misleading_rate(monkeypatch):
    """One search's states over the whole run's time is no rate: show the time spent."""
    from explorer.app import progress

    shown: list[str] = []

    class Status:
        def __init__(self, text: str) -> None:
            shown.append(text)

        def start(self) -> None: ...

        def update(self, text: str) -> None:
            shown.append(text)

    class Console:
        def status(self, text: str) -> Status:
            return Status(text)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    from explorer.render import terminal  # progress loads it (and rich) when it shows

    monkeypatch.setattr(terminal, "console", lambda stderr: Console())
    p = progress.Progress(quiet=False, stream=Terminal())
    p("plain", 4, 100, 300)  # within the first second: nothing
    p.t0 -= 5
    p("3/9 specs checked", 10, 3375, 23153)
    assert shown == ["3/9 specs checked: depth 10, 3,375 states, 23,153 transitions, 5 s so far"]


def test_a_parallel_run_says_how_many_tasks_are_done():
    from explorer.domain.world import MOUNT_OPTIONS

    specs = [load_spec(n) for n in ("mainline", "plain")]
    cfg = Config(Bounds(3, 2, 0), 8, MOUNT_OPTIONS["both"], specs, ("isolation", "no-loss"))
    seen: list[tuple[str, int]] = []
    out = run(cfg, lambda label, d, n, e: seen.append((label, n)), jobs=2)
    # The parent reports after every wake-up: a completion, or a second without one (so
    # the first report may say 0 tasks, and two tasks done together skip a count).  What
    # holds is the order: counts and states never go back, and the last report, made
    # once nothing is pending, has every task and every state.
    total = sum(r.states for r in out.results)
    assert seen[-1] == ("4/4 tasks done", total)
    assert all(re.fullmatch(r"[0-4]/4 tasks done", label) for label, _ in seen)
    done = [int(label.split("/")[0]) for label, _ in seen]
    states = [n for _, n in seen]
    assert done == sorted(done) and states == sorted(states) and states[-1] == total


@pytest.mark.parametrize("method", ["subset", "product"])
def test_the_memory_guard_covers_every_phase_of_isolation(method):
    """After its search, isolation's split and checks hold as much again (19 GB for one
    worker at mounts 4, depth 14 before they were guarded): each phase checks the guard."""
    from explorer.engine.properties import isolation

    model = ErrseqModel(load_spec("plain"), Bounds(2, 2, 0))
    ex = bfs(model, 6)  # no guard in the search: the check alone must stop
    graph = f"{ex.n_states:,} distinct states"
    # Each phase says what it was doing and over how big a graph: at mounts 4, depth 14
    # the split's message read "stopped at 401,408 distinct states while expanding depth
    # 11", the split's position in a graph of millions, as if the search had stopped there.
    with pytest.raises(
        SearchLimit,
        match=f"stopped in isolation's split of the full graph \\({graph} to depth 6\\), at its state 0: memory",
    ) as info:
        isolation.check(ex, model, 0, method=method, max_bytes=1)
    assert "--max-memory" in str(info.value)
    sp = isolation.split_graph(ex, model, 0)
    gen = isolation.METHODS[method](ex, sp)
    with pytest.raises(
        SearchLimit,
        match=f"stopped in isolation's exact check.* of {graph} to depth 6, at 0 .*--max-memory",
    ):
        isolation.METHODS[method](ex, sp, max_bytes=1)
    with pytest.raises(
        SearchLimit,
        match=f"stopped in isolation's removal witness search over {graph}, at .*--max-memory",
    ):
        isolation.removal_search(ex, sp, None, gen.cview, max_bytes=1)


def test_the_products_count_their_own_states_when_they_stop():
    """The monitor and agreement products store (state, monitor) and (state, state)
    pairs: a limit there counts those, and says so."""
    from explorer.checker.properties import monitors
    from explorer.engine.properties import agreement, safety

    model = ErrseqModel(load_spec("plain"), Bounds(2, 2, 0))
    ex = bfs(model, 10)  # products of more than 4,096 pairs: the guard's first check
    with pytest.raises(
        SearchLimit,
        match=r"stopped at 4,096 \(state, monitor\) pairs while expanding depth \d+: memory",
    ):
        safety.check(ex, monitors(model)["no-loss"], model, max_bytes=1)
    other = ErrseqModel(load_spec("mainline"), Bounds(2, 2, 0))
    with pytest.raises(
        SearchLimit,
        match=r"stopped at 4,096 state pairs of the agreement product while expanding depth \d+: memory",
    ):
        agreement.check(bfs(other, 10), ex, other, model, max_bytes=1)
    err = SearchLimit(4096, 5, "memory", "--max-memory", where="in a phase, at 4,096 things")
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) and str(err).startswith("stopped in a phase, at 4,096 things: ")
