"""Everything out/index.html shows, as one JSON document the page embeds: the run, the
verdict matrix (each cell linked to its witness), the specs with their sources linked,
the witnesses (explorer.render.html.witness) and the state browser's regions
(explorer.render.html.browser).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer import __version__
from explorer.bridge.model import ErrseqModel
from explorer.checker.properties import checks
from explorer.checker.properties.monitors import MonitorProperty
from explorer.domain.vfs import Spec
from explorer.domain.world import EIO, ERRNO_NAMES, Bounds
from explorer.engine.contract import Monitor
from explorer.engine.limits import paused_gc
from explorer.render import mail, race_report
from explorer.render.html import browser
from explorer.render.html.witness import lanes_of, run_json, views_of
from explorer.render.report import witness_text

if TYPE_CHECKING:
    from explorer.checker.config import Config
    from explorer.checker.results import Outcome, SpecResult

SCHEMA = "errseq-explorer/html/1"
#: What the page says of a run with races, which it shows as text only.
RACES = "a run with races (docs/model.md §8): its calls' steps, as text"


def source_link(source: str) -> dict[str, str]:
    """A commit id as its git.kernel.org address, a Message-ID as its lore one."""
    if "@" in source:
        return {"text": source, "url": f"https://lore.kernel.org/r/{source}", "kind": "mail"}
    return {"text": source, "url": f"https://git.kernel.org/torvalds/c/{source}", "kind": "commit"}


def cell_status(text: str) -> str:
    if text.startswith("FAILS"):
        return "fails"
    if text.startswith(("holds to", "undecided")):
        return "undecided"
    return "holds" if text.startswith("holds") else "none"


def witness_id(spec: str, prop: str, who: str, n: int, files: list[str]) -> str:
    """The witness's name in the page and its permalink: its files' path without the
    suffix (`vivek-v3-seen/isolation`), so the page and out/ name it alike."""
    if files:
        return re.sub(r"\.[a-z]+$", "", files[0])
    return f"{spec}/{prop if not who or n == 1 else f'{prop}-{who}'}"


def inline_svg(path: Path) -> str:
    """A Graphviz picture for inlining: the <svg> element without prolog or comments."""
    try:
        text = path.read_text()
    except OSError:
        return ""
    start = text.find("<svg")
    return re.sub(r"<!--.*?-->", "", text[start:], flags=re.S) if start >= 0 else ""


def witnesses(
    outcome: Outcome,
    files: Mapping[tuple[str, str, str], list[str]],
    out_dir: Path | None,
    specs: Callable[[str], Spec],
) -> tuple[list[dict[str, Any]], dict[tuple[str, str], str]]:
    """Every violated verdict's witness as the page shows it, and the witness of each
    matrix cell."""
    cfg = outcome.config
    b = cfg.bounds
    out: list[dict[str, Any]] = []
    cells: dict[tuple[str, str], str] = {}
    for r in outcome.results:
        for prop, verdicts in r.verdicts.items():
            for v in verdicts:
                if v.holds and not v.witness:
                    continue
                who = report_viewer(b, v)
                mine = files.get((r.spec.name, prop, who), [])
                wid = witness_id(r.spec.name, prop, who, len(verdicts), mine)
                cells.setdefault((r.spec.name, prop), wid)
                pairs: list[dict[str, Any]] = []
                if race_report.is_race(v.witness):
                    # calls in steps: their lanes are threads, their text the notation
                    text = witness_text(b, v, cfg)
                    pairs.append({"title": RACES, "lanes": [], "runs": [], "mail": text})
                for title, views, text in [] if pairs else views_of(b, v, specs):
                    lanes = lanes_of(b, views)
                    pairs.append(
                        {
                            "title": title,
                            "lanes": [timeline_lane(b, x) for x in lanes],
                            "runs": [run_json(b, cfg.options, lanes, rv) for rv in views],
                            "mail": text,
                        }
                    )
                svg = [p for p in mine if p.endswith(".svg")]
                out.append(
                    {
                        "id": wid,
                        "spec": r.spec.name,
                        "property": prop,
                        "container": who,
                        "holds": v.holds,
                        "reason": v.reason,
                        "length": v.length,
                        "pairs": pairs,
                        "files": mine,
                        "svg": inline_svg(out_dir / svg[0]) if svg and out_dir else "",
                    }
                )
    return out, cells


def report_viewer(bounds: Bounds, v: Any) -> str:
    return bounds.owner_name(v.isolation.viewer) if v.isolation is not None else ""


def timeline_lane(bounds: Bounds, lane: int) -> str:
    from explorer.render.timeline import lane_name

    return lane_name(bounds, lane)


def path_monitors(cfg: Config, model: ErrseqModel) -> dict[str, Monitor]:
    """The run's properties that follow one run (every monitor-checked one: built-in or
    a user's), over `model`, by name."""
    return {p.name: p.monitor(model) for p in checks(cfg) if isinstance(p, MonitorProperty)}


def browsers(outcome: Outcome, specs: Callable[[str], Spec]) -> tuple[dict[str, Any], list, list]:
    """Each spec's state browser (explorer.render.html.browser) from the run's regions,
    with the templates and reasons they share."""
    cfg = outcome.config
    templates, reasons = browser.Interned(), browser.Interned()
    reasons("")
    out: dict[str, Any] = {}
    for name, region in outcome.regions.items():  # none with races (checker.region)
        spec = specs(name)
        model = ErrseqModel(spec, cfg.bounds, cfg.options)
        writer = browser.Writer(
            cfg.bounds, spec, model, path_monitors(cfg, model), templates, reasons
        )
        out[name] = writer.json(region)
    return out, templates.items, reasons.items


@paused_gc()
def report_data(
    outcome: Outcome,
    files: Mapping[tuple[str, str, str], list[str]],
    out_dir: Path | None = None,
    pictures: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """The page's data (the module's docstring); the witnesses' pictures are read from
    `out_dir` after `pictures` (which waits for them) returns."""
    from explorer.render.terminal import heading

    cfg = outcome.config
    specs = mail.specs_of(cfg)
    regions, templates, reasons = browsers(outcome, specs)  # while `dot` draws
    if pictures is not None:
        pictures()
    wits, cells = witnesses(outcome, files, out_dir, specs)
    against = cfg.against.name if cfg.against is not None else "-"
    return {
        "schema": SCHEMA,
        "tool": f"errseq-explorer {__version__}",
        "run": mail.run_line(outcome),
        "exit": outcome.exit_code(),
        "notes": outcome.notes,
        "browse": browse_command(cfg),
        "summary": mail.summary_text(outcome, files),
        "properties": [
            {"name": p, "head": browser_head(heading(p, against))} for p in cfg.properties
        ],
        "path_properties": [p.name for p in checks(cfg) if isinstance(p, MonitorProperty)],
        "specs": [spec_json(r, cfg.properties, cells) for r in outcome.results],
        "witnesses": wits,
        "fields": browser.field_table(cfg.bounds),
        "templates": templates,
        "reasons": reasons,
        "browser": regions,
    }


def spec_json(r: SpecResult, props: tuple[str, ...], cells: dict[tuple[str, str], str]) -> dict:
    """A row of the matrix: the spec, its sources, and each property's cell and witness."""
    from explorer.render.terminal import cell

    row: dict[str, Any] = {}
    for p in props:
        text = cell(r.verdicts.get(p, []))
        row[p] = {"text": text, "status": cell_status(text), "witness": cells.get((r.spec.name, p))}
    return {
        "name": r.spec.name,
        "summary": r.spec.summary,
        "flavour": r.spec.errseq.name,
        "sources": [source_link(s) for s in r.spec.sources],
        "states": r.states,
        "transitions": r.transitions,
        "cells": row,
    }


def browse_command(cfg: Any) -> str:
    """The `explore browse` command that serves this run's world, for the page to quote."""
    b = cfg.bounds
    words = ["explore browse", f"--mounts {b.mounts}", f"--depth {cfg.depth}"]
    if b.fds != 2:
        words.append(f"--fds {b.fds}")
    if b.host_fds != 1:
        words.append(f"--host-fds {b.host_fds}")
    kinds = [n for n, o in (("normal", 1), ("volatile", 2)) if o in cfg.options]
    if len(kinds) == 1:
        words.append(f"--mount-options {kinds[0]}")
    if b.errnos != (EIO,):
        words.append("--errnos " + ",".join(ERRNO_NAMES[e] for e in b.errnos))
    if cfg.counter_bits is not None:
        words.append(f"--counter-bits {cfg.counter_bits}")
    if b.host_any:
        words.append("--host-files any")
    return " ".join(words)


def browser_head(text: str) -> str:
    return text.replace("-\n", "-").replace("\n", " ")
