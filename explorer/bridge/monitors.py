"""The guarantees argued in the thread, as monitors over runs of the errseq world.

Each monitor follows a run event by event and carries a small int of bookkeeping
(bit masks), so that explorer.engine.properties.safety can check it on the product of the
transition graph and the monitor without knowing what the bits mean.

- open-before (Matthew Wilcox, 20201228155618.GA6211@casper.infradead.org): "a fd
  that was open before the error occurred will see the error".  An fd open when an
  error is recorded owes an error on its next syncfs (errors of files in the fd's
  filesystem: every file for a host fd, the container's own file for a container fd)
  and on its next fsync (its own file: for a host fd on a container's upper file,
  `--host-files any`, that file).  The duty ends with that call, whatever it
  returns, or with close.  Checked for syncfs and for fsync separately.
- no-loss (Jeff Layton, the seed: "that error will be lost forever"): once recorded,
  an error stays reportable until it has been reported to someone.  A syncfs that
  returns EIO reports every file's error; an fsync only its own file's.  Each
  unreported error is judged on its own: a state has lost one when no syncfs (on an
  open fd, or after a fresh open in a mounted container or by the host) would return
  an error, and no fsync of its file would (on an open fd of it, after a fresh open in
  its container, or after a fresh open by the host, which can open any file of the
  upper fs, `upperdir/file` included, whatever --host-fds says).  An open host fd on a
  container's upper file is one more channel for that file's fsync.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.bridge.model import ErrseqModel
from explorer.domain.hookerror import SpecHookError, hook_error
from explorer.domain.userfile import PASS_THROUGH
from explorer.domain.vfs import check_result
from explorer.domain.world import Event, File, State, World
from explorer.engine.contract import Monitor


@dataclass
class OpenBefore(Monitor[State, Event, "int | None", int]):
    """Per fd slot, one duty bit: the fd was open when an error it must see was recorded."""

    model: ErrseqModel
    call: str  # "syncfs" or "fsync"
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = f"open-before-{self.call}"
        self._reason = f"{self.call} returned 0 on an fd open when the error was recorded"
        b = self.model.bounds
        # Per file, the (open field, bit) of each slot whose fd owes an error on it, when
        # that does not depend on which file a host slot holds: `step` runs on every edge.
        self._owed = (
            None
            if self.call == "fsync" and b.host_any
            else [
                [(b.fd_base(x), 1 << x) for x in range(b.slots) if self._covers((), x, ino)]
                for ino in range(b.files)
            ]
        )

    def initial(self) -> int:
        return 0

    def _covers(self, s: State, slot: int, ino: int) -> bool:
        b = self.model.bounds
        owner = b.owner(slot)
        if self.call == "syncfs" and owner == b.host:
            return True  # a host fd's filesystem is the whole upper fs
        if self.call == "syncfs" or not b.host_any:
            return owner == ino  # an overlay holds only its own file; an fd, its owner's
        return b.slot_file(s, slot) == ino

    def step(self, duty: int, s: State, ev: Event, ret: int | None) -> tuple[int, str]:
        """Next duty mask, and why this step violates the guarantee ('' if it does not)."""
        verb = ev.verb
        if verb == self.call:
            bit = 1 << ev.arg
            if duty & bit:
                duty ^= bit
                if ret == 0:
                    return duty, self._reason
            return duty, ""
        if verb == "wberror":
            owed = self._owed
            if owed is not None:
                for f, bit in owed[ev.arg]:
                    if s[f]:
                        duty |= bit
                return duty, ""
            b = self.model.bounds
            for slot in range(b.slots):
                if s[b.fd_base(slot)] and self._covers(s, slot, ev.arg):
                    duty |= 1 << slot
            return duty, ""
        if verb == "close":
            return duty & ~(1 << ev.arg), ""
        return duty, ""

    def translate(self, duty: int, perm: int) -> int:
        """Carry the duty bits into the canonical coordinates of the next state."""
        return self.model.symmetry.slot_bits(duty, perm)  # type: ignore[union-attr]


@dataclass
class NoLoss(Monitor[State, Event, "int | None", int]):
    """One bit per file: an error recorded on it that nobody has been told about yet."""

    model: ErrseqModel
    name: str = "no-loss"
    #: state -> `syncfs_reports`: a state is judged once per unreported mask reaching it
    _syncfs: dict[State, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    def initial(self) -> int:
        return 0

    def step(self, unreported: int, s: State, ev: Event, ret: int | None) -> tuple[int, str]:
        if ev.verb == "wberror":
            unreported |= 1 << ev.arg
        elif ev.verb == "syncfs" and ret:
            unreported = 0
        elif ev.verb == "fsync" and ret:
            b = self.model.bounds
            unreported &= ~(1 << (b.slot_file(s, ev.arg) if b.host_any else b.owner(ev.arg)))
        return unreported, ""

    def after(self, unreported: int, t: State) -> str:
        """The state reached: is every unreported error still reportable by someone?"""
        ino = self.lost(t, unreported)
        if ino is None:
            return ""
        # Name the host's file only: a container index is a canonical one when the
        # graph is reduced by symmetry, not necessarily the witness's container.
        whose = "the host's file" if ino == self.model.bounds.host else "a container's file"
        return f"an error on {whose}, never reported, can no longer be reported"

    def translate(self, unreported: int, perm: int) -> int:
        """Carry the per-file bits into the canonical coordinates of the next state."""
        return self.model.symmetry.file_bits(unreported, perm)  # type: ignore[union-attr]

    def lost(self, s: State, unreported: int) -> int | None:
        """The file of an unreported error that no syncfs or fsync can report any more."""
        if not unreported or self.syncfs_reports(s):
            return None
        for ino in range(self.model.bounds.files):
            if unreported >> ino & 1 and not self.fsync_reports(s, ino):
                return ino
        return None

    def syncfs_reports(self, s: State) -> bool:
        """Would a syncfs return an error (and so report every file's): on an open fd, or
        on a fresh open in a mounted container or by the host?"""
        known = self._syncfs.get(s)
        if known is None:
            known = self._syncfs[s] = self._syncfs_reports(s)
        return known

    def _syncfs_reports(self, s: State) -> bool:
        m, b = self.model, self.model.bounds
        for slot in range(b.slots):
            if s[b.fd_base(slot)] and m.next_state(s, Event("syncfs", slot))[1]:
                return True
        # The host's syncfs checks the upper sb whichever file it opened: its own will do.
        for owner in range(b.mounts + 1):
            if (owner == b.host or s[b.ofs_base(owner)]) and self.fresh_call(
                s, owner, owner, "syncfs"
            ):
                return True
        return False

    def fsync_reports(self, s: State, ino: int) -> bool:
        """Would an fsync of file `ino` return an error: on an open fd of it (its
        container's, or a host fd opened on it), after a fresh open in its container (if
        mounted), or after a fresh open by the host, which can open any file of the upper
        fs (`upperdir/file`), whatever --host-fds says?"""
        m, b = self.model, self.model.bounds
        for slot in b.owner_slots(ino):
            if s[b.fd_base(slot)] == 1 and m.next_state(s, Event("fsync", slot))[1]:
                return True
        if b.host_any and ino != b.host:
            held = 2 + ino  # a host fd opened on this container's file
            for slot in b.owner_slots(b.host):
                if s[b.fd_base(slot)] == held and m.next_state(s, Event("fsync", slot))[1]:
                    return True
        if ino != b.host and s[b.ofs_base(ino)] and self.fresh_call(s, ino, ino, "fsync"):
            return True
        return bool(self.fresh_call(s, b.host, ino, "fsync"))

    def fresh_call(self, s: State, owner: int, ino: int, call: str) -> int:
        """`owner` opens file `ino` in a scratch slot beyond the bounds, then calls syncfs
        or fsync; the result.  The one place no-loss runs spec hooks itself: a container
        opens through its overlay, the host with the plain VFS rules.  What a hook raises
        is a SpecHookError naming that hook, as `hook_errors` makes it (one try for both
        hooks: this runs for many states)."""
        spec, b = self.model.spec, self.model.bounds
        w = World(b, s + (1, 0, 0))
        f = File(w._w, len(s), -1, owner)
        f.ino = ino
        w.inode(ino).cached = 1
        host = owner == b.host
        opener = "vfs_open" if host else "ovl_open"
        hook = f"vfs_{call}" if host else ("sys_syncfs" if call == "syncfs" else "ovl_fsync")
        now, what = opener, self._opening(owner)
        try:
            if host:
                opened = spec.vfs_open(w, f)
            else:
                ofs = w.ofs(owner)
                opened = spec.ovl_open(w, ofs, f)
            if check_result(spec, opener, what, opened):
                return 0  # the open fails: no fd to call on
            now, what = hook, self._calling(owner, call)
            if host:
                ret = spec.vfs_syncfs(w, f) if call == "syncfs" else spec.vfs_fsync(w, f)
            else:
                ret = spec.sys_syncfs(w, ofs, f) if call == "syncfs" else spec.ovl_fsync(w, ofs, f)
            return check_result(spec, hook, what, ret)
        except (*PASS_THROUGH, SpecHookError):
            raise
        except BaseException as exc:
            raise hook_error(spec, now, what, exc) from exc

    def _opening(self, owner: int) -> str:
        return f"event 'open' by {self.model.bounds.owner_name(owner)} (a fresh open no-loss tries)"

    def _calling(self, owner: int, call: str) -> str:
        who = self.model.bounds.owner_name(owner)
        return f"event '{call}' by {who} (after a fresh open no-loss tries)"
