"""A user's .py file (a spec, a property): loaded as a module, and located when it fails.

Spec files (explorer.domain.catalog) and property files (explorer.bridge.user_property)
are the user's code, run inside the tool.  Both load the same way (one registered
module per file, under a name that starts with the loader's prefix, so that the Ray
workers can find them) and both report a failure the same way: one line naming the
file and the line of it where things went wrong, never a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import CodeType, ModuleType
from typing import TypeVar

from explorer.errors import InputError

T = TypeVar("T")


class StepSignal(BaseException):
    """How a call running in steps stops inside a spec's hook (explorer.domain.steps):
    it passes through the hook's code as Ctrl-C does, never as the hook's error."""


#: Raised through a user's code untouched: Ctrl-C, a generator being closed, a call
#: stopping between its steps.
PASS_THROUGH = (KeyboardInterrupt, GeneratorExit, StepSignal)


def shown_path(path: str) -> str:
    """A file as the user would name it: relative to the working directory when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def exception_text(exc: BaseException) -> str:
    """What a user's code raised, for a one-line message: its type and its message."""
    try:
        text = str(exc)
    except Exception:  # a user's exception whose __str__ fails
        text = "(a message that cannot be printed)"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def module_file(cls: type) -> str | None:
    """The file of the module that defines `cls` (None: a built-in, or made at run time)."""
    return getattr(sys.modules.get(cls.__module__), "__file__", None)


def _by_real_path(paths: Iterable[str]) -> dict[str, str]:
    return {os.path.realpath(p): p for p in paths}


def _deepest(exc: BaseException | None, files: dict[str, str]) -> tuple[str, int] | None:
    """(file, line) of the deepest frame of `exc`'s traceback in one of `files`."""
    found = None
    tb = exc.__traceback__ if exc is not None else None
    while tb is not None:
        shown = files.get(os.path.realpath(tb.tb_frame.f_code.co_filename))
        if shown is not None:
            found = (shown, tb.tb_lineno)
        tb = tb.tb_next
    return found


def location(exc: BaseException | None, paths: Iterable[str], definition: object = None) -> str:
    """file:line where the user's code in `paths` went wrong: the deepest frame of `exc`'s
    traceback in one of them; without one, the first line of the function `definition`
    if one of them has it, else the first of them ("" with none)."""
    files = _by_real_path(paths)
    found = _deepest(exc, files)
    if found is not None:
        return f"{shown_path(found[0])}:{found[1]}"
    code = getattr(definition, "__code__", None)
    if isinstance(code, CodeType):
        shown = files.get(os.path.realpath(code.co_filename))
        if shown is not None:
            return f"{shown_path(shown)}:{code.co_firstlineno}"
    return shown_path(next(iter(files.values()))) if files else ""


def error_line(exc: BaseException, path: Path) -> str:
    """ ", line N" of the deepest frame of `exc`'s traceback in the user's file `path`."""
    found = _deepest(exc, _by_real_path([str(path)]))
    return f", line {found[1]}" if found is not None else ""


def user_module_name(path: Path, prefix: str) -> str:
    """The module name a user's .py file is loaded under: one per file, whatever the
    path it was given by."""
    return f"{prefix}_{abs(hash(str(path.resolve())))}"


def load_user_file(
    path: Path, prefix: str, error: type[InputError], build: Callable[[ModuleType], T]
) -> T:
    """Run the user's .py file `path` as a new module, registered under its
    `user_module_name`, and return what `build` makes of it.  Whatever the file or
    `build` raises (SystemExit included) is `error` naming the file and its line; a
    file that fails is unregistered.  Ctrl-C and `error` itself pass through."""
    name = user_module_name(path, prefix)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise error(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        return build(module)
    except (*PASS_THROUGH, error):
        sys.modules.pop(name, None)
        raise
    except BaseException as exc:  # whatever the file does at load is one clear line
        sys.modules.pop(name, None)
        raise error(f"{path}{error_line(exc, path)}: {exception_text(exc)}") from None
