"""What `explore` writes to --out: only its own files, the same bytes for the same
command, a report that keeps its schema, 72-column timelines and aligned pictures.

Nothing the user wrote may be lost: every refusal below is checked to leave the folder
exactly as it was (a snapshot of every file's bytes before and after).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.checker import pool as check
from explorer.render.dot import have_dot
from explorer.render.outdir import MANIFEST, slug, spec_folders

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "explorer" / "schemas" / "report.schema.json").read_text())
runner = CliRunner()

#: mainline fails open-before-syncfs in 5 events (docs/model.md §5: an fd open when the
#: error is recorded gets 0 from syncfs), a small run that writes witness files.
SMALL = ["--depth", "6", "-p", "open-before-syncfs", "--quiet", "--show", "0"]


def explore(*args: str | Path):
    r = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in r.output
    return r


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry below `folder`: a file's bytes, None for a folder."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def error_line(r) -> str:
    """The one line a refusal prints (CliRunner mixes stderr into output)."""
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1, r.output
    assert lines[0].startswith("explore: error: --out "), r.output
    return lines[0]


# ---- a folder explore did not write, or cannot write: refused before the search ----

#: With --max-states 1 a search stops at once with its own message: a refusal that
#: names --out therefore came before the search.
BEFORE_SEARCH = ["--max-states", "1"]


def test_a_draft_in_a_spec_named_folder_is_never_touched(tmp_path):
    d = tmp_path / "d"
    (d / "mainline").mkdir(parents=True)
    (d / "mainline" / "lkml-draft.txt").write_text("draft\n")
    before = snapshot(d)
    r = explore("--spec", "mainline", *SMALL, *BEFORE_SEARCH, "--out", d)
    assert r.exit_code == 2
    assert error_line(r) == (
        f"explore: error: --out {d}: the folder is not empty and was not written by "
        "explore; choose an empty or new folder"
    )
    assert snapshot(d) == before


def test_the_users_report_json_is_never_replaced(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "report.json").write_text('{"mine": true}\n')
    r = explore("--spec", "mainline", *SMALL, *BEFORE_SEARCH, "--out", d)
    assert r.exit_code == 2 and "not empty and was not written by explore" in error_line(r)
    assert (d / "report.json").read_text() == '{"mine": true}\n'
    assert sorted(os.listdir(d)) == ["report.json"]


def test_a_gitkeep_alone_leaves_the_folder_usable(tmp_path):
    """The repository's out/ holds only .gitkeep: the default --out must work there."""
    d = tmp_path / "out"
    d.mkdir()
    (d / ".gitkeep").write_text("")
    assert explore("--spec", "mainline", *SMALL, "--out", d).exit_code == 1
    assert (d / ".gitkeep").read_text() == "" and (d / MANIFEST).is_file()
    assert explore("--spec", "mainline", *SMALL, "--out", d).exit_code == 1
    assert (d / ".gitkeep").exists()


@pytest.mark.parametrize("name", ["report.json", "mainline/open-before-syncfs.txt"])
def test_a_file_changed_since_explore_wrote_it_is_refused(tmp_path, name):
    d = tmp_path / "d"
    assert explore("--spec", "mainline", *SMALL, "--out", d).exit_code == 1
    (d / name).write_text("edited by hand\n")
    before = snapshot(d)
    r = explore("--spec", "mainline", *SMALL, *BEFORE_SEARCH, "--out", d)
    assert r.exit_code == 2
    assert error_line(r) == (
        f"explore: error: --out {d}: {d}/{name} was changed since explore wrote it; "
        "move it away or choose another folder"
    )
    assert snapshot(d) == before


def test_a_path_the_run_needs_that_is_the_users_is_refused_after_the_search(tmp_path):
    """Which files a run writes is known only after the search: if one of them is the
    user's, nothing at all is written (not even the report)."""
    d = tmp_path / "d"
    assert explore("--spec", "plain", *SMALL, "--out", d).exit_code == 0  # holds: no files
    (d / "mainline").mkdir()
    (d / "mainline" / "open-before-syncfs.txt").write_text("my own notes\n")
    before = snapshot(d)
    r = explore("--spec", "mainline", *SMALL, "--out", d)
    assert r.exit_code == 2
    assert error_line(r) == (
        f"explore: error: --out {d}: {d}/mainline/open-before-syncfs.txt exists and was "
        "not written by explore; move it away or choose another folder"
    )
    assert snapshot(d) == before  # no report, no staging folder left behind


def test_a_new_run_removes_only_what_an_earlier_run_wrote(tmp_path):
    d = tmp_path / "d"
    assert explore("-s", "mainline", "-s", "v5.11", *SMALL, "--out", d).exit_code == 1
    first = json.loads((d / "report.json").read_text())
    old = {f for v in first["verdicts"] for f in v["files"]}
    assert {"mainline/open-before-syncfs.txt", "v5.11/open-before-syncfs.txt"} <= old
    (d / "mainline" / "lkml-draft.txt").write_text("draft\n")
    (d / "notes.md").write_text("notes\n")
    r = explore("-s", "plain", *SMALL, "--out", d)
    assert r.exit_code == 0
    # plain keeps open-before-syncfs: no witness file; the old ones are gone, the
    # user's stay, and so does the folder holding the draft; v5.11/ (explore's) is gone.
    assert (d / "mainline" / "lkml-draft.txt").read_text() == "draft\n"
    assert (d / "notes.md").read_text() == "notes\n"
    assert not (d / "v5.11").exists()
    assert sorted(p.name for p in (d / "mainline").iterdir()) == ["lkml-draft.txt"]
    manifest = json.loads((d / MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["index.html", "report.json", "summary.txt", "timings.json"]
    assert manifest["folders"] == ["mainline"]


def test_every_witness_file_left_in_the_folder_is_in_the_report(tmp_path):
    d = tmp_path / "d"
    assert explore("-s", "mainline", "-s", "v5.11", *SMALL, "--out", d).exit_code == 1
    assert explore("-s", "v5.11", *SMALL, "--out", d).exit_code == 1
    listed = {
        f for v in json.loads((d / "report.json").read_text())["verdicts"] for f in v["files"]
    }
    present = {
        p.relative_to(d).as_posix()
        for p in d.rglob("*")
        if p.suffix in (".txt", ".dot", ".svg", ".scn") and p.name != "summary.txt"
    }
    assert present == listed and listed


USER_SPEC = 'from specs.mainline import Mainline\n\n\nclass S(Mainline):\n    name = "{}"\n'


def test_spec_names_never_lead_outside_out(tmp_path):
    """A user's spec may call itself almost anything: its files stay in one folder inside
    --out.  Names that are no folder name at all are refused when the spec loads (exit 2,
    nothing written); the folder naming copes with them anyway (test_slug_...)."""
    box = tmp_path / "box"
    (box / "d").mkdir(parents=True)
    (box / "open-before-syncfs.txt").write_text("a file beside the out folder\n")
    for i, name in enumerate(["..", "", ".", "a/../../x"]):
        p = tmp_path / f"refused{i}.py"
        p.write_text(USER_SPEC.format(name))
        before = snapshot(tmp_path)
        r = explore("-s", p, *SMALL, "--out", box / "d")
        assert r.exit_code == 2 and str(p) in r.output, (name, r.output)
        assert snapshot(tmp_path) == before, name
    names = ["report.json", ".explore-manifest.json", "timings.json", "index.html", "summary.txt"]
    specs = []
    for i, name in enumerate(names):
        p = tmp_path / f"spec{i}.py"
        p.write_text(USER_SPEC.format(name))
        specs += ["-s", p]
    outside = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("box/d/")}
    r = explore(*specs, *SMALL, "--out", box / "d")
    assert r.exit_code == 1, r.output
    assert {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("box/d/")} == outside
    data = json.loads((box / "d" / "report.json").read_text())
    folders = [v["files"][0].split("/")[0] for v in data["verdicts"]]
    assert folders == [
        "_report.json",
        "_.explore-manifest.json",
        "_timings.json",
        "_index.html",
        "_summary.txt",
    ]
    for v in data["verdicts"]:
        for f in v["files"]:
            assert (box / "d" / f).resolve().parent.parent == (box / "d").resolve()


def test_slug_is_one_safe_visible_component():
    assert slug("vivek-v3-seen") == "vivek-v3-seen" and slug("v5.11") == "v5.11"
    assert slug("mainline@my_patch") == "mainline_at_my_patch"
    for name in ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "timings.json", "x" * 500]:
        s = slug(name)
        assert s and "/" not in s and "\\" not in s and not s.startswith(".")
        assert s not in ("report.json", "timings.json", "index.html", MANIFEST) and len(s) <= 101
    # two specs with the same folder name get two folders
    assert spec_folders(["a/b", "a_b", "a?b"]) == {"a/b": "a_b", "a_b": "a_b-2", "a?b": "a_b-3"}


@pytest.mark.parametrize(
    "where,reason",
    [
        ("file", "is a file, not a folder"),
        ("file/sub", "{tmp}/file is a file, not a folder"),
        ("/dev/null", "is not a folder"),
    ],
)
def test_an_unusable_out_is_one_line_and_exit_2_before_the_search(tmp_path, where, reason):
    (tmp_path / "file").write_text("mine\n")
    out = where if where.startswith("/") else f"{tmp_path}/{where}"
    r = explore("--spec", "mainline", *SMALL, *BEFORE_SEARCH, "--out", out)
    assert r.exit_code == 2
    assert error_line(r) == f"explore: error: --out {out}: {reason.format(tmp=tmp_path)}"
    assert (tmp_path / "file").read_text() == "mine\n"


def _read_only_run(folder: Path, args: list[str]) -> subprocess.CompletedProcess:
    """Run explore with `folder` read-only.  As root a chmod proves nothing (root writes
    through permission bits), so the folder is bind-mounted read-only in a mount
    namespace of the command's own; if that cannot be done here, the test is skipped."""
    cmd = [sys.executable, "-m", "explorer.app.cli", *args]
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        finally:
            folder.chmod(0o755)
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'
    wrap = ["unshare", "-m", "sh", "-c", script, "sh", str(folder)]
    try:
        probe = subprocess.run(
            [*wrap, "touch", str(folder / "probe")], capture_output=True, text=True, timeout=30
        )
    except FileNotFoundError:
        pytest.skip("running as root, and no unshare(1) to make a read-only bind mount")
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"running as root, and no read-only bind mount could be made: {probe.stderr}")
    return subprocess.run([*wrap, *cmd], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("inside", [False, True])
def test_a_read_only_folder_is_one_line_and_exit_2_before_the_search(tmp_path, inside):
    ro = tmp_path / "ro"
    ro.mkdir()
    out = ro / "new" if inside else ro
    p = _read_only_run(ro, ["-s", "mainline", *SMALL, *BEFORE_SEARCH, "--out", str(out)])
    assert p.returncode == 2 and p.stdout == "", p.stderr
    assert p.stderr.startswith(f"explore: error: --out {out}: "), p.stderr
    want = "cannot create the folder" if inside else "cannot write in the folder"
    assert want in p.stderr and len(p.stderr.splitlines()) == 1, p.stderr
    assert not any(ro.iterdir())


# ---- the same command, the same report ----

FOUR = ["-s", "plain", "-s", "mainline", "-s", "amir", "-s", "vivek-v3-seen"]


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--symmetry"]])
def test_report_json_is_byte_identical_for_one_or_two_processes(tmp_path, monkeypatch, extra):
    """-j 2 really runs the specs in two worker processes (spied on), and the report is
    the same bytes as -j 1's and as a second -j 1 run's in another folder.  With
    --symmetry, isolation is a task of its own and the verdicts are put back in order."""
    workers: list[int] = []

    class Spy(check.ProcessPoolExecutor):
        def __init__(self, max_workers, **kw):
            workers.append(max_workers)
            super().__init__(max_workers, **kw)

    monkeypatch.setattr(check, "ProcessPoolExecutor", Spy)
    args = ["--mounts", "2", "--depth", "6", *FOUR, *extra, "--quiet", "--show", "0"]
    reports = []
    for jobs, folder in (("1", "a"), ("2", "b"), ("1", "c")):
        r = explore(*args, "--jobs", jobs, "--out", tmp_path / folder)
        assert r.exit_code == 1, r.output
        reports.append((tmp_path / folder / "report.json").read_bytes())
    assert workers == [2]
    assert reports[0] == reports[1] == reports[2]
    # The same folder again: the report is rewritten with the same bytes.
    assert explore(*args, "--jobs", "2", "--out", tmp_path / "a").exit_code == 1
    assert (tmp_path / "a" / "report.json").read_bytes() == reports[0]
    data = json.loads(reports[0])
    assert str(tmp_path) not in reports[0].decode()
    assert not _keys_with(data, "seconds")
    timings = json.loads((tmp_path / "a" / "timings.json").read_text())
    assert set(timings) == {"schema", "seconds", "specs"}
    assert set(timings["specs"]) == {"plain", "mainline", "amir", "vivek-v3-seen"}
    assert all(set(t) == {"search_seconds", "seconds"} for t in timings["specs"].values())


def _keys_with(data, word: str) -> list[str]:
    if isinstance(data, dict):
        return [k for k in data if word in k] + [
            x for v in data.values() for x in _keys_with(v, word)
        ]
    if isinstance(data, list):
        return [x for v in data for x in _keys_with(v, word)]
    return []


def test_config_names_every_option_that_can_change_a_result(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # a user's spec is named by its path from the working folder
    args = [
        "-s", "amir", "-s", "tests/isolated_spec.py", "-p", "isolation", "-p", "agreement",
        "--mounts", "3", "--depth", "5", "--fds", "1", "--host-fds", "1",
        "--mount-options", "volatile", "--container", "ovl2", "--allow", "syncfs",
        "--isolation-budget", "0", "--max-states", "100000", "--max-memory", "2.5",
        "--no-symmetry", "--against", "mainline", "--quiet",
    ]  # fmt: skip
    r = explore(*args, "--out", tmp_path)
    assert r.exit_code in (0, 1), r.output
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["schema"] == "errseq-explorer/report/1"
    assert data["config"] == {
        "mounts": 3,
        "fds": 1,
        "host_fds": 1,
        "depth": 5,
        "mount_options": ["volatile"],
        "specs": ["amir", "isolated"],
        "properties": ["isolation", "agreement"],
        "against": "mainline",
        "allow": ["syncfs"],
        "containers": ["ovl2"],
        "isolation_budget": None,  # 0: no cap
        "max_states": 100000,
        "symmetry": False,
        "max_memory": 2.5,
    }
    import hashlib

    def sha(p: str) -> str:
        return hashlib.sha256((ROOT / p).read_bytes()).hexdigest()

    assert data["spec_sources"] == {
        "amir": {p: sha(p) for p in ("specs/amir.py", "specs/mainline.py", "specs/v5_10.py", "specs/v5_11.py")},
        "isolated": {"tests/isolated_spec.py": sha("tests/isolated_spec.py")},
    }  # fmt: skip
    # Left to their defaults: the representative, the default guard, symmetry resolved.
    r = explore("-s", "plain", "--mounts", "3", *SMALL, "--out", tmp_path / "defaults")
    config = json.loads((tmp_path / "defaults" / "report.json").read_text())["config"]
    assert config["containers"] is None and config["max_memory"] is None
    assert config["isolation_budget"] == 1_000_000 and config["symmetry"] is True


# ---- real reports: the schema, 72 columns, the pictures ----

MAIN_JOBS = {
    "main": ["--mounts", "2", "--depth", "8"],
    "host": ["--mounts", "2", "--depth", "8", "--host-fds", "1"],
    "three": ["--mounts", "3", "--depth", "8"],
}


@pytest.fixture(scope="module")
def main_jobs(tmp_path_factory) -> dict[str, Path]:
    """The main job at its three usual scales (every spec, every property)."""
    outs = {}
    for name, args in MAIN_JOBS.items():
        out = tmp_path_factory.mktemp(name)
        r = explore(*args, "--quiet", "--show", "0", "--out", out)
        assert r.exit_code == 1, r.output
        outs[name] = out
    return outs


@pytest.mark.slow
def test_every_line_of_every_witness_fits_72_columns(main_jobs):
    texts = [p for out in main_jobs.values() for p in sorted(out.glob("*/*.txt"))]
    assert len(texts) >= 3 * 20
    for p in texts:
        for n, line in enumerate(p.read_text().splitlines(), 1):
            assert len(line) <= 72, f"{p}:{n}: {len(line)} columns: {line}"
    # the footnote that had 73 columns is wrapped, not cut
    text = (main_jobs["main"] / "mainline" / "open-before-syncfs.txt").read_text()
    assert (
        "    < step 5: syncfs returned 0 on an fd open when the error was\n      recorded\n" in text
    )


REPORTS = {
    "isolation only": ["-s", "amir", "-s", "vivek-v3-seen", "-p", "isolation", "--depth", "8"],
    "user spec, holds": ["-s", str(ROOT / "tests" / "isolated_spec.py"), "-p", "isolation", "-p", "no-loss"],
    "no violation": ["-s", "plain", "-p", "open-before-syncfs", "-p", "open-before-fsync"],
    "allowed, two containers": ["-s", "vivek-v3-seen", "-p", "isolation", "--allow", "mount",
                                "--allow", "syncfs", "--container", "ovl1", "--container", "ovl2"],
    "capped": ["-s", "amir", "-p", "isolation", "--isolation-budget", "800"],
    "model options": ["-s", "mainline", "-s", "jeff-split", "--depth", "6", "--errnos",
                      "EIO,ENOSPC", "--counter-bits", "3", "--host-files", "any"],
}  # fmt: skip


@pytest.mark.slow
def test_real_reports_match_the_shipped_schema(main_jobs, tmp_path):
    validator = jsonschema.Draft202012Validator(SCHEMA)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    reports = {
        name: json.loads((out / "report.json").read_text()) for name, out in main_jobs.items()
    }
    for name, args in REPORTS.items():
        r = explore(*args, "--quiet", "--show", "0", "--out", tmp_path / str(len(reports)))
        assert r.exit_code in (0, 1), r.output
        reports[name] = json.loads((tmp_path / str(len(reports)) / "report.json").read_text())
    for name, data in reports.items():
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
        assert not errors, (name, errors[:5])
    assert reports["user spec, holds"]["exit"] == 0 and reports["no violation"]["exit"] == 0
    assert reports["isolation only"]["exit"] == 1
    # The model's options appear in config only when a run departs from their defaults.
    options = {"errnos", "counter_bits", "host_files"}
    assert not options & set(reports["main"]["config"])
    config = reports["model options"]["config"]
    assert (config["errnos"], config["counter_bits"], config["host_files"]) == (
        ["EIO", "ENOSPC"],
        3,
        "any",
    )
    # The schema is strict: an extra field, a time, an absolute path are all refused.
    bad = json.loads(json.dumps(reports["main"]))
    bad["seconds"] = 1.0
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(reports["main"]))
    bad["verdicts"][0]["files"] = ["/tmp/out/plain/isolation.txt"]
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(reports["main"]))
    del bad["config"]["symmetry"]
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(reports["model options"]))
    bad["config"]["errnos"] = ["EPERM"]
    assert not validator.is_valid(bad)


@pytest.mark.slow
def test_isolation_pictures_say_event_or_events(main_jobs):
    pictures = [p for out in main_jobs.values() for p in out.glob("*/isolation.dot")]
    assert pictures
    for p in pictures:
        text = p.read_text() + p.with_suffix(".txt").read_text()
        assert "event(s)" not in text and " 1 events" not in text
    seed = (main_jobs["main"] / "vivek-v3-seen" / "isolation.dot").read_text()
    assert "remove 1 outside event (shaded)" in seed  # the seed: only ovl2's mount


@pytest.mark.skipif(not have_dot(), reason="Debian's graphviz (the dot binary) is not installed")
@pytest.mark.slow
def test_the_two_runs_of_an_isolation_picture_line_up(main_jobs):
    """In the .svg, run A's and run B's tables have the same columns, and step k of
    both is on one row (their cells share a y)."""
    checked = 0
    for out in main_jobs.values():
        data = json.loads((out / "report.json").read_text())
        for v in data["verdicts"]:
            svg = next((f for f in v["files"] if f.endswith(".svg")), None)
            if v["property"] != "isolation" or svg is None or "other" not in v:
                continue
            rows: dict[float, list[tuple[float, float]]] = {}
            for pts in re.findall(
                r'fill="none" stroke="black" points="([^"]+)"', (out / svg).read_text()
            ):
                xy = [tuple(map(float, p.split(","))) for p in pts.split()]
                xs, ys = [x for x, _ in xy], [y for _, y in xy]
                rows.setdefault(min(ys), []).append((min(xs), max(xs) - min(xs)))
            cells = [sorted(r) for _, r in sorted(rows.items())]
            both = [r for r in cells if len(r) == len(cells[0])]
            half = len(cells[0]) // 2
            short, long_ = sorted((len(v["witness"]), len(v["other"])))
            assert len(both) == 1 + short, svg  # the header and every step both runs have
            assert len(cells) - len(both) == long_ - short, svg
            for row in both:
                assert [w for _, w in row[:half]] == [w for _, w in row[half:]], svg
            checked += 1
    assert checked >= 5
