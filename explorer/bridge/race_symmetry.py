"""Symmetry of the world with calls in flight: containers, an owner's fds, an actor's threads.

The same symmetry as explorer.bridge.symmetry (containers with the same options are
interchangeable, and so are the fds of one owner), and the threads of one actor too.
A permutation now also moves the race fields (pages under writeback, locks, lanes) and
renames the events of the calls in flight, which name fd slots, containers and files.
The group is small at the bounds races are explored at (8 elements at two containers
of two fds and one thread), so the canonical form is the greatest image of the state
under all of them: a plain and certain construction, memoised per state.  The
greatest, because it puts an owner's open fds before its free ones (an open field
is 1 or more, a free slot 0), so the lowest free slot is still the one the next open
takes, as in explorer.bridge.symmetry: a linearization (explorer.bridge.linearizable)
opens fds in the atomic model, which takes that slot.

A permutation is an index tuple P over the state ("index k of the new coordinates is
index P[k] of the old ones"), with the container renaming it implies for the values
of host fds opened on a container's file (`--host-files any`), and the event renaming.
"""

from __future__ import annotations

from itertools import permutations, product
from operator import itemgetter
from typing import Any

from explorer.bridge.symmetry import PermutationArithmetic, move_bits, move_event
from explorer.domain.layout import Event, State
from explorer.domain.race_world import Call, RaceLayout, Resume
from explorer.engine import contract


class RaceSymmetry(PermutationArithmetic, contract.Symmetry[State, Any]):
    """Canonical forms and permutation arithmetic for one race layout."""

    def __init__(self, layout: RaceLayout) -> None:
        self.L, self.b = layout, layout.bounds
        self.n = layout.size
        self.perms: list[tuple[int, ...]] = []
        self.ids: dict[tuple[int, ...], int] = {}
        self._maps: list[tuple[dict[int, int], dict[int, int], dict[int, int], dict[int, int]]] = []
        self._events: list[list[int]] = []  # per perm: old event id -> new event id
        self._compose: dict[tuple[int, int], int] = {}
        self._canon: dict[State, tuple[State, int]] = {}
        self.identity = self.intern(tuple(range(self.n)))
        self.group = [self.intern(p) for p in self._group()]
        lane0 = layout.lane0
        self._getters = {
            pid: (itemgetter(*self.perms[pid][:lane0]), itemgetter(*self.perms[pid][lane0:]))
            for pid in self.group
        }

    # --- the group ---------------------------------------------------------------------

    def _group(self) -> list[tuple[int, ...]]:
        b, L = self.b, self.L
        slot_orders = [list(permutations(b.owner_slots(o))) for o in range(b.mounts + 1)]
        thread_orders = list(permutations(range(L.threads)))
        out = []
        for cperm in permutations(range(b.mounts)):
            for sorders in product(*slot_orders):
                for torders in product(thread_orders, repeat=b.mounts + 1):
                    out.append(self._index_perm(cperm, sorders, torders))
        return out

    def _index_perm(self, cperm, sorders, torders) -> tuple[int, ...]:
        """New container k is old cperm[k]; new slot j of owner o is old sorders[o][j]
        (owner o in new coordinates, its slots taken from the old owner's); new thread j
        of actor a is old torders[a][j]."""
        b, L = self.b, self.L
        p = list(range(self.n))
        owners = [*cperm, b.mounts]  # new owner k <- old owner owners[k]
        for k, old in enumerate(owners):
            for j in range(3):
                p[b.inode_base(k) + j] = b.inode_base(old) + j
                if k < b.mounts:
                    p[b.ofs_base(k) + j] = b.ofs_base(old) + j
            p[L.uw0 + k] = L.uw0 + old
            new_slots, old_slots = b.owner_slots(k), sorders[old]
            for ns, os_ in zip(new_slots, old_slots, strict=True):
                for j in range(3):
                    p[b.fd_base(ns) + j] = b.fd_base(os_) + j
                if L.nlocks:
                    p[L.lock0 + ns] = L.lock0 + os_
            if L.nlocks and k < b.mounts:
                p[L.lock0 + b.slots + k] = L.lock0 + b.slots + old
            for j in range(L.threads):
                p[L.lane0 + k * L.threads + j] = L.lane0 + old * L.threads + torders[old][j]
            p[L.lane0 + L.actor_lanes + k] = L.lane0 + L.actor_lanes + old
        return tuple(p)

    def intern(self, p: tuple[int, ...]) -> int:
        pid = self.ids.get(p)
        if pid is None:
            pid = self.ids[p] = len(self.perms)
            self.perms.append(p)
            self._maps.append(self._derive(p))
            self._events.append(self._event_map(len(self.perms) - 1))
        return pid

    def _derive(self, p: tuple[int, ...]):
        """old -> new maps of containers, files, fd slots and lanes implied by P."""
        b, L = self.b, self.L
        containers = {(p[b.ofs_base(k)] - b.ofs_base(0)) // 3: k for k in range(b.mounts)}
        files = {(p[b.inode_base(k)] - 1) // 3: k for k in range(b.files)}
        base0 = b.fd_base(0)
        slots = {(p[b.fd_base(k)] - base0) // 3: k for k in range(b.slots)}
        lanes = {p[L.lane0 + k] - L.lane0: k for k in range(L.lanes)}
        return containers, files, slots, lanes

    def _event_map(self, pid: int) -> list[int]:
        L = self.L
        return [L.event_id[self._event(ev, pid)] for ev in L.events]

    def _event(self, a: Event, pid: int) -> Event:
        containers, files, slots, _ = self._maps[pid]
        return move_event(a, containers, files, slots)

    # --- canonical forms ---------------------------------------------------------------

    def image(self, s: State, pid: int) -> State:
        """s in the new coordinates of permutation `pid`."""
        b = self.b
        fields, lanes = self._getters[pid]
        t = list(fields(s))
        if b.host_any:
            containers = self._maps[pid][0]
            for slot in b.owner_slots(b.host):
                f = b.fd_base(slot)
                if t[f] > 1:
                    t[f] = 2 + containers[t[f] - 2]
        emap = self._events[pid]
        recs = lanes(s)
        if any(recs):
            t.extend((emap[r[0]], *r[1:]) if r else 0 for r in recs)
        else:
            t.extend(recs)
        return tuple(t)

    def atomic_image(self, a: State, pid: int) -> State:
        """An atomic world state (the fields only) in the new coordinates of `pid`."""
        b = self.b
        p = self.perms[pid]
        t = [a[p[i]] for i in range(b.width)]
        if b.host_any:
            containers = self._maps[pid][0]
            for slot in b.owner_slots(b.host):
                f = b.fd_base(slot)
                if t[f] > 1:
                    t[f] = 2 + containers[t[f] - 2]
        return tuple(t)

    def canonical(self, s: State) -> tuple[State, int]:
        hit = self._canon.get(s)
        if hit is not None:
            return hit
        lane0 = self.L.lane0
        best: tuple[Any, State, int] | None = None
        busy = any(s[lane0:])
        for pid in self.group:
            t = self.image(s, pid)
            key = (t[:lane0], tuple(r or () for r in t[lane0:])) if busy else t
            if best is None or key > best[0]:
                best = (key, t, pid)
        assert best is not None
        out = (s, self.identity) if best[1] == s else (best[1], best[2])
        if len(self._canon) < 1 << 20:
            self._canon[s] = out
        return out

    def translate_action(self, a: Any, p: int) -> Any:
        """A Call or Resume in old coordinates, in the new coordinates of p."""
        lane = self._maps[p][3][a.lane]
        ev = self._event(a.event, p)
        return Call(lane, ev) if type(a) is Call else Resume(lane, ev)

    def translate_lane(self, lane: int, p: int) -> int:
        return self._maps[p][3][lane]

    def slot_bits(self, mask: int, p: int) -> int:
        return move_bits(mask, self._maps[p][2])

    def file_bits(self, mask: int, p: int) -> int:
        return move_bits(mask, self._maps[p][1])

    def lane_bits(self, mask: int, p: int) -> int:
        return move_bits(mask, self._maps[p][3])
