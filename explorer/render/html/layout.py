"""The page's HTML around its data: the header and tabs, the verdict matrix, the
witness list, the claims' tables, the mail text, then the data itself as JSON and
the script that draws the rest (static/report.js).

Written in Python rather than a template language: the page is small and fixed, and
a template engine's import and compilation cost more than the rest of the page
(docs/performance.md).  Every value from the data is escaped (`esc`) or quoted for a
URL (`url`); only `Safe` strings (the stylesheet, the script, the JSON) go in as
they are.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


class Safe(str):
    """Markup to put in the page as it is."""


def esc(value: Any) -> str:
    """`value` as HTML text (and attribute value): & < > ' \" as entities."""
    if isinstance(value, Safe):
        return value
    return (
        str(value)
        .replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def url(value: Any) -> str:
    """`value` for a link's fragment: percent-encoded but for '/'."""
    return esc(quote(str(value), safe="/"))


def page(
    title: str, data: dict[str, Any], generator: Safe, css: Safe, js: Safe, data_json: Safe
) -> str:
    """The whole page; the same bytes for the same data."""
    run_line = f"{esc(data.get('tool', ''))}: {esc(data.get('run', ''))}"
    if data.get("exit", "") is not None:
        run_line += f" &middot; exit {esc(data.get('exit', ''))}"
    out = [
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{generator}\n<title>{esc(title)}</title>\n<style>{css}</style>\n</head>\n"
        f'<body>\n<header>\n  <h1>{esc(title)}</h1>\n  <p class="run">{run_line}</p>\n'
        '  <nav id="tabs">\n',
        tabs(data),
        "  </nav>\n</header>\n<main>\n",
    ]
    if data.get("specs"):
        out.append(matrix(data))
    if data.get("witnesses"):
        out.append(witness_list(data["witnesses"]))
    if data.get("claims"):
        out.append(claims_section(data))
    out.append('<section id="v-browse" class="view" hidden><div id="browse"></div></section>\n')
    if data.get("summary"):
        out.append(
            '<section id="v-mail" class="view" hidden>\n  <p><button type="button" '
            'class="copy" data-copy="summary-text">Copy</button> out/summary.txt: 72 '
            "columns, plain text.</p>\n"
            f'  <pre id="summary-text">{esc(data["summary"])}</pre>\n</section>\n'
        )
    out.append(
        f'</main>\n<script type="application/json" id="data">{data_json}</script>\n'
        f"<script>{js}</script>\n</body>\n</html>"
    )
    return "".join(out)


def tabs(data: dict[str, Any]) -> str:
    shown = [
        (data.get("specs"), "matrix", "Verdicts"),
        (data.get("claims"), "claims", "Claims"),
        (data.get("witnesses"), "witness", "Witnesses"),
        (data.get("browser") or data.get("server"), "browse", "State browser"),
        (data.get("summary"), "mail", "Text for mail"),
    ]
    return "".join(
        f'<a href="#t={tab}" data-tab="{tab}">{text}</a>' for there, tab, text in shown if there
    )


def matrix(data: dict[str, Any]) -> str:
    """The verdicts tab: the matrix, each spec's sources, the run's notes."""
    props = data["properties"]
    out = [
        '<section id="v-matrix" class="view">\n  <table class="matrix">\n'
        "    <thead><tr><th>spec</th>",
        *(f"<th>{esc(p['head'])}</th>" for p in props),
        '<th class="num">states</th></tr></thead>\n    <tbody>\n',
    ]
    for s in data["specs"]:
        out.append(
            f'      <tr><th><a href="#s={url(s["name"])}" class="spec">{esc(s["name"])}</a></th>\n'
        )
        for p in props:
            c = s["cells"][p["name"]]
            text = esc(c["text"])
            if c["witness"]:
                text = f'<a href="#w={url(c["witness"])}">{text}</a>'
            out.append(f'        <td class="{esc(c["status"])}">{text}</td>\n')
        out.append(f'      <td class="num">{esc(s["states"])}</td></tr>\n')
    out.append(
        '    </tbody>\n  </table>\n  <p class="legend">A FAILS cell gives the length of its '
        "shortest witness and links to it. Each spec's sources:</p>\n"
        '  <table class="specs">\n'
    )
    for s in data["specs"]:
        split = " <em>(split errseq_t: REPORTED, OBSERVED)</em>" if s["flavour"] == "split" else ""
        sources = " &middot; ".join(
            f'<a href="{esc(src["url"])}" class="src {esc(src["kind"])}">{esc(src["text"])}</a>'
            for src in s["sources"]
        )
        out.append(
            f'    <tr id="spec-{esc(s["name"])}"><th>{esc(s["name"])}</th><td>'
            f"{esc(s['summary'])}{split}<br>\n{sources}</td></tr>\n"
        )
    out.append("  </table>\n")
    out += [f'<p class="note">note: {esc(n)}</p>' for n in data.get("notes") or ()]
    out.append("</section>\n")
    return "".join(out)


def witness_list(witnesses: list[dict[str, Any]]) -> str:
    """The witnesses tab: the list; the script draws the chosen one."""
    items = []
    for w in witnesses:
        who = f" ({esc(w['container'])})" if w.get("container") else ""
        items.append(
            f'<li><a href="#w={url(w["id"])}">{esc(w["spec"])}: {esc(w["property"])}{who}</a></li>\n'
        )
    return (
        '<section id="v-witness" class="view" hidden>\n  <div class="split">\n'
        '    <ul id="witness-list">\n'
        + "".join(items)
        + '    </ul>\n    <div id="witness"></div>\n  </div>\n</section>\n'
    )


def claims_section(data: dict[str, Any]) -> str:
    """The claims tab (`explore claim --html`): the verdict per claim and spec, each
    claim's expect: rows, then each claim's question, conclusion and states."""
    specs = data["claim_specs"]
    out = [
        '<section id="v-claims" class="view" hidden>\n  <table class="claims">\n'
        "    <thead><tr><th>claim</th>",
        *(f"<th>{esc(s)}</th>" for s in specs),
        "</tr></thead>\n    <tbody>\n",
    ]
    for c in data["claims"]:
        out.append(f'      <tr><th><a href="#c={url(c["name"])}">{esc(c["name"])}</a></th>\n')
        if not c.get("checked"):
            out.append(
                f'<td colspan="{len(specs)}" class="na">not checked: {esc(c.get("reason", ""))}</td>\n'
            )
        else:
            out += [claim_cell(c["cells"].get(s)) for s in specs]
        out.append("      </tr>\n")
        for prop, row in c["expects"].items():
            out.append(
                f'      <tr><th class="expect">{esc(c["name"])} <code>{esc(prop)}</code></th>\n'
            )
            out += [claim_cell(row.get(s)) for s in specs]
            out.append("      </tr>\n")
    out.append(
        '    </tbody>\n  </table>\n  <p class="legend">Per claim and spec: Never, Sometimes '
        "or Always, with the runs that satisfy the condition out of all runs; green when the "
        "claim expects it, red when not. An expect: row gives a property's verdict.</p>\n"
    )
    for c in data["claims"]:
        out.append(
            f'  <div class="claim" id="claim-{esc(c["name"])}">\n    <h3>{esc(c["name"])} '
            f'<span class="file">{esc(c.get("file", ""))}</span></h3>\n'
        )
        if c.get("question"):
            question = "\n".join(esc(q) for q in c["question"])
            out.append(f'<pre class="question">{question}</pre>')
        if c.get("conclusion"):
            out.append(f"<p>Conclusion: {esc(c['conclusion'])}</p>")
        for st in c.get("states") or ():
            out.append(
                f'    <table class="states"><caption>States under {esc(st["spec"])}</caption>\n'
                '      <tr><th class="num">runs</th>'
            )
            out += [f"<th>{esc(e)}</th>" for e in st["events"]]
            out.append("<th></th></tr>\n")
            for o in st["outcomes"]:
                cells = "".join(f"<td>{esc(r)}</td>" for r in o[0])
                said = "satisfies" if o[2] == o[1] else f"{esc(o[2])} satisfy" if o[2] else ""
                out.append(f'<tr><td class="num">{esc(o[1])}</td>{cells}<td>{said}</td></tr>')
            out.append("    </table>\n")
        out.append("  </div>\n")
    out.append("</section>")
    return "".join(out)


def claim_cell(x: dict[str, Any] | None) -> str:
    if not x:
        return "<td></td>"
    text = esc(x["text"])
    if x.get("witness"):
        text = f'<a href="#w={url(x["witness"])}">{text}</a>'
    return f'<td class="{esc(x["status"])}" title="{esc(x["title"])}">{text}</td>'
