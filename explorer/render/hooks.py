"""`explore specs --show NAME`: a spec's hooks and the class and file each one runs.

A spec is a chain of classes (amir's is Amir, Mainline, V5_11, V5_10 and the base
Spec), and which method a hook runs is decided along it: the table says so for every
hook, marking with `*` those the spec's own class defines.
"""

from __future__ import annotations

import textwrap
from typing import Any

from explorer.domain.catalog import ResolvedHook, source_path, spec_classes
from explorer.domain.vfs import Spec


def hooks_text(spec: Spec, hooks: list[ResolvedHook], source: bool = False) -> str:
    """The table (and with `source`, each method's code under its line)."""
    chain = " < ".join(c.__name__ for c in spec_classes(spec))
    lines = [f"{spec.name}: {spec.summary}", f"classes: {chain}", ""]
    width = max(len(h.hook) for h in hooks) + 2
    owner = max(len(h.owner) for h in hooks)
    lines.append(f"  {'hook':<{width}}{'class':<{owner}}  defined at")
    for h in hooks:
        mark = "*" if h.own else " "
        lines.append(f"{mark} {h.hook:<{width}}{h.owner:<{owner}}  {h.path}:{h.line}")
        if source:
            lines.append(textwrap.indent(textwrap.dedent(h.source).rstrip(), "      "))
            lines.append("")
    lines.append("")
    lines.append(f"* defined by {spec_classes(spec)[0].__name__} itself")
    return "\n".join(lines).rstrip() + "\n"


def hooks_json(spec: Spec, hooks: list[ResolvedHook]) -> dict[str, Any]:
    return {
        "name": spec.name,
        "summary": spec.summary,
        "classes": [{"class": c.__name__, "file": source_path(c)} for c in spec_classes(spec)],
        "hooks": [
            {"hook": h.hook, "class": h.owner, "file": h.path, "line": h.line, "own": h.own}
            for h in hooks
        ],
    }
