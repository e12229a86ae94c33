"""An isolation witness as a reader wants it: run A, then run B = A minus some outside events.

Text (fits 72 columns for two containers, host and env): the two runs one above the
other as seed-style lane timelines.  In run A, `-` marks an outside event that run B
does not have; in both runs, `!` marks the call whose result differs.  fds keep run
A's names in run B (an fd removed from B leaves a gap: fd1, fd3), so the two runs
read line against line.  A pair that no removal explains (the general form, a
ReorderedPair) marks with `+` the outside events only run B has.

Picture: the two runs side by side, each an HTML table with a column per container
(lanes), the same columns and the tops level in both, removed or added events shaded
and the differing result in red.

The sentences are made here, from the typed result (explorer.engine.verdict) and the
scenario language's names: `sentence` for the timelines and pictures, `reason` for
report.json's one line.
"""

from __future__ import annotations

import errno
import html
import textwrap
from collections.abc import Sequence

import graphviz

from explorer.domain.scenario import Event as Line
from explorer.domain.scenario import format_run, result_name
from explorer.domain.world import ENVIRONMENT, Bounds
from explorer.engine.verdict import RemovalGroup, ReorderedPair, Step, Verdict
from explorer.render.dot import table_head
from explorer.render.timeline import lane_name, lane_text, lanes_of

WIDTH = 72
#: How a pair is labelled when the removal search stopped at its budget before sorting it.
CAPPED = "unsorted (search capped)"
GONE = "#e0e0e0"  # removed from B (or only in B)
DIFF = "#ffb0b0"  # the differing result

#: A pair of runs the isolation check reports: a removal group, or the general form.
Pair = RemovalGroup | ReorderedPair


def run_names(
    bounds: Bounds, witness: Sequence[Step], other: Sequence[Step], removed: Sequence[int] | None
) -> tuple[list[Line], list[Line]]:
    """Scenario lines of both runs; B borrows A's fd names when it is A minus `removed`."""
    a = format_run(bounds, [s.action for s in witness])
    if removed is not None:
        gone = set(removed)
        kept = [line for i, line in enumerate(a) if i not in gone]
        if len(kept) == len(other) and all(
            witness[i].action == st.action
            for i, st in zip((i for i in range(len(a)) if i not in gone), other, strict=True)
        ):
            return a, kept
    return a, format_run(bounds, [s.action for s in other])


def plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def events(n: int) -> str:
    return f"{n} {plural(n, 'event')}"


def _lane_width(n_lanes: int) -> int:
    return max(14, min(24, (WIDTH - 6) // n_lanes))


def run_text(
    bounds: Bounds,
    steps: Sequence[Step],
    names: Sequence[Line],
    marks: dict[int, str],
    lanes: list[int],
) -> list[str]:
    """One run as lanes; `marks` maps a step index to its one-character margin mark."""
    width = _lane_width(len(lanes))
    out = ["      " + "".join(f"{lane_name(bounds, x):<{width}}" for x in lanes).rstrip()]
    out.append("      " + "-" * min(WIDTH - 6, width * len(lanes) - 2))
    for i, (st, line) in enumerate(zip(steps, names, strict=True)):
        actor = bounds.actor(st.action)
        col = lanes.index(actor) if actor in lanes else len(lanes) - 1
        text = lane_text(str(line), st.action.verb, st.obs, actor == ENVIRONMENT)
        out.append(f"{i + 1:>3}{marks.get(i, ' ')}  " + " " * (width * col) + text)
    return [row.rstrip() for row in out]


def scenario_lines(steps: Sequence[Step], names: Sequence[Line]) -> list[str]:
    """The run in the scenario language (for `explore replay`), with its results."""
    out = []
    for st, line in zip(steps, names, strict=True):
        res = result_name(st.obs)
        shown = st.action.verb in ("mount", "fsync", "syncfs") and res is not None
        out.append(f"{line}" + (f" = {res}" if shown else ""))
    return out


def _call(names: Sequence[Line], i: int) -> str:
    """The viewer's call at step i: "fd2's syncfs", "ovl1's volatile mount"."""
    line = names[i]
    if line.verb == "mount" and line.volatile:
        return f"{line.target}'s volatile mount"
    if line.fd:
        return f"{line.fd}'s {line.verb}"
    return f"{line.target}'s {line.verb}"


def _outside_name(line: Line, bounds: Bounds, step: Step) -> str:
    who = bounds.owner_name(bounds.actor(step.action)) if step.action.verb != "sync" else "host"
    if line.verb == "mount" and line.volatile:
        return f"{who}'s volatile mount"
    if line.fd:
        return f"{who}'s {line.verb} {line.fd}"
    return f"{who}'s {line.verb}"


def sentence(bounds: Bounds, pair: Pair) -> str:
    """ "remove ovl2's mount and fd2's syncfs returns EIO instead of 0", with run A's names."""
    w, o = pair.witness, pair.other
    removed = pair.removed
    general = isinstance(pair, ReorderedPair)
    a, b = run_names(bounds, w, o, None if general else removed)
    ra, rb = result_name(w[-1].obs), result_name(o[-1].obs)
    call = _call(a, len(w) - 1)
    if isinstance(pair, ReorderedPair):
        only_a = ", ".join(_outside_name(a[i], bounds, w[i]) for i in removed) or "nothing"
        only_b = ", ".join(_outside_name(b[i], bounds, o[i]) for i in pair.added) or "nothing"
        why = "no removal found within the budget" if pair.capped else "no removal explains it"
        return (
            f"{why}: with {only_a} (run A) instead of {only_b} (run B), "
            f"{call} returns {ra} in A and {rb} in B"
        )
    what = ", ".join(_outside_name(a[i], bounds, w[i]) for i in removed)
    return f"remove {what} and {call} returns {rb} instead of {ra}"


def _errno_name(obs: object) -> str:
    """0 -> "0", -5 -> "EIO", by the OS's errno names (report.json's reason)."""
    if isinstance(obs, int) and obs < 0:
        return errno.errorcode.get(-obs, str(obs))
    return str(obs)


def _whose_kind(bounds: Bounds, step: Step) -> str:
    """ "ovl2's mount": who did an outside action, and its kind."""
    return f"{lane_name(bounds, bounds.actor(step.action))}'s {step.action.verb}"


def reason(bounds: Bounds, v: Verdict) -> str:
    """The verdict's shown pair in one line, report.json's `reason` ("" when isolation
    holds with nothing to show)."""
    result = v.isolation
    if result is None or result.shown is None:
        return ""
    return pair_reason(bounds, result.shown, result.removal_complete)


def pair_reason(bounds: Bounds, pair: Pair, removal_complete: int) -> str:
    """A pair in one line: "remove ovl2's mount and fd2's syncfs returns EIO instead of
    0" (the removed actions by actor and kind, without fd names), or for the general
    form "runs that differ in syncfs (not a removal) give ovl1's mount 0 and EIO"."""
    w, o = pair.witness, pair.other
    if isinstance(pair, ReorderedPair):
        how = (
            f"no removal of up to {removal_complete} events found: search capped"
            if pair.capped
            else "not a removal"
        )
        return (
            f"runs that differ in {', '.join(pair.kinds) or 'outside events'} ({how}) give "
            f"{_whose_kind(bounds, w[-1])} {_errno_name(w[-1].obs)} and {_errno_name(o[-1].obs)}"
        )
    what = ", ".join(_whose_kind(bounds, w[i]) for i in pair.removed) or "nothing"
    call = _call(format_run(bounds, [s.action for s in w]), len(w) - 1)
    result_a, result_b = _errno_name(w[-1].obs), _errno_name(o[-1].obs)
    return f"remove {what} and {call} returns {result_b} instead of {result_a}"


def viewer_name(bounds: Bounds, v: Verdict) -> str:
    """The container an isolation verdict is about ("ovl1")."""
    return bounds.owner_name(v.isolation.viewer) if v.isolation is not None else "ovl1"


def _unpack(bounds: Bounds, pair: Pair) -> tuple:
    """What both renderings of a pair need: the runs, removed/added steps, their names,
    the lanes and where the results differ."""
    w, o = pair.witness, pair.other
    removed = list(pair.removed)
    general = isinstance(pair, ReorderedPair)
    added = list(pair.added) if isinstance(pair, ReorderedPair) else []
    a, b = run_names(bounds, w, o, None if general else removed)
    ia, ib = pair.differs_at
    return w, o, removed, added, a, b, lanes_of(bounds, [w, o]), ia, ib


def pair_block(bounds: Bounds, pair: Pair, container: str) -> str:
    """Both runs of one pair (a group or the general form), with the legend."""
    w, o, removed, added, a, b, lanes, ia, ib = _unpack(bounds, pair)
    general = isinstance(pair, ReorderedPair)
    marks_a = {i: "-" for i in removed} | {ia: "!"}
    marks_b = {i: "+" for i in added} | {ib: "!"}
    lines = [f"Run A ({events(len(w))}):"]
    lines += run_text(bounds, w, a, marks_a, lanes)
    if general:
        lines.append(f"Run B ({events(len(o))}), the same {container}-view:")
    else:
        lines.append(f"Run B ({events(len(o))}): run A without the events marked -")
    lines += run_text(bounds, o, b, marks_b, lanes)
    legend = []
    if removed:
        legend.append(f"  -  only in run A: outside {container}, which cannot see it")
    if added:
        legend.append(f"  +  only in run B: outside {container}, which cannot see it")
    legend.append(
        f"  !  the same call after the same {container}-view: "
        f"{result_name(w[ia].obs)} in A, {result_name(o[ib].obs)} in B"
    )
    return "\n".join(lines + legend) + "\n"


def pair_text(bounds: Bounds, v: Verdict) -> str:
    """The whole isolation report of one verdict: the shown pair, every group, scenarios."""
    name = viewer_name(bounds, v)
    groups = v.isolation.groups if v.isolation is not None else []
    general = v.isolation.general if v.isolation is not None else None
    status = "holds" if v.holds else "violated"
    out = _wrap(f"{v.model}: isolation of {name} {status}")
    shown = _shown(v)
    if shown is None:
        out.append(f"no two runs with the same {name}-view differ in a result")
        return "\n".join(out) + "\n"
    out += _wrap(sentence(bounds, shown) + (" (allowed)" if shown.allowed else ""))
    out.append("")
    out.append(pair_block(bounds, shown, name))
    rest = [g for g in groups if g != shown]
    if rest or (general is not None and general != shown):
        out.append(f"Other outside events that change what {name} sees:")
        for g in rest:
            tag = " (allowed)" if g.allowed else ""
            out += _wrap(
                f"{'+'.join(g.kinds)}{tag}, {events(sum(s.cost for s in g.witness))}: {sentence(bounds, g)}",
                "  ",
            )
        if general is not None and general != shown:
            what = CAPPED if general.capped else "not a removal"
            out += _wrap(
                f"{what}, {events(sum(s.cost for s in general.witness))}: {sentence(bounds, general)}",
                "  ",
            )
        out.append("")
    a, b = run_names(bounds, shown.witness, shown.other, shown.removed)
    out.append(f"Run A as a scenario (explore replay FILE --spec {v.model}):")
    out += ["    " + s for s in scenario_lines(shown.witness, a)]
    out.append("Run B:")
    out += ["    " + s for s in scenario_lines(shown.other, b)]
    return "\n".join(out) + "\n"


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "    ")


def _shown(v: Verdict) -> Pair | None:
    """The pair whose runs are the verdict's witness and other."""
    return v.isolation.shown if v.isolation is not None else None


#: Points per character that bound the width of a lane's text in 11-point Helvetica, bold
#: included (its widest letter in a lane's words, m, is 0.89 em; they average 0.55 em),
#: with room for a wider stand-in such as DejaVu Sans.
CHAR_POINTS = 7.7
CELL_PAD = 10  # CELLPADDING on both sides and the border


def _column_widths(
    bounds: Bounds,
    runs: Sequence[tuple[Sequence[Step], Sequence[Line]]],
    lanes: list[int],
    titles: Sequence[str],
) -> list[int]:
    """Least widths (points) of the # column and each lane, enough for every cell of
    both runs and for each run's title: both runs get the same columns, and no text
    wider than its columns makes graphviz widen them on one side only."""
    chars = [len(str(max(len(steps) for steps, _ in runs)))] + [
        len(lane_name(bounds, x)) for x in lanes
    ]
    for steps, names in runs:
        for st, line in zip(steps, names, strict=True):
            actor = bounds.actor(st.action)
            if actor in lanes:
                col = lanes.index(actor) + 1
                text = lane_text(str(line), st.action.verb, st.obs, actor < 0)
                chars[col] = max(chars[col], len(text))
    widths = [round(n * CHAR_POINTS) + CELL_PAD for n in chars]
    title = max(round(len(t) * CHAR_POINTS) + CELL_PAD for t in titles)
    widths[-1] += max(0, title - sum(widths))
    return widths


def _cells(
    bounds: Bounds,
    steps: Sequence[Step],
    names: Sequence[Line],
    lanes: list[int],
    shaded: set[int],
    differs: int,
    i: int,
) -> str:
    """Step i of a run as table cells: its number, then a cell per lane."""
    if i >= len(steps):  # the other run is longer: blank, borderless
        return '<TD BORDER="0"></TD>' * (len(lanes) + 1)
    st, line = steps[i], names[i]
    actor = bounds.actor(st.action)
    cells = [f"<TD>{i + 1}</TD>"]
    for lane in lanes:
        if lane != actor:
            cells.append("<TD></TD>")
            continue
        text = html.escape(lane_text(str(line), st.action.verb, st.obs, lane < 0))
        if i == differs:
            cells.append(f'<TD ALIGN="LEFT" BGCOLOR="{DIFF}"><B>{text}</B></TD>')
        elif i in shaded:
            cells.append(f'<TD ALIGN="LEFT" BGCOLOR="{GONE}"><S>{text}</S></TD>')
        else:
            cells.append(f'<TD ALIGN="LEFT">{text}</TD>')
    return "".join(cells)


def pair_graph(bounds: Bounds, pair: Pair, title: str) -> graphviz.Digraph:
    """The pair as a picture: run A and run B side by side, lanes per container.

    One HTML table holds both runs, so that step k of A and step k of B are on one row;
    each lane is as wide in both (two graphviz nodes would be laid out apart: B centred
    on A and its columns sized by its own text)."""
    w, o, removed, added, a, b, lanes, ia, ib = _unpack(bounds, pair)
    general = isinstance(pair, ReorderedPair)
    head_a, head_b = f"run A ({events(len(w))})", f"run B ({events(len(o))})"
    if general:
        middle = "same view, other order"
    else:
        middle = f"remove {len(removed)} outside {plural(len(removed), 'event')} (shaded)"
    widths = _column_widths(bounds, [(w, a), (o, b)], lanes, [head_a, head_b])
    n = max(len(w), len(o))
    span = len(lanes) + 1
    head = table_head(bounds, lanes, "", widths)[0]
    rows = [
        f'<TR><TD COLSPAN="{span}" BORDER="0" ALIGN="LEFT"><B>{html.escape(head_a)}</B></TD>'
        f'<TD ROWSPAN="{n + 2}" BORDER="0" CELLPADDING="12">'
        f'<FONT POINT-SIZE="10">{html.escape(middle)}</FONT><BR/>&#8594;</TD>'
        f'<TD COLSPAN="{span}" BORDER="0" ALIGN="LEFT"><B>{html.escape(head_b)}</B></TD></TR>',
        head.replace("</TR>", "") + head.replace("<TR>", ""),
    ]
    for i in range(n):
        rows.append(
            "<TR>"
            + _cells(bounds, w, a, lanes, set(removed), ia, i)
            + _cells(bounds, o, b, lanes, set(added), ib, i)
            + "</TR>"
        )
    label = (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
        + "".join(rows)
        + "</TABLE>>"
    )
    g = graphviz.Digraph("isolation", graph_attr={"fontname": "Helvetica", "label": title})
    g.attr("node", shape="plaintext", fontname="Helvetica", fontsize="11")
    g.node("pair", label=label)
    return g


def pair_dot(bounds: Bounds, v: Verdict) -> graphviz.Digraph:
    """The picture of the verdict's shown pair (what the report writes as .dot/.svg)."""
    shown = _shown(v)
    if shown is None:
        g = graphviz.Digraph("isolation")
        name = viewer_name(bounds, v)
        g.node("holds", f"{v.model}: isolation of {name} holds", shape="plaintext")
        return g
    return pair_graph(bounds, shown, f"{v.model}: {sentence(bounds, shown)}")
