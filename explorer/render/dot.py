"""Pictures: a witness as lanes (one column per container), and the state graph.

Built with the graphviz package; `save` writes the .dot and, when Debian's `dot`
binary is installed, the .svg next to it.  Without `dot`, the caller says how to
render (`dot -Tsvg file.dot -o file.svg`).
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import graphviz

from explorer.domain.scenario import format_run
from explorer.domain.world import Bounds
from explorer.engine.verdict import Step
from explorer.render.timeline import lane_name, lane_text, lanes_of

if TYPE_CHECKING:
    import networkx as nx

MARK = "#ffd0d0"
HEAD = "#e8e8f0"


def have_dot() -> bool:
    return shutil.which("dot") is not None


def table_head(
    bounds: Bounds, lanes: list[int], title: str, widths: list[int] | None = None
) -> list[str]:
    """The first rows of a lanes table: its title (if any) and one header cell per lane.

    `widths` (points, the # column first) sets each column's least width, so that two
    tables side by side get the same columns."""
    w = [f' WIDTH="{x}"' for x in widths] if widths else [""] * (len(lanes) + 1)
    rows = (
        [f'<TR><TD COLSPAN="{len(lanes) + 1}" BORDER="0"><B>{html.escape(title)}</B></TD></TR>']
        if title
        else []
    )
    return rows + [
        f'<TR><TD BGCOLOR="{HEAD}"{w[0]}>#</TD>'
        + "".join(
            f'<TD BGCOLOR="{HEAD}"{wx}><B>{lane_name(bounds, x)}</B></TD>'
            for x, wx in zip(lanes, w[1:], strict=True)
        )
        + "</TR>",
    ]


def lanes_table(
    bounds: Bounds, steps: Sequence[Step], marks: dict[int, str], lanes: list[int], title: str
) -> str:
    """An HTML-like graphviz table: a row per step, a column per lane, marked cells red."""
    rows = table_head(bounds, lanes, title)
    named = format_run(bounds, [st.action for st in steps])
    for i, (st, ev) in enumerate(zip(steps, named, strict=True)):
        actor = bounds.actor(st.action)
        cells = []
        for lane in lanes:
            if lane == actor:
                text = html.escape(lane_text(str(ev), st.action.verb, st.obs, lane < 0))
                color = f' BGCOLOR="{MARK}"' if i in marks else ""
                cells.append(f'<TD ALIGN="LEFT"{color}>{text}</TD>')
            else:
                cells.append("<TD></TD>")
        rows.append(f"<TR><TD>{i + 1}</TD>{''.join(cells)}</TR>")
    for i, note in sorted(marks.items()):
        rows.append(
            f'<TR><TD COLSPAN="{len(lanes) + 1}" BORDER="0" ALIGN="LEFT">'
            f"step {i + 1}: {html.escape(note)}</TD></TR>"
        )
    return (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
        + "".join(rows)
        + "</TABLE>>"
    )


def witness_dot(
    bounds: Bounds, steps: Sequence[Step], marks: dict[int, str], title: str
) -> graphviz.Digraph:
    """One run as lanes: what a mailing-list reader or LWN wants to see."""
    g = graphviz.Digraph("witness", graph_attr={"fontname": "Helvetica"})
    g.attr("node", shape="plaintext", fontname="Helvetica", fontsize="11")
    g.node("timeline", label=lanes_table(bounds, steps, marks, lanes_of(bounds, [steps]), title))
    return g


def state_graph_dot(g: nx.DiGraph, highlight: Sequence[int] = ()) -> graphviz.Digraph:
    """The (whole or partial) state graph; `highlight` is a path of state ids."""
    on_path = set(zip(highlight, highlight[1:], strict=False))
    d = graphviz.Digraph("states", graph_attr={"rankdir": "LR", "fontname": "Helvetica"})
    d.attr("node", shape="box", fontname="Helvetica", fontsize="9")
    d.attr("edge", fontname="Helvetica", fontsize="8")
    for n, data in g.nodes(data=True):
        d.node(
            str(n),
            f"s{n} (depth {data.get('depth', '?')})\n{data.get('label', '')}",
            color="red" if n in highlight else "black",
        )
    for u, v, data in g.edges(data=True):
        d.edge(
            str(u),
            str(v),
            "\n".join(data.get("labels", [])),
            color="red" if (u, v) in on_path else "gray40",
        )
    return d


def save(graph: graphviz.Digraph, path: Path, svgs: list[Path] | None = None) -> list[Path]:
    """Write `path` (.dot) and, with the dot binary, the .svg next to it; return both.

    With `svgs`, the .svg is only queued there and `render_svgs` draws the queue later
    in one `dot` process (a process per picture was most of the main job's output time).
    """
    path.write_text(graph.source)
    if not have_dot():
        return [path]
    svg = path.with_suffix(".svg")
    if svgs is None:
        _render(path)
    else:
        svgs.append(path)
    return [path, svg]


def _render(path: Path) -> None:
    path.with_suffix(".svg").write_bytes(graphviz.Source(path.read_text()).pipe(format="svg"))


class Drawing:
    """Queued .dot files being rendered to .svg by one `dot` process for all of them,
    while the caller goes on with other work; `wait` puts the pictures in place.

    `dot -Tsvg -O a.dot b.dot` writes a.dot.svg and b.dot.svg; starting one process
    per picture cost ten times more than drawing (measured: docs/performance.md).
    """

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.args = ["dot", "-Tsvg", "-O", *map(str, paths)]
        self.proc = subprocess.Popen(self.args) if paths else None

    def wait(self) -> None:
        """Wait for `dot` (once; later calls return at once) and move each picture to
        its .svg name; a `dot` that failed raises CalledProcessError."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.wait() != 0:
            raise subprocess.CalledProcessError(proc.returncode, self.args)
        for path in self.paths:
            path.with_suffix(".dot.svg").replace(path.with_suffix(".svg"))

    def stop(self) -> None:
        """Kill `dot` if it still runs (an error on the way: nothing left writing)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait()


def render_svgs(paths: list[Path]) -> None:
    """Render queued .dot files to .svg with one `dot` process, and wait for it."""
    Drawing(paths).wait()
