"""open-before and no-loss (explorer.bridge.monitors) over runs whose calls are in steps.

A call's result is the observation of the step that ends it (explorer.bridge.race_model).

- open-before: the fds open before an error are those whose open had returned when its
  failing writeback began (it takes the page); they owe the error once it is recorded
  (the writeback's last step).  A call of the property's kind pays the debt when it
  ends, unless it was in flight already when the debt began and returns 0 (it may
  fairly miss an error recorded after it started: those lanes are remembered; an fd
  that owes already keeps the one debt); one that ends with 0 while another call of that kind on the same fd,
  begun after the debt, is still in flight leaves the debt to that one.
- no-loss: a failing writeback marks its file when it begins, and a call ending with
  an error clears marks as in explorer.bridge.monitors; a state is judged only when
  no call is in flight (an error an in-flight call is about to return is not lost,
  and every call in flight can end: nothing waits for ever).  A call that ends with an
  error while a failing writeback is in flight clears that mark too, which can hide a
  loss but never invent one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.bridge.monitors import NoLoss, OpenBefore
from explorer.bridge.race_model import RaceModel
from explorer.domain.race_world import PENDING, Call
from explorer.domain.world import Event, State
from explorer.engine.contract import Monitor


@dataclass
class RaceOpenBefore(Monitor[State, object, object, int]):
    """Bits, from the lowest: per fd slot a duty; per lane, a call in flight when a duty
    began; per file and fd slot, an fd open when that file's failing writeback began."""

    model: RaceModel
    call: str
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = f"open-before-{self.call}"
        self.atomic = OpenBefore(self.model.atomic, self.call)
        self.slots = self.model.bounds.slots
        self.lanes = self.model.layout.lanes
        self.all_slots = (1 << self.slots) - 1

    def initial(self) -> int:
        return 0

    def _cand(self, ino: int) -> int:
        return self.slots + self.lanes + ino * self.slots

    def step(self, m: int, s: State, action, obs: object) -> tuple[int, str]:
        ev, lane = action.event, action.lane
        L, b = self.model.layout, self.model.bounds
        if ev.verb == "wberror":
            at = self._cand(ev.arg)
            if type(action) is Call:  # the fds open before the error
                opening = {e.arg for _, e in L.in_flight(s) if e.verb == "open"}
                for slot in range(b.slots):
                    if s[b.fd_base(slot)] and slot not in opening:
                        if self.atomic._covers(s, slot, ev.arg):
                            m |= 1 << (at + slot)
            if obs is PENDING:
                return m, ""
            new = (m >> at) & self.all_slots & ~m  # the error is recorded: they owe it
            m &= ~(self.all_slots << at)
            for other, e in L.in_flight(s):
                if e.verb == self.call and other != lane and new >> e.arg & 1:
                    m |= 1 << (self.slots + other)
            return m | new, ""
        if ev.verb == "close":
            clear = 1 << ev.arg
            for ino in range(b.files):
                clear |= 1 << (self._cand(ino) + ev.arg)
            return m & ~clear, ""
        if ev.verb != self.call or obs is PENDING:
            return m, ""
        if obs:  # the fd is told of an error: of one in flight too, if it was open for it
            for ino in range(b.files):
                m &= ~(1 << (self._cand(ino) + ev.arg))
        early = 1 << (self.slots + lane)
        bit = 1 << ev.arg
        if m & early:  # begun before the error: an error it returns pays, 0 is fair
            return m & ~early & ~(bit if obs else 0), ""
        if not m & bit:
            return m, ""
        if obs != 0:
            return m & ~bit, ""
        for other, e in L.in_flight(s):
            if other != lane and e == ev and not m >> (self.slots + other) & 1:
                return m, ""  # a later call on this fd may still report it
        return m & ~bit, f"{self.call} returned 0 on an fd open when the error was recorded"

    def translate(self, m: int, perm: int) -> int:
        sym = self.model.symmetry
        assert sym is not None
        out = sym.slot_bits(m & self.all_slots, perm)
        out |= sym.lane_bits((m >> self.slots) & ((1 << self.lanes) - 1), perm) << self.slots
        for ino in range(self.model.bounds.files):
            cand = (m >> self._cand(ino)) & self.all_slots
            if cand:
                moved = sym.file_bits(1 << ino, perm).bit_length() - 1
                out |= sym.slot_bits(cand, perm) << self._cand(moved)
        return out


@dataclass
class RaceNoLoss(Monitor[State, object, object, int]):
    """One bit per file: an error whose failing writeback began and that nobody has been
    told about yet."""

    model: RaceModel
    name: str = "no-loss"

    def __post_init__(self) -> None:
        self.atomic = NoLoss(self.model.atomic)

    def initial(self) -> int:
        return 0

    def step(self, m: int, s: State, action, obs: object) -> tuple[int, str]:
        ev: Event = action.event
        if ev.verb == "wberror":
            if type(action) is Call:
                m |= 1 << ev.arg
        elif obs is PENDING or not obs:
            pass
        elif ev.verb == "syncfs":
            m = 0
        elif ev.verb == "fsync":
            b = self.model.bounds
            m &= ~(1 << (b.slot_file(s, ev.arg) if b.host_any else b.owner(ev.arg)))
        return m, ""

    def after(self, m: int, t: State) -> str:
        """Judged when no call is in flight, on the world's fields."""
        if not m or not self.model.layout.quiescent(t):
            return ""
        return self.atomic.after(m, t[: self.model.bounds.width])

    def translate(self, m: int, perm: int) -> int:
        sym = self.model.symmetry
        assert sym is not None
        return sym.file_bits(m, perm)


def race_monitors(model: RaceModel) -> dict[str, Monitor]:
    """The monitor-checked properties, for a model with calls in steps."""
    return {
        "open-before-syncfs": RaceOpenBefore(model, "syncfs"),
        "open-before-fsync": RaceOpenBefore(model, "fsync"),
        "no-loss": RaceNoLoss(model),
    }
