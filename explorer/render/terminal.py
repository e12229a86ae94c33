"""What the main job prints: the verdict matrix, coverage, and the most important witnesses."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from explorer.check import PROPERTIES, Outcome
from explorer.properties.verdict import Verdict

SHORT = {
    "isolation": "isolation",
    "open-before-syncfs": "open-before\nsyncfs",
    "open-before-fsync": "open-before\nfsync",
    "no-loss": "no-loss",
    "agreement": "agrees with\n{against}",
}
COVERED = (
    "mount",
    "umount",
    "open",
    "write",
    "fsync",
    "syncfs",
    "close",
    "wberror",
    "evict",
    "sync",
)
# The order in which violations matter (isolation first: the seed's question).
IMPORTANCE = {p: i for i, p in enumerate(PROPERTIES)}
KIND_ORDER = ("mount", "umount", "open", "close", "write", "fsync", "syncfs", "sync")


def cell(verdicts: list[Verdict]) -> str:
    if not verdicts:
        return "-"
    bad = [v for v in verdicts if not v.holds]
    if not bad:
        allowed = [g for v in verdicts for g in v.extra.get("groups", []) if g.get("allowed")]
        return "holds" + (
            " (allowed: " + ",".join(sorted({k for g in allowed for k in g["kinds"]})) + ")"
            if allowed
            else ""
        )
    v = min(bad, key=lambda x: x.length)
    kinds = ""
    if v.prop == "isolation":
        groups = [g for x in bad for g in x.extra.get("groups", []) if not g.get("allowed")]
        names = sorted({"+".join(g["kinds"]) for g in groups}, key=_kind_rank)
        kinds = " " + ",".join(names) if names else ""
    return f"FAILS {v.length}{kinds}"


def _kind_rank(k: str) -> tuple[int, str]:
    first = k.split("+")[0]
    return (k.count("+"), str(KIND_ORDER.index(first) if first in KIND_ORDER else 99) + k)


def matrix(outcome: Outcome) -> Table:
    cfg = outcome.config
    props = [p for p in PROPERTIES if p in cfg.properties]
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=None)
    t.add_column("spec", style="bold")
    for p in props:
        t.add_column(SHORT[p].format(against=cfg.against.name if cfg.against else "-"))
    t.add_column("states", justify="right")
    t.add_column("trans.", justify="right")
    for r in outcome.results:
        cells = []
        for p in props:
            c = cell(r.verdicts.get(p, []))
            cells.append(f"[red]{c}[/red]" if c.startswith("FAILS") else c)
        t.add_row(r.spec.name, *cells, str(r.states), str(r.transitions))
    return t


def coverage_table(outcome: Outcome) -> Table:
    """Did every kind of event fire, and how often did a call fail?  A property that holds
    only because nothing happened shows here (full counts are in report.json)."""
    t = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title="coverage: transitions whose call failed",
    )
    t.add_column("spec", style="bold")
    for verb in ("mount", "fsync", "syncfs"):
        t.add_column(f"{verb} EIO", justify="right")
    t.add_column("never fired")
    for r in outcome.results:
        c = r.coverage
        never = [v for v in COVERED if not c[v]]
        t.add_row(
            r.spec.name,
            *(f"{c[v + ' EIO']}/{c[v]}" for v in ("mount", "fsync", "syncfs")),
            ", ".join(never) or "-",
        )
    return t


def base_prop(v: Verdict) -> str:
    """agreement-plain -> agreement: the property a verdict belongs to."""
    return "agreement" if v.prop.startswith("agreement") else v.prop


def most_important(outcome: Outcome, n: int) -> list[Verdict]:
    """Up to n violations to show as timelines: isolation first, one per property, then more."""
    bad = sorted(outcome.failing(), key=lambda v: (IMPORTANCE[base_prop(v)], v.length))
    chosen: list[Verdict] = []
    for v in bad:
        if base_prop(v) not in {base_prop(c) for c in chosen}:
            chosen.append(v)
    chosen += [v for v in bad if v not in chosen]
    return chosen[:n]


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)
