"""The guarantees argued in the thread, as monitors over runs of the errseq world.

Each monitor follows a run event by event and carries a small int of bookkeeping
(bit masks), so that explorer.properties.safety can check it on the product of the
transition graph and the monitor without knowing what the bits mean.

- open-before (Matthew Wilcox, 20201228155618.GA6211@casper.infradead.org): "a fd
  that was open before the error occurred will see the error".  An fd open when an
  error is recorded owes an error on its next syncfs (errors of files in the fd's
  filesystem: every file for a host fd, the container's own file for a container fd)
  and on its next fsync (its own file).  The duty ends with that call, whatever it
  returns, or with close.  Checked for syncfs and for fsync separately.
- no-loss (Jeff Layton, the seed: "that error will be lost forever"): once recorded,
  an error stays reportable until it has been reported to someone.  A syncfs that
  returns EIO reports every file's error; an fsync only its own file's.  A state in
  which an error was never reported and neither an open fd nor a fresh open (in any
  mounted container, or in the host, always) would get it from syncfs or fsync has
  lost it.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.model import ErrseqModel
from explorer.world import Event, File, State, World


@dataclass
class OpenBefore:
    """Per fd slot, one duty bit: the fd was open when an error it must see was recorded."""

    model: ErrseqModel
    call: str  # "syncfs" or "fsync"

    @property
    def name(self) -> str:
        return f"open-before-{self.call}"

    def initial(self) -> int:
        return 0

    def _covers(self, slot: int, ino: int) -> bool:
        b = self.model.bounds
        owner = b.owner(slot)
        if self.call == "syncfs" and owner == b.host:
            return True  # a host fd's filesystem is the whole upper fs
        return owner == ino

    def step(self, duty: int, s: State, ev: Event, ret: int | None) -> tuple[int, str]:
        """Next duty mask, and why this step violates the guarantee ('' if it does not)."""
        b = self.model.bounds
        if ev.verb == "wberror":
            for slot in range(b.slots):
                if s[b.fd_base(slot)] and self._covers(slot, ev.arg):
                    duty |= 1 << slot
            return duty, ""
        if ev.verb == "close":
            return duty & ~(1 << ev.arg), ""
        if ev.verb == self.call:
            bit = 1 << ev.arg
            if duty & bit:
                duty &= ~bit
                if ret == 0:
                    return duty, f"{self.call} returned 0 on an fd open when the error was recorded"
        return duty, ""

    def translate(self, duty: int, perm: int) -> int:
        """Carry the duty bits into the canonical coordinates of the next state."""
        return self.model.sym.slot_bits(duty, perm)


@dataclass
class NoLoss:
    """One bit per file: an error recorded on it that nobody has been told about yet."""

    model: ErrseqModel
    name: str = "no-loss"

    def initial(self) -> int:
        return 0

    def step(self, unreported: int, s: State, ev: Event, ret: int | None) -> tuple[int, str]:
        if ev.verb == "wberror":
            unreported |= 1 << ev.arg
        elif ev.verb == "syncfs" and ret:
            unreported = 0
        elif ev.verb == "fsync" and ret:
            unreported &= ~(1 << self.model.bounds.owner(ev.arg))
        return unreported, ""

    def after(self, unreported: int, t: State) -> str:
        """The state reached: is an unreported error still reportable by someone?"""
        if unreported and not self.reportable(t, unreported):
            return "an error nobody was told about can no longer be reported"
        return ""

    def translate(self, unreported: int, perm: int) -> int:
        """Carry the per-file bits into the canonical coordinates of the next state."""
        return self.model.sym.file_bits(unreported, perm)

    def reportable(self, s: State, unreported: int) -> bool:
        """Would some open fd, or a fresh open, get an error from syncfs or fsync?"""
        m, b = self.model, self.model.bounds
        for slot in range(b.slots):
            if s[b.fd_base(slot)]:
                if m.next_state(s, Event("syncfs", slot))[1]:
                    return True
                if unreported >> b.owner(slot) & 1 and m.next_state(s, Event("fsync", slot))[1]:
                    return True
        for owner in range(b.mounts + 1):
            if owner != b.host and not s[b.ofs_base(owner)]:
                continue
            if self.fresh_open_reports(s, owner, "syncfs"):
                return True
            if unreported >> owner & 1 and self.fresh_open_reports(s, owner, "fsync"):
                return True
        return False

    def fresh_open_reports(self, s: State, owner: int, call: str) -> bool:
        """Open a new fd (in a slot beyond the bounds) for `owner`, then call syncfs/fsync."""
        spec, b = self.model.spec, self.model.bounds
        w = World(b, s + (1, 0, 0))
        f = File(w._w, len(s), -1, owner)
        w.inode(owner).cached = 1
        host = owner == b.host
        ofs = None if host else w.ofs(owner)
        if ofs is None:
            spec.vfs_open(w, f)
        else:
            spec.ovl_open(w, ofs, f)
        if call == "syncfs":
            ret = spec.vfs_syncfs(w, f) if ofs is None else spec.ovl_syncfs(w, ofs, f)
        else:
            ret = spec.vfs_fsync(w, f) if ofs is None else spec.ovl_fsync(w, ofs, f)
        return bool(ret)


def monitors(model: ErrseqModel) -> dict[str, object]:
    """Every monitor-checked property of this module, by name."""
    return {
        "open-before-syncfs": OpenBefore(model, "syncfs"),
        "open-before-fsync": OpenBefore(model, "fsync"),
        "no-loss": NoLoss(model),
    }
