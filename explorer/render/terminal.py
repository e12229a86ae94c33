"""What the main job prints: the verdict matrix, coverage, and the most important witnesses."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from explorer.bridge.model import kind_rank
from explorer.checker.properties import PROPERTIES, get, owner
from explorer.checker.results import Outcome
from explorer.domain.world import ERRNO_NAMES
from explorer.engine.verdict import Verdict
from explorer.render.pair import CAPPED

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


def _table(title: str | None = None) -> Table:
    """A plain table (pastes into a mail) whose first column is the spec."""
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=title)
    t.add_column("spec", style="bold", no_wrap=True)
    return t


def cell(verdicts: list[Verdict]) -> str:
    """holds, or FAILS with the shortest witness's length (allowed isolation kinds: holds*);
    a verdict the memory guard kept below the run's depth: `holds to D` (undecided beyond
    D) or `undecided` (not decided at all)."""
    if not verdicts:
        return "-"
    bad = [v for v in verdicts if not v.holds]
    if not bad:
        open_ = [v.decided for v in verdicts if v.undecided]
        if open_:
            low = min(d for d in open_ if d is not None)
            return f"holds to {low}" if low else "undecided"
        allowed = any(g.allowed for v in verdicts if v.isolation for g in v.isolation.groups)
        return "holds*" if allowed else "holds"
    return f"FAILS {min(v.length for v in bad)}"


def interference(outcome: Outcome) -> Table | None:
    """The seed's question per spec: which kinds of outside events change what a container
    sees, with the length of the shortest witness of each (allowed kinds marked *)."""
    rows = []
    for r in outcome.results:
        verdicts = r.verdicts.get("isolation", [])
        if not verdicts:
            continue
        best: dict[str, tuple[int, bool]] = {}
        for v in verdicts:
            result = v.isolation
            if result is None:
                continue
            for g in result.groups:
                k = "+".join(g.kinds)
                n = max(sum(s.cost for s in g.witness), sum(s.cost for s in g.other))
                if k not in best or n < best[k][0]:
                    best[k] = (n, g.allowed)
            if result.general is not None:
                label = CAPPED if result.general.capped else "reordering"
                best.setdefault(label, (v.length, False))
        kinds = sorted(best, key=_kind_rank)
        b = outcome.config.bounds
        who = ", ".join(b.owner_name(v.isolation.viewer) for v in verdicts if v.isolation)
        text = ", ".join(f"{k}{'*' if best[k][1] else ''} ({best[k][0]})" for k in kinds)
        if not text:
            low = min(
                (v.decided for v in verdicts if v.undecided and v.decided is not None),
                default=None,
            )
            text = (
                "none: isolated within the bounds"
                if low is None
                else f"none up to depth {low}: undecided beyond"
                if low
                else "undecided: the memory guard stopped the check"
            )
        rows.append((r.spec.name, who, text))
    if not rows:
        return None
    t = _table("isolation: outside events that change what a container sees (shortest witness)")
    t.add_column("seen from")
    t.add_column("kinds of outside events")
    for row in rows:
        t.add_row(*row)
    return t


def _kind_rank(k: str) -> tuple[int, int, str]:
    """A table's order of kinds: single kinds before combinations, each by its first
    kind's importance (explorer.bridge.model.kind_rank), then by name."""
    return (k.count("+"), kind_rank(k.split("+")[0]), k)


def heading(prop: str, against: str) -> str:
    """A property's column heading (a user property's: its name)."""
    builtin = get(prop)
    return builtin.column.format(against=against) if builtin is not None else prop


def matrix(outcome: Outcome) -> Table:
    cfg = outcome.config
    props = list(cfg.properties)  # the built-ins in the registry's order, then the user's
    t = _table()
    against = cfg.against.name if cfg.against else "-"
    for p in props:
        t.add_column(heading(p, against))
    t.add_column("states", justify="right")
    for r in outcome.results:
        cells = []
        for p in props:
            c = cell(r.verdicts.get(p, []))
            if c.startswith("FAILS"):
                c = f"[red]{c}[/red]"
            elif c.startswith(("holds to", "undecided")):
                c = f"[yellow]{c}[/yellow]"
            cells.append(c)
        t.add_row(r.spec.name, *cells, str(r.states))
    return t


def coverage_table(outcome: Outcome) -> Table:
    """Did every kind of event fire, and how often did a call fail?  A property that holds
    only because nothing happened shows here (full counts are in report.json)."""
    t = _table("coverage: transitions whose call failed")
    errnos = [ERRNO_NAMES[e] for e in outcome.config.bounds.errnos]
    if "EIO" not in errnos:
        errnos.insert(0, "EIO")  # a mount is refused with EIO whatever the upper error
    what = "EIO" if errnos == ["EIO"] else "/".join(errnos)
    for verb in ("mount", "fsync", "syncfs"):
        t.add_column(f"{verb} {what}", justify="right")
    t.add_column("never fired")
    for r in outcome.results:
        c = r.coverage
        never = [v for v in COVERED if not c[v]]
        t.add_row(
            r.spec.name,
            *(
                "/".join(str(c[f"{v} {e}"]) for e in errnos) + f"/{c[v]}"
                for v in ("mount", "fsync", "syncfs")
            ),
            ", ".join(never) or "-",
        )
    return t


def base_prop(v: Verdict) -> str:
    """agreement-plain -> agreement: the property a verdict belongs to."""
    return owner(v.prop)


def _severity(v: Verdict) -> tuple:
    """Isolation: a mount changing what a container sees (the seed's objection) matters more
    than someone else's syncfs reporting the error (the errseq design)."""
    groups = [g for g in v.isolation.groups if not g.allowed] if v.isolation else []
    return min((_kind_rank("+".join(g.kinds)) for g in groups), default=(99, 0, ""))


def most_important(outcome: Outcome, n: int) -> list[Verdict]:
    """Up to n violations to show as timelines: isolation first, one per property, then more."""
    bad = sorted(
        outcome.failing(),
        key=lambda v: (IMPORTANCE.get(base_prop(v), len(IMPORTANCE)), _severity(v), v.length),
    )
    chosen: list[Verdict] = []
    for v in bad:
        if base_prop(v) not in {base_prop(c) for c in chosen}:
            chosen.append(v)
    chosen += [v for v in bad if v not in chosen]
    return chosen[:n]


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)
