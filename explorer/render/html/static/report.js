// errseq-explorer's report: witnesses step by step and a state browser, from the JSON
// embedded in the page (explorer/render/html/data.py writes it; browser.py documents
// the browser's layout).  No decoding happens here: value texts come in tables, event
// texts as templates.  Every view has a URL fragment, so a link restores it.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const $ = (sel, root) => (root || document).querySelector(sel);
  let hideUnchanged = false;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
    }
    for (const k of kids.flat()) {
      if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
    }
    return e;
  }

  function params() { return new URLSearchParams(location.hash.slice(1)); }
  function link(p) { return "#" + new URLSearchParams(p).toString(); }

  // --- following a path through a spec's region ------------------------------------------

  function region(spec) { return D.browser[spec]; }

  function edgeOf(R, sid, idx) {
    const e = R.e[sid];
    if (e) return e[idx];
    const k = R.k[sid];
    return k ? k[idx] : undefined;
  }

  function fieldsOf(R) { return R.fields || D.fields; }

  function slotLabel(R, slot) {
    const f = fieldsOf(R).find((x) => x.s === slot);
    return f ? f.g : "slot " + slot;
  }

  function fill(R, text, names) {
    return text.replace(/\{s(\d+)\}/g, (_, n) => names[n] || slotLabel(R, Number(n)));
  }

  // Walk `path` (successor indices) from the initial state: the states, the events as
  // the scenario language names them, the fd names, each property's bookkeeping.
  function walk(spec, path) {
    const R = region(spec);
    const props = D.path_properties.filter((p) => R.mon[p]);
    let sid = 0, counter = 0;
    const names = {};
    const mon = {};
    for (const p of props) mon[p] = { m: R.mon[p].init, broke: null };
    const steps = [{ sid: 0, text: "(initial state)", names: {}, counter: 0, mon: snapshot(mon) }];
    for (let i = 0; i < path.length; i++) {
      const idx = path[i];
      const e = edgeOf(R, sid, idx);
      if (!e) return { steps, missing: i, complete: false };
      const tpl = D.templates[e[0]];
      if (tpl[1]) names[e[1]] = "fd" + (++counter);
      const text = tpl[0].replace("{fd}", names[e[1]] || slotLabel(R, e[1])) + (e[2] ? " = " + e[2] : "");
      for (const p of props) {
        const row = R.mon[p].t[sid + "." + idx];
        const got = row && row[mon[p].m];
        if (!got) { mon[p].m = null; continue; }
        mon[p].m = got[0];
        if (got[1] && !mon[p].broke) mon[p].broke = { step: i + 1, reason: D.reasons[got[1]] };
      }
      sid = e[3];
      steps.push({ sid, text, names: Object.assign({}, names), counter, mon: snapshot(mon), idx });
    }
    return { steps, complete: true };
  }

  function snapshot(mon) {
    const out = {};
    for (const [p, v] of Object.entries(mon)) out[p] = Object.assign({}, v);
    return out;
  }

  // --- a state's fields -----------------------------------------------------------------

  function present(f, vals) { return f.p < 0 || vals[f.p] !== 0; }

  function hex(v) { return "0x" + v.toString(16); }

  // The fields of `vals`, each with its text and, against `prev`, whether it changed
  // (explorer.domain.show.changes: a group that appears shows every field, one that
  // goes away only the field saying so).
  function fieldRows(R, vals, prev, names) {
    const rows = [];
    for (const f of fieldsOf(R)) {
      const label = (f.s >= 0 && names[f.s] ? names[f.s] : f.g) + "." + f.n;
      const now = present(f, vals), was = prev ? present(f, prev) : now;
      const text = R.text[f.k][vals[f.i]];
      let changed = false, old = null;
      if (!now) {
        if (f.i !== f.p) continue;
        changed = Boolean(prev) && was;
      } else if (prev && !was) {
        changed = true;
      } else if (prev && prev[f.i] !== vals[f.i]) {
        changed = true;
        old = f.k === "errseq" ? hex(prev[f.i]) : R.text[f.k][prev[f.i]];
      }
      if (!now && changed) old = R.text[f.k][prev[f.i]];
      const line = label + ": " + (old !== null ? old + " -> " : "") + text;
      rows.push({ label, text, old, changed, line, absent: !now, group: f.g });
    }
    return rows;
  }

  function stateTable(R, sid, prevSid, names) {
    const vals = R.v[sid];
    const prev = prevSid === null ? null : R.v[prevSid];
    const rows = fieldRows(R, vals, prev, names);
    const table = el("table", { class: "state" + (hideUnchanged ? " hide-unchanged" : "") });
    let group = null;
    for (const r of rows) {
      const cls = [r.changed ? "changed" : "same", r.absent ? "absent" : "", group !== r.group ? "first" : ""];
      group = r.group;
      table.append(el("tr", { class: cls.join(" "), "data-line": r.changed ? r.line : null },
        el("th", {}, r.label), el("td", {}, r.old !== null ? el("span", { class: "old" }, r.old + " \u2192 ") : "", r.text)));
    }
    const toggle = el("label", { class: "toggle" },
      el("input", { type: "checkbox", checked: hideUnchanged, onchange: (ev) => { hideUnchanged = ev.target.checked; render(); } }),
      " hide unchanged fields");
    return el("div", { class: "state-panel" }, toggle, table);
  }

  // --- witnesses ------------------------------------------------------------------------

  function showWitness(p) {
    const w = D.witnesses.find((x) => x.id === p.get("w"));
    const box = $("#witness");
    box.replaceChildren();
    if (!w) { box.append(el("p", {}, "No such witness in this report.")); return; }
    const pi = Math.min(Number(p.get("p") || 0), w.pairs.length - 1);
    const pair = w.pairs[pi];
    if (!pair.runs.length) {  // a run with races: its text only
      box.dataset.at = `${w.id}/${pi}`;
      box.append(el("h2", {}, `${w.spec}: ${w.property} `, el("a", { href: link({ w: w.id }), class: "permalink" }, "#")));
      box.append(el("p", { class: "reason" }, w.reason || ""), el("p", {}, pair.title));
      box.append(el("h3", {}, "Text for mail ", el("button", { type: "button", class: "copy", "data-copy": "mail-text" }, "Copy")));
      box.append(el("pre", { id: "mail-text", class: "mail" }, pair.mail));
      return;
    }
    const ri = Math.min(Number(p.get("r") || 0), pair.runs.length - 1);
    const run = pair.runs[ri];
    const step = Math.min(Number(p.get("s") || run.steps.length), run.steps.length);
    const here = { w: w.id, p: pi, r: ri, s: step };
    box.dataset.at = `${w.id}/${pi}/${ri}/${step}`;
    box.append(el("h2", {}, `${w.spec}: ${w.property}${w.container ? " of " + w.container : ""} `,
      el("a", { href: link(here), class: "permalink", title: "permalink to this step" }, "#")));
    if (w.reason) box.append(el("p", { class: "reason" }, w.reason));
    if (w.pairs.length > 1) {
      box.append(el("p", { class: "pairs" }, "Pairs of runs: ", w.pairs.map((q, i) =>
        el("a", { href: link({ w: w.id, p: i }), class: i === pi ? "current" : "" }, q.title || "pair " + (i + 1)))));
    } else if (pair.title) {
      box.append(el("p", {}, pair.title));
    }
    box.append(lanesTable(w, pi, pair, ri, step));
    box.append(legend(pair));
    const key = run.region || run.spec;
    const walked = walk(key, run.path.slice(0, step));
    const R = region(key);
    if (walked.complete) {
      const at = walked.steps[walked.steps.length - 1];
      const before = walked.steps.length > 1 ? walked.steps[walked.steps.length - 2].sid : null;
      box.append(el("h3", {}, `State after step ${step} of ${run.label} (${run.spec}) `,
        el("a", { href: link({ b: key, path: run.path.slice(0, step).join(".") }), class: "jump" }, "open in the state browser")));
      box.append(stateTable(R, at.sid, before, at.names));
    } else {
      box.append(el("p", { class: "missing" }, `The states of this run are not in this page (step ${walked.missing + 1}).`));
    }
    box.append(el("div", { class: "nav" },
      el("a", { href: link(Object.assign({}, here, { s: Math.max(1, step - 1) })), class: "prev" }, "\u2190 step " + Math.max(1, step - 1)),
      " ", el("a", { href: link(Object.assign({}, here, { s: Math.min(run.steps.length, step + 1) })), class: "next" }, "step " + Math.min(run.steps.length, step + 1) + " \u2192")));
    box.append(el("h3", {}, "Text for mail ", el("button", { type: "button", class: "copy", "data-copy": "mail-text" }, "Copy")));
    box.append(el("pre", { id: "mail-text", class: "mail" }, pair.mail));
    if (w.svg && pi === 0) {
      const d = el("details", {}, el("summary", {}, "Picture (Graphviz)"));
      const holder = el("div", { class: "svg" });
      holder.innerHTML = w.svg;
      d.append(holder);
      box.append(d);
    }
  }

  function lanesTable(w, pi, pair, ri, step) {
    const n = Math.max(...pair.runs.map((r) => r.steps.length));
    const t = el("table", { class: "lanes" });
    const head = el("tr", {});
    const sub = el("tr", {});
    pair.runs.forEach((r, k) => {
      head.append(el("th", { colspan: pair.lanes.length + 1, class: "runhead" }, `${r.label}, ${r.spec}`));
      sub.append(el("th", {}, "#"), ...pair.lanes.map((l) => el("th", {}, l)));
      if (k < pair.runs.length - 1) { head.append(el("th", { class: "gap" })); sub.append(el("th", { class: "gap" })); }
    });
    t.append(el("thead", {}, head, sub));
    const body = el("tbody");
    for (let i = 0; i < n; i++) {
      const tr = el("tr", {});
      pair.runs.forEach((r, k) => {
        const s = r.steps[i];
        if (!s) { tr.append(el("td", { colspan: pair.lanes.length + 1, class: "blank" })); }
        else {
          const current = k === ri && i + 1 === step;
          tr.append(el("td", { class: "n" + (current ? " current" : "") }, i + 1));
          pair.lanes.forEach((_, col) => {
            if (col !== s[1]) { tr.append(el("td", {})); return; }
            tr.append(el("td", { class: ["ev", s[2], current ? "current" : ""].join(" ") },
              el("a", { href: link({ w: w.id, p: pi, r: k, s: i + 1 }), "data-run": k, "data-step": i + 1, title: s[3] }, s[0])));
          });
        }
        if (k < pair.runs.length - 1) tr.append(el("td", { class: "gap" }));
      });
      body.append(tr);
    }
    t.append(body);
    return t;
  }

  function legend(pair) {
    const marks = new Set(pair.runs.flatMap((r) => r.steps.map((s) => s[2])).filter(Boolean));
    const words = {
      gone: "only in run A: outside the container, which cannot see it",
      added: "only in run B: outside the container, which cannot see it",
      differs: "the call whose result differs",
      violates: "the step that violates the property",
    };
    return el("p", { class: "legend" }, [...marks].map((m) => el("span", { class: "ev " + m }, words[m])));
  }

  // --- the state browser ----------------------------------------------------------------

  function specNames() { return Object.keys(D.browser || {}); }

  function showBrowser(p) {
    const box = $("#browse");
    box.replaceChildren();
    const names = specNames();
    if (!names.length) { box.append(el("p", {}, "This page holds no states to browse.")); return; }
    const spec = names.includes(p.get("b")) ? p.get("b") : names[0];
    const path = (p.get("path") || "").split(".").filter((x) => x !== "").map(Number);
    const fwd = (p.get("fwd") || "").split(".").filter((x) => x !== "").map(Number);
    const R = region(spec);
    const pick = el("select", { onchange: (ev) => { location.hash = link({ b: ev.target.value }); } },
      names.map((n) => el("option", { value: n, selected: n === spec }, n)));
    box.append(el("p", { class: "browse-head" }, "Spec ", pick, " ",
      el("a", { href: link({ b: spec, path: path.join(".") }), class: "permalink", title: "permalink to this state" }, "#"),
      D.server ? " (served by explore browse: the model answers for every state)"
        : R.whole ? " (its whole state graph up to the depth is in this page)"
          : ` (this page holds the states along the witnesses and their successors; ${D.browse || "explore browse"} serves every state)`));
    const walked = walk(spec, path);
    const last = walked.steps[walked.steps.length - 1];
    if (D.server && (!walked.complete || !R.e[last.sid])) {
      box.append(el("p", { class: "asking" }, "asking the model\u2026"));
      fetchPath(spec, path).then(render, (err) => { box.append(el("p", { class: "missing" }, String(err))); });
      return;
    }
    if (!walked.complete) {
      box.append(el("p", { class: "missing" }, `Step ${walked.missing + 1} of this path is beyond the states this page holds.`));
      path.length = walked.missing;
    }
    const steps = walked.steps;
    const at = steps[steps.length - 1];
    const before = steps.length > 1 ? steps[steps.length - 2].sid : null;
    const up = path.slice(0, -1);
    box.append(el("div", { class: "nav" },
      el("a", { href: link({ b: spec, path: up.join("."), fwd: [path[path.length - 1], ...fwd].filter((x) => x !== undefined).join(".") }), class: "back" + (path.length ? "" : " disabled") }, "\u2190 back"),
      " ",
      el("a", { href: link({ b: spec, path: [...path, fwd[0]].join("."), fwd: fwd.slice(1).join(".") }), class: "forward" + (fwd.length ? "" : " disabled") }, "forward \u2192"),
      " ", el("a", { href: link({ b: spec }), class: "home" }, "initial state"),
      " ", shortestLink(spec, R, at.sid)));
    const trail = el("ol", { class: "trail" });
    steps.forEach((s, i) => trail.append(el("li", { class: i === steps.length - 1 ? "current" : "" },
      el("a", { href: link({ b: spec, path: path.slice(0, i).join(".") }) }, s.text))));
    const cols = el("div", { class: "split" });
    const left = el("div", {}, el("h3", {}, "Path"), trail, el("h3", {}, "Properties along this path"), propertyStatus(R, at));
    const right = el("div", {}, el("h3", {}, `State ${at.sid}`), stateTable(R, at.sid, before, at.names),
      el("h3", {}, "Next steps"), nextSteps(spec, R, at, path));
    cols.append(left, right);
    box.append(cols);
  }

  function shortestLink(spec, R, sid) {
    if (sid === 0) return "";
    const idx = [];
    let s = sid;
    while (s !== 0) {
      const p = R.p[s];
      if (!p) return D.server ? el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); askShortest(spec, sid); } }, "a shortest path here") : el("span", { class: "disabled" }, "no shortest path known in this page");
      idx.unshift(p[1]);
      s = p[0];
    }
    return el("a", { href: link({ b: spec, path: idx.join(".") }), class: "shortest" }, `a shortest path here (${idx.length} steps)`);
  }

  function propertyStatus(R, at) {
    const ul = el("ul", { class: "props" });
    for (const [p, st] of Object.entries(at.mon)) {
      const d = R.mon[p].d;
      const what = st.broke ? `violated at step ${st.broke.step}: ${st.broke.reason}` : "holds along this path";
      ul.append(el("li", { class: st.broke ? "fails" : "holds", "data-prop": p }, el("b", {}, p), ": ", what,
        st.m !== null && st.m !== undefined ? el("div", { class: "book" }, fill(R, d[st.m], at.names)) : ""));
    }
    ul.append(el("li", { class: "na" }, "isolation and agreement compare two runs: see the verdicts"));
    return ul;
  }

  function nextSteps(spec, R, at, path) {
    const edges = R.e[at.sid];
    if (!edges) {
      return el("p", { class: "missing" }, D.server ? "asking the model\u2026" : "Not in this page: explore browse (the same page, served by the explorer) shows the successors of every state.");
    }
    const ul = el("ul", { class: "next" });
    edges.forEach((e, i) => {
      const tpl = D.templates[e[0]];
      const names = Object.assign({}, at.names);
      if (tpl[1]) names[e[1]] = "fd" + (at.counter + 1);
      const text = tpl[0].replace("{fd}", names[e[1]] || slotLabel(R, e[1])) + (e[2] ? " = " + e[2] : "");
      const breaks = [];
      for (const p of Object.keys(at.mon)) {
        const row = R.mon[p].t[at.sid + "." + i];
        const got = row && row[at.mon[p].m];
        if (got && got[1] && !at.mon[p].broke) breaks.push(p);
      }
      const same = e[3] === at.sid;
      ul.append(el("li", { "data-text": text },
        el("a", { href: link({ b: spec, path: [...path, i].join(".") }) }, text),
        same ? el("span", { class: "noop" }, " (changes nothing)") : "",
        breaks.length ? el("span", { class: "violates" }, " violates " + breaks.join(", ")) : ""));
    });
    return ul;
  }

  // --- served by explore browse: the model answers for states the page does not hold ---

  function merge(spec, frag) {
    const R = D.browser[spec];
    for (const [k, v] of Object.entries(frag.v)) R.v[k] = v;
    Object.assign(R.e, frag.e);
    Object.assign(R.k, frag.k);
    Object.assign(R.p, frag.p);
    for (const [p, m] of Object.entries(frag.mon)) {
      for (const [k, row] of Object.entries(m.t)) R.mon[p].t[k] = Object.assign(R.mon[p].t[k] || {}, row);
      for (const [i, t] of Object.entries(m.d)) R.mon[p].d[i] = t;
    }
    for (const [kind, t] of Object.entries(frag.text)) Object.assign(R.text[kind], t);
    for (const [i, t] of Object.entries(frag.templates)) D.templates[i] = t;
    for (const [i, t] of Object.entries(frag.reasons)) D.reasons[i] = t;
  }

  function answer(r) {
    return r.json().then((body) => { if (!r.ok) throw new Error(body.error || r.statusText); return body; });
  }

  function fetchPath(spec, path) {
    return fetch(`api/expand?spec=${encodeURIComponent(spec)}&path=${path.join(".")}`)
      .then(answer).then((frag) => merge(spec, frag));
  }

  function askShortest(spec, sid) {
    fetch(`api/shortest?spec=${encodeURIComponent(spec)}&state=${sid}`).then(answer).then((frag) => {
      merge(spec, frag);
      render();
    }, (err) => { const b = $("#browse"); if (b) b.append(el("p", { class: "missing" }, String(err.message || err))); });
  }

  function showClaims(p) {
    const target = p.has("c") && document.getElementById("claim-" + p.get("c"));
    if (target) target.scrollIntoView();
  }

  // --- tabs, permalinks, copying --------------------------------------------------------

  function render() {
    const p = params();
    let tab = p.get("t") || (p.has("w") ? "witness" : p.has("b") ? "browse" : p.has("c") ? "claims" : null);
    if (!tab) tab = D.specs && D.specs.length ? "matrix" : D.claims ? "claims" : "browse";
    if (p.has("s") && !p.has("w") && tab === "matrix") {
      const row = document.getElementById("spec-" + p.get("s"));
      if (row) row.scrollIntoView();
    }
    for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== "v-" + tab;
    for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("current", a.dataset.tab === tab);
    if (tab === "witness") {
      if (!p.has("w") && D.witnesses.length) { showWitness(new URLSearchParams({ w: D.witnesses[0].id })); }
      else showWitness(p);
      for (const a of document.querySelectorAll("#witness-list a")) a.classList.toggle("current", a.getAttribute("href") === link({ w: p.get("w") || "" }));
    }
    if (tab === "browse") showBrowser(p);
    if (tab === "claims") showClaims(p);
  }

  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button.copy");
    if (!b) return;
    const text = document.getElementById(b.dataset.copy).textContent;
    const done = () => { b.textContent = "Copied"; setTimeout(() => { b.textContent = "Copy"; }, 1500); };
    const fallback = () => {
      const r = document.createRange();
      r.selectNodeContents(document.getElementById(b.dataset.copy));
      const s = getSelection(); s.removeAllRanges(); s.addRange(r);
      try { document.execCommand("copy"); done(); } catch (e) { b.textContent = "Select and copy"; }
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  });
  window.addEventListener("hashchange", render);
  window.errseqReport = { D, walk, fieldRows, render };
  render();
})();
