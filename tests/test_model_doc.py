"""docs/model.md, the contract the code cites, stays whole and stays with the code.

The repository cites the contract as `docs/model.md §N`; these tests keep every such
citation pointing at a section that exists, keep the repository free of pointers to
notes that are not part of it, and hold the contract's lists to the code they describe:
each spec's sources (§4), the scenario verbs (§2), the bounds and options with their
defaults and limits (§1, §6), and the wheel that must carry the file.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from explorer.domain import world

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "docs" / "model.md"
TEXT = MODEL.read_text(encoding="utf-8")

#: Folders that hold no project text: tools' caches, the venv, generated output.
SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "out",
    "build",
    "dist",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "node_modules",
}

#: `docs/model.md §4`, `docs/model.md §3-§4`, `docs/model.md sections 1-4`, with line
#: breaks and comment markers allowed between the file and the section.
REFERENCE = re.compile(
    r"docs/model\.md(?:[\s#*>/]|//)*(?:§\s*|sections?\s+)(\d+(?:\.\d+)*)"
    r"(?:\s*(?:-|–|to)\s*§?\s*(\d+(?:\.\d+)*))?"
)
#: A further section in the same citation: `docs/model.md §3, §4` or `§3 and §4`.
MORE = re.compile(r"\s*(?:,|and|or)\s*§\s*(\d+(?:\.\d+)*)")

#: What the repository must not point to: the folder of background notes outside it, the
#: contract under its old name, and the research notes by name.
FORBIDDEN = [
    (re.compile(r"\.\./shared\b"), "a folder outside the repository"),
    (re.compile(r"shared/(?:MODEL|DESIGN|research|seed)"), "a folder outside the repository"),
    (re.compile(r"\bMODEL\.md\b"), "MODEL.md (the contract is docs/model.md)"),
    (re.compile(r"\bDESIGN\.md\b"), "DESIGN.md, a note outside the repository"),
    (re.compile(r"\bresearch[ -]notes?\b", re.I), "research notes outside the repository"),
    (re.compile(r"\bresearch/", re.I), "research notes outside the repository"),
    (
        re.compile(
            r"\b(?:kernel-semantics|thread-and-variants|conformance-cases|litmus-conventions"
            r"|races-and-browsers|peer-tools|kernel-oracle)\b",
            re.I,
        ),
        "a research note outside the repository",
    ),
]

MESSAGE_ID = re.compile(r"[A-Za-z0-9][\w.+=-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
COMMIT = re.compile(r"\b[0-9a-f]{12,40}\b")


def project_files() -> list[Path]:
    """Every text file of the project, wherever it lives in the tree."""
    found = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            path = Path(top, name)
            data = path.read_bytes()
            if b"\0" in data:
                continue
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            found.append(path)
    return found


def sections(text: str) -> dict[str, str]:
    """The contract's top-level sections by number ("1".."8"), each with its text."""
    heads = list(re.finditer(r"^## (\d+)\. .*$", text, re.M))
    return {
        m[1]: text[m.start() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        for i, m in enumerate(heads)
    }


SECTIONS = sections(TEXT)


def subsection(section: str, title: str) -> str:
    """The text of `### title` inside a section, up to the next heading."""
    m = re.search(rf"^### {re.escape(title)}\s*$(.*?)(?=^##)", section + "\n## end", re.M | re.S)
    return m[1] if m else ""


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def test_the_contract_has_its_eight_sections_in_order() -> None:
    assert list(SECTIONS) == [str(n) for n in range(1, 9)]


def test_every_reference_names_a_section_that_exists() -> None:
    me = Path(__file__).resolve()
    bad, seen = [], 0
    for path in project_files():
        if path.resolve() == me:
            continue  # the examples of the pattern test below
        text = path.read_text(encoding="utf-8")
        for m in REFERENCE.finditer(text):
            numbers = [m[1]] + ([m[2]] if m[2] else [])
            end = m.end()
            while more := MORE.match(text, end):
                numbers.append(more[1])
                end = more.end()
            seen += 1
            for n in numbers:
                if n not in SECTIONS:
                    where = f"{path.relative_to(ROOT)}:{line_of(text, m.start())}"
                    bad.append(f"{where}: docs/model.md §{n} does not exist")
    assert seen > 100  # the code cites the contract everywhere; none found means a bad pattern
    assert not bad, "\n".join(bad)


def test_the_reference_pattern_reads_the_forms_the_repository_uses() -> None:
    forms = {
        "see docs/model.md §4.": ["4"],
        "(docs/model.md §3-§4)": ["3", "4"],
        "docs/model.md §1-4": ["1", "4"],
        "docs/model.md sections 1-4": ["1", "4"],
        "the rule of docs/model.md\n# §2, which": ["2"],
        "docs/model.md §4.2": ["4.2"],
    }
    for text, want in forms.items():
        m = REFERENCE.search(text)
        assert m is not None and [g for g in m.groups() if g] == want, text
    assert "4.2" not in SECTIONS  # a subsection reference is refused, not read as §4


def test_nothing_points_outside_the_repository() -> None:
    me = Path(__file__).resolve()
    bad = []
    for path in project_files():
        if path.resolve() == me:
            continue  # the patterns themselves
        text = path.read_text(encoding="utf-8")
        for pattern, why in FORBIDDEN:
            for m in pattern.finditer(text):
                where = f"{path.relative_to(ROOT)}:{line_of(text, m.start())}"
                bad.append(f"{where}: {m[0]!r}: {why}")
    assert not bad, "\n".join(bad)


def spec_files() -> list[Path]:
    return sorted(p for p in (ROOT / "specs").glob("*.py") if p.name != "__init__.py")


def spec_facts(path: Path) -> tuple[str, set[str], set[str]]:
    """A spec file's name, and the Message-IDs and commit ids its docstring and its
    `sources` attribute cite."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    cited = [ast.get_docstring(tree) or ""]
    name = ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id == "name":
                name = ast.literal_eval(node.value)
            if isinstance(target, ast.Name) and target.id == "sources":
                cited += list(ast.literal_eval(node.value))
    text = "\n".join(cited)
    ids = set(MESSAGE_ID.findall(text))
    commits = set(COMMIT.findall(MESSAGE_ID.sub(" ", text)))
    return name, ids, commits


@pytest.mark.parametrize("path", spec_files(), ids=lambda p: p.stem)
def test_every_spec_is_in_section_4_with_all_its_sources(path: Path) -> None:
    name, ids, commits = spec_facts(path)
    assert name, f"{path.name}: no `name`"
    assert ids or commits, f"{path.name}: cites no source"
    text = subsection(SECTIONS["4"], name)
    assert text, f"docs/model.md §4 has no '### {name}'"
    for mid in sorted(ids):
        assert f"https://lore.kernel.org/r/{mid}" in text, f"§4 {name}: no link to {mid}"
    for commit in sorted(commits):
        assert commit in text, f"§4 {name}: commit {commit} not cited"


def test_the_spec_source_reader_finds_what_a_docstring_cites() -> None:
    name, ids, commits = spec_facts(ROOT / "specs" / "mainline.py")
    assert name == "mainline"
    assert "20240730042008.395716-1-haifeng.xu@shopee.com" in ids
    assert {"335d3fc57941", "34b4540e6646", "5679897eb104"} <= commits
    assert not any(c in "20240730042008.395716" for c in commits)


def test_section_2_describes_every_event_of_the_world() -> None:
    b = world.Bounds(host_files="any", errnos=tuple(world.ERRNOS.values()))
    verbs = {e.verb for e in world.all_events(b, world.MOUNT_OPTIONS["both"])}
    assert len(verbs) == 10
    table = SECTIONS["2"]
    for verb in sorted(verbs):
        assert re.search(rf"^\| `{verb}\b", table, re.M), f"§2's table has no row for {verb}"


def help_text() -> dict[str, str]:
    """`explore --help`, one whitespace-normalised entry per option, from the installed
    command (its defaults and limits are what a user is told)."""
    code = (
        "import sys; from importlib.metadata import entry_points; "
        "sys.argv = ['explore', '--help']; "
        "entry_points(group='console_scripts', name='explore')[0].load()()"
    )
    env = dict(os.environ, COLUMNS="300", TERM="dumb")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    options: dict[str, str] = {}
    current = None
    for line in done.stdout.splitlines():
        m = re.match(r"\s+(?:-\w, )?(--[\w-]+)", line)
        if m:
            current = m[1]
            options[current] = ""
        if current:
            options[current] += " " + line.strip()
    return {k: " ".join(v.split()) for k, v in options.items()}


@pytest.fixture(scope="module")
def options() -> dict[str, str]:
    return help_text()


def table_row(section: str, key: str) -> list[str]:
    """The cells of the table row of `section` that mentions `key`."""
    for line in section.splitlines():
        if line.startswith("|") and key in line:
            return [c.strip().strip("`") for c in line.strip("|").split("|")]
    raise AssertionError(f"no table row for {key}")


@pytest.mark.parametrize(
    "option, low, high",
    [
        ("--mounts", 1, world.MAX_MOUNTS),
        ("--fds", 1, world.MAX_FDS),
        ("--host-fds", 0, world.MAX_HOST_FDS),
        ("--depth", 1, world.MAX_DEPTH),
    ],
)
def test_section_1_bounds_are_the_tools(
    options: dict[str, str], option: str, low: int, high: int
) -> None:
    _, _, default, accepted = table_row(SECTIONS["1"], f"`{option}`")
    assert accepted == f"{low} to {high}"
    assert f"{low} to {high}" in options[option]
    assert f"[default: {default}]" in options[option]


def test_section_1_mount_kinds_and_the_host_fd_default(options: dict[str, str]) -> None:
    _, _, default, accepted = table_row(SECTIONS["1"], "`--mount-options`")
    assert f"[default: {default}]" in options["--mount-options"]
    assert [k.strip("` ") for k in accepted.split(",")] == list(world.MOUNT_OPTIONS)
    assert world.Bounds().host_fds == 1 and world.Bounds().fds == 2 and world.Bounds().mounts == 2


def test_section_6_options_are_the_tools(options: dict[str, str]) -> None:
    from explorer.domain.errseq import COUNTER_BITS, MIN_COUNTER_BITS

    six = SECTIONS["6"]
    _, default, values, _, _ = table_row(six, "`--errnos`")
    assert f"[default: {default}]" in options["--errnos"]
    assert {v.strip("` ") for v in values.replace(",", " ").split()} == set(world.ERRNOS)
    _, default, values, _, _ = table_row(six, "`--counter-bits K`")
    assert values == f"{MIN_COUNTER_BITS} to {COUNTER_BITS}"
    assert f"{MIN_COUNTER_BITS} to {COUNTER_BITS}" in options["--counter-bits"]
    assert str(COUNTER_BITS) in default and str(COUNTER_BITS - 1) in default
    _, default, values, _, _ = table_row(six, "`--host-files`")
    assert f"[default: {default}]" in options["--host-files"]
    assert [v.strip("` ") for v in values.split(",")] == list(world.HOST_FILES)


def test_section_8_is_the_races_option() -> None:
    head = SECTIONS["8"].split("\n\n")[0:2]
    assert "`--races`" in head[0] and "the `--races` option" in head[1]


def test_the_wheel_carries_the_contract() -> None:
    """One copy of docs/model.md, installed with the package as a data file (python -m
    build --wheel puts it under share/doc/errseq-explorer/)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = project["tool"]["setuptools"]["data-files"]
    assert any("docs/model.md" in files for files in data.values()), data
