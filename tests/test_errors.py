"""Every bad input, bad option and misbehaving user spec ends with exit 2 and one line on
stderr that names what was wrong; a bug of the tool itself ends with exit 70 and its
traceback in a file (common standards, "Exit codes"; docs/model.md §2: never a traceback).
"""

from __future__ import annotations

import importlib.metadata
import json
import pickle
import re
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer import __version__
from explorer.app.cli import app
from explorer.bridge.model import KIND_ORDER, ErrseqModel
from explorer.checker.options import OptionError, RunOptions, parse_model
from explorer.checker.properties import PROPERTIES
from explorer.domain.catalog import BUILTIN, SpecError, builtin_names, load_spec, load_specs
from explorer.domain.scenario import ScenarioError, parse
from explorer.domain.vfs import Spec, SpecHookError, check_result, hook_errors
from explorer.domain.world import MAX_DEPTH, MAX_FDS, MAX_HOST_FDS, MAX_MOUNTS, Bounds, Event, World
from explorer.engine.search import bfs

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

# The smallest run that reaches every hook: mount, open, write, wberror is 4 events.
TINY = ["--mounts", "1", "--fds", "1", "--host-fds", "1", "--depth", "4", "-q"]


def explore(*args: str, **kw):
    return runner.invoke(app, list(args), **kw)


def assert_bad_input(r, *needles: str) -> str:
    """Exit 2, exactly one line on stderr, nothing on stdout, no traceback; the line."""
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.output
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("explore: error: "), r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def spec_file(tmp_path: Path, body: str, name: str = "bad", filename: str = "bad.py") -> Path:
    """A user's spec file: the base rules plus `body` (methods of the class)."""
    path = tmp_path / filename
    head = f"import sys\n\nfrom explorer.domain.vfs import Spec\n\n\nclass Bad(Spec):\n    name = {name!r}\n    overlay = True\n\n"
    path.write_text(head + textwrap.indent(textwrap.dedent(body), "    "))
    return path


def line_of(path: Path, marker: str = "# here") -> int:
    return next(n for n, t in enumerate(path.read_text().splitlines(), 1) if marker in t)


# --- misbehaving hooks: one line naming spec, file:line, hook and event --------------


def test_a_hook_that_raises_is_named_with_its_file_line_and_event(tmp_path):
    path = spec_file(
        tmp_path,
        """
        def ovl_fsync(self, w, ofs, f):
            return 1 // 0  # here
        """,
    )
    r = explore("-s", str(path), *TINY, "--out", str(tmp_path / "out"))
    assert_bad_input(
        r,
        f"spec bad ({path}:{line_of(path)}), hook ovl_fsync, event 'fsync' by ovl1 (fd slot 1): "
        "ZeroDivisionError: integer division or modulo by zero",
    )


def test_a_value_error_names_spec_hook_and_event_too(tmp_path):
    # A ValueError was taken for the tool's own bad-input error and printed bare.
    path = spec_file(
        tmp_path,
        """
        def sys_syncfs(self, w, ofs, f):
            raise ValueError("nope")  # here
        """,
    )
    line = assert_bad_input(explore("-s", str(path), *TINY, "--out", str(tmp_path / "o")))
    assert line.endswith(
        f"spec bad ({path}:{line_of(path)}), hook sys_syncfs, "
        "event 'syncfs' by ovl1 (fd slot 1): ValueError: nope"
    )


def test_the_line_is_the_spec_files_even_when_the_error_is_raised_deeper(tmp_path):
    # errseq_set refuses a positive errno in explorer/domain/errseq.py; the line that matters is
    # the spec's call, and the hook is the one the dispatcher called (wberror's).
    path = spec_file(
        tmp_path,
        """
        def mapping_set_error(self, w, ino, err):
            w.sb.s_wb_err = self.errseq.set(w.sb.s_wb_err, 5)  # here
        """,
    )
    no_host = ["--mounts", "1", "--fds", "1", "--host-fds", "0", "--depth", "4", "-q"]
    assert_bad_input(
        explore("-s", str(path), *no_host, "--out", str(tmp_path / "o")),
        f"({path}:{line_of(path)}), hook mapping_set_error, event 'wberror' of ovl1's file: "
        "ErrseqError: errseq_set: errno 5 is outside [-4095, -1]",
    )


@pytest.mark.parametrize(
    "value,shown",
    [
        ('"oops"', "returned 'oops' (str)"),
        ("0.0", "returned 0.0 (float)"),
        ("True", "returned True (bool)"),
        ("None", "returned None (NoneType)"),
        ("5", "returned 5 (int)"),
        ("-4096", "returned -4096 (int)"),
    ],
)
def test_a_call_hook_must_return_0_or_a_negative_errno(tmp_path, value, shown):
    path = spec_file(
        tmp_path,
        f"""
        def ovl_fill_super(self, w, ofs):  # here
            return {value}
        """,
    )
    assert_bad_input(
        explore("-s", str(path), *TINY, "--out", str(tmp_path / "o")),
        f"spec bad ({path}:{line_of(path)}), hook ovl_fill_super, event 'mount' by ovl1: "
        f"{shown}; a call returns 0 or a negative errno in [-4095, -1]",
    )


def test_any_errno_is_a_result(tmp_path):
    # -4095..-1 are errnos the kernel can return: a spec may refuse a mount with EINVAL.
    path = spec_file(
        tmp_path,
        """
        def ovl_fill_super(self, w, ofs):
            return -22
        """,
    )
    r = explore("-s", str(path), *TINY, "-p", "no-loss", "--out", str(tmp_path / "o"))
    assert r.exit_code == 0, r.output


def test_a_recursing_hook_is_a_spec_error(tmp_path):
    path = spec_file(
        tmp_path,
        """
        def ovl_open(self, w, ofs, f):
            self.ovl_open(w, ofs, f)  # here
        """,
    )
    assert_bad_input(
        explore("-s", str(path), *TINY, "--out", str(tmp_path / "o")),
        f"({path}:{line_of(path)}), hook ovl_open, event 'open' by ovl1 (fd slot 1): "
        "RecursionError: maximum recursion depth exceeded",
    )


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_hook_calling_sys_exit_cannot_end_the_run_with_exit_0(tmp_path, json_flag):
    path = spec_file(
        tmp_path,
        """
        def sys_syncfs(self, w, ofs, f):
            sys.exit(0)  # here
        """,
    )
    r = explore("-s", str(path), *TINY, *json_flag, "--out", str(tmp_path / "o"))
    assert_bad_input(r, f"({path}:{line_of(path)}), hook sys_syncfs", "SystemExit: 0")


def test_replay_names_the_misbehaving_hook_too(tmp_path):
    path = spec_file(
        tmp_path,
        """
        def ovl_fill_super(self, w, ofs):
            raise KeyError("ofs")  # here
        """,
    )
    scn = tmp_path / "t.scn"
    scn.write_text("mount ovl1\n")
    assert_bad_input(
        explore("replay", str(scn), "-s", "plain", "-s", str(path)),
        f"spec bad ({path}:{line_of(path)}), hook ovl_fill_super, event 'mount' by ovl1: "
        "KeyError: 'ofs'",
    )


def test_a_misbehaving_spec_in_a_parallel_run_reaches_the_parent_whole(tmp_path):
    """Workers send exceptions to the parent by pickle: the error must arrive with its
    message, not as a BrokenProcessPool or a bare class name."""
    path = spec_file(
        tmp_path,
        """
        def ovl_fsync(self, w, ofs, f):
            raise RuntimeError("boom")  # here
        """,
    )
    err = SpecHookError("bad", "bad.py:3", "ovl_fsync", "event 'fsync' by ovl1 (fd slot 1)", "x")
    assert str(pickle.loads(pickle.dumps(err))) == str(err)
    args = ["-s", "plain", "-s", str(path), "-s", "amir", "-j", "2", "--mounts", "2"]
    r = explore(*args, "--depth", "5", "-q", "--out", str(tmp_path / "o"))
    assert_bad_input(r, f"spec bad ({path}:{line_of(path)}), hook ovl_fsync", "RuntimeError: boom")


# --- explorer.bridge.stepper runs hooks on poisoned copies: still exact, still reported ----


class ReadsOutsideThenFails(Spec):
    """fsync looks at the other container's mount (outside its footprint), then fails."""

    name = "reads-outside-then-fails"

    def ovl_fsync(self, w, ofs, f):
        if w.ofs(1 - f.owner).mounted or True:
            return 1 // 0


class FailsOnlyWhenPoisoned(Spec):
    """Fails on the poisoned copy (a field it was not given is not an int), never on a
    real state: the cache must fall back to exact stepping, not report an error."""

    name = "fails-only-when-poisoned"

    def sys_syncfs(self, w, ofs, f):
        if not isinstance(w.ofs(1 - f.owner).mounted, int):
            raise RuntimeError("not an int")
        return self.vfs_syncfs(w, f)


class ReturnsOutsideField(Spec):
    """Returns a field outside its footprint: Poison on the copy, 0 on a real state."""

    name = "returns-outside-field"

    def ovl_fsync(self, w, ofs, f):
        self.vfs_fsync(w, f)
        return w.ofs(1 - f.owner).errseq


def test_a_hook_failing_after_a_read_outside_its_footprint_is_reported_from_the_real_state():
    with pytest.raises(SpecHookError) as info:
        bfs(ErrseqModel(ReadsOutsideThenFails(), Bounds(2, 1, 0)), 4)
    assert "ZeroDivisionError" in str(info.value) and "Poison" not in str(info.value)
    assert "hook ovl_fsync, event 'fsync'" in str(info.value)


@pytest.mark.parametrize("spec", [FailsOnlyWhenPoisoned, ReturnsOutsideField])
def test_what_fails_only_on_the_poisoned_copy_means_not_local(spec):
    def same(a, b) -> bool:
        return (a.states, a.action, a.obs, a.dst) == (b.states, b.action, b.obs, b.dst)

    cached = ErrseqModel(spec(), Bounds(2, 1, 0))
    direct = ErrseqModel(spec(), Bounds(2, 1, 0), cache=False)
    assert same(bfs(cached, 6), bfs(direct, 6))
    assert not cached.stepper.exact


# --- the helper for code that calls hooks directly -------------------------------------


def test_hook_errors_and_check_result_for_direct_hook_calls():
    class Broken(Spec):
        name = "broken"

        def sys_syncfs(self, w, ofs, f):
            raise SystemExit(3)

    spec, b = Broken(), Bounds(1, 1, 0)
    w = World(b, b.initial())
    with pytest.raises(SpecHookError) as info, hook_errors(spec, "sys_syncfs", "a fresh open"):
        spec.sys_syncfs(w, w.ofs(0), w.file(0))
    assert str(info.value).startswith("spec broken (")
    assert "test_errors.py:" in str(info.value)
    assert "hook sys_syncfs, a fresh open: SystemExit: 3" in str(info.value)
    with pytest.raises(KeyboardInterrupt), hook_errors(spec, "sys_syncfs", "x"):
        raise KeyboardInterrupt
    assert check_result(spec, "sys_syncfs", "x", -5) == -5
    with pytest.raises(SpecHookError, match=r"returned 1\.5 \(float\)"):
        check_result(spec, "sys_syncfs", "x", 1.5)


def test_ctrl_c_in_a_hook_stays_an_interrupt():
    class Interrupted(Spec):
        name = "interrupted"

        def ovl_fill_super(self, w, ofs):
            raise KeyboardInterrupt

    b = Bounds(1, 1, 0)
    with pytest.raises(KeyboardInterrupt):
        Interrupted().apply(World(b, b.initial()), Event("mount", 0))


# --- spec files that do not load -------------------------------------------------------


@pytest.mark.parametrize(
    "text,needle",
    [
        ("raise RuntimeError('at import')\n", "line 1: RuntimeError: at import"),
        ("import sys\nsys.exit(3)\n", "line 2: SystemExit: 3"),
        ("def (:\n", "SyntaxError"),
        ("x = 1\n", "expected exactly one Spec subclass"),
        (
            "from explorer.domain.vfs import Spec\nclass A(Spec):\n    name = 'a'\n"
            "    def __init__(self, x):\n        pass\n",
            "TypeError",
        ),
        (
            "from explorer.domain.vfs import Spec\nclass A(Spec):\n    name = 'a'\n    errseq = int\n",
            "errseq must be",
        ),
        (
            "from explorer.domain.vfs import Spec\nclass A(Spec):\n    name = 'a'\n    summary = 3\n",
            "summary must be one line",
        ),
    ],
)
def test_a_spec_file_that_does_not_load_is_named(tmp_path, text, needle):
    path = tmp_path / "user.py"
    path.write_text(text)
    assert_bad_input(explore("-s", str(path), *TINY), str(path), needle)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../../etc", "two words", "tab\there", 5])
def test_a_spec_name_must_fit_a_column_and_a_folder(tmp_path, name):
    path = tmp_path / "named.py"
    path.write_text(f"from explorer.domain.vfs import Spec\nclass A(Spec):\n    name = {name!r}\n")
    with pytest.raises(SpecError, match=re.escape(str(path))):
        load_spec(str(path))
    assert_bad_input(explore("-s", str(path), *TINY), str(path), "A.name")


def test_two_specs_with_one_name_are_refused(tmp_path):
    one = spec_file(tmp_path, "pass\n", name="same", filename="one.py")
    two = spec_file(tmp_path, "pass\n", name="same", filename="two.py")
    with pytest.raises(SpecError, match=f"two specs named 'same' \\({one} and {two}\\)"):
        load_specs([str(one), str(two)])
    assert_bad_input(explore("-s", "amir", "-s", "amir", *TINY), "two specs named 'amir'")


# --- options and numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--max-memory", "inf"], "--max-memory inf: must be a finite number of GiB above 0"),
        (["--max-memory", "nan"], "--max-memory nan"),
        (["--max-memory", "0"], "--max-memory 0.0"),
        (["--max-memory", "-1"], "--max-memory -1.0"),
        (["--max-states", "0"], "--max-states 0: must be 1 or more"),
        (["--max-states", "-5"], "--max-states -5"),
        (["--mounts", "17"], f"--mounts 17: must be 1 to {MAX_MOUNTS}"),
        (["--mounts", "0"], "--mounts 0: must be 1 to"),
        (["--fds", "9"], f"--fds 9: must be 1 to {MAX_FDS}"),
        (["--host-fds", "9"], f"--host-fds 9: must be 0 to {MAX_HOST_FDS}"),
        (["--host-fds", "-1"], "--host-fds -1"),
        (["--depth", "65"], f"--depth 65: must be 1 to {MAX_DEPTH}"),
        (["--show", "-1"], "--show -1: must be 0 or more"),
        (["--jobs", "-1"], "--jobs -1: must be 0 to"),
        (["--container", "ovl" + "9" * 5000], "--container"),
        (["--mounts", "abc"], "Invalid value for '--mounts': 'abc' is not a valid int"),
        (["--max-memory", "lots"], "Invalid value for '--max-memory'"),
        (["--isolation-budget", "-1"], "--isolation-budget"),
        (["--nosuch"], "No such option: --nosuch"),
        (["nosuch"], "No such command 'nosuch'"),
        (["replay"], "Missing argument"),
        (["diff", "plain", "amir", "--mounts", "17"], "--mounts 17"),
    ],
)
def test_a_bad_option_is_one_line_naming_it(args, needle):
    assert_bad_input(explore(*args), needle)


def test_huge_bounds_are_refused_before_anything_is_built(monkeypatch):
    """--mounts 99999999999999999999 built a state layout until MemoryError (26 s)."""
    import explorer.checker.options

    def never(*a, **k):
        raise AssertionError("Bounds built for out-of-range options")

    monkeypatch.setattr(explorer.checker.options, "Bounds", never)
    assert_bad_input(explore("--mounts", "99999999999999999999"), "--mounts 99999999999999999999")
    assert_bad_input(explore("--depth", "1" + "0" * 30), "--depth 1000")


def test_the_limits_themselves_are_accepted():
    largest = RunOptions(mounts=MAX_MOUNTS, depth=MAX_DEPTH, fds=MAX_FDS, host_fds=MAX_HOST_FDS)
    assert parse_model(largest).bounds == Bounds(MAX_MOUNTS, MAX_FDS, MAX_HOST_FDS)
    with pytest.raises(OptionError):
        parse_model(RunOptions(mounts=MAX_MOUNTS + 1, depth=1, fds=1, host_fds=0))


def test_scenario_container_numbers_stop_at_the_mounts_limit(tmp_path):
    with pytest.raises(ScenarioError) as info:
        parse(f"mount ovl{MAX_MOUNTS}\nmount ovl{MAX_MOUNTS + 1}\n", "t.scn")
    assert (info.value.line, info.value.token) == (2, f"ovl{MAX_MOUNTS + 1}")
    assert parse(f"mount ovl{MAX_MOUNTS}\n", "t.scn").bounds.mounts == MAX_MOUNTS
    scn = tmp_path / "big.scn"
    scn.write_text("mount ovl1\nopen fd1 ovl18446744073709551616\n")
    assert_bad_input(
        explore("replay", str(scn), "-s", "plain"),
        f"{scn}:2: 'ovl18446744073709551616': at most {MAX_MOUNTS} containers",
    )


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--spec", "amir", "replay", "x.scn"], "put --spec after the command (explore replay"),
        (["--mounts", "3", "diff", "a", "b"], "put --mounts after the command (explore diff"),
        (["--property", "isolation", "replay", "x.scn"], "replay has no --property"),
        (["-q", "specs"], "specs has no --quiet"),
    ],
)
def test_main_job_options_before_a_command_are_an_error(args, needle):
    assert_bad_input(explore(*args), "are the main job's", needle)


def test_options_after_the_command_are_fine():
    seed = ROOT / "tests" / "scenarios" / "seed.scn"
    assert explore("replay", str(seed), "--spec", "amir").exit_code == 0


# --- internal errors: exit 70, one line, the traceback in a file -------------------------


def test_a_bug_of_the_tool_exits_70_with_the_traceback_in_a_file(monkeypatch):
    import explorer.app.job

    def buggy(*a, **kw):
        return {}["missing"]

    monkeypatch.setattr(explorer.app.job, "main_job", buggy)
    monkeypatch.delenv("EXPLORE_DEBUG", raising=False)
    r = explore("--depth", "2")
    assert r.exit_code == 70 and "Traceback" not in r.output
    (line,) = r.stderr.splitlines()
    assert line.startswith("explore: internal error: KeyError: 'missing': this is a bug")
    path = Path(re.search(r"the traceback is in (\S+)", line).group(1))
    text = path.read_text()
    assert "Traceback" in text and "buggy" in text and 'return {}["missing"]' in text
    path.unlink()
    monkeypatch.setenv("EXPLORE_DEBUG", "1")
    r = explore("--depth", "2")
    assert r.exit_code == 70 and "Traceback" in r.stderr and "buggy" in r.stderr
    assert r.stderr.splitlines()[-1].startswith("explore: internal error: KeyError")


# --- version, specs, help ----------------------------------------------------------------


def test_version():
    r = explore("--version")
    assert r.exit_code == 0
    assert r.stdout == f"errseq-explorer {__version__}\n"
    assert __version__ == importlib.metadata.version("errseq-explorer")


def test_specs_lists_every_built_in_with_its_summary_and_sources():
    r = explore("specs")
    assert r.exit_code == 0, r.output
    for name in BUILTIN:
        spec = load_spec(name)
        assert re.search(rf"^{re.escape(name)} +{re.escape(spec.summary)}$", r.stdout, re.M)
    assert "    commit 34b4540e6646\n" in r.stdout
    assert (
        "https://lore.kernel.org/r/CAOQ4uxj5YS9LSPoBZ3uakb6NeBG7g-Zeu+8Vt57tizEH6xu0cw@mail.gmail.com"
        in r.stdout
    )
    rows = json.loads(explore("specs", "--json").stdout)
    assert [row["name"] for row in rows] == builtin_names(races=True)  # mainline-flock last
    assert rows[1]["sources"] == list(load_spec("mainline").sources)


@pytest.mark.parametrize("name", builtin_names(races=True))
def test_a_specs_sources_are_those_its_docstring_cites(name):
    """The `sources` data and the docstring name the same commits and Message-IDs."""
    spec = load_spec(name)
    doc = sys.modules[type(spec).__module__].__doc__
    cited = set(re.findall(r"\b[0-9a-f]{12}\b", doc)) | set(re.findall(r"[\w.+-]+@[\w.-]+\w", doc))
    assert spec.sources and len(set(spec.sources)) == len(spec.sources)
    assert set(spec.sources) == cited


def test_help_lists_the_values_and_the_exit_codes():
    text = explore("--help").stdout
    flat = "".join(text.split())  # the help wraps lines, at hyphens too
    assert f"Propertytocheck:{','.join(PROPERTIES)};" in flat
    assert f"accepted:{','.join(KIND_ORDER)};" in flat
    assert "normal,volatileorboth" in flat
    for code in ("0", "1", "2", "3", "70", "130"):
        assert re.search(rf"^ +{code} +\w", text, re.M), code
    assert f"1to{MAX_MOUNTS}" in flat and f"1to{MAX_DEPTH}" in flat
    # the model's options, with their values, in every command that takes them
    for args in (["--help"], ["diff", "--help"]):
        flat = "".join(explore(*args).stdout.split())
        assert "--errnos" in flat and "EIO,ENOSPCorEIO,ENOSPC" in flat, args
        assert "--counter-bitsK" in flat and "2to19" in flat, args
        assert "--host-files" in flat and "own(" in flat and "any(" in flat, args
    flat = "".join(explore("replay", "--help").stdout.split())
    assert "--counter-bitsK" in flat and "2to19" in flat


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--errnos", "EPERM"], "--errnos 'EPERM': 'EPERM' is not one of EIO, ENOSPC"),
        (["--counter-bits", "20"], "--counter-bits 20: must be 2 to 19"),
        (["--host-files", "all"], "--host-files 'all': choose own or any"),
        (["diff", "plain", "amir", "--counter-bits", "1"], "--counter-bits 1: must be 2 to 19"),
        (["diff", "plain", "amir", "--host-files", "x"], "--host-files 'x': choose own or any"),
    ],
)
def test_bad_model_options_are_bad_input(args, needle):
    assert needle in assert_bad_input(explore(*args))


def test_readme_documents_the_exit_codes():
    readme = " ".join((ROOT / "README.md").read_text().split())
    for code in ("0 ", "1 ", "2 ", "3 ", "70 ", "130 "):
        assert f"`{code.strip()}`" in readme, code


def test_an_out_folder_that_cannot_be_written_is_bad_input(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("mine\n")
    r = explore("-s", "plain", "-p", "no-loss", *TINY, "--out", str(blocker / "out"))
    assert_bad_input(r, str(blocker))
    assert blocker.read_text() == "mine\n"


def test_an_empty_out_is_refused_not_taken_for_the_current_folder(tmp_path, monkeypatch):
    # Path("") is ".": `--out "$UNSET"` wrote report.json and spec folders into the
    # working directory.  `--out .` stays the way to ask for that.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine\n")
    r = explore("-s", "plain", "-p", "no-loss", *TINY, "--out", "")
    assert_bad_input(r, "--out '': an empty folder name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    r = explore("-s", "plain", "-p", "no-loss", *TINY, "--out", ".")
    assert r.exit_code == 0, r.output
    assert (empty / "report.json").is_file()


def test_a_witness_replayed_in_the_wrong_mode_says_which_to_use(tmp_path):
    """A run with races (its witness, or a file in the step notation) replayed without
    --races, and a witness of a run without races replayed with it, are named as such
    (they failed on their first line as an unknown verb, or not a thread)."""
    out = tmp_path / "o"
    bounds = ["--mounts", "1", "--depth", "5", "-p", "linearizable", "-q"]
    r = explore("-s", "plain", "--races", "--threads", "2", *bounds, "--out", str(out))
    assert r.exit_code == 1, r.output  # plain is not linearizable (docs/races.md)
    raced = out / "plain" / "linearizable.txt"
    at = (
        raced.read_text()
        .splitlines()
        .index(
            next(ln for ln in raced.read_text().splitlines() if ln.startswith("As a race scenario"))
        )
    )
    assert_bad_input(
        explore("replay", str(raced), "-s", "plain"),
        f"{raced}:{at + 1}: 'As a race scenario': a witness of a run with races: replay it "
        "with --races",
    )
    steps = tmp_path / "r.scn"
    steps.write_text("ovl1.1: mount ovl1\novl1.1: open fd1 ovl1\n")
    assert_bad_input(
        explore("replay", str(steps)),
        f"{steps}:1: 'ovl1.1:': a run in the step notation: replay it with --races",
    )
    r = explore(
        "-s",
        "mainline",
        "-p",
        "open-before-syncfs",
        *bounds[:4],
        "-q",
        "--out",
        str(tmp_path / "a"),
    )
    assert r.exit_code == 1, r.output  # mainline fails it within 5 events
    atomic = tmp_path / "a" / "mainline" / "open-before-syncfs.txt"
    line = assert_bad_input(explore("replay", "--races", str(atomic), "-s", "mainline"))
    assert line.endswith(
        "'As a scenario': a witness of a run without races: replay it without --races"
    )
    assert explore("replay", "--races", str(raced), "-s", "plain").exit_code == 0


def test_a_hook_that_fails_only_in_no_loss_fresh_open_is_named_too(tmp_path):
    """no-loss calls hooks itself, on a scratch fd beyond the bounds (index -1), for a
    fresh open in each mounted container: mount ovl1, open, write, close, wberror ovl1
    leaves an unreported error with no open fd, so it asks a fresh open's syncfs."""
    path = spec_file(
        tmp_path,
        """
        def sys_syncfs(self, w, ofs, f):
            if f.index < 0:
                raise RuntimeError("only for a fresh open")  # here
            return self.vfs_syncfs(w, f)
        """,
    )
    r = explore(
        "-s", str(path), *TINY, "--depth", "5", "-p", "no-loss", "--out", str(tmp_path / "o")
    )
    assert_bad_input(
        r,
        f"spec bad ({path}:{line_of(path)}), hook sys_syncfs, event 'syncfs' by ovl1 (after a "
        "fresh open no-loss tries): RuntimeError: only for a fresh open",
    )


def test_a_hook_that_stores_a_float_is_bad_input_not_truncated(tmp_path):
    path = spec_file(
        tmp_path,
        """
        def ovl_fsync(self, w, ofs, f):
            f.f_wb_err = 1.5  # here
            return 0
        """,
    )
    r = explore("-s", str(path), *TINY, "--out", str(tmp_path / "out"))
    assert_bad_input(r, f"{path}:{line_of(path)}", "hook ovl_fsync", "TypeError", "float 1.5")


def test_ctrl_c_outside_the_search_is_one_line_and_130(monkeypatch):
    """The main job handles Ctrl-C around its search (tests/test_interrupt.py); anywhere
    else (replaying, writing out/) the command line ends it the same way."""
    import explorer.app.replay as replay

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(replay, "replay_all", interrupted)
    r = explore("replay", str(ROOT / "scenarios" / "plain" / "seed.scn"), "-s", "plain")
    assert r.exit_code == 130, r.output
    assert r.stderr.splitlines() == ["explore: interrupted"] and "Traceback" not in r.output


def test_every_kind_of_bad_input_shares_one_base_class():
    """The command line asks one isinstance (explorer.errors.InputError) instead of a
    list of classes: every bad-input error must derive from it, and a bare ValueError
    (a bug of the tool) must not pass for bad input."""
    from explorer.app.cli import bad_input
    from explorer.errors import InputError
    from explorer.render.outdir import OutError

    for cls in (OptionError, ScenarioError, SpecError, SpecHookError, OutError):
        assert issubclass(cls, InputError) and issubclass(cls, ValueError), cls
    assert bad_input(OutError("--out x: is a file, not a folder")) == (
        "--out x: is a file, not a folder"
    )
    assert bad_input(ValueError("a bug")) is None


def test_ray_without_its_extra_is_one_line_naming_the_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if not installed
    line = assert_bad_input(explore(*TINY, "--out", str(tmp_path / "o"), "--ray", "local"))
    assert line.endswith(
        "--ray needs Ray, which is not installed: pip install 'errseq-explorer[ray]'"
    )
    assert not (tmp_path / "o").exists()  # refused before anything was written


def test_explore_ray_alone_means_a_local_runtime():
    from explorer.app.cli import ray_address

    assert ray_address(["--ray"]) == ["--ray", "local"]
    assert ray_address(["--ray", "-q"]) == ["--ray", "local", "-q"]
    assert ray_address(["--ray", "replay", "x.scn"]) == ["--ray", "local", "replay", "x.scn"]
    assert ray_address(["--ray", "auto", "-q"]) == ["--ray", "auto", "-q"]
    assert ray_address(["--ray", "10.0.0.1:6379"]) == ["--ray", "10.0.0.1:6379"]
