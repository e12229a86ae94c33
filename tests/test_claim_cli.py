"""`explore claim PATH... [--spec] [--json] [--markdown]` as a user and CI run it.

The library runs in the suite and exits 0 (every expectation met); a spec change that
moves a verdict exits 1 and the output names the claims that moved; docs/claims.md is
what `--markdown` prints; bad input exits 2 naming the file and line.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.checker.claims import specs_of
from explorer.domain.claim import load_claim

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = sorted((ROOT / "claims").rglob("*.claim"))
SEED = "claims/examples/seed-overlay-mount-hides-error.claim"
runner = CliRunner()


@pytest.fixture(autouse=True)
def at_the_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # claim paths (and docs/claims.md's links) are relative


def explore(*args: str):
    return runner.invoke(app, list(args))


def write(tmp_path: Path, text: str, name: str = "t.claim") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"))
    return p


@pytest.fixture(scope="module")
def library():
    """The whole library, once: (text output, JSON)."""
    text = runner.invoke(app, ["claim", "claims/"], catch_exceptions=False)
    doc = runner.invoke(app, ["claim", "claims/", "--json"], catch_exceptions=False)
    assert text.exit_code == 0, text.output
    assert doc.exit_code == 0
    return text.stdout, json.loads(doc.stdout)


@pytest.mark.slow
def test_the_library_meets_every_expectation(library) -> None:
    text, doc = library
    assert doc["exit"] == 0 and doc["mismatches"] == []
    assert text.rstrip().endswith("all as expected")
    lines = [line for line in text.splitlines() if line.startswith("Observation ")]
    assert lines and all(line.endswith("   ok") for line in lines)
    # one line per claim with programs and per spec it is checked under
    checked = [c for c in doc["claims"] if c["checked"]]
    want = sum(
        len(specs_of(load_claim(c["file"]), None))
        for c in checked
        if load_claim(c["file"]).programs
    )
    assert len(lines) == want
    # herd7's format: NAME SPEC VERDICT SAT UNSAT
    for line in lines:
        assert re.fullmatch(r"Observation \S+ \S+ (Never|Sometimes|Always) \d+ \d+   ok", line)


@pytest.mark.slow
def test_the_library_settles_at_least_25_of_the_threads_30_claims(library) -> None:
    _, doc = library
    # the 30 numbered claims; a lettered file (02b, 17b, ...) is a further reading of one
    thread = [c for c in doc["claims"] if "/thread/" in c["file"] and c["name"][2] == "-"]
    assert len(thread) == 30
    settled = [c for c in thread if c["checked"]]
    assert len(settled) >= 25
    assert {c["name"][:2] for c in thread if c["not_checked"] == "unsettled"} == {"29", "30"}
    # every other claim is checked, claim 25 (counter-bits), the races 27 and 28 and
    # the examples using ENOSPC and a host fd on a container's file included
    assert len(settled) == 28
    assert {c["not_checked"] for c in doc["claims"]} == {None, "unsettled"}


@pytest.mark.slow
def test_docs_claims_md_is_the_librarys_markdown() -> None:
    r = explore("claim", "claims/", "--markdown")
    assert r.exit_code == 0
    assert r.stdout == (ROOT / "docs/claims.md").read_text(), (
        "docs/claims.md is stale: explore claim claims/ --markdown > docs/claims.md"
    )


def test_a_spec_change_that_moves_verdicts_fails_and_names_the_claims(monkeypatch) -> None:
    """vivek-v3-seen without its marking mount behaves as vivek-v3: the claims whose
    vivek-v3-seen verdict came from the mount move, and the output says which."""
    from specs.vivek_v3 import VivekV3
    from specs.vivek_v3_seen import VivekV3Seen

    monkeypatch.setattr(VivekV3Seen, "ovl_fill_super", VivekV3.ovl_fill_super)
    r = explore("claim", "claims/", "--spec", "vivek-v3-seen")
    assert r.exit_code == 1
    moved = {m.split(":")[0] for m in r.stdout.split("^^^ NOT AS EXPECTED:")[1].split("\n  ")[1:]}
    moved = {Path(m).stem[:2] for m in moved}
    assert {"05", "06", "08", "21", "22", "23"} <= moved
    assert "02" not in moved  # a mount before the error marks nothing: unchanged
    assert "Observation 05-intervening-mount-hides-error vivek-v3-seen Never 0 1   MISMATCH" in (
        r.stdout
    )


def test_the_seed_example_as_the_language_doc_shows_it() -> None:
    r = explore("claim", SEED)
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert "Observation seed-overlay-mount-hides-error vivek-v3-seen Sometimes 1 15   ok" in lines
    assert "Observation seed-overlay-mount-hides-error amir Never 0 16   ok" in lines
    # the one satisfying run, as a timeline and a scenario, once
    assert r.stdout.count("a run that satisfies the condition") == 1
    assert "vivek-v3-seen: a run that satisfies the condition" in r.stdout
    scenario = r.stdout.split("--spec vivek-v3-seen):\n\n")[1].split("\n\n")[0]
    assert scenario.splitlines() == [
        "mount ovl1 = 0",
        "open fd1 ovl1",
        "write fd1",
        "wberror ovl1",
        "mount ovl2 = 0",
        "open fd2 ovl1",
        "syncfs fd2 = 0",
        "syncfs fd1 = EIO",
    ]


def test_the_shown_scenario_replays_with_its_results(tmp_path: Path) -> None:
    doc = json.loads(explore("claim", SEED, "--json").stdout)
    [obs] = [o for o in doc["claims"][0]["observations"] if o["spec"] == "vivek-v3-seen"]
    scn = tmp_path / "run.scn"
    scn.write_text(obs["run"]["scenario"])
    r = explore("replay", str(scn), "--spec", "vivek-v3-seen")
    assert r.exit_code == 0 and "all hold" in r.stdout


def test_a_result_not_met_exits_1_with_the_refuting_run(tmp_path: Path) -> None:
    text = (ROOT / SEED).read_text().replace("result: amir Never", "result: amir Always")
    p = write(tmp_path, text)
    r = explore("claim", str(p), "--spec", "amir")
    assert r.exit_code == 1
    assert (
        "Observation seed-overlay-mount-hides-error amir Never 0 16   MISMATCH (expected Always)"
        in (r.stdout)
    )
    assert "amir: a run that does not satisfy the condition" in r.stdout
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("result: amir"))
    assert f"{p}:{line}: result: amir Always, got Never (0 of 16)" in r.stdout


def test_the_quantifier_is_the_default_expectation(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
        claim q
        ovl1:
          mount ovl1 volatile
        env:
          any 1
        ~exists (mount ovl1 volatile = EIO)
        """,
    )
    r = explore("claim", str(p), "--spec", "plain", "--spec", "mainline")
    # env's `any 1`: nothing, or a wberror/evict (needing dirty data or a cached inode:
    # none here); so 1 run; a volatile mount is never refused with nothing to refuse
    assert "Observation q plain Never 0 1   ok" in r.stdout
    assert "Observation q mainline Never 0 1   ok" in r.stdout
    assert r.exit_code == 0


def test_an_expect_not_met_shows_the_witness(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
        claim e
        bounds: mounts 1, fds 1, host-fds 0, mount-options volatile, depth 5
        expect: v5.10 open-before-fsync holds
        expect: amir open-before-fsync fails
        """,
    )
    r = explore("claim", str(p))
    assert r.exit_code == 1
    assert "Expect e v5.10 open-before-fsync fails 5   MISMATCH (expected holds)" in r.stdout
    assert "Expect e amir open-before-fsync holds   MISMATCH (expected fails)" in r.stdout
    assert "v5.10: open-before-fsync violated" in r.stdout
    assert f"{p}:3: expect: v5.10 open-before-fsync holds, got fails 5" in r.stdout


def test_a_user_property_in_an_expect_line_is_found_beside_the_claim(tmp_path: Path) -> None:
    prop = (ROOT / "claims/examples/props/mount-marks-no-error.py").read_text()
    (tmp_path / "props").mkdir()
    (tmp_path / "props" / "p.py").write_text(prop)
    p = write(
        tmp_path,
        """
        claim u
        bounds: mounts 1, fds 1, host-fds 1, mount-options normal, depth 4
        expect: vivek-v3-seen props/p.py fails 4, amir props/p.py holds
        """,
    )
    r = explore("claim", str(p))
    assert r.exit_code == 0, r.output
    assert "Expect u vivek-v3-seen props/p.py fails 4   ok" in r.stdout


# --- bad input: exit 2 --------------------------------------------------------------------


def assert_bad_input(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    for n in needles:
        assert n in r.stderr, (n, r.stderr)


def test_a_bad_claim_file_names_its_line(tmp_path: Path) -> None:
    p = write(tmp_path, "claim x\novl1:\n  mount ovl1\n  fsync fd9\nexists (mount ovl1 = 0)\n")
    assert_bad_input(explore("claim", str(p)), f"{p}:4: 'fd9': unknown fd")


def test_a_folder_without_claims_and_a_missing_path(tmp_path: Path) -> None:
    assert_bad_input(explore("claim", str(tmp_path)), "no *.claim files below this folder")
    assert_bad_input(explore("claim", "nope.claim"), "nope.claim: no such claim file")


def test_no_run_under_a_spec_is_bad_input_naming_the_line(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
        claim unmounted
        ovl1:
          open fd1 ovl1
        exists (open fd1 ovl1 = 0)
        """,
    )
    r = explore("claim", str(p), "--spec", "plain")
    assert_bad_input(r, f"{p}:3: no run under plain: 'open fd1 ovl1' can never run (ovl1 is")
    assert "Observation unmounted plain NoRun 0 0   ERROR" in r.stdout


def test_no_run_passing_the_filter_is_bad_input_under_that_spec_only(tmp_path: Path) -> None:
    """The host dirties its file and the error comes before ovl1's volatile mount (the
    filter): plain mounts it (1 run, the mount = 0: the exists fails); mainline refuses
    it over the unseen error, so fd1 never opens and the 9 runs left all have the
    error after the mount."""
    p = write(
        tmp_path,
        """
        claim refused
        ovl1:
          mount ovl1 volatile
          open fd1 ovl1
        host:
          open fd2 host
          write fd2
        env:
          wberror host
        filter (wberror host < mount ovl1 volatile)
        exists (mount ovl1 volatile = EIO)
        """,
    )
    r = explore("claim", str(p), "--spec", "mainline", "--spec", "plain")
    assert_bad_input(
        r, f"{p}:10: no run under mainline: no run passes the filter (it leaves out all 9 runs)"
    )
    assert "Observation refused mainline NoRun 0 0   ERROR" in r.stdout
    assert "Observation refused plain Never 0 1   MISMATCH (expected Sometimes or Always)" in (
        r.stdout
    )


def test_an_unknown_spec_and_both_formats_are_refused() -> None:
    assert_bad_input(explore("claim", SEED, "--spec", "nope"), "unknown spec 'nope'")
    assert_bad_input(explore("claim", SEED, "--json", "--markdown"), "choose one")


def test_a_spec_outside_the_claims_specs_is_skipped_with_a_note() -> None:
    r = explore("claim", "claims/thread/23-volatile-sample-pre-mount-error.claim", "-s", "amir")
    assert r.exit_code == 0
    assert "note: none of --spec is among the claim's specs" in r.stdout
    assert "Observation" not in r.stdout


def test_json_says_what_the_text_says() -> None:
    doc = json.loads(explore("claim", SEED, "--json").stdout)
    assert doc["schema"] == "errseq-explorer/claims/1" and doc["exit"] == 0
    [c] = doc["claims"]
    assert c["name"] == "seed-overlay-mount-hides-error" and c["file"] == SEED
    assert c["conclusion"].startswith("Only under vivek-v3-seen")
    by = {o["spec"]: o for o in c["observations"]}
    assert (by["vivek-v3-seen"]["verdict"], by["vivek-v3-seen"]["satisfied"]) == ("Sometimes", 1)
    assert by["vivek-v3-seen"]["run"]["satisfies"] is True
    assert "run" not in by["amir"]  # Never, as expected: no run to show
    assert c["bounds"]["host_fds"] == 0 and c["bounds"]["mount_options"] == "normal"


# --- the README's second screen ---------------------------------------------------------


def readme_blocks() -> list[str]:
    """The code blocks of the README's section on claims."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## A claim, settled\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.*?)```", section, re.S)


def test_the_readme_shows_the_claim_file_as_it_is() -> None:
    """Every line shown is the file's, in order, and only derivation comments are left
    out (a line in parentheses says so)."""
    shown = readme_blocks()[0].splitlines()
    lines = (ROOT / SEED).read_text().splitlines()
    omitted = [line for line in shown if line.startswith("# (") and line not in lines]
    assert len(omitted) == 1
    it = iter(lines)
    assert all(any(line == x for x in it) for line in shown if line not in omitted)
    kept = set(shown)
    assert all(line in kept for line in lines if line and not line.startswith("#"))


def test_the_readme_shows_a_real_run_of_it() -> None:
    block = readme_blocks()[1]
    command, _, output = block.partition("\n")
    assert command == f"$ explore claim {SEED}"
    r = explore("claim", SEED)
    assert r.exit_code == 0
    assert r.stdout == output, "README.md's claim output is stale: paste a new run"


def test_a_spec_file_given_by_spec_is_held_to_the_quantifier() -> None:
    """tests/isolated_spec.py keeps a per-container errseq, set while mounted: in the
    seed's order fd2 samples it unseen (0) and its syncfs reports, so the seed's
    condition (fd2 gets 0) never holds: Never, against `exists` (no result: line)."""
    r = explore("claim", SEED, "--spec", "tests/isolated_spec.py")
    assert r.exit_code == 1
    assert (
        "Observation seed-overlay-mount-hides-error tests/isolated_spec.py Never 0 16   "
        "MISMATCH (expected Sometimes or Always)"
    ) in r.stdout
    line = next(
        n for n, t in enumerate((ROOT / SEED).read_text().splitlines(), 1) if t.startswith("exists")
    )
    assert f"{SEED}:{line}: exists expects Sometimes or Always under tests/isolated_spec.py" in (
        r.stdout
    )


def test_a_claims_spec_file_is_found_beside_the_claim(tmp_path: Path) -> None:
    (tmp_path / "iso.py").write_text((ROOT / "tests/isolated_spec.py").read_text())
    text = (ROOT / SEED).read_text()
    head, _, rest = text.partition("bounds:")
    body = "\n".join(line for line in rest.splitlines() if not line.startswith("result:"))
    p = write(tmp_path, head + "specs: ./iso.py\nresult: ./iso.py Never\nbounds:" + body + "\n")
    r = explore("claim", str(p))
    assert r.exit_code == 0, r.output
    assert "Observation seed-overlay-mount-hides-error ./iso.py Never 0 16   ok" in r.stdout


def test_an_expect_the_memory_guard_leaves_undecided_exits_3(tmp_path: Path, monkeypatch) -> None:
    """Below the process's own size (10 MB) the guard stops isolation before it decides
    anything: the expectation is neither met nor refuted, so it is not a mismatch (exit
    1) and not met (exit 0), but undecided (exit 3, as for `explore`)."""
    monkeypatch.setattr("explorer.checker.config.default_memory_limit", lambda: 10 * 2**20)
    p = write(
        tmp_path,
        """
        claim u
        bounds: mounts 3, fds 1, host-fds 0, mount-options both, depth 10
        expect: mainline isolation holds
        """,
    )
    r = explore("claim", str(p))
    assert r.exit_code == 3, r.output
    assert re.search(
        r"Expect u mainline isolation undecided   UNDECIDED \(.*--max-memory", r.stdout
    )
    assert "1 expectation undecided (the memory guard); all as expected" in r.stdout
    data = json.loads(explore("claim", str(p), "--json").stdout)
    (e,) = data["claims"][0]["expects"]
    assert (e["holds"], e["ok"]) == (None, False) and "--max-memory" in e["limit"]
