"""Find a spec by name (the built-ins of specs/) or load one from a Python file.

A spec file defines one subclass of explorer.domain.vfs.Spec (or several, and names the one
to use in a module-level `SPEC`).  A user writes a new one by copying a built-in and
changing its hooks; it is loaded exactly like a built-in.  Whatever goes wrong while
loading it (an exception or sys.exit at import, a class that cannot be made, a name
that cannot be a folder of out/, a method named like a hook that is none) is a
SpecError naming the file.  `resolved_hooks` says where each of a spec's hooks comes
from, along its chain of classes (`explore specs --show NAME`).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from explorer.domain.errseq import Classic, Split
from explorer.domain.userfile import load_user_file, module_file, shown_path
from explorer.domain.vfs import HOOKS, RENAMED, Spec
from explorer.errors import InputError

# name -> "module:Class", in the order tables show them (plain first: the reference).
BUILTIN: dict[str, str] = {
    "plain": "specs.plain:Plain",
    "mainline": "specs.mainline:Mainline",
    "v5.11": "specs.v5_11:V5_11",
    "v5.10": "specs.v5_10:V5_10",
    "vivek-v2": "specs.vivek_v2:VivekV2",
    "vivek-v3": "specs.vivek_v3:VivekV3",
    "vivek-v3-seen": "specs.vivek_v3_seen:VivekV3Seen",
    "amir": "specs.amir:Amir",
    "jeff-split": "specs.jeff_split:JeffSplit",
}

#: Built-ins that only races tell apart from another spec (docs/model.md §8): loaded by
#: name always, among the defaults only when races are on.
RACES_BUILTIN: dict[str, str] = {
    "mainline-flock": "specs.mainline_flock:MainlineFlock",
}
_ALL = {**BUILTIN, **RACES_BUILTIN}

# The kernel each conformance run boots, and the spec that must predict it.
KERNEL_SPEC = {"6.1": "v5.11", "6.12": "mainline"}


class SpecError(InputError):
    """A spec name that is unknown or a spec file that does not load."""


def builtin_names(races: bool = False) -> list[str]:
    """The built-in specs a command runs by default; with races, mainline-flock too."""
    return [*BUILTIN, *RACES_BUILTIN] if races else list(BUILTIN)


def _from_module(module: ModuleType, where: str) -> type[Spec]:
    chosen = getattr(module, "SPEC", None)
    if chosen is not None:
        if not (isinstance(chosen, type) and issubclass(chosen, Spec)):
            raise SpecError(f"{where}: SPEC must be a subclass of explorer.domain.vfs.Spec")
        return chosen
    own = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, Spec) and v.__module__ == module.__name__
    ]
    if len(own) != 1:
        found = ", ".join(c.__name__ for c in own) or "none"
        raise SpecError(
            f"{where}: expected exactly one Spec subclass defined in the file (found {found}); "
            "name the one to use with SPEC = ClassName"
        )
    return own[0]


def _check_class(cls: type[Spec], where: str) -> None:
    """The class attributes the tool relies on: a name fit for a table column and an out/
    folder, a one-line summary, an errseq flavour."""
    name = cls.name
    if not isinstance(name, str) or name in ("", ".", ".."):
        raise SpecError(f"{where}: {cls.__name__}.name {name!r}: give the spec a name")
    if "/" in name or any(c.isspace() for c in name) or not name.isprintable():
        raise SpecError(
            f"{where}: {cls.__name__}.name {name!r}: a spec name has no '/', spaces "
            "or control characters"
        )
    if not isinstance(cls.summary, str) or not cls.summary.isprintable():
        raise SpecError(f"{where}: {cls.__name__}.summary must be one line of text")
    if cls.errseq not in (Classic, Split):
        raise SpecError(
            f"{where}: {cls.__name__}.errseq must be explorer.domain.errseq.Classic or Split"
        )


#: Method names that look like hooks: a spec's own method may not take one unless it is one.
HOOK_LIKE = re.compile(r"(ovl|vfs|sys)_")


def _check_hooks(cls: type[Spec]) -> None:
    """A method named like a hook that is none (an old name, a typo) would never be
    called, and the spec would follow the base rules there without a word: refused,
    naming its file and line and the hook it should be."""
    for klass in cls.__mro__:
        if klass is Spec or klass is object:
            continue
        for name, value in vars(klass).items():
            func = value.__func__ if isinstance(value, staticmethod | classmethod) else value
            if not inspect.isfunction(func) or not HOOK_LIKE.match(name) or name in HOOKS:
                continue
            code = func.__code__
            where = f"{shown_path(code.co_filename)}:{code.co_firstlineno}"
            if name in RENAMED:
                raise SpecError(
                    f"{where}: {klass.__name__}.{name} is the hook {RENAMED[name]} under its "
                    f"old name (syncfs(2) on an overlay fd): rename it to {RENAMED[name]}, "
                    "or it is never called"
                )
            near = difflib.get_close_matches(name, HOOKS, 1)
            hint = f"; did you mean {near[0]}?" if near else ""
            raise SpecError(
                f"{where}: {klass.__name__}.{name} is not a hook of explorer.domain.vfs.Spec, "
                f"so it would never be called{hint} (explore specs --show plain lists them)"
            )


#: The module names of spec files start so (explorer.scale ships them to workers).
PREFIX = "errseq_user_spec"


def load_spec(name_or_path: str) -> Spec:
    """A built-in spec by name, or the spec defined in a .py file."""
    if name_or_path in _ALL:
        module_name, cls_name = _ALL[name_or_path].split(":")
        cls = getattr(importlib.import_module(module_name), cls_name)
        _check_hooks(cls)
        return cls()
    path = Path(name_or_path)
    if path.suffix != ".py" and not path.exists():
        raise SpecError(
            f"unknown spec {name_or_path!r}: choose one of {', '.join(_ALL)} or give a .py path"
        )
    if not path.is_file():
        raise SpecError(f"{path}: no such spec file")

    def build(module: ModuleType) -> Spec:
        cls = _from_module(module, str(path))
        _check_class(cls, str(path))
        _check_hooks(cls)
        if cls.name in _ALL and _ALL[cls.name].split(":")[0] != cls.__module__:
            cls = type(cls.__name__, (cls,), {"name": f"{cls.name}@{path.stem}"})
        return cls()

    return load_user_file(path, PREFIX, SpecError, build)


def load_specs(names: list[str] | None, races: bool = False) -> list[Spec]:
    """The specs a command runs: every built-in by default (`builtin_names`).  Two with
    one name would share one column, one out/ folder and one cached exploration:
    refused."""
    names = names or builtin_names(races)
    specs = [load_spec(n) for n in names]
    given: dict[str, str] = {}
    for arg, spec in zip(names, specs, strict=True):
        if spec.name in given:
            same = f"{given[spec.name]} and {arg}" if given[spec.name] != arg else arg
            raise SpecError(f"two specs named {spec.name!r} ({same}): each spec once")
        given[spec.name] = arg
    return specs


# --- where a spec's hooks come from ------------------------------------------------------


@dataclass(frozen=True)
class ResolvedHook:
    """One hook of a spec: the class whose method it runs, and where that is."""

    hook: str
    owner: str  # the class that defines it
    path: str  # its file, as source_path names it
    line: int
    own: bool  # the spec's own class defines it (not a base)
    source: str  # the method's source


def source_path(cls: type) -> str:
    """A class's file: a built-in's by its place in the package (specs/amir.py,
    explorer/domain/vfs.py), a user's by its path from the working folder."""
    path = module_file(cls) or ""
    if cls.__module__.split(".")[0] in ("specs", "explorer"):
        return cls.__module__.replace(".", "/") + ".py"
    return shown_path(path)


def spec_classes(spec: Spec) -> list[type]:
    """The spec's chain of classes, its own first, down to Spec (the renaming subclass
    load_spec makes for a user's file that takes a built-in's name left out)."""
    return [c for c in type(spec).__mro__ if issubclass(c, Spec) and c.__module__ != __name__]


def resolved_hooks(spec: Spec) -> list[ResolvedHook]:
    """Every hook of HOOKS, resolved along the spec's classes as Python does."""
    classes = spec_classes(spec)
    out = []
    for hook in HOOKS:
        owner = next(c for c in classes if hook in vars(c))
        func = vars(owner)[hook]
        code = func.__code__
        out.append(
            ResolvedHook(
                hook,
                owner.__name__,
                source_path(owner),
                code.co_firstlineno,
                owner is classes[0],
                inspect.getsource(func),
            )
        )
    return out
