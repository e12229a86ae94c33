"""The scenario language (docs/model.md §2): parsing, formatting, located errors, and the
scenario part of the witness files the main job writes.

Every file tests/scenarios/bad-*.scn starts with `# error: LINE TOKEN :: REASON`: the
line number, the offending token and words the reason must contain.  Errors found
by the parser or the structural check (fd names, umount/evict with fds open) come
from `parse`; an event no spec can run (wberror on a clean file, open in an
unmounted container, mount twice) from `replay_all`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.checker.replay import SKIPPED, replay_all, scenarios_in
from explorer.domain import world
from explorer.domain.catalog import load_specs
from explorer.domain.scenario import ScenarioError, format_run, parse
from explorer.domain.world import Bounds

SCENARIOS = Path(__file__).parent / "scenarios"
BAD = sorted(SCENARIOS.glob("bad-*.scn"))


def name(path: Path) -> str:
    return path.stem.removeprefix("bad-")


def expected_error(path: Path) -> tuple[int, str, str]:
    head = path.read_text().splitlines()[0]
    assert head.startswith("# error: "), path
    where, reason = head.removeprefix("# error: ").split(" :: ")
    line, token = where.split(" ", 1)
    return int(line), token, reason


def scenario_error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        sc = parse(path.read_text(), str(path))
        replay_all(sc, load_specs(None))  # every built-in spec
    return info.value


def _bad_params():
    for p in BAD:
        yield pytest.param(p, id=name(p))


@pytest.mark.parametrize("path", list(_bad_params()))
def test_bad_scenario_is_located(path: Path) -> None:
    line, token, reason = expected_error(path)
    err = scenario_error(path)
    assert err.source == str(path)
    assert err.line == line
    assert err.token == token
    assert reason in err.reason
    text = str(err)
    assert str(path) in text and f":{line}:" in text and token in text


def test_bad_scenarios_cover_the_brief() -> None:
    # unknown verb, wrong arity, unknown fd, fd reused (twice, after close), umount with
    # open fds, wberror on a clean file, evict of a held inode, an impossible event.
    names = {name(p) for p in BAD}
    assert {
        "unknown-verb",
        "arity-too-few",
        "arity-too-many",
        "unknown-fd",
        "fd-opened-twice",
        "fd-reopened-after-close",
        "umount-with-open-fds",
        "wberror-clean-file",
        "evict-held-inode",
        "mount-twice",
        "open-unmounted",
    } <= names


def test_empty_scenario() -> None:
    with pytest.raises(ScenarioError) as info:
        parse("# only a comment\n\n", "empty.scn")
    assert "empty.scn" in str(info.value)


def test_parse_seed() -> None:
    sc = parse((SCENARIOS / "seed.scn").read_text(), "seed.scn")
    # Comments and blank lines are dropped; line numbers are the file's.
    assert [(e.line, str(e)) for e in sc.events] == [
        (3, "mount ovl1"),
        (4, "open fd1 ovl1"),
        (5, "write fd1"),
        (6, "wberror ovl1"),
        (7, "mount ovl2"),
        (8, "open fd2 ovl1"),
        (9, "syncfs fd2"),
        (10, "syncfs fd1"),
    ]
    # Two containers, ovl1 holds two fds at once, no host fd.
    assert sc.bounds == Bounds(mounts=2, fds=2, host_fds=0)
    assert sc.owners == {"fd1": "ovl1", "fd2": "ovl1"}


def test_results_and_volatile_are_kept_and_formatted() -> None:
    text = "mount ovl2 volatile = EIO  # refused\nopen h1 host\nsyncfs h1 = 0\nsync\n"
    sc = parse(text, "t")
    assert [(e.verb, e.expect) for e in sc.events] == [
        ("mount", "EIO"),
        ("open", None),
        ("syncfs", "0"),
        ("sync", None),
    ]
    assert sc.events[0].volatile and sc.events[0].target == "ovl2"
    # ovl2 named, so two containers; one host fd.
    assert sc.bounds == Bounds(mounts=2, fds=1, host_fds=1)
    # format: the canonical text parses back to the same events.
    assert sc.text() == "mount ovl2 volatile\nopen h1 host\nsyncfs h1\nsync\n"
    again = parse(sc.text(), "t2")
    assert [str(e) for e in again.events] == [str(e) for e in sc.events]


def test_event_possible_under_some_spec_is_not_an_error() -> None:
    # A volatile overlay's fsync writes nothing back (docs/model.md §4), so the file is still
    # dirty and wberror can happen -- except under plain, whose fsync wrote it back.
    text = "mount ovl1 volatile\nopen fd1 ovl1\nwrite fd1\nfsync fd1\nwberror ovl1\n"
    runs = replay_all(parse(text, "t"), load_specs(["plain", "mainline", "v5.10"]))
    assert [r.results[4] for r in runs] == [SKIPPED, None, None]
    assert "dirty" in runs[0].skipped[4]
    # ... but with plain alone nobody can run it: an error naming line 5.
    with pytest.raises(ScenarioError) as info:
        replay_all(parse(text, "t"), load_specs(["plain"]))
    assert info.value.line == 5


def test_refused_mount_then_the_run_continues() -> None:
    # mainline refuses a volatile mount on an unseen upper error (sample 0, check -5);
    # the container stays unmounted, so its open is skipped, while plain runs it all.
    text = "open h host\nwrite h\nwberror host\nmount ovl1 volatile\nopen fd1 ovl1\nsyncfs h\n"
    plain, mainline = replay_all(parse(text, "t"), load_specs(["plain", "mainline"]))
    assert mainline.results == ["0", "0", None, "EIO", SKIPPED, "EIO"]
    assert plain.results == ["0", "0", None, "0", "0", "EIO"]


def test_format_run_names_fds_freshly() -> None:
    b = Bounds(mounts=2, fds=2, host_fds=1)
    host_slot = b.owner_slots(b.host)[0]
    evs = [
        world.Event("mount", 0),
        world.Event("open", 0),
        world.Event("close", 0),
        world.Event("open", 0),  # the same slot reopened gets a new name
        world.Event("open", host_slot),
        world.Event("wberror", 1),
        world.Event("sync"),
        world.Event("mount", 1, True),
    ]
    assert [str(e) for e in format_run(b, evs)] == [
        "mount ovl1",
        "open fd1 ovl1",
        "close fd1",
        "open fd2 ovl1",
        "open fd3 host",
        "wberror ovl2",
        "sync",
        "mount ovl2 volatile",
    ]


# --- witness files: `explore replay FILE.txt` -------------------------------------------


@pytest.fixture(scope="module")
def witnesses(tmp_path_factory) -> list[Path]:
    """Every witness file the main job writes at --mounts 2 --depth 6."""
    out = tmp_path_factory.mktemp("out")
    args = ["--mounts", "2", "--depth", "6", "-q", "--out", str(out)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 1, r.output  # properties fail: witnesses to write
    return sorted(out.glob("*/*.txt"))


def test_every_witness_file_replays_under_its_spec(witnesses: list[Path]) -> None:
    """A witness's scenario part (both runs of an isolation pair) is what replay reads,
    and every result it states is the one its spec gives (exit 0)."""
    assert len(witnesses) >= 15
    pairs = 0
    for path in witnesses:
        spec = path.parent.name
        text = path.read_text()
        scenarios = scenarios_in(text, str(path))
        pairs += len(scenarios) == 2
        lines = text.splitlines()
        for sc in scenarios:  # each event is its line of the file, as written
            assert sc.events, path
            for e in sc.events:
                written = f"{e} = {e.expect}" if e.expect else f"{e}"
                assert lines[e.line - 1].strip() == written, (path, e.line)
        r = CliRunner().invoke(app, ["replay", str(path), "--spec", spec])
        assert r.exit_code == 0, (path, r.output)
        assert "stated results:" in r.stdout and "all hold" in r.stdout, r.stdout
    assert pairs >= 1  # an isolation witness: run A and run B


def test_a_pairs_runs_are_named_and_a_bad_witness_is_located(
    witnesses: list[Path], tmp_path: Path
) -> None:
    pair = next(p for p in witnesses if p.name == "isolation.txt")
    a, b = scenarios_in(pair.read_text(), str(pair))
    assert (a.source, b.source) == (f"{pair} (run A)", f"{pair} (run B)")
    assert a.events[-1].line < b.events[0].line  # the file's own line numbers
    lines = pair.read_text().splitlines()
    broken = tmp_path / "broken.txt"
    n = b.events[0].line
    broken.write_text("\n".join(lines[: n - 1] + ["    frobnicate fd1"] + lines[n:]) + "\n")
    r = CliRunner().invoke(app, ["replay", str(broken)])
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"explore: error: {broken}:{n}: 'frobnicate': unknown verb "
        "(expected one of: mount, umount, open, write, fsync, syncfs, close, wberror, evict, sync)"
    )
    cut = tmp_path / "cut.txt"
    cut.write_text("\n".join(line for line in lines if line != "Run B:") + "\n")
    with pytest.raises(ScenarioError, match=r"cut.txt:\d+: 'Run A': no 'Run B:' line"):
        scenarios_in(cut.read_text(), str(cut))
