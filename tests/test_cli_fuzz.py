"""Property-based: whatever a user types, writes in a scenario or puts in a spec file,
`explore` answers with the exit code CI relies on (0 or 1 for valid input, 2 for bad
input with exactly one line `explore: error: ...` on stderr) and never a traceback.

Each test builds its inputs together with the expected answer, from the rules of
docs/model.md §2 (scenarios) and the documented option ranges, not from the tool's code.
The runs are tiny (one container, a few events), so that the default profile (50
examples per test, the same ones on every run) stays well under 30 s;
EXPLORE_FUZZ=explore-fuzz-deep runs 2000 random examples per test.
"""

from __future__ import annotations

import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.bridge.model import KIND_ORDER
from explorer.checker.options import MAX_JOBS
from explorer.checker.properties import PROPERTIES
from explorer.domain.catalog import BUILTIN
from explorer.domain.world import MAX_DEPTH, MAX_FDS, MAX_HOST_FDS, MAX_MOUNTS

settings.register_profile(
    "explore-fuzz",
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "explore-fuzz-deep",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
FUZZ = settings.get_profile(os.environ.get("EXPLORE_FUZZ", "explore-fuzz"))

runner = CliRunner()


@contextmanager
def scratch():
    """A fresh folder per example, as the working directory: relative names the fuzz
    invents never meet a real file, and out/ lands there."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as d:
        os.chdir(d)
        try:
            yield Path(d)
        finally:
            os.chdir(old)


def check_answer(r, bad: bool) -> str:
    """The contract: 2 and one `explore: error:` line for bad input, 0/1 otherwise, and
    never a traceback or any other code."""
    assert "Traceback" not in r.output, r.output
    if bad:
        assert r.exit_code == 2, (r.exit_code, r.output)
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("explore: error: "), r.stderr
        return lines[0]
    assert r.exit_code in (0, 1), (r.exit_code, r.output)
    assert "explore: error" not in r.stderr, r.stderr
    return ""


# --- scenarios ---------------------------------------------------------------------------


class World:
    """docs/model.md §2 for the plain spec: which events can happen (plain never refuses a
    mount, writes back its own file on fsync and every file on syncfs and sync)."""

    def __init__(self) -> None:
        self.mounted: set[str] = set()
        self.owner: dict[str, str] = {}  # every fd ever opened -> ovlN | host
        self.live: set[str] = set()
        self.dirty: set[str] = set()
        self.cached: set[str] = set()
        # containers whose mount the scenario states as refused (= EIO): under plain the
        # mount succeeds, so replay reports that result, and the events of the container
        # that could not follow a refused mount are its consequence, not bad input
        self.stated_refused: set[str] = set()

    def held(self, who: str) -> bool:
        return any(self.owner[fd] == who for fd in self.live)

    def enabled(self, containers: list[str]) -> list[str]:
        out = ["sync"]
        for c in containers:
            if c in self.mounted:
                if not self.held(c):
                    out.append(f"umount {c}")
            else:
                out += [f"mount {c}", f"mount {c} volatile"]
        for who in [*containers, "host"]:
            if who == "host" or who in self.mounted:
                out.append(f"open fd{len(self.owner) + 1} {who}")
            if who in self.dirty:
                out.append(f"wberror {who}")
            elif who in self.cached and not self.held(who):
                out.append(f"evict {who}")
        for fd in sorted(self.live):
            out += [f"{verb} {fd}" for verb in ("write", "fsync", "syncfs", "close")]
        return out

    def do(self, line: str) -> None:
        verb, *args = line.split()
        if verb == "mount":
            self.mounted.add(args[0])
        elif verb == "umount":
            self.mounted.discard(args[0])
        elif verb == "open":
            self.owner[args[0]] = args[1]
            self.live.add(args[0])
            self.cached.add(args[1])
        elif verb == "write":
            self.dirty.add(self.owner[args[0]])
        elif verb == "fsync":
            self.dirty.discard(self.owner[args[0]])
        elif verb in ("syncfs", "sync"):
            self.dirty.clear()
        elif verb == "close":
            self.live.discard(args[0])
        elif verb == "wberror":
            self.dirty.discard(args[0])
        elif verb == "evict":
            self.cached.discard(args[0])


@st.composite
def valid_scenario(draw) -> tuple[list[str], World]:
    """A run of events that can all happen under plain, some with a stated result."""
    containers = [f"ovl{n}" for n in draw(st.sets(st.integers(1, MAX_MOUNTS), min_size=1))]
    w = World()
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        line = draw(st.sampled_from(w.enabled(sorted(containers))))
        w.do(line)
        if line.split()[0] in ("mount", "fsync", "syncfs") and draw(st.booleans()):
            line += draw(st.sampled_from([" = 0", " = EIO"]))
            if line.startswith("mount") and line.endswith("= EIO"):
                w.stated_refused.add(line.split()[1])
        lines.append(line)
    return lines, w


VERBS = ("mount", "umount", "open", "write", "fsync", "syncfs", "close", "wberror", "evict")
BAD_CONTAINERS = ["ovl0", "ovl", "ovlx", "ovl01", "ovl-1", "OVL1", "host1"]
HUGE = st.integers(MAX_MOUNTS + 1, 10**40).map(lambda n: f"ovl{n}")


@st.composite
def defect(draw, w: World) -> str:
    """One line that is wrong whatever the spec (docs/model.md §2: unknown verb, unknown fd,
    fd reused, event not enabled, bounds exceeded, bad result)."""
    kind = draw(st.sampled_from(["verb", "arity", "container", "huge", "result", "fd", "late"]))
    if kind == "verb":
        verb = draw(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,9}", fullmatch=True))
        assume(verb not in (*VERBS, "sync"))
        return f"{verb} fd1"
    if kind == "arity":
        return draw(
            st.sampled_from(
                ["sync fd1", "open fd99", "write", "mount", "mount ovl1 volatile now", "close a b"]
            )
        )
    if kind == "container":
        return f"mount {draw(st.sampled_from([*BAD_CONTAINERS, 'host']))}"
    if kind == "huge":
        return draw(st.sampled_from(["mount {}", "wberror {}", "open fdZ {}"])).format(draw(HUGE))
    if kind == "result":
        result = draw(st.sampled_from(["1", "-5", "eio", "EINVAL", "OK", "0 0"]))
        return f"sync = {result}"
    if kind == "fd":
        if w.owner and draw(st.booleans()):
            return f"open {draw(st.sampled_from(sorted(w.owner)))} host"  # fd reused
        return "write nosuch_fd"
    # an event that cannot happen in the state the run reached
    impossible = [f"mount {c}" for c in sorted(w.mounted)]
    impossible += [f"wberror {c}" for c in ("ovl1", "host") if c not in w.dirty]
    impossible += ["umount ovl1"] if "ovl1" not in w.mounted else []
    impossible = [line for line in impossible if line.split()[1] not in w.stated_refused]
    assume(impossible)
    return draw(st.sampled_from(impossible))


@FUZZ
@given(data=st.data(), stdin=st.booleans())
def test_scenarios_valid_or_with_one_defect(data, stdin):
    lines, w = data.draw(valid_scenario())
    bad = data.draw(st.booleans())
    if bad:
        lines.append(data.draw(defect(w)))
    text = "".join(f"{line}\n" for line in lines)
    with scratch() as d:
        if stdin:
            r = runner.invoke(app, ["replay", "-", "-s", "plain"], input=text)
        else:
            (d / "t.scn").write_text(text)
            r = runner.invoke(app, ["replay", "t.scn", "-s", "plain"])
    line = check_answer(r, bad)
    if bad:
        where = "<stdin>" if stdin else "t.scn"
        assert f"explore: error: {where}:{len(lines)}:" in line, (line, text)


@FUZZ
@given(text=st.text(max_size=200))
def test_any_text_as_a_scenario(text):
    """No oracle for arbitrary text: still 0/1 or 2 with one line, never a traceback."""
    with scratch():
        r = runner.invoke(app, ["replay", "-", "-s", "plain"], input=text)
    check_answer(r, r.exit_code == 2)


# --- options -----------------------------------------------------------------------------


def as_int(raw: str) -> int | None:
    """What the command line makes of an integer option (Python's int(), as click does)."""
    try:
        return int(raw)
    except ValueError:
        return None


def as_float(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


# option -> (lowest, highest, largest value still cheap at the base bounds)
INT_RANGES = {
    "--mounts": (1, MAX_MOUNTS, 3),
    "--depth": (1, MAX_DEPTH, 4),
    "--fds": (1, MAX_FDS, 3),
    "--host-fds": (0, MAX_HOST_FDS, 3),
    "--show": (0, math.inf, math.inf),
    "--jobs": (0, MAX_JOBS, MAX_JOBS),
    "--isolation-budget": (0, math.inf, math.inf),
    "--max-states": (1, math.inf, math.inf),
}
CHOICES = {
    "--mount-options": {"normal", "volatile", "both"},
    "--property": set(PROPERTIES),
    "--allow": set(KIND_ORDER),
    "--container": {"ovl1"},  # the base run has one container
    "--against": set(BUILTIN),
    "--spec": set(BUILTIN),
}
BASE = ["--mounts", "1", "--fds", "1", "--depth", "2", "-p", "no-loss", "-q"]

RAW = st.one_of(
    st.integers(-(10**25), 10**25).map(str),
    st.integers(-3, 20).map(str),
    st.floats().map(repr),
    st.sampled_from(["", " 3 ", "1_0", "+2", "0x10", "1e3", "inf", "-inf", "nan", "٣", "²"]),
    st.text(max_size=20),
)


def expected_bad(option: str, raw: str) -> bool:
    """Whether the option's value is bad input, from its documented range or choices;
    valid values too big for a quick run are left out (assume)."""
    if option in INT_RANGES:
        low, high, cheap = INT_RANGES[option]
        v = as_int(raw)
        if v is None or not low <= v <= high:
            return True
        assume(v <= cheap and not (option == "--max-states" and v < 1000))
        return False
    if option == "--max-memory":
        v = as_float(raw)
        if v is None or not (math.isfinite(v) and v > 0):
            return True
        assume(v >= 8)  # a guard below the test process's own size would stop the run
        return False
    return raw not in CHOICES[option]


@FUZZ
@given(option=st.sampled_from([*INT_RANGES, "--max-memory", *CHOICES]), data=st.data())
def test_option_values(option, data):
    choices = sorted(CHOICES.get(option, ()))
    raw = data.draw(st.one_of(RAW, st.sampled_from(choices)) if choices else RAW)
    assume("\x00" not in raw)  # no command line carries a NUL
    bad = expected_bad(option, raw)
    spec = [] if option == "--spec" else ["-s", "plain"]
    with scratch():
        r = runner.invoke(app, [*BASE, *spec, f"{option}={raw}"])
    line = check_answer(r, bad)
    if bad and option != "--spec":
        assert option in line, line


# --- misbehaving spec files --------------------------------------------------------------

CALL_HOOKS = {
    "ovl_fill_super": "(self, w, ofs)",
    "ovl_fsync": "(self, w, ofs, f)",
    "sys_syncfs": "(self, w, ofs, f)",
    "vfs_fsync": "(self, w, f)",
    "vfs_syncfs": "(self, w, f)",
}
VOID_HOOKS = {
    "ovl_open": "(self, w, ofs, f)",
    "vfs_open": "(self, w, f)",
    "mapping_set_error": "(self, w, ino, err)",
    "generic_shutdown_super": "(self, w, ofs)",
}
#: The hooks the dispatcher may have called when this one misbehaves (the base
#: overlay hooks call the VFS ones).
CALLERS = {"vfs_fsync": "ovl_fsync", "vfs_syncfs": "sys_syncfs", "vfs_open": "ovl_open"}
EXCEPTIONS = [
    "ZeroDivisionError",
    "KeyError",
    "ValueError",
    "TypeError",
    "RuntimeError",
    "AttributeError",
    "IndexError",
    "OverflowError",
    "AssertionError",
    "NotImplementedError",
    "MemoryError",
    "RecursionError",
    "StopIteration",
    "OSError",
    "UnicodeDecodeError",  # needs five arguments: raising it raises a TypeError
    "Exception",
    "BaseException",
    "Unprintable",
]
# The runs reach every hook: mount, open, write, wberror (4 events), host fd included.
TINY = ["--mounts", "1", "--fds", "1", "--host-fds", "1", "--depth", "4", "-q"]
HEAD = """import sys

from explorer.domain.vfs import Spec


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no")


class User(Spec):
    name = {name!r}
    overlay = True

    def {hook}{args}:
"""
NAMES = st.from_regex(r"[a-z][a-z0-9.-]{0,11}", fullmatch=True).filter(lambda n: n not in BUILTIN)


@st.composite
def misbehaviour(draw, hook: str) -> tuple[list[str], bool, bool]:
    """The body of a hook, whether it fails, and whether the failure is at the line
    marked `# here` (a wrong result is charged to the hook, not to a line)."""
    kind = draw(st.sampled_from(["raise", "exit", "recurse", "return", "write", "poisoned"]))
    message = draw(st.text(max_size=30))
    if kind == "raise":
        exc = draw(st.sampled_from(EXCEPTIONS))
        return [f"raise {exc}({message!r})  # here"], True, True
    if kind == "exit":
        code = draw(st.one_of(st.none(), st.integers(-3, 300), st.text(max_size=10)))
        return [f"sys.exit({code!r})  # here"], True, True
    if kind == "recurse":
        return [f"return self.{hook}{CALL_ARGS[hook]}  # here"], True, True
    if kind == "poisoned":  # reads a field outside the event's footprint, then fails
        return (
            [
                "if w.inode(w.bounds.host).dirty or True:",
                f"    raise KeyError({message!r})  # here",
            ],
            True,
            True,
        )
    if kind == "write":  # a field holds an int: int(value) must work
        value = draw(st.one_of(st.text(max_size=5), st.none()))
        fails = value is None or as_int(value) is None
        return [f"w.sb.s_wb_err = {value!r}  # here", "return 0"], fails, True
    if hook not in CALL_HOOKS:
        return ["return 'ignored'"], False, False  # a void hook's value is not used
    value, fails = draw(
        st.one_of(
            st.integers(-4095, 0).map(lambda v: (v, False)),
            st.integers(1, 10**20).map(lambda v: (v, True)),
            st.integers(-(10**20), -4096).map(lambda v: (v, True)),
            st.one_of(st.text(max_size=5), st.booleans(), st.none()).map(lambda v: (v, True)),
            st.floats(allow_nan=False, allow_infinity=False).map(lambda v: (v, True)),
        )
    )
    return [f"return {value!r}"], fails, False


CALL_ARGS = {h: a.replace("self, ", "") for h, a in {**CALL_HOOKS, **VOID_HOOKS}.items()}


@pytest.mark.slow
@FUZZ
@given(hook=st.sampled_from([*CALL_HOOKS, *VOID_HOOKS]), name=NAMES, data=st.data())
def test_misbehaving_hooks(hook, name, data):
    body, fails, at_line = data.draw(misbehaviour(hook))
    args = {**CALL_HOOKS, **VOID_HOOKS}[hook]
    text = HEAD.format(name=name, hook=hook, args=args) + "".join(f"        {b}\n" for b in body)
    with scratch() as d:
        (d / "user.py").write_text(text)
        r = runner.invoke(app, ["-s", "user.py", *TINY])
    line = check_answer(r, fails)
    if fails:
        callers = {hook, CALLERS.get(hook, hook)}
        assert line.startswith(f"explore: error: spec {name} (user.py"), line
        assert any(f", hook {h}, event '" in line for h in callers), line
        if at_line:
            here = next(n for n, t in enumerate(text.splitlines(), 1) if "# here" in t)
            assert f"(user.py:{here})" in line, (line, text)


def name_fits(name: str) -> bool:
    """A spec name must fit a table column and an out/ folder (explorer.domain.catalog)."""
    return (
        name not in ("", ".", "..")
        and "/" not in name
        and not any(c.isspace() for c in name)
        and name.isprintable()
    )


@FUZZ
@given(
    name=st.text(max_size=8),
    body=st.one_of(
        st.sampled_from(EXCEPTIONS).map(lambda e: f"raise {e}('at import')"),
        st.one_of(st.none(), st.integers(-3, 300)).map(lambda c: f"sys.exit({c!r})"),
        st.just("x = 1"),
        st.just("def broken(:"),
        st.just("NAMED"),
    ),
)
def test_spec_files_that_do_not_load(name, body):
    if body == "NAMED":
        assume(not name_fits(name))
        body = f"class User(Spec):\n    name = {name!r}"
    text = "import sys\n\nfrom explorer.domain.vfs import Spec\n\n" + body + "\n"
    with scratch() as d:
        (d / "user.py").write_text(text)
        r = runner.invoke(app, ["-s", "user.py", *TINY])
    assert check_answer(r, True).startswith("explore: error: user.py")
