"""Runs with calls in steps, read and written: a race scenario played, a step described.

`play` takes every step of a race scenario (explorer.domain.race_scenario) through a
RaceModel, as written, and says what each line returned; `notes` says what each
step's accesses did, in the kernel's names, for the step notation's comments.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from explorer.bridge.model import errseq_str
from explorer.bridge.race_model import NotEnabled, RaceModel
from explorer.domain import world
from explorer.domain.race_scenario import Line, RaceScenario
from explorer.domain.race_world import PENDING, Call, Resume
from explorer.domain.scenario import ScenarioError, owner_index, result_name, world_event
from explorer.domain.world import State


@dataclass
class Played:
    """A race scenario played: its steps (action, observation), each step's line, and
    each line's result as the tool prints it ("0", "EIO", None; "..." while it goes on)."""

    steps: list[tuple[Any, Any]] = field(default_factory=list)
    line_of: list[int] = field(default_factory=list)
    results: list[str | None] = field(default_factory=list)
    states: list[State] = field(default_factory=list)


def play(model: RaceModel, rs: RaceScenario) -> Played:
    """Take every step as written; ScenarioError where one cannot be taken."""
    L, b = model.layout, model.bounds
    calls = dataclasses.replace(rs.calls, bounds=b)  # the model's world may be larger
    state = L.initial()
    slots: dict[str, int] = {}
    opening: dict[int, tuple[str, int]] = {}  # lane -> the fd and line of its open
    failed: dict[str, str] = {}  # an fd whose open failed: why it is not open
    out = Played()
    for i, ln in enumerate(rs.lines):
        if ln.event is not None:
            fd = ln.event.fd or ""
            if ln.event.verb != "open" and fd in failed:
                raise ScenarioError(rs.source, ln.n, fd, failed[fd])
            ev = world_event(calls, ln.event, slots, state[: b.width])
            lane = _lane(model, rs, ln, ev, state)
            if ln.event.verb == "open":
                slots[fd] = ev.arg
                opening[lane] = (fd, ln.n)
            action: Any = Call(lane, ev)
        else:
            assert ln.lane is not None
            lane = _lane_of_name(model, ln.lane)
            rec = state[L.lane0 + lane]
            if not rec:
                raise ScenarioError(rs.source, ln.n, ln.lane, "no call of this thread is going on")
            action = Resume(lane, L.events[rec[0]])
        state = _take(model, rs, ln, state, action, out, i)
        while ln.take == "whole" and out.steps[-1][1] is PENDING:
            state = _take(model, rs, ln, state, Resume(action.lane, action.event), out, i)
        obs = out.steps[-1][1]
        if obs is not PENDING and action.lane in opening:
            fd, n = opening.pop(action.lane)
            if obs:  # the open failed: no fd (docs/model.md §2)
                slots.pop(fd, None)
                failed[fd] = f"{fd} is not open: its open on line {n} returned {result_name(obs)}"
        if ln.take in ("begin", "step") and obs is not PENDING:
            raise ScenarioError(rs.source, ln.n, "...", f"the call ends here ({result_name(obs)})")
        if ln.take == "end" and obs is PENDING:
            raise ScenarioError(rs.source, ln.n, "...", "the call goes on after this step")
        out.results.append("..." if obs is PENDING else result_name(obs))
        if ln.event is not None and ln.event.verb == "close":
            slots.pop(ln.event.fd or "", None)
    return out


def _take(model, rs, ln: Line, state: State, action, out: Played, i: int) -> State:
    try:
        state, obs = model.next_state(state, action)
    except NotEnabled:
        raise ScenarioError(rs.source, ln.n, "", _why(model, state, action)) from None
    out.steps.append((action, obs))
    out.line_of.append(i)
    out.states.append(state)
    return state


def _why(model: RaceModel, state: State, action) -> str:
    b = model.bounds
    if type(action) is Call:
        reason = world.why_disabled(b, state[: b.width], action.event, model.options)
        return reason or "this call cannot begin while the calls in flight go on"
    return "this step has to wait (a lock is held, or a page is under writeback)"


def _lane(model: RaceModel, rs: RaceScenario, ln: Line, ev, state: State) -> int:
    L = model.layout
    if ln.lane is None or ln.lane == "env":
        lane = L.lane_of(ev, state)
        if lane is None:
            raise ScenarioError(rs.source, ln.n, str(ln.event), "its thread is in another call")
        return lane
    lane = _lane_of_name(model, ln.lane)
    if state[L.lane0 + lane]:
        raise ScenarioError(rs.source, ln.n, ln.lane, "this thread is in another call")
    return lane


def _lane_of_name(model: RaceModel, name: str) -> int:
    L, b = model.layout, model.bounds
    who, _, k = name.partition(".")
    if who == "env":
        return L.actor_lanes + owner_index(k, b.mounts)
    return owner_index(who, b.mounts) * L.threads + int(k) - 1


# --- what a step did ----------------------------------------------------------------


def notes(
    model: RaceModel, steps: list[tuple[Any, Any]], fd_names: list[str] | None = None
) -> list[str]:
    """Per step, what its accesses did ("read upper.s_wb_err: EIO#0"), replayed from the
    initial state.  `fd_names`: the names the opens give their fds, in order (default
    fd1, fd2, ...)."""
    state = model.layout.initial()
    names: dict[int, str] = {}
    given = iter(fd_names or ())
    out = []
    for action, _ in steps:
        if type(action) is Call and action.event.verb == "open":
            names[action.event.arg] = next(given, None) or f"fd{len(names) + 1}"
        got = model.describe_step(state, action)
        assert got is not None, "a step of a recorded run is enabled"
        out.append("; ".join(_label(model, names, lab) for lab in got.labels))
        state = got.state
    return out


def _label(model: RaceModel, names: dict[int, str], lab: tuple) -> str:
    kind = lab[0]
    es = model.spec.errseq

    def v(x: int) -> str:
        return errseq_str(x, es)

    if kind == "read":
        return f"read {field_name(model, names, lab[1])}: {v(lab[2])}"
    if kind == "store":
        i, b = lab[1], model.bounds
        dirty = i < b.ofs_base(0) and (i - 1) % 3 == 1
        return f"{field_name(model, names, i)} = {lab[2] if dirty else v(lab[2])}"
    if kind == "cmpxchg":
        _, i, old, new, cur = lab
        done = "" if cur == old else f" failed, found {v(cur)}"
        return f"cmpxchg {field_name(model, names, i)} {v(old)} -> {v(new)}{done}"
    if kind == "update":
        _, i, old, new = lab
        return f"errseq_set {field_name(model, names, i)}: {v(old)} -> {v(new)}"
    if kind == "writeback":
        return str(lab[1])
    if kind == "take":
        return "takes the dirty page"
    if kind == "lock":
        return "spin_lock"
    return str(lab[1])


def field_name(model: RaceModel, names: dict[int, str], i: int) -> str:
    """The kernel's name of field `i` of the world (an fd's by the run's name for it)."""
    b = model.bounds
    if i == 0:
        return "upper.s_wb_err"
    if i < b.ofs_base(0):
        ino, k = divmod(i - 1, 3)
        return f"{b.owner_name(ino)} file's " + ("wb_err" if k == 0 else "dirty page")
    if i < b.fd_base(0):
        c, k = divmod(i - b.ofs_base(0), 3)
        return f"ovl{c + 1}'s " + ("sb s_wb_err" if k == 1 else "ofs->errseq")
    slot, k = divmod(i - b.fd_base(0), 3)
    return f"{names.get(slot, f'slot {slot + 1}')}'s " + ("f_wb_err" if k == 1 else "f_sb_err")
