"""The outcomes a race program can have (docs/model.md §8), each with a shortest run.

A race program is setup lines, run one whole call after the other, then threads whose
calls race: each thread makes its calls in order, and any step of any thread may come
next.  An outcome is every thread call's result as the tool prints it ("0", "EIO";
None for a call that returns nothing), thread 1's calls first, each thread's in its
order: the shape of explorer.conform.races' outcomes.

    outcomes(load_spec("mainline"),
             setup=["open fd1 host", "write fd1", "wberror host"],
             threads=[["syncfs fd1"], ["syncfs fd1"]], labels=["host.1", "host.2"])
    -> {("EIO", "0"): [...], ("0", "EIO"): [...], ("EIO", "EIO"): [...]}

Each value is one run with that outcome and the fewest steps, in the step notation
(explorer.domain.race_scenario), replayable by `explore replay --races`.  A thread is
named by its label (ACTOR.K, or `env`), or else by the actor of its first call; a
thread call may use the setup's fds and may not open or close one.  The world is sized
by the program, as `explore replay` sizes it; bad input is a ScenarioError.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from explorer.bridge.race_model import NotEnabled, RaceModel
from explorer.bridge.race_runs import notes, play
from explorer.domain.race_scenario import format_race, parse_race
from explorer.domain.race_world import PENDING, Call, Resume
from explorer.domain.scenario import ScenarioError, owner_index, result_name, world_event
from explorer.domain.vfs import Spec
from explorer.domain.world import NORMAL, VOLATILE

Outcome = tuple[str | None, ...]


def outcomes(
    spec: Spec,
    setup: Sequence[str],
    threads: Sequence[Sequence[str]],
    labels: Sequence[str] = (),
    options: tuple[int, ...] = (NORMAL, VOLATILE),
    notes_too: bool = True,
) -> dict[Outcome, list[str]]:
    """Every outcome of the program under `spec`, with a shortest run each (with what
    each step's accesses did as comments, unless `notes_too` is off)."""
    names = _labels(setup, threads, labels)
    text = "\n".join(
        [*setup, *(f"{names[k]}: {c}" for k, calls in enumerate(threads) for c in calls)]
    )
    rs = parse_race(text, "<race program>")
    model = RaceModel(spec, rs.calls.bounds, options, rs.threads)
    head = parse_race("\n".join(setup), "<race program>") if setup else None
    start = model.layout.initial()
    prefix: list[tuple[Any, Any]] = []
    slots: dict[str, int] = {}
    if head is not None:
        head.calls.bounds = rs.calls.bounds
        played = play(model, head)
        if any(
            ln.expect not in (None, r) for ln, r in zip(head.lines, played.results, strict=True)
        ):
            bad = next(
                ln
                for ln, r in zip(head.lines, played.results, strict=True)
                if ln.expect not in (None, r)
            )
            raise ScenarioError(
                rs.source, bad.n, str(bad.event), f"{spec.name} gives another result"
            )
        prefix, start = played.steps, played.states[-1] if played.states else start
        slots = _slots(model, played.steps, head)
    calls = _calls(model, rs, threads, slots, start, len(setup))
    runs = _search(model, start, calls)
    out = {}
    for outcome, steps in sorted(runs.items(), key=lambda kv: repr(kv[0])):
        whole = prefix + steps
        out[outcome] = format_race(model.layout, whole, notes(model, whole) if notes_too else None)
    return out


def _labels(
    setup: Sequence[str], threads: Sequence[Sequence[str]], labels: Sequence[str]
) -> list[str]:
    """Each thread's name: its label, or its actor's next thread."""
    if labels and len(labels) != len(threads):
        raise ScenarioError("<race program>", 0, "", "one label per thread")
    if labels:
        return list(labels)
    owners: dict[str, str] = {}
    for line in setup:
        w = line.split("#")[0].split()
        if len(w) >= 3 and w[0] == "open":
            owners[w[1]] = w[2]
    out, seen = [], {}  # type: ignore[var-annotated]
    for calls in threads:
        w = calls[0].split("#")[0].split() if calls else []
        actor = (
            "env"
            if w and w[0] in ("wberror", "evict")
            else owners.get(w[1] if len(w) > 1 else "", "host")
        )
        if w and w[0] in ("mount", "umount"):
            actor = w[1]
        if actor == "env":
            out.append("env")
            continue
        seen[actor] = seen.get(actor, 0) + 1
        out.append(f"{actor}.{seen[actor]}")
    return out


def _slots(model: RaceModel, steps, head) -> dict[str, int]:
    """The setup's fd names -> their slots."""
    out: dict[str, int] = {}
    calls = [ln.event for ln in head.lines if ln.event is not None]
    opens = [a.event.arg for a, _ in steps if type(a) is Call and a.event.verb == "open"]
    for e in calls:
        if e.verb == "open":
            out[e.fd or ""] = opens.pop(0)
        elif e.verb == "close":
            out.pop(e.fd or "", None)
    return out


def _calls(model, rs, threads, slots, start, skip) -> list[tuple[int, list[Any]]]:
    """Per thread, its lane and its calls as world events."""
    out = []
    lines = rs.lines[skip:]
    k = 0
    for calls in threads:
        mine = lines[k : k + len(calls)]
        k += len(calls)
        evs = []
        for ln in mine:
            if ln.event.verb in ("open", "close"):
                raise ScenarioError(
                    rs.source, ln.n, ln.event.verb, "a thread may not open or close"
                )
            evs.append(world_event(rs.calls, ln.event, slots, start[: model.bounds.width]))
        lane = model.layout.lane_of(evs[0], start) if mine and mine[0].lane == "env" else None
        if lane is None and mine:
            who, _, n = (mine[0].lane or "").partition(".")
            lane = owner_index(who, model.bounds.mounts) * model.layout.threads + int(n) - 1
        out.append((lane if lane is not None else -1, evs))
    return out


def _search(model: RaceModel, start, calls) -> dict[Outcome, list[tuple[Any, Any]]]:
    """Breadth first over (state, each thread's next call, results so far): the first
    run found with an outcome has the fewest steps."""
    L = model.layout
    n = len(calls)
    root: tuple[Any, tuple[int, ...], tuple[tuple[int, int, str | None], ...]] = (
        start,
        (0,) * n,
        (),
    )
    parent: dict[Any, Any] = {root: None}
    queue = deque([root])
    found: dict[Outcome, Any] = {}
    while queue:
        node = queue.popleft()
        state, pcs, res = node
        moved = False
        for k, (lane, evs) in enumerate(calls):
            rec = state[L.lane0 + lane]
            if rec:
                action: Any = Resume(lane, L.events[rec[0]])
            elif pcs[k] < len(evs):
                action = Call(lane, evs[pcs[k]])
            else:
                continue
            try:
                t, obs = model.next_state(state, action)
            except NotEnabled:
                continue
            moved = True
            pc2, res2 = pcs, res
            if obs is not PENDING:
                pc2 = pcs[:k] + (pcs[k] + 1,) + pcs[k + 1 :]
                res2 = res + ((k, pcs[k], result_name(obs)),)
            child = (t, pc2, res2)
            if child not in parent:
                parent[child] = (node, (action, obs))
                queue.append(child)
        if not moved and all(p == len(e) for p, (_, e) in zip(pcs, calls, strict=True)):
            outcome = tuple(r for _, _, r in sorted(res))
            found.setdefault(outcome, node)
    out = {}
    for outcome, node in found.items():
        steps = []
        while parent[node] is not None:
            node, step = parent[node]
            steps.append(step)
        out[outcome] = steps[::-1]
    return out
