"""Specs read like the kernel: errseq fields by reference, every documented hook in the
base, unmount through ovl_sync_fs, hook names that cannot silently miss, and
`explore specs --show` saying where each hook of a spec comes from."""

from __future__ import annotations

import inspect
import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.bridge.model import ErrseqModel
from explorer.checker.replay import run as replay_run
from explorer.domain.catalog import SpecError, builtin_names, load_spec, resolved_hooks
from explorer.domain.errseq import (
    ERRSEQ_OBSERVED,
    ERRSEQ_SEEN,
    Classic,
    Split,
    errseq_t,
)
from explorer.domain.scenario import parse
from explorer.domain.vfs import HOOKS, Spec
from explorer.domain.world import Bounds, File, OvlFs, World
from explorer.engine.search import bfs

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


# --- errseq_t fields by reference ----------------------------------------------------------


def test_a_field_is_passed_by_reference_and_written_through() -> None:
    """The seed's first steps by hand, docs/model.md §3: an unseen EIO (0x5) is sampled as 0;
    syncfs's check_and_advance reports it once and marks it SEEN (0x1005) in the sb and
    in the cursor; a second syncfs reports nothing."""
    b = Bounds(1, 1, 0)
    w = World(b, b.initial())
    f = w.file(0)
    Classic.set(w.sb.s_wb_err, -5)
    assert w.sb.s_wb_err == 0x5
    f.f_sb_err = Classic.sample(w.sb.s_wb_err)
    assert f.f_sb_err == 0
    assert Classic.check_and_advance(w.sb.s_wb_err, f.f_sb_err) == -5
    assert (w.sb.s_wb_err.value, f.f_sb_err.value) == (0x5 | ERRSEQ_SEEN, 0x5 | ERRSEQ_SEEN)
    assert Classic.check_and_advance(w.sb.s_wb_err, f.f_sb_err) == 0
    assert w.freeze()[0] == 0x1005  # the state tuple holds the value


def test_split_sample_writes_observed_through_the_reference() -> None:
    """Split flags (docs/model.md §3): sample peeks, which sets OBSERVED on a non-zero value,
    and returns the value only if REPORTED: 0 here."""
    b = Bounds(1, 1, 0)
    w = World(b, b.initial())
    Split.set(w.sb.s_wb_err, -5)
    assert Split.sample(w.sb.s_wb_err) == 0
    assert w.sb.s_wb_err == 0x5 | ERRSEQ_OBSERVED
    ofs = w.ofs(0)
    ofs.errseq = Split.peek(w.sb.s_wb_err)
    assert ofs.errseq == 0x5 | ERRSEQ_OBSERVED


def test_by_value_the_flavours_return_the_new_values() -> None:
    assert Classic.sample(0x5) == (0x5, 0)
    assert Classic.check_and_advance(0x5, 0) == (0x1005, 0x1005, -5)
    assert Split.sample(0x5) == (0x5 | ERRSEQ_OBSERVED, 0)


def test_a_written_errseq_must_be_passed_by_reference() -> None:
    b = Bounds(1, 1, 0)
    w = World(b, b.initial())
    with pytest.raises(TypeError, match="writes since: pass the field itself"):
        Classic.check_and_advance(w.sb.s_wb_err, 0)
    cursor = errseq_t(Classic.sample(w.sb.s_wb_err))
    Classic.set(w.sb.s_wb_err, -5)
    assert Classic.check_and_advance(w.sb.s_wb_err, cursor) == -5
    assert cursor == 0x1005 and int(cursor) == 0x1005 and repr(cursor) == "errseq_t(0x1005)"


def test_assigning_a_field_stores_its_value() -> None:
    b = Bounds(1, 1, 0)
    w = World(b, b.initial())
    Classic.set(w.sb.s_wb_err, -5)
    ofs = w.ofs(0)
    ofs.errseq = w.sb.s_wb_err  # a copy, not an alias
    Classic.set(w.sb.s_wb_err, -5)  # an unseen repeat: no change
    Classic.check_and_advance(w.sb.s_wb_err, ofs.errseq)  # equal: nothing to report
    assert ofs.errseq == 0x5 and w.sb.s_wb_err == 0x5
    with pytest.raises(TypeError, match="holds an int, not float"):
        ofs.errseq = 1.5


class PeeksAtTheOtherMount(Spec):
    """syncfs reads the other container's overlay sb through a reference: outside the
    event's footprint, so the stepper must notice and step exactly."""

    name = "peeks"
    overlay = True

    def sys_syncfs(self, w: World, ofs: OvlFs, f: File) -> int:
        other = w.ofs(1 - f.owner)
        ret = self.vfs_syncfs(w, f)
        return ret if self.errseq.check(other.s_wb_err, 0) == 0 else 0


def test_poison_works_through_references() -> None:
    b = Bounds(2, 1, 0)
    cached, direct = (
        ErrseqModel(PeeksAtTheOtherMount(), b),
        ErrseqModel(PeeksAtTheOtherMount(), b, cache=False),
    )
    a, c = bfs(cached, 6), bfs(direct, 6)
    assert (a.states, a.action, a.obs, a.dst) == (c.states, c.action, c.obs, c.dst)
    assert not cached.stepper.exact


def test_a_spec_in_the_old_tuple_style_is_told_how_to_write_it(tmp_path: Path) -> None:
    path = tmp_path / "old.py"
    path.write_text(
        "from explorer.domain.vfs import Spec\n\n\nclass Old(Spec):\n    name = 'old'\n"
        "    overlay = True\n\n    def ovl_open(self, w, ofs, f):\n"
        "        ofs.s_wb_err, f.f_sb_err = self.errseq.sample(ofs.s_wb_err)\n"
    )
    r = runner.invoke(app, ["-s", str(path), "--mounts", "1", "--depth", "2", "-q"])
    assert r.exit_code == 2
    assert f"({path}:9), hook ovl_open" in r.stderr
    assert "f.f_sb_err = es.sample(w.sb.s_wb_err)" in r.stderr


# --- the base has every hook; unmount goes through ovl_sync_fs ---------------------------


def test_the_base_spec_defines_every_hook_it_documents() -> None:
    assert all(h in vars(Spec) and vars(Spec)[h].__doc__ for h in HOOKS)
    assert "ovl_sync_fs" in HOOKS and "sys_syncfs" in HOOKS and "ovl_syncfs" not in HOOKS


class KeepsDirtyAtUnmount(Spec):
    """An overlay whose ->sync_fs writes nothing back."""

    name = "keeps-dirty"
    overlay = True

    def ovl_sync_fs(self, w: World, ofs: OvlFs) -> int:
        return 0


UMOUNT_THEN_WBERROR = "mount ovl1\nopen fd1 ovl1\nwrite fd1\nclose fd1\numount ovl1\nwberror ovl1\n"


def test_unmount_consults_the_specs_ovl_sync_fs() -> None:
    """generic_shutdown_super -> sync_filesystem(ovl sb) -> ovl_sync_fs(sb, 1): with the
    base's ovl_sync_fs the unmount writes the file back, so the last wberror cannot
    happen; with one that writes nothing, the file is still dirty and it can."""
    sc = parse(UMOUNT_THEN_WBERROR, "t.scn")
    assert replay_run(sc, load_spec("v5.10")).skipped == {
        5: "ovl1's file has no dirty data to fail writing back"
    }
    assert replay_run(sc, KeepsDirtyAtUnmount()).skipped == {}


# --- hook names that cannot silently miss ---------------------------------------------------


def spec_file(tmp_path: Path, method: str) -> Path:
    path = tmp_path / "mine.py"
    path.write_text(
        "from explorer.domain.vfs import Spec\n\n\nclass Mine(Spec):\n    name = 'mine'\n"
        "    overlay = True\n\n"
        + textwrap.indent(f"def {method}(self, w, ofs, f):\n    return 0\n", "    ")
    )
    return path


def test_the_old_name_of_sys_syncfs_is_refused_with_the_new_one(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "ovl_syncfs")
    with pytest.raises(SpecError) as info:
        load_spec(str(path))
    assert str(info.value) == (
        f"{path}:8: Mine.ovl_syncfs is the hook sys_syncfs under its old name (syncfs(2) "
        "on an overlay fd): rename it to sys_syncfs, or it is never called"
    )
    r = runner.invoke(app, ["-s", str(path), "-q"])
    assert r.exit_code == 2 and r.stderr.startswith(f"explore: error: {path}:8: Mine.ovl_syncfs")


@pytest.mark.parametrize(
    ("method", "hint"),
    [("ovl_sync_f", "; did you mean ovl_sync_fs?"), ("vfs_syncfss", "; did you mean vfs_syncfs?")],
)
def test_a_mistyped_hook_is_refused(tmp_path: Path, method: str, hint: str) -> None:
    path = spec_file(tmp_path, method)
    with pytest.raises(SpecError, match=f"Mine.{method} is not a hook .*never be called{hint}"):
        load_spec(str(path))


def test_a_method_of_another_name_is_fine(tmp_path: Path) -> None:
    assert load_spec(str(spec_file(tmp_path, "my_sync"))).name == "mine"
    assert [load_spec(n).name for n in builtin_names()] == builtin_names()


# --- explore specs --show ------------------------------------------------------------------


def def_line(path: str, line: int) -> str:
    return (ROOT / path).read_text().splitlines()[line - 1].strip()


def test_show_resolves_each_hook_along_the_classes() -> None:
    """amir = Amir < Mainline < V5_11 < V5_10 < Spec (specs/*.py): each hook is the
    first class's that defines it, at the line of its def."""
    hooks = {h.hook: h for h in resolved_hooks(load_spec("amir"))}
    assert list(hooks) == list(HOOKS)
    expected = {
        "ovl_fill_super": ("Amir", "specs/amir.py", True),
        "sys_syncfs": ("Amir", "specs/amir.py", True),
        "ovl_sync_fs": ("Mainline", "specs/mainline.py", False),
        "ovl_fsync": ("V5_11", "specs/v5_11.py", False),
        "ovl_sync_status": ("V5_11", "specs/v5_11.py", False),
        "ovl_open": ("V5_10", "specs/v5_10.py", False),
        "vfs_open": ("Spec", "explorer/domain/vfs.py", False),
        "generic_shutdown_super": ("Spec", "explorer/domain/vfs.py", False),
    }
    for hook, (owner, path, own) in expected.items():
        h = hooks[hook]
        assert (h.owner, h.path, h.own) == (owner, path, own), hook
        assert def_line(h.path, h.line).startswith(f"def {hook}("), hook
    assert [h.hook for h in hooks.values() if h.own] == ["ovl_fill_super", "sys_syncfs"]


def test_show_on_the_command_line(tmp_path: Path) -> None:
    r = runner.invoke(app, ["specs", "--show", "vivek-v3-seen"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[1] == "classes: VivekV3Seen < VivekV3 < V5_10 < Spec"
    fill = next(x for x in lines if "ovl_fill_super" in x).split()
    assert fill[:3] == ["*", "ovl_fill_super", "VivekV3Seen"]
    assert def_line(*fill[3].split(":")[:1], int(fill[3].split(":")[1])).startswith(
        "def ovl_fill_super("
    )
    sync = next(x for x in lines if " sys_syncfs " in x).split()
    assert sync[:2] == ["sys_syncfs", "VivekV3"]  # inherited: no *
    table = lines[3 : lines.index("", 3)]
    assert [x[2:].split()[0] for x in table] == ["hook", *HOOKS]
    assert lines[-1] == "* defined by VivekV3Seen itself"
    with_source = runner.invoke(app, ["specs", "--show", "vivek-v3-seen", "--source"]).stdout
    assert inspect.getsource(load_spec("vivek-v3").sys_syncfs).strip().splitlines()[1].strip() in (
        with_source
    )
    doc = json.loads(runner.invoke(app, ["specs", "--show", "plain", "--json"]).stdout)
    assert {h["class"] for h in doc["hooks"]} == {"Spec"} and not any(
        h["own"] for h in doc["hooks"]
    )
    path = spec_file(tmp_path, "ovl_fsync")
    r = runner.invoke(app, ["specs", "--show", str(path)])
    assert r.exit_code == 0 and "* ovl_fsync" in r.stdout and f"{path}:8" in r.stdout
    bad = runner.invoke(app, ["specs", "--source"])
    assert bad.exit_code == 2 and "--source" in bad.stderr
    assert runner.invoke(app, ["specs", "--show", "nosuch"]).exit_code == 2
