"""Unit tests of `explore conform`'s pure-Python side: no VM is booted here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.conform import build, core, vm
from explorer.domain.scenario import ScenarioError, parse

CORPUS = core.CORPUS_DIR


def item(text: str, name: str = "t") -> core.Item:
    return core.Item(name, text, parse(text, name))


# ---- corpus ----


def test_corpus_parses_and_is_documented() -> None:
    items = core.corpus()
    assert len(items) >= 25
    assert len({i.name for i in items}) == len(items)
    for it in items:
        assert it.text.startswith("#"), f"{it.name}: starts with a comment saying what it shows"


def test_corpus_covers_seed_thread_xfstests_and_every_spec() -> None:
    names = {i.name for i in core.corpus()}
    assert "seed" in names
    for prefix in (
        "thread-4.1",
        "thread-4.2",
        "thread-4.3",
        "thread-4.4",
        "thread-4.5",
        "xfstests-generic-441",
        "xfstests-generic-484",
        "xfstests-generic-487",
    ):
        assert any(n.startswith(prefix) for n in names), prefix
    for spec in (
        "plain",
        "mainline",
        "v5.11",
        "v5.10",
        "vivek-v2",
        "vivek-v3-cross",
        "vivek-v3-seen",
        "amir",
        "jeff-split",
    ):
        assert any(n.startswith(f"spec-{spec}") for n in names), spec


def test_only_the_nr_scenarios_are_not_representable() -> None:
    for it in core.corpus():
        for spec in ("mainline", "v5.11"):
            why = core.not_representable(it.scenario, spec)
            assert (why is not None) == it.name.startswith("nr-"), (it.name, why)


# ---- representability ----


def test_wberror_after_sync_cleaned_other_file() -> None:
    it = item(
        "mount ovl1\nopen fd1 ovl1\nopen fd2 host\nwrite fd1\nwrite fd2\n"
        "wberror ovl1\nwberror host\n"
    )
    why = core.not_representable(it.scenario, "mainline")
    assert why is not None
    assert "line 7 'wberror host'" in why and "line 6 'wberror ovl1'" in why


def test_rewrite_after_the_injecting_sync_is_fine() -> None:
    # the host file is written again after wberror ovl1: dirty in both worlds
    it = item(
        "mount ovl1\nopen fd1 ovl1\nopen fd2 host\nwrite fd1\nwrite fd2\n"
        "wberror ovl1\nwrite fd2\nwberror host\nsyncfs fd2\n"
    )
    assert core.not_representable(it.scenario, "mainline") is None


def test_other_dirty_file_never_failed_is_fine() -> None:
    it = item("mount ovl1\nopen fd1 ovl1\nopen fd2 host\nwrite fd1\nwrite fd2\nwberror ovl1\n")
    assert core.not_representable(it.scenario, "mainline") is None


def test_umount_of_normal_overlay_writes_back() -> None:
    # The kernel and (since F1 was fixed) the model both write back at the unmount of a
    # normal overlay: the later wberror has nothing to fail in either world.
    text = (
        "mount ovl1\nmount ovl2\nopen fd1 ovl2\nwrite fd1\nopen fd2 ovl1\nclose fd2\n"
        "umount ovl1\nwberror ovl2\n"
    )
    assert core.not_representable(item(text).scenario, "mainline") is None
    # a volatile overlay's unmount syncs nothing, in both worlds
    vol = text.replace("mount ovl1\nmount", "mount ovl1 volatile\nmount")
    assert core.not_representable(item(vol).scenario, "mainline") is None


def test_volatile_fsync_does_not_clean() -> None:
    # volatile fsync writes nothing back, in the model and in the kernel
    it = item("mount ovl1 volatile\nopen fd1 ovl1\nwrite fd1\nfsync fd1\nwberror ovl1\nfsync fd1\n")
    assert core.not_representable(it.scenario, "mainline") is None


# ---- the driver's protocol and the faithfulness checks ----

TRANSCRIPT = """\
random console noise
@@ KVER 6.12.117+deb12-cloud-amd64 2.31
@@ K -1 operation not supported error, dev loop0, sector 130944 op 0x9:(WRITE_ZEROES)
@@ BEGIN 5 2.50
@@ R 0 0
@@ R 1 0
@@ W 2 ino=15 sectors=8528-8536
@@ R 2 -
@@ K 2 EXT4-fs warning (device dm-0): ext4_end_bio:353: I/O error 10 writing to inode 15 starting block 1066)
@@ K 2 Buffer I/O error on device dm-0, logical block 1066
@@ R 3 EIO
@@ R 4 skipped ovl2 is not mounted
@@ END 2.61
"""


def test_parse_output() -> None:
    run = vm.parse_output("6.12", TRANSCRIPT)
    assert run.release == "6.12.117+deb12-cloud-amd64"
    assert run.result_list(5) == ["0", "0", None, "EIO", "skipped"]
    assert run.details[4] == "ovl2 is not mounted"
    assert run.wberror[2] == (15, [(8528, 8536)])
    assert run.ended and run.guest_s == pytest.approx(2.61)
    assert vm.check_run(run) is None


def test_failed_write_elsewhere_makes_the_run_invalid() -> None:
    bad = TRANSCRIPT.replace("logical block 1066", "logical block 7")
    why = vm.check_run(vm.parse_output("6.12", bad))
    assert why is not None and "other than the target's data" in why


def test_metadata_error_without_wberror_is_invalid() -> None:
    bad = TRANSCRIPT.replace("@@ R 3 EIO", "@@ R 3 EIO\n@@ K 3 EXT4-fs error (device dm-0): x")
    assert vm.check_run(vm.parse_output("6.12", bad)) is not None


def test_wberror_that_failed_nothing_is_skipped() -> None:
    # the file was clean on the kernel: nothing failed, like the model's skipped wberror
    quiet = "\n".join(ln for ln in TRANSCRIPT.splitlines() if not ln.startswith("@@ K 2"))
    run = vm.parse_output("6.12", quiet)
    assert vm.check_run(run) is None
    assert run.results[2] == "skipped"


def test_unfinished_bad_and_unevicted_runs_are_invalid() -> None:
    assert "stopped" in (
        vm.check_run(vm.parse_output("6.12", TRANSCRIPT.replace("@@ END", "x"))) or ""
    )
    assert "driver" in (
        vm.check_run(vm.parse_output("6.12", TRANSCRIPT + "@@ BAD mke2fs: EIO\n")) or ""
    )
    ev = TRANSCRIPT.replace("@@ R 1 0", "@@ R 1 - still-cached")
    assert "evict" in (vm.check_run(vm.parse_output("6.12", ev)) or "")


# ---- comparison and output ----


def test_compare_marks_mismatches() -> None:
    it = item("open fd1 host\nwrite fd1\nwberror host\nfsync fd1\n")
    status, rows = core.compare(it, "6.12", ["0", "0", None, "EIO"], ["0", "0", None, "0"])
    assert status == core.MISMATCH
    assert [r.mismatch for r in rows] == [False, False, False, True]
    assert rows[3].event == "fsync fd1" and rows[3].line == 4
    status, _ = core.compare(it, "6.12", ["0", "0", None, "EIO"], ["0", "0", None, "EIO"])
    assert status == core.AGREE


def test_json_document() -> None:
    it = item("open fd1 host\nfsync fd1\n")
    _, rows = core.compare(it, "6.12", ["0", "0"], ["0", "0"])
    outs = [
        core.Outcome("t", "6.12", "mainline", core.AGREE, rows=rows),
        core.Outcome("u", "6.12", "mainline", core.NOT_REPRESENTABLE, "why"),
    ]
    doc = json.loads(json.dumps(core.to_json(outs)))
    assert doc["summary"] == {"6.12": {"agree": 1, "not representable": 1}}
    assert doc["outcomes"][0]["rows"][1] == {
        "line": 2,
        "event": "fsync fd1",
        "model": "0",
        "kernel": "0",
        "mismatch": False,
        "detail": "",
    }
    assert not any(o.failed for o in outs)


# ---- witnesses from report.json ----


def test_witness_extraction(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "witnesses": [
                    {
                        "spec": "mainline",
                        "property": "isolation",
                        "run": "witness",
                        "scenario": "mount ovl1\nopen fd1 ovl1 = 0\n",
                    },
                    {
                        "spec": "mainline",
                        "property": "isolation",
                        "run": "other",
                        "scenario": "mount ovl1 volatile\n",
                    },
                    {
                        "spec": "v5.11",
                        "property": "no-loss",
                        "scenario": "open fd1 host\nfsync fd1 = 0\n",
                    },
                    {"spec": "plain", "property": "no-loss", "scenario": "sync\n"},
                ]
            }
        )
    )
    items = core.witnesses(report)
    assert [(i.name, i.only_kernel) for i in items] == [
        ("w1-isolation-mainline-witness", "6.12"),
        ("w2-isolation-mainline-other", "6.12"),
        ("w3-no-loss-v5.11", "6.1"),
    ]
    assert "witnesses[0]" in items[0].origin


def test_witness_report_errors(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    report.write_text("{}")
    with pytest.raises(ScenarioError, match="witnesses"):
        core.witnesses(report)
    report.write_text(json.dumps({"witnesses": [{"spec": "mainline", "scenario": "bogus fd1\n"}]}))
    with pytest.raises(ScenarioError, match="unknown verb"):
        core.witnesses(report)


# ---- the command, without VMs ----

runner = CliRunner()


def test_cli_bad_scenario_exits_2_with_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad.scn"
    bad.write_text("mount ovl1\nfrobnicate fd1\n")
    r = runner.invoke(app, ["conform", str(bad)])
    assert r.exit_code == 2
    assert f"{bad}:2" in r.output and "frobnicate" in r.output and "unknown verb" in r.output
    assert "Traceback" not in r.output


def test_cli_bad_kernel_and_accel() -> None:
    assert runner.invoke(app, ["conform", "--kernel", "5.4"]).exit_code == 2
    assert runner.invoke(app, ["conform", "--accel", "hvf"]).exit_code == 2


def test_cli_not_representable_needs_no_vm() -> None:
    scn = str(CORPUS / "nr-wberror-other-dirty.scn")
    r = runner.invoke(app, ["conform", "--kernel", "all", "--json", scn])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [o["status"] for o in doc["outcomes"]] == ["not representable"] * 2
    assert {o["spec"] for o in doc["outcomes"]} == {"v5.11", "mainline"}


def test_cli_table_for_not_representable() -> None:
    r = runner.invoke(
        app, ["conform", "--kernel", "6.12", str(CORPUS / "nr-wberror-other-dirty.scn")]
    )
    assert r.exit_code == 0
    assert "not representable" in r.stdout and "wberror ovl1" in r.stdout


# ---- the initramfs archive ----


def test_cpio_newc_layout() -> None:
    data = build.cpio({"a": b"xyz", "dir/b": b""}, dirs=["dir"], exe={"a"})
    assert data.startswith(b"070701")
    assert b"TRAILER!!!" in data and len(data) % 4 == 0
    # entry for "a": mode 0100755, size 3
    head = data[data.index(b"070701", 1) :]
    assert head[14:22] == b"000081ed" and head[54:62] == b"00000003"


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert build.cache_dir() == tmp_path / "errseq-explorer"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert build.cache_dir() == Path.home() / ".cache" / "errseq-explorer"


# ---- the model's options on real kernels ----


def test_enospc_is_not_representable_on_6_1_only() -> None:
    # 6.1's ext4 records -EIO for every failed data write (ext4_finish_bio before the
    # v6.4 folio conversion); 6.12's records the bio's errno, -ENOSPC from dm-thin.
    it = item("open fd1 host\nwrite fd1\nwberror host ENOSPC\nsyncfs fd1\n")
    why = core.not_representable(it.scenario, "v5.11", "6.1")
    assert why is not None and "line 3 'wberror host ENOSPC'" in why and "-EIO" in why
    assert "20230126202415.1682629-5-willy@infradead.org" in why
    assert core.not_representable(it.scenario, "mainline", "6.12") is None
    plain = item("open fd1 host\nwrite fd1\nwberror host\nsyncfs fd1\n")
    assert core.not_representable(plain.scenario, "v5.11", "6.1") is None


def test_the_corpus_enospc_scenarios_run_on_6_12_and_not_on_6_1() -> None:
    nospc = [i for i in core.corpus() if any(e.errno == "ENOSPC" for e in i.scenario.events)]
    assert len(nospc) >= 3
    for it in nospc:
        assert core.not_representable(it.scenario, "mainline", "6.12") is None, it.name
        assert core.not_representable(it.scenario, "v5.11", "6.1") is not None, it.name


def test_a_host_fd_on_a_container_file_dirties_and_cleans_that_file() -> None:
    # write through a host fd on ovl1's upper file dirties ovl1's file: a wberror of it
    # follows the kernel; the host's fsync of it cleans ovl1's file in both worlds.
    dirty = item("open fd1 host ovl1\nwrite fd1\nwberror ovl1\n")
    assert core.not_representable(dirty.scenario, "mainline") is None
    cleaned = item("open fd1 host ovl1\nwrite fd1\nfsync fd1\nwberror ovl1\n")
    assert core.not_representable(cleaned.scenario, "mainline") is None
    # ...while it leaves the host's own dirty file alone in both worlds
    other = item(
        "open fd1 host ovl1\nopen fd2 host\nwrite fd2\nwrite fd1\nfsync fd1\nwberror host\n"
    )
    assert core.not_representable(other.scenario, "mainline") is None


def test_the_corpus_has_host_opens_of_container_files() -> None:
    names = {i.name for i in core.corpus() if any(e.file for e in i.scenario.events)}
    assert len(names) >= 6, names


def test_a_narrow_counter_witness_is_not_representable(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "config": {"counter_bits": 2},
                "witnesses": [{"spec": "mainline", "property": "no-loss", "scenario": "sync\n"}],
            }
        )
    )
    (it,) = core.witnesses(report)
    assert it.unrepresentable is not None and "--counter-bits 2" in it.unrepresentable
    r = runner.invoke(app, ["conform", "--json", "--witness", str(report)])
    assert r.exit_code == 0, r.output
    (o,) = json.loads(r.stdout)["outcomes"]
    assert o["status"] == "not representable" and "19 bits" in o["reason"]


def test_the_injected_errno_must_match_the_block_status_ext4_logged() -> None:
    nospc = TRANSCRIPT.replace("sectors=8528-8536", "sectors=8528-8536 errno=ENOSPC")
    run = vm.parse_output("6.12", nospc)
    assert run.wberror_errno[2] == "ENOSPC"
    why = vm.check_run(run)  # ext4 logged status 10 (IOERR), not 3 (NOSPC)
    assert why is not None and "block status 10, not 3" in why
    ok = nospc.replace("I/O error 10 writing", "I/O error 3 writing")
    assert vm.check_run(vm.parse_output("6.12", ok)) is None
    assert vm.parse_output("6.12", TRANSCRIPT).wberror_errno[2] == "EIO"


def _boots(monkeypatch: pytest.MonkeyPatch, consoles: list[str]) -> list[int]:
    """vm.boot over a fake qemu whose successive boots print `consoles`; the boots made."""
    made: list[int] = []

    def fake(*args: object) -> vm.Boot:
        made.append(len(made))
        return vm.Boot(consoles[len(made) - 1], "", 0, 1.0)

    monkeypatch.setattr(vm, "qemu_available", lambda: None)
    monkeypatch.setattr(vm, "_boot", fake)
    return made


PANIC = "[    1.81] Kernel panic - not syncing: Fatal exception in interrupt\n"


def test_a_kernel_that_panics_before_the_driver_starts_is_booted_again(monkeypatch, capsys):
    made = _boots(monkeypatch, [PANIC, "@@ KVER 6.12.0 1.20\n@@ END\n"])
    b = vm.boot(None, b"")  # type: ignore[arg-type]
    assert b.stdout.startswith("@@ KVER") and len(made) == 2
    assert "panicked at boot" in capsys.readouterr().err


def test_a_panic_after_the_driver_started_is_the_runs_and_is_not_retried(monkeypatch):
    made = _boots(monkeypatch, ["@@ KVER 6.12.0 1.20\n" + PANIC, "@@ KVER 6.12.0\n@@ END\n"])
    assert "Kernel panic" in vm.boot(None, b"").stdout and len(made) == 1  # type: ignore[arg-type]


def test_a_second_panic_at_boot_is_not_hidden(monkeypatch):
    made = _boots(monkeypatch, [PANIC, PANIC, "@@ KVER x\n"])
    assert "Kernel panic" in vm.boot(None, b"").stdout and len(made) == 2  # type: ignore[arg-type]
