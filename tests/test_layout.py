"""The layout is the architecture (docs/architecture.md): who may import whom, an engine
that knows no errseq word, and a contract whose examples run.

Imports are read from the source (ast), every one of them: at the top, inside a
function, under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import io
import re
import subprocess
import sys
import tempfile
import tokenize
from pathlib import Path

import pytest

from explorer.engine import contract

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "explorer"

#: Per layer, the modules of explorer it may import (a prefix covers a package).
ALLOWED = {
    "explorer.engine": ("explorer.engine",),
    "explorer.domain": ("explorer.domain", "explorer.errors"),
    "explorer.bridge": (
        "explorer.bridge",
        "explorer.engine.contract",
        "explorer.domain",
        "explorer.errors",
    ),
    "explorer.checker": (
        "explorer.checker",
        "explorer.engine",
        "explorer.bridge",
        "explorer.domain",
        "explorer.errors",
    ),
    # the renderers read the checker's result types, configuration and property names,
    # never the code that runs anything
    "explorer.render": (
        "explorer.render",
        "explorer.checker.results",
        "explorer.checker.config",
        "explorer.checker.properties",
        "explorer.engine",
        "explorer.bridge",
        "explorer.domain",
        "explorer.errors",
        "explorer.__version__",
    ),
    # explore --ray: the run's work on Ray; ray itself is imported only there
    "explorer.scale": (
        "explorer.scale",
        "explorer.checker",
        "explorer.engine",
        "explorer.bridge",
        "explorer.domain",
        "explorer.errors",
    ),
    "explorer.conform": (
        "explorer.conform",
        "explorer.checker",
        "explorer.domain",
        "explorer.errors",
    ),
    "explorer.app": ("explorer",),
    "explorer.errors": (),
    "explorer": (),  # the package itself: its version
    "specs": ("explorer.domain", "specs"),
}

#: The layers from the bottom up (docs/architecture.md): a layer imports only from
#: lower ranks, never from its own rank's other layers, never upwards.
RANK = {
    "explorer.errors": 0,
    "explorer": 0,
    "explorer.engine": 1,
    "explorer.domain": 1,
    "specs": 2,
    "explorer.bridge": 2,
    "explorer.checker": 3,
    "explorer.render": 4,
    "explorer.scale": 4,
    "explorer.conform": 4,
    "explorer.app": 5,
}

#: Words of the errseq domain the engine must not contain (docs/model.md's vocabulary).
DOMAIN_WORDS = re.compile(
    r"(?<![a-z0-9])(mount|umount|fsync|syncfs|wberror|evict|errseq|errno|eio|enospc|ovl\d*"
    r"|overlay|s_wb_err|f_sb_err|f_wb_err|wb_err|container)(?![a-z0-9])",
    re.IGNORECASE,
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> list[Path]:
    return sorted([*PACKAGE.rglob("*.py"), *(ROOT / "specs").glob("*.py")])


def layer(name: str) -> str:
    for prefix in sorted(ALLOWED, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "."):
            return prefix
    raise AssertionError(f"{name} is in no layer of docs/architecture.md")


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module of explorer or specs that `path` imports, with its line; `from X
    import y` counts as X.y, so that a name imported from a package is judged too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return [(n, m) for n, m in found if m.split(".")[0] in ("explorer", "specs")]


def allowed(importer: str, imported: str) -> bool:
    return any(
        imported == p or imported.startswith(p + ".") for p in ALLOWED[layer(importer)]
    ) or imported.startswith(importer + ".")


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_in_the_allowed_directions(path: Path) -> None:
    name = module_name(path)
    wrong = [f"line {n}: {m}" for n, m in imports(path) if not allowed(name, m)]
    assert not wrong, f"{name} ({layer(name)}) may not import: {wrong}"


def test_the_layers_are_those_of_the_architecture() -> None:
    found = {layer(module_name(p)) for p in modules()}
    assert found == set(ALLOWED), found ^ set(ALLOWED)
    assert set(RANK) == set(ALLOWED)
    # the renderers read result types, never the code that made them
    assert not allowed("explorer.render.report", "explorer.checker.run")
    assert not allowed("explorer.engine.search", "explorer.domain.world")
    assert not allowed("explorer.domain.scenario", "explorer.bridge.model")
    assert allowed("explorer.bridge.model", "explorer.engine.contract.Model")
    assert not allowed("explorer.bridge.model", "explorer.engine.search")
    for below in ("explorer.render", "explorer.scale", "explorer.conform", "explorer.checker"):
        assert not allowed(f"{below}.x", "explorer.app.cli"), below
    assert not allowed("explorer.checker.run", "explorer.render.report")
    assert not allowed("explorer.checker.run", "explorer.scale.execute")
    assert not allowed("explorer.bridge.model", "explorer.checker.config")


def test_no_layer_may_import_upwards() -> None:
    """The allow-list itself: every layer a layer may import is ranked below it (or is
    itself), so no arrow goes back up: engine <- bridge <- checker <- {render, scale,
    conform} <- app, the domain below the bridge."""
    for importer, prefixes in ALLOWED.items():
        for prefix in prefixes:
            target = layer(prefix)
            assert target == importer or RANK[target] < RANK[importer], (importer, prefix)


def test_names_say_the_job() -> None:
    names = {p.name for p in PACKAGE.rglob("*.py")}
    assert "check.py" not in names  # check() is a function of three modules
    assert not {"spec.py", "specs.py", "main_job.py", "footprint.py"} & names


def words(path: Path) -> list[tuple[int, str]]:
    """Domain words in the names, strings (docstrings) and comments of a module."""
    found = []
    with path.open("rb") as f:
        for tok in tokenize.tokenize(f.readline):
            if tok.type in (tokenize.NAME, tokenize.STRING, tokenize.COMMENT):
                found += [(tok.start[0], m.group(0)) for m in DOMAIN_WORDS.finditer(tok.string)]
    return found


@pytest.mark.parametrize(
    "path",
    sorted((PACKAGE / "engine").rglob("*.py")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_the_engine_knows_no_errseq_word(path: Path) -> None:
    assert words(path) == []


def test_the_word_check_catches_what_it_must() -> None:
    """The check itself: words with underscores, digits, docstrings and case."""
    text = '"""Mount it."""\nx_ovl2 = f_wb_err + EIO  # an Overlay\ncontainers = 1\n'
    tok = tokenize.tokenize(io.BytesIO(text.encode()).readline)
    hits = [
        m.group(0)
        for t in tok
        if t.type in (tokenize.NAME, tokenize.STRING, tokenize.COMMENT)
        for m in DOMAIN_WORDS.finditer(t.string)
    ]
    assert hits == ["Mount", "ovl2", "f_wb_err", "EIO", "Overlay"]  # "containers" is not one


ENGINE_MODULES = sorted(module_name(p) for p in (PACKAGE / "engine").rglob("*.py"))


@pytest.mark.parametrize("name", ENGINE_MODULES)
def test_the_engines_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize(
    "protocol", [contract.Model, contract.Symmetry, contract.Observers, contract.Monitor]
)
def test_every_protocol_of_the_contract_has_an_example(protocol) -> None:
    tests = doctest.DocTestFinder(recurse=False).find(protocol, protocol.__name__)
    assert tests and tests[0].examples, protocol.__name__
    assert inspect.getdoc(protocol).count(">>>") >= 2


@pytest.mark.slow
def test_only_explore_ray_imports_ray() -> None:
    """Ray is an optional extra: no module outside explorer.scale imports it, and the
    main job runs without loading it."""
    for path in modules():
        if module_name(path).startswith("explorer.scale"):
            continue
        tree = ast.parse(path.read_text(), str(path))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] == "ray"], path
    code = (
        "import sys\n"
        "from explorer.app.cli import main\n"
        "sys.argv = ['explore', '--mounts', '1', '--depth', '3', '-q', '--out', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'explorer')))"
    )
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run(
            [sys.executable, "-c", code, out], capture_output=True, text=True, check=True
        )
    loaded = r.stdout.splitlines()[-1]
    assert "explorer.app.job" in loaded  # the main job did run
    assert "'ray" not in loaded and "explorer.scale" not in loaded
