"""Text for mail, within 72 columns: the verdict matrix (out/summary.txt) and traces,
runs with the state after each step.

A trace lists a run's events, each followed by the fields it changed, decoded as the
kernel's layout reads them (explorer.domain.show):

      4  wberror ovl1
           ovl1.inode.wb_err: 0x0 -> 0x5 (EIO, ctr 0)
           upper.s_wb_err: 0x0 -> 0x5 (EIO, ctr 0)
      5  mount ovl2 = 0
           ovl2.mounted: normal
           ...

`explore replay --trace` prints one per spec, and `explore --trace` appends them to
the witness files; the HTML report shows the same fields at each step.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from explorer import __version__
from explorer.domain.scenario import SHOWN, Scenario, format_run, result_name, shows_result
from explorer.domain.scenario import Event as Line
from explorer.domain.show import SlotNames, change_lines, run_names
from explorer.domain.vfs import Spec
from explorer.domain.world import EIO, ERRNO_NAMES, Bounds, State, World
from explorer.engine.verdict import ReorderedPair, Step, Verdict
from explorer.render.pair import run_names as pair_names

if TYPE_CHECKING:
    from explorer.checker.config import Config
    from explorer.checker.results import Outcome, Run

WIDTH = 72
#: A field a step changed, as a comment under the step's scenario line.
COMMENT = "    # "


@dataclass
class TraceStep:
    """One step of a trace: the event as the scenario writes it (with its result), the
    state after it (None: the event was skipped), the fd names then, and a note."""

    text: str
    state: State | None
    names: SlotNames = field(default_factory=dict)
    note: str = ""


def wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    """`text` in lines of at most WIDTH columns, the first after `first`."""
    if len(first) + len(text) <= WIDTH and "\n" not in text:
        return [first + text]  # most lines fit: textwrap costs a regex pass each
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest) or [first]


def comments(lines: Sequence[str], indent: str = "") -> list[str]:
    """Field lines as comments under a scenario line (the scenario stays replayable)."""
    out: list[str] = []
    for line in lines:
        out += wrap(line, indent + COMMENT, indent + COMMENT + "  ")
    return out


def step_changes(bounds: Bounds, spec: Spec, steps: Sequence[TraceStep]) -> list[list[str]]:
    """Per step, the fields it changed (explorer.domain.show), [] for a skipped one."""
    before = bounds.initial()
    out: list[list[str]] = []
    for st in steps:
        if st.state is None:
            out.append([])
            continue
        out.append(change_lines(bounds, spec.errseq, before, st.state, dict(st.names)))
        before = st.state
    return out


def trace_lines(
    bounds: Bounds, spec: Spec, steps: Sequence[TraceStep], indent: str = ""
) -> list[str]:
    """A run as a scenario, each line followed by the fields it changed as comments
    (docs/model.md §3); a skipped event is a comment that says why."""
    out: list[str] = []
    for st, changed in zip(steps, step_changes(bounds, spec, steps), strict=True):
        if st.state is None:
            out += wrap(f"# {st.text}: skipped ({st.note})", indent, indent + "#   ")
            continue
        out.append(indent + st.text)
        out += comments(changed, indent)
    return out


def replay_states(bounds: Bounds, spec: Spec, steps: Sequence[Step]) -> list[State]:
    """The state after each step of a run the spec produced (a witness), replayed from
    the initial state; a result that differs from the recorded one is a bug.  A report
    asks for each run several times (its text, its trace, its page)."""
    return list(_replayed(bounds, spec, tuple((st.action, st.obs) for st in steps)))


@lru_cache(maxsize=512)
def _replayed(bounds: Bounds, spec: Spec, run: tuple) -> tuple[State, ...]:
    state = bounds.initial()
    out = []
    for action, obs in run:
        w = World(bounds, state)
        ret = spec.apply(w, action)
        if ret != obs:
            raise AssertionError(f"{spec.name}: {action} gave {ret}, the run says {obs}")
        state = w.freeze()
        out.append(state)
    return tuple(out)


def line_text(line: Line, verb: str, obs: int | None) -> str:
    """A run's event as a scenario line, with its result where one can fail."""
    res = result_name(obs)
    return f"{line}" + (f" = {res}" if shows_result(verb, obs) else "")


def run_trace(
    bounds: Bounds, spec: Spec, steps: Sequence[Step], names: Sequence[Line] | None = None
) -> list[TraceStep]:
    """A run of `spec` (its steps, and its events as named lines) as trace steps."""
    if names is None:
        names = format_run(bounds, [s.action for s in steps])
    states = replay_states(bounds, spec, steps)
    fds = run_names(bounds, [s.action for s in steps], names)
    return [
        TraceStep(line_text(n, s.action.verb, s.obs), t, f)
        for s, n, t, f in zip(steps, names, states, fds, strict=True)
    ]


def witness_runs(
    bounds: Bounds, v: Verdict, specs: Callable[[str], Spec]
) -> list[tuple[Spec, list[TraceStep]]]:
    """The runs a verdict's witness text holds as scenarios, as trace steps: both runs of
    the isolation pair shown (B with A's fd names), or the one run (for agreement,
    under the spec and then under its reference)."""
    spec = specs(v.model)
    shown = v.isolation.shown if v.isolation is not None else None
    if shown is not None:
        removed = None if isinstance(shown, ReorderedPair) else shown.removed
        a, b = pair_names(bounds, shown.witness, shown.other, removed)
        return [
            (spec, run_trace(bounds, spec, shown.witness, a)),
            (spec, run_trace(bounds, spec, shown.other, b)),
        ]
    out = [(spec, run_trace(bounds, spec, v.witness))] if v.witness else []
    if v.agreement is not None and v.other:
        ref = specs(v.agreement.against)
        out.append((ref, run_trace(bounds, ref, v.other)))
    return out


def scenario_steps(bounds: Bounds, events: Sequence[Line], run: Run) -> list[TraceStep]:
    """A scenario replayed under one spec (`explore replay`'s Run) as trace steps: each
    line with the result it got, the state after it, the scenario's own fd names."""
    names: dict[int, str] = {}
    before = bounds.initial()
    out = []
    for i, e in enumerate(events):
        text = line_text(e, e.verb, None)
        if i in run.skipped:
            out.append(TraceStep(text, None, dict(names), run.skipped[i]))
            continue
        after = run.states[i]
        if e.verb == "open" and e.fd:
            opened = [s for s in range(bounds.slots) if not before[bounds.fd_base(s)]]
            names.update({s: e.fd for s in opened if after[bounds.fd_base(s)]})
        res = run.results[i]
        shown = res is not None and (e.verb in SHOWN or (e.verb == "open" and res != "0"))
        out.append(TraceStep(text + (f" = {res}" if shown else ""), after, dict(names)))
        before = after
    return out


def replay_trace(scenario: Scenario, runs: Sequence[Run]) -> str:
    """`explore replay --trace`: under each spec, the scenario with the results it got
    and, as comments under each line, the fields it changed (it replays as it is)."""
    out: list[str] = []
    for r in runs:
        if out:
            out.append("")
        out += wrap(f"# {scenario.source} under {r.spec.name}:", "", "#   ")
        steps = scenario_steps(scenario.bounds, scenario.events, r)
        out += trace_lines(scenario.bounds, r.spec, steps)
    return "\n".join(out) + "\n"


#: The line after which a witness text holds its runs as scenarios (explorer.render.report
#: and pair write it; `explore replay FILE` reads what follows).
SCENARIO_MARK = "as a scenario (explore replay FILE"


def traced(text: str, bounds: Bounds, runs: Sequence[tuple[Spec, list[TraceStep]]]) -> str:
    """A witness text in its trace form: under each line of its scenarios, the fields
    that step changed, as comments, so the file still replays.  An agreement witness has
    one scenario; the reference's changes follow the spec's where they differ."""
    lines = text.splitlines()
    mark = next((i for i, x in enumerate(lines) if SCENARIO_MARK.lower() in x.lower()), None)
    if mark is None or not runs:
        return text
    changes = [step_changes(bounds, spec, steps) for spec, steps in runs]
    agreement = len(runs) == 2 and runs[0][0] is not runs[1][0]
    k, i = 0, 0  # which run, which step
    out = lines[: mark + 1]
    for line in lines[mark + 1 :]:
        out.append(line)
        body = line.strip()
        if not body or body.startswith("#"):
            continue
        if body == "Run B:":
            k, i = k + 1, 0
            continue
        steps = runs[k][1]
        if i >= len(steps) or body != steps[i].text:
            raise AssertionError(f"witness scenario line {body!r} is not step {i + 1} of its run")
        indent = line[: len(line) - len(line.lstrip())]
        out += comments(changes[k][i], indent)
        if agreement and changes[1][i] != changes[0][i]:
            ref = runs[1][0].name
            ref_text = runs[1][1][i].text
            if ref_text != body:
                out += comments([f"under {ref}: {ref_text}"], indent)
            out += comments([f"under {ref}: {c}" for c in changes[1][i]], indent)
        i += 1
    return "\n".join(out) + "\n"


def specs_of(cfg: Config) -> Callable[[str], Spec]:
    """A run's specs by name, its agreement reference among them."""
    by = {s.name: s for s in cfg.specs}
    if cfg.against is not None:
        by.setdefault(cfg.against.name, cfg.against)
    return by.__getitem__


def traced_witness(bounds: Bounds, v: Verdict, specs: Callable[[str], Spec]) -> str:
    """A violated verdict's witness file (explorer.render.report) in its trace form."""
    from explorer.render.report import witness_text

    return traced(witness_text(bounds, v), bounds, witness_runs(bounds, v, specs))


# --- out/summary.txt ------------------------------------------------------------------


def ascii_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns two spaces apart, headers of several lines (split at newlines), a rule of
    dashes under them; no box drawing, so that it pastes into any mail."""
    heads = [h.split("\n") for h in head]
    height = max(len(h) for h in heads)
    heads = [[""] * (height - len(h)) + h for h in heads]
    widths = [max([len(x) for x in h] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]
    out = [
        "  ".join(f"{h[k]:<{w}}" for h, w in zip(heads, widths, strict=True)).rstrip()
        for k in range(height)
    ]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(f"{c:<{w}}" for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out


def fitted_tables(
    first: str, columns: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]
) -> list[str]:
    """`ascii_table` of a first column and `columns`, split into several tables (each
    repeating the first column) when one would be wider than WIDTH."""
    out: list[str] = []
    start = 0
    while start < len(columns):
        end = len(columns)
        while end > start + 1:
            lines = ascii_table([first, *columns[start:end]], [[k, *v[start:end]] for k, v in rows])
            if max(len(x) for x in lines) <= WIDTH:
                break
            end -= 1
        out += ([""] if out else []) + ascii_table(
            [first, *columns[start:end]], [[k, *v[start:end]] for k, v in rows]
        )
        start = end
    return out


def matrix_lines(outcome: Outcome) -> list[str]:
    """The verdict matrix as the terminal prints it, in ASCII within WIDTH columns."""
    from explorer.render.terminal import cell, heading

    cfg = outcome.config
    against = cfg.against.name if cfg.against is not None else "-"
    columns = [heading(p, against) for p in cfg.properties] + ["states"]
    rows = [
        (r.spec.name, [cell(r.verdicts.get(p, [])) for p in cfg.properties] + [str(r.states)])
        for r in outcome.results
    ]
    return fitted_tables("spec", columns, rows)


def run_line(outcome: Outcome) -> str:
    """What was run: the bounds, the model's options, the specs."""
    cfg = outcome.config
    b = cfg.bounds
    mounts = "+".join(n for n, o in (("normal", 1), ("volatile", 2)) if o in cfg.options)
    said = [
        f"{b.mounts} container{'s' if b.mounts != 1 else ''}",
        f"{b.fds} fd{'s' if b.fds != 1 else ''} each",
        f"{b.host_fds} host fd{'s' if b.host_fds != 1 else ''}",
        f"depth {cfg.depth}",
        f"{mounts} mounts",
    ]
    if b.errnos != (EIO,):
        said.append("errnos " + ",".join(ERRNO_NAMES[e] for e in b.errnos))
    if cfg.counter_bits is not None:
        said.append(f"{cfg.counter_bits}-bit errseq counter")
    if b.host_any:
        said.append("host fds on any upper file")
    said.append(f"{len(cfg.specs)} spec{'s' if len(cfg.specs) != 1 else ''}")
    return ", ".join(said)


EXITS = {0: "every property holds", 1: "a property is violated", 3: "undecided (memory guard)"}


def summary_text(outcome: Outcome, files: Mapping[tuple[str, str, str], list[str]]) -> str:
    """out/summary.txt: the run, its verdict matrix, notes and witness files, for mail."""
    code = outcome.exit_code()
    out = wrap(f"errseq-explorer {__version__}: {run_line(outcome)}")
    out.append(f"exit {code}: {EXITS.get(code, '')}")
    out += ["", *matrix_lines(outcome)]
    if outcome.notes:
        out.append("")
        for note in outcome.notes:
            out += wrap(f"note: {note}", "", "  ")
    witness_files = sorted(p for paths in files.values() for p in paths if p.endswith(".txt"))
    if witness_files:
        out += ["", "Witnesses, as timelines and scenarios (explore replay FILE):"]
        out += [f"  {p}" for p in witness_files]
    out += [
        "",
        *wrap(
            "index.html holds all of it for a browser: every witness step by step "
            "with the errseq_t fields decoded, and a state browser."
        ),
    ]
    return "\n".join(out) + "\n"
