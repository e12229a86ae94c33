"""`explore browse`: the report's state browser served by the explorer, which asks the
model for what the page does not hold.

The page is index.html's (explorer.render.html.page) in server mode: when a path
reaches a state whose successors it lacks, it asks

    GET /api/expand?spec=NAME&path=3.0.12    the path's states, each with its successors
    GET /api/shortest?spec=NAME&state=ID     a shortest path to a state it holds

and merges the answer (a fragment in the page's own layout, explorer.render.html
.browser) into what it holds.  The server is the standard library's, bound to
127.0.0.1, one request at a time (a model is not shared between threads).  Shortest
paths come from a breadth-first search that goes as deep as it needs, up to --depth.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from explorer.bridge.model import ErrseqModel
from explorer.checker.results import Region
from explorer.domain.vfs import Spec
from explorer.domain.world import Bounds, State
from explorer.engine.contract import Model, Monitor
from explorer.render.html import browser, page


class BrowseError(ValueError):
    """A request the browser cannot answer: an unknown spec, a path that leaves the model."""


@dataclass
class Levels:
    """A breadth-first search from the initial state, kept between requests and taken
    one level deeper each time a state asked for is not found yet."""

    model: ErrseqModel
    parent: dict[State, tuple[State, Any, Any] | None] = field(default_factory=dict)
    frontier: list[State] = field(default_factory=list)
    depth: int = 0

    def __post_init__(self) -> None:
        init = next(iter(self.model.initial_states()))
        self.parent[init] = None
        self.frontier = [init]

    def find(self, state: State, limit: int) -> list[tuple[State, Any, Any, State]] | None:
        """A shortest path to `state` as (from, action, result, to) steps; None when it is
        not within `limit` events."""
        while state not in self.parent and self.frontier and self.depth < limit:
            nxt = []
            for s in self.frontier:
                for a, t, o in self.model.successors(s):
                    if t not in self.parent:
                        self.parent[t] = (s, a, o)
                        nxt.append(t)
            self.frontier, self.depth = nxt, self.depth + 1
        if state not in self.parent:
            return None
        steps = []
        while (p := self.parent[state]) is not None:
            steps.append((p[0], p[1], p[2], state))
            state = p[0]
        return steps[::-1]


def expand(part: Region, model: Model, state: State) -> list[tuple[Any, Any, State]]:
    """`state`'s successors in the model's order, kept in `part`."""
    succ = part.expanded.get(state)
    if succ is None:
        succ = part.expanded[state] = [(a, o, t) for a, t, o in model.successors(state)]
    return succ


class Browser:
    """The state of `explore browse`: per spec its model, the page's writer (state ids
    and interned values shared by every answer) and its shortest-path search."""

    def __init__(
        self,
        bounds: Bounds,
        options: tuple[int, ...],
        specs: list[Spec],
        monitors: Callable[[ErrseqModel], dict[str, Monitor]],
        depth: int,
        run: str,
    ) -> None:
        self.bounds, self.depth, self.run = bounds, depth, run
        self.templates, self.reasons = browser.Interned(), browser.Interned()
        self.reasons("")
        self.models: dict[str, ErrseqModel] = {}
        self.writers: dict[str, browser.Writer] = {}
        self.levels: dict[str, Levels] = {}
        for spec in specs:
            model = ErrseqModel(spec, bounds, options)
            mons = monitors(model)
            self.models[spec.name] = model
            self.writers[spec.name] = browser.Writer(
                bounds, spec, model, mons, self.templates, self.reasons
            )
            self.levels[spec.name] = Levels(model)

    def _writer(self, spec: str) -> browser.Writer:
        w = self.writers.get(spec)
        if w is None:
            raise BrowseError(f"no spec {spec!r} in this browser: {', '.join(self.writers)}")
        return w

    def _fragment(self, w: browser.Writer, part: Region) -> dict[str, Any]:
        out = w.json(part)
        out["templates"] = dict(enumerate(self.templates.items))
        out["reasons"] = dict(enumerate(self.reasons.items))
        return out

    def expand(self, spec: str, path: list[int]) -> dict[str, Any]:
        """Every state along `path` (successor indices from the initial state) with its
        successors."""
        w = self._writer(spec)
        part = Region()
        state = w.init
        for n, idx in enumerate(path, 1):
            succ = expand(part, w.model, state)
            if not 0 <= idx < len(succ):
                raise BrowseError(f"step {n} of the path: no successor {idx} ({len(succ)} here)")
            state = succ[idx][2]
        expand(part, w.model, state)
        return self._fragment(w, part)

    def shortest(self, spec: str, sid: int) -> dict[str, Any]:
        """A shortest path to state `sid` (an id the page was given), as parent pointers."""
        w = self._writer(spec)
        state = w.states[sid] if 0 <= sid < len(w.states) else None
        if state is None:
            raise BrowseError(f"no state {sid} was sent for {spec}")
        steps = self.levels[spec].find(state, self.depth)
        part = Region()
        if steps is None:
            raise BrowseError(f"state {sid} is not within {self.depth} events (--depth)")
        for s, a, o, t in steps:
            part.parent[t] = (s, a, o)
        return self._fragment(w, part)

    def page(self) -> str:
        """The browser's page: the initial state of every spec, expanded."""
        regions = {name: self.expand(name, []) for name in self.writers}
        for r in regions.values():
            r.pop("templates")
            r.pop("reasons")
        data = {
            "tool": "explore browse",
            "run": self.run,
            "exit": None,
            "server": True,
            "browser": regions,
            "fields": browser.field_table(self.bounds),
            "templates": self.templates.items,
            "reasons": self.reasons.items,
            "path_properties": sorted({p for w in self.writers.values() for p in w.monitors}),
        }
        return page.render(data, "errseq-explorer state browser")


def handler(b: Browser) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            url = urlparse(self.path)
            q = {k: v[-1] for k, v in parse_qs(url.query).items()}
            try:
                if url.path in ("/", "/index.html"):
                    self._send(200, "text/html; charset=utf-8", b.page().encode())
                    return
                if url.path == "/api/expand":
                    path = [int(x) for x in q.get("path", "").split(".") if x != ""]
                    body: Any = b.expand(q.get("spec", ""), path)
                elif url.path == "/api/shortest":
                    body = b.shortest(q.get("spec", ""), int(q.get("state", "-1")))
                else:
                    self._send(404, "text/plain", b"not found\n")
                    return
            except (BrowseError, ValueError) as exc:
                self._send(400, "application/json", json.dumps({"error": str(exc)}).encode())
                return
            self._send(200, "application/json", json.dumps(body).encode())

        def _send(self, code: int, kind: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return  # the terminal stays quiet: one line at start says where to look

    return Handler


def serve(b: Browser, port: int, ready=None) -> None:
    """Serve until Ctrl-C; `ready(url)` is told where once listening."""
    server = HTTPServer(("127.0.0.1", port), handler(b))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    if ready is not None:
        ready(url)
    else:
        print(f"explore browse: {url} (Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
