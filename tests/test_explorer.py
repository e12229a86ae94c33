"""The explorer (issue 3): search counts, properties, witnesses that replay, CLI contract.

Expected values come from docs/model.md and the thread, derived by hand in the comments.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.bridge.model import ErrseqModel
from explorer.bridge.monitors import NoLoss, OpenBefore
from explorer.checker.config import Config
from explorer.checker.replay import run as replay_run
from explorer.checker.run import run
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.scenario import parse, world_event
from explorer.domain.world import NORMAL, VOLATILE, Bounds
from explorer.engine.properties import safety
from explorer.engine.search import bfs
from explorer.render.dot import have_dot
from explorer.render.timeline import scenario_text

B2 = Bounds(mounts=2, fds=2, host_fds=0)
BOTH = (NORMAL, VOLATILE)
OVERLAY_SPECS = [n for n in builtin_names() if n != "plain"]
SEED = """\
mount ovl1
open fd1 ovl1
write fd1
wberror ovl1
mount ovl2
open fd2 ovl1
syncfs fd2
syncfs fd1
"""


@pytest.fixture(scope="module")
def outcome():
    """The main job's checks (all but isolation, which has its own tests) at depth 8."""
    cfg = Config(
        B2,
        8,
        BOTH,
        [load_spec(n) for n in builtin_names()],
        ("open-before-syncfs", "open-before-fsync", "no-loss", "agreement"),
        against=load_spec("plain"),
    )
    return run(cfg)


def test_tiny_configuration_matches_a_hand_count():
    # 1 container, 1 fd, no host fd, both mount options, plain, depth 3.
    # depth 0: S0 (nothing mounted).  Enabled: mount, mount volatile, sync (self-loop).
    # depth 1: A (mounted normal), B (mounted volatile).          3 edges out of S0
    # depth 2: from A: umount->S0, open->A1, sync->A; same for B:  new A1, B1; 3+3 edges
    # depth 3: from A1: write->A1w (dirty), fsync->A1, syncfs->A1, close->Ac (inode still
    #          cached), sync->A1; umount/open/evict disabled (fd open, 1 fd bound, held).
    #          same for B1: new A1w, Ac, B1w, Bc;                  5+5 edges
    # states: 1 + 2 + 2 + 4 = 9; transitions recorded: 3 + 3 + 3 + 5 + 5 = 19.
    ex = bfs(ErrseqModel(load_spec("plain"), Bounds(1, 1, 0), BOTH), 3)
    assert ex.n_states == 9
    assert ex.n_edges == 19
    assert [ex.depth.count(d) for d in range(4)] == [1, 2, 2, 4]


def test_each_state_is_expanded_once_and_parents_give_shortest_paths():
    ex = bfs(ErrseqModel(load_spec("amir"), B2, BOTH), 6)
    assert len(set(ex.states)) == ex.n_states
    expanded = [sid for sid in range(ex.n_states) if ex.edge_start[sid] >= 0]
    assert all(ex.depth[s] < 6 for s in expanded)
    assert all(ex.depth[s] == 6 for s in range(ex.n_states) if ex.edge_start[s] < 0)
    for sid in range(0, ex.n_states, 97):
        path = ex.path_to(sid)
        assert len(path) == ex.depth[sid]
        assert (ex.dst[path[-1]] if path else 0) == sid


@pytest.mark.parametrize("spec", OVERLAY_SPECS)
def test_the_seed_is_a_path_of_every_overlay_graph(spec):
    model = ErrseqModel(load_spec(spec), B2, BOTH)
    ex = bfs(model, 8)
    scenario = parse(SEED, "seed")
    scenario.bounds = B2  # the explorer's bounds: same slots for ovl1's two fds
    sid, slots = 0, {}
    for e in scenario.events:
        ev = world_event(scenario, e, slots, ex.states[sid])
        if e.verb == "open":
            slots[e.fd] = ev.arg
        edges = [x for x in ex.out_edges(sid) if ex.action[x] == ev]
        assert edges, f"{spec}: {e} is not an edge out of state {sid}"
        sid = ex.dst[edges[0]]


def test_open_before_syncfs_fails_on_a_normal_mainline_overlay_and_holds_on_plain(outcome):
    # docs/model.md §4: non-volatile mainline syncfs reports no upper writeback error, so
    # mount, open fd1, write fd1, wberror, syncfs fd1 = 0 is the shortest violation (5).
    by = {r.spec.name: r for r in outcome.results}
    v = by["mainline"].verdicts["open-before-syncfs"][0]
    assert not v.holds and v.length == 5
    assert v.witness[0].action.verb == "mount" and not v.witness[0].action.volatile
    assert v.witness[-1].action.verb == "syncfs" and v.witness[-1].obs == 0
    assert by["plain"].verdicts["open-before-syncfs"][0].holds


def test_plain_keeps_every_guarantee_and_agrees_with_itself(outcome):
    plain = next(r for r in outcome.results if r.spec.name == "plain")
    assert all(v.holds for vs in plain.verdicts.values() for v in vs)
    assert "agreement" not in plain.verdicts


def test_amir_keeps_open_before_for_both_calls(outcome):
    # Amir's goals (2021-01-04): volatile: every syncfs and fsync gets the error (sticky);
    # normal: first syncfs in every container gets it (ofs->errseq advanced per container).
    amir = next(r for r in outcome.results if r.spec.name == "amir")
    assert amir.verdicts["open-before-syncfs"][0].holds
    assert amir.verdicts["open-before-fsync"][0].holds


def test_vivek_v3_seen_loses_an_error(outcome):
    # The seed, Jeff 12:27, "lost forever", with no host fd: the error must be gone from
    # every channel (docs/model.md §5).  ovl1 writes through fd1 and closes it (an open fd
    # would keep a syncfs cursor from before the error); wberror ovl1 (ino 0x5, upper
    # 0x5); ovl2's mount marks upper 0x1005 SEEN, so every fresh open samples past it for
    # syncfs; and ovl1's inode is evicted, so a fresh open of ovl1's file, in ovl1 or by
    # the host through the upper dir, starts fsync from 0.  mount, open, write, close,
    # wberror, mount, evict: 7 events, none of which can go (a volatile ovl1 does not
    # save the evict: the host's open of ovl1's upper file would still get the error).
    v = next(r for r in outcome.results if r.spec.name == "vivek-v3-seen").verdicts["no-loss"][0]
    assert not v.holds and v.length == 7
    assert sorted(s.action.verb for s in v.witness) == sorted(
        ["mount", "open", "write", "close", "wberror", "mount", "evict"]
    )
    assert v.witness[-1].action.verb in ("mount", "evict")
    assert v.reason == "an error on a container's file, never reported, can no longer be reported"


def _replay(spec_name, steps):
    text = scenario_text(B2, steps)
    scenario = parse(text, "witness")
    return replay_run(scenario, load_spec(spec_name)), scenario


def test_every_witness_replays_and_shows_its_violation(outcome):
    checked = 0
    for r in outcome.results:
        for prop, verdicts in r.verdicts.items():
            for v in verdicts:
                if v.holds:
                    continue
                rr, scenario = _replay(r.spec.name, v.witness)
                assert not rr.skipped, (r.spec.name, prop)
                expected = [
                    ("0" if s.obs == 0 else "EIO") if s.obs is not None else None for s in v.witness
                ]
                assert rr.results == expected, (r.spec.name, prop)
                if prop == "agreement":
                    other = replay_run(scenario, load_spec("plain"))
                    assert other.results[-1] != rr.results[-1]
                else:
                    model = ErrseqModel(r.spec, scenario.bounds, BOTH)
                    mon = (
                        NoLoss(model)
                        if prop == "no-loss"
                        else OpenBefore(model, prop.split("-")[-1])
                    )
                    m, s, reasons = mon.initial(), scenario.bounds.initial(), []
                    slots: dict[str, int] = {}
                    for e, t in zip(scenario.events, rr.states, strict=True):
                        ev = world_event(scenario, e, slots, s)
                        if e.verb == "open":
                            slots[e.fd] = ev.arg
                        ret = (
                            None
                            if rr.results[len(reasons)] is None
                            else (0 if rr.results[len(reasons)] == "0" else -5)
                        )
                        m, why = mon.step(m, s, ev, ret)
                        if not why and hasattr(mon, "after"):
                            why = mon.after(m, t)
                        reasons.append(why)
                        s = t
                    assert reasons[-1] and not any(reasons[:-1]), (r.spec.name, prop, reasons)
                checked += 1
    assert checked >= 15


def test_monitor_product_finds_nothing_on_plain_even_deeper():
    model = ErrseqModel(load_spec("plain"), Bounds(2, 1, 1), BOTH)
    ex = bfs(model, 9)
    for mon in (OpenBefore(model, "syncfs"), OpenBefore(model, "fsync"), NoLoss(model)):
        assert safety.check(ex, mon, model).holds


runner = CliRunner()


def test_cli_exit_codes_json_and_out_files(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(
        app,
        ["--spec", "plain", "--property", "open-before-syncfs", "--depth", "6", "--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "--spec",
            "mainline",
            "--property",
            "open-before-syncfs",
            "--depth",
            "6",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert data["specs"]["mainline"]["states"] > 0
    v = data["verdicts"][0]
    assert v["property"] == "open-before-syncfs" and not v["holds"] and v["length"] == 5
    assert (out / "mainline" / "open-before-syncfs.txt").exists()
    assert (out / "mainline" / "open-before-syncfs.dot").exists()
    assert json.loads((out / "report.json").read_text())["exit"] == 1
    assert data["witnesses"][0]["scenario"].startswith("mount ovl1")


@pytest.mark.skipif(not have_dot(), reason="Debian's graphviz (the dot binary) is not installed")
def test_every_picture_is_rendered_to_svg_next_to_its_dot(tmp_path):
    """The main job draws all its pictures with one `dot` process (dot -O writes a.dot.svg,
    renamed to a.svg): each .dot gets its own .svg, and no .dot.svg is left behind."""
    r = runner.invoke(
        app, ["--depth", "6", "-s", "mainline", "-s", "amir", "--quiet", "--out", str(tmp_path)]
    )
    assert r.exit_code == 1, r.output
    dots = sorted(tmp_path.glob("*/*.dot"))
    assert len(dots) >= 3  # mainline's open-before-syncfs and agreement, amir's isolation
    for d in dots:
        svg = d.with_suffix(".svg").read_text()
        assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
        title = d.read_text().split("<B>", 1)[1].split("</B>", 1)[0]
        assert title.split()[0] in svg  # the picture drawn is this .dot's, not another's
    assert not list(tmp_path.glob("*/*.dot.svg"))


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--depth", "0"], "--depth 0"),
        (["--spec", "nosuch"], "unknown spec"),
        (["--property", "nosuch"], "--property"),
        (["--container", "ovl3"], "--container"),
        (["--mount-options", "weird"], "--mount-options"),
        (["--allow", "nosuch"], "--allow"),
    ],
)
def test_cli_bad_input_exits_2_without_traceback(args, needle):
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert needle in r.output
    assert "Traceback" not in r.output


def test_diff_agrees_and_differs():
    # v5.11 and mainline differ only in the overlay sb's errseq, never in a result.
    r = runner.invoke(app, ["diff", "mainline", "v5.11", "--depth", "6"])
    assert r.exit_code == 0 and "agree" in r.output
    # amir reports upper errors from normal syncfs; mainline does not (5 events).
    r = runner.invoke(app, ["diff", "mainline", "amir", "--depth", "6"])
    assert r.exit_code == 1
    assert "syncfs: 0 vs EIO  (5 events)" in r.output


@pytest.mark.slow
def test_main_job_shows_the_seed_first(tmp_path):
    # The seed's objection is a mount changing what a container sees; under vivek-v3-seen
    # removing ovl2's mount turns fd2's syncfs from 0 into EIO (docs/model.md §5, issue 4).
    r = runner.invoke(app, ["--quiet", "--show", "1", "--out", str(tmp_path)])
    assert r.exit_code == 1
    shown = r.output[r.output.index("violated") - 40 :]
    assert "vivek-v3-seen: isolation of ovl1 violated" in shown
    assert "remove ovl2's mount and fd2's syncfs returns EIO instead of 0" in shown


def test_the_main_job_includes_one_host_fd_and_it_breaks_mainlines_isolation(tmp_path):
    # docs/model.md §1: one host fd by default.  mainline, by hand (podman issue 22046):
    #   open fd1 host; write fd1; wberror host      upper 0x5 unseen
    #   syncfs fd1 = EIO                            host: C&A(0x5, 0), upper 0x1005
    #   mount ovl1 volatile = 0                     ofs1 = sample(0x1005), check equal
    # and without the host's syncfs: ofs1 = sample(0x5) = 0, check(0x5, 0) -> EIO,
    # refused.  ovl1 sees only the wberror and its mount: 5 events, one outside syncfs.
    args = ["-s", "mainline", "-p", "isolation", "--quiet", "--show", "0", "--json"]
    r = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert r.exit_code == 1, r.output
    data = json.loads(r.output)
    assert data["config"]["host_fds"] == 1
    (v,) = data["verdicts"]
    assert not v["holds"] and v["length"] == 5
    assert v["scenario"].splitlines() == [
        "open fd1 host",
        "write fd1",
        "wberror host",
        "syncfs fd1 = EIO",
        "mount ovl1 volatile = 0",
    ]
    # Without a host fd nothing outside ovl1 marks upper SEEN unseen by it: isolated.
    r = runner.invoke(app, [*args, "--host-fds", "0", "--out", str(tmp_path / "b")])
    assert r.exit_code == 0, r.output


def test_diff_includes_one_host_fd_by_default():
    # open fd1 host; write fd1; wberror host (upper 0x5 unseen); mount ovl1 volatile:
    # plain mounts always succeed, mainline samples ofs1 = 0 and check(0x5, 0) refuses it.
    # Without a host fd the error must come from a container's write (mount, open, write,
    # wberror), so no call is left within 4 events to differ.
    r = runner.invoke(app, ["diff", "plain", "mainline", "--depth", "4"])
    assert r.exit_code == 1 and "mount: 0 vs EIO  (4 events)" in r.output
    r = runner.invoke(app, ["diff", "plain", "mainline", "--depth", "4", "--host-fds", "0"])
    assert r.exit_code == 0 and "agree" in r.output


@pytest.mark.parametrize("bounds", [Bounds(2, 2, 0), Bounds(2, 1, 2), Bounds(3, 1, 0)])
def test_enabled_events_are_exactly_those_with_no_reason_to_refuse(bounds):
    # world.enabled (the search's fast path) and world.why_disabled (the scenario errors)
    # state the same rules twice; they must agree on every reachable state.
    from explorer.domain import world

    ex = bfs(ErrseqModel(load_spec("amir"), bounds, BOTH, cache=False), 6)
    every = world.all_events(bounds, BOTH)
    for s in ex.states:
        fast = set(world.enabled(bounds, s, BOTH))
        slow = {e for e in every if world.why_disabled(bounds, s, e, BOTH) is None}
        assert fast == slow, s


def test_full_graph_writes_dot_and_says_it_is_not_drawn(tmp_path) -> None:
    """--full-graph promises DOT: dot needs many minutes to lay out thousands of states,
    so the state graph is written, not drawn, and the user is told how to draw it."""
    from typer.testing import CliRunner

    from explorer.app.cli import app

    args = ["--mounts", "2", "--depth", "5", "-s", "plain", "--full-graph", "--quiet"]
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path)])
    assert r.exit_code in (0, 1), r.output
    assert (tmp_path / "plain" / "graph.dot").read_text().startswith("digraph")
    assert not (tmp_path / "plain" / "graph.svg").exists()
    assert "not drawn: dot takes many minutes" in " ".join(r.output.split())
