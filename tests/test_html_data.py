"""The data out/index.html embeds (explorer.render.html.data), checked without a
browser: followed the way the page's script follows it, it must give the model's
states, successors, shortest paths and property verdicts, and its value texts must be
docs/model.md §3's decoding."""

from __future__ import annotations

import json
import re

import pytest

from explorer.bridge.model import ErrseqModel
from explorer.checker.config import Config
from explorer.checker.run import run
from explorer.domain.catalog import load_spec
from explorer.domain.scenario import format_run, result_name
from explorer.domain.world import Bounds
from explorer.engine.properties.isolation import full_graph
from explorer.render import mail
from explorer.render.html import data as hd
from explorer.render.html import index_html
from explorer.render.html.page import script_json
from explorer.render.timeline import SHOWN

SPECS = ("plain", "mainline", "vivek-v3-seen", "jeff-split")
DEPTH = 7


@pytest.fixture(scope="module")
def outcome():
    specs = [load_spec(n) for n in SPECS]
    cfg = Config(Bounds(), DEPTH, (1, 2), specs, against=load_spec("plain"), symmetry=False)
    return run(cfg)  # one process: the explorations stay, for shortest paths


@pytest.fixture(scope="module")
def data(outcome):
    """As the page reads it: through JSON (object keys are strings there)."""
    return json.loads(json.dumps(hd.report_data(outcome, {})))


def walk(data, region, path):
    """The page script's `walk`: states, event texts and each property's bookkeeping
    and first violation along a path of successor indices."""
    R = data["browser"][region]
    sid, counter, names = 0, 0, {}
    mon = {p: [R["mon"][p]["init"], None] for p in data["path_properties"] if p in R["mon"]}
    sids, texts = [0], []
    for i, idx in enumerate(path):
        e = R["e"].get(str(sid)) or {}
        edge = e[idx] if isinstance(e, list) else R["k"][str(sid)][str(idx)]
        tpl, opens = data["templates"][edge[0]]
        if opens:
            counter += 1
            names[edge[1]] = f"fd{counter}"
        texts.append(
            tpl.replace("{fd}", names.get(edge[1], "?")) + (f" = {edge[2]}" if edge[2] else "")
        )
        for p, st in mon.items():
            m2, reason = R["mon"][p]["t"][f"{sid}.{idx}"][str(st[0])]
            st[0] = m2
            if reason and st[1] is None:
                st[1] = (i + 1, data["reasons"][reason])
        sid = edge[3]
        sids.append(sid)
    return sids, texts, mon


def state(data, region, sid):
    return tuple(data["browser"][region]["v"][str(sid)])


def test_value_texts_are_docs_model_3s_decoding(data):
    plain = data["browser"]["plain"]["text"]["errseq"]
    # 0x5 EIO unseen, 0x1005 seen (the values every witness of the main job passes through)
    assert plain[str(0x5)] == "0x5 (EIO, ctr 0)"
    assert plain[str(0x1005)] == "0x1005 (EIO, SEEN, ctr 0)"
    split = data["browser"]["jeff-split"]["text"]["errseq"]
    assert split[str(0x3005)] == "0x3005 (EIO, REPORTED, OBSERVED, ctr 0)"
    assert data["browser"]["plain"]["text"]["mount"] == {"0": "no", "1": "normal", "2": "volatile"}


def test_every_witness_run_is_a_path_through_its_specs_states(outcome, data):
    bounds = outcome.config.bounds
    specs = {s.name: s for s in outcome.config.specs}
    runs = 0
    for w in data["witnesses"]:
        for pair in w["pairs"]:
            for rj in pair["runs"]:
                sids, texts, _ = walk(data, rj["spec"], rj["path"])
                assert texts == [s[3] for s in rj["steps"]]
                model = ErrseqModel(specs[rj["spec"]], bounds, outcome.config.options)
                s = bounds.initial()
                for idx, sid in zip(rj["path"], sids[1:], strict=True):
                    a, s, _ = model.successors(s)[idx]
                    assert state(data, rj["spec"], sid) == s
                runs += 1
    assert runs >= 10


def test_next_steps_are_the_models_successors(outcome, data):
    bounds, options = outcome.config.bounds, outcome.config.options
    for spec in outcome.config.specs:
        R = data["browser"][spec.name]
        model = ErrseqModel(spec, bounds, options)
        for sid, edges in R["e"].items():
            s = tuple(R["v"][sid])
            succ = model.successors(s)
            assert len(edges) == len(succ)
            for edge, (a, t, o) in zip(edges, succ, strict=True):
                assert tuple(R["v"][str(edge[3])]) == t
                assert edge[2] == (result_name(o) or "" if a.verb in SHOWN else "")
                tpl = data["templates"][edge[0]][0]
                named = format_run(
                    bounds, ([a] if a.verb == "open" else [a._replace(verb="open"), a])
                )
                assert tpl.replace("{fd}", "fd1") == str(named[-1])


def test_parent_pointers_are_shortest_paths(outcome, data):
    bounds, options = outcome.config.bounds, outcome.config.options
    for spec in outcome.config.specs:
        R = data["browser"][spec.name]
        ex = full_graph(ErrseqModel(spec, bounds, options), DEPTH)
        assert R["p"], spec.name
        for sid in list(R["p"])[:400]:
            path = []
            s = int(sid)
            while s != 0:
                s, idx = R["p"][str(s)]
                path.insert(0, idx)
            sids, _, _ = walk(data, spec.name, path)
            assert sids[-1] == int(sid)
            found = ex.index.get(state(data, spec.name, int(sid)))
            assert len(path) == (ex.depth[found] if found is not None else DEPTH + 1)


def test_the_properties_along_a_witness_are_its_verdict(outcome, data):
    """A monitor's witness, followed through the page's tables, violates at its last
    step with the verdict's reason; nothing before."""
    seen = 0
    for w in data["witnesses"]:
        if w["property"] not in data["path_properties"]:
            continue
        rj = w["pairs"][0]["runs"][0]
        _, _, mon = walk(data, rj["spec"], rj["path"])
        assert mon[w["property"]][1] == (len(rj["path"]), w["reason"])
        _, _, before = walk(data, rj["spec"], rj["path"][:-1])
        assert before[w["property"]][1] is None
        seen += 1
    assert seen >= 3


def test_the_page_is_self_contained(outcome):
    html = index_html(outcome, {})
    assert "<link" not in html and not re.search(r"<script[^>]+src=", html)
    assert "@import" not in html and "url(" not in html
    body = html.split('<script type="application/json" id="data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(body)["schema"] == hd.SCHEMA


def test_embedded_json_cannot_close_its_script():
    text = script_json({"svg": "</script><!-- x -->"})
    assert "</" not in text and "<!--" not in text
    assert json.loads(text) == {"svg": "</script><!-- x -->"}


def test_trace_text_of_each_witness_is_in_the_page(outcome, data):
    by = {s.name: s for s in outcome.config.specs}
    for w in data["witnesses"]:
        r = next(r for r in outcome.results if r.spec.name == w["spec"])
        v = r.verdicts[w["property"]][0]
        assert w["pairs"][0]["mail"] == mail.traced_witness(
            outcome.config.bounds, v, by.__getitem__
        )
