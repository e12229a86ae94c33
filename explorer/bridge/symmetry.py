"""Symmetry reduction: containers with the same options are interchangeable, and so are
the fds of one owner.  A state is stored once per class, in a canonical form.

The canonical form sorts the fd slots of each owner (open ones first, so the lowest
free slot stays the next one an open takes) and then sorts the containers, each
carried with its file, its overlay mount and its fd slots.  The upper superblock and
the host's file stay put.

A host fd on a container's upper file (`--host-files any`) names that container in its
slot's value (`open` = 2 + c), so moving a container moves that value too: a
permutation is an index permutation of the state *and* a renaming of those values.
The renaming follows from the container order, so a permutation id still says
everything.  To keep one canonical form per class, a container's sort key also holds
the cursors of the host fds on its file, and the host's slots are sorted after the
renaming.

A permutation is kept as an index tuple P over the state layout, read as "index k of
the new coordinates is index P[k] of the old ones".  The engine only sees permutation
ids and asks this module to compose them and to translate actions and monitor bits.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from operator import itemgetter
from typing import cast

from explorer.domain.world import Bounds, Event, State
from explorer.engine import contract

#: Some fields of a state, as a tuple that compares as the canonical order does.
Getter = Callable[[State], tuple[int, ...]]


class PermutationArithmetic:
    """Index permutations of a state, interned as small ids, and their arithmetic: what
    the atomic and the race symmetry share (each interns in its own way)."""

    n: int
    perms: list[tuple[int, ...]]
    _compose: dict[tuple[int, int], int]

    def intern(self, p: tuple[int, ...]) -> int:
        raise NotImplementedError

    def compose(self, p: int, q: int) -> int:
        """First p (old -> mid), then q (mid -> new): new k is old P[Q[k]]."""
        key = (p, q)
        r = self._compose.get(key)
        if r is None:
            pp, qq = self.perms[p], self.perms[q]
            r = self._compose[key] = self.intern(tuple(pp[i] for i in qq))
        return r

    def portable(self, p: int) -> tuple[int, ...]:
        """Ids are interned in the order a process meets permutations; the index
        permutation itself means the same everywhere."""
        return self.perms[p]

    def local(self, value: Hashable) -> int:
        return self.intern(cast(tuple[int, ...], value))  # what `portable` gave

    def inverse(self, p: int) -> int:
        pp = self.perms[p]
        inv = [0] * self.n
        for k, old in enumerate(pp):
            inv[old] = k
        return self.intern(tuple(inv))


class Symmetry(PermutationArithmetic, contract.Symmetry[State, Event]):
    """Canonical forms and permutation arithmetic for one bounds."""

    def __init__(self, b: Bounds) -> None:
        self.b = b
        self.n = b.width
        self.perms: list[tuple[int, ...]] = []
        self.ids: dict[tuple[int, ...], int] = {}
        self._maps: list[tuple[dict[int, int], dict[int, int], dict[int, int]]] = []
        self._compose: dict[tuple[int, int], int] = {}
        self._canon: dict[State, tuple[State, int]] = {}
        self._orders: dict[tuple[int, ...], list[tuple[Getter, Getter]]] = {}
        self.identity = self.intern(tuple(range(self.n)))
        self._layout()

    def intern(self, p: tuple[int, ...]) -> int:
        pid = self.ids.get(p)
        if pid is None:
            pid = self.ids[p] = len(self.perms)
            self.perms.append(p)
            self._maps.append(self._derive(p))
        return pid

    def _derive(self, p: tuple[int, ...]) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
        """old -> new maps of containers, files and fd slots implied by P."""
        b = self.b
        owners = {p[b.ofs_base(k)]: k for k in range(b.mounts)}
        containers = {(old - b.ofs_base(0)) // 3: k for old, k in owners.items()}
        files = {(p[b.inode_base(k)] - 1) // 3: k for k in range(b.files)}
        base0 = b.fd_base(0)
        slots = {(p[b.fd_base(k)] - base0) // 3: k for k in range(b.slots)}
        return containers, files, slots

    def _layout(self) -> None:
        b = self.b
        self._cont = [
            (-c, b.inode_base(c), b.ofs_base(c), [(b.fd_base(x), x) for x in b.owner_slots(c)])
            for c in range(b.mounts)
        ]
        self._host = [(b.fd_base(x), x) for x in b.owner_slots(b.host)]
        self._by_order: dict[tuple, tuple[int, itemgetter]] = {}
        # The positions of the host slots' `open` fields, renamed with the containers.
        self._host_opens = [f for f, _ in self._host] if b.host_any else []
        # `order_pairs` reasons about this class's canonical form only.
        self._local = not self._host_opens and type(self).canonical is Symmetry.canonical
        self._blocks = [itemgetter(*self._block_fields(c)) for c in range(b.mounts)]

    @staticmethod
    def _slot_order(s: State, slots: list[tuple[int, int]]) -> tuple[int, ...]:
        # Open slots first ((1, ...) sorts above (0, 0, 0)); equal slots keep their
        # order, so the canonical lowest free slot is the real lowest free slot.
        keyed = sorted(((s[f : f + 3], -x) for f, x in slots), reverse=True)
        return tuple(-nx for _, nx in keyed)

    def canonical(self, s: State) -> tuple[State, int]:
        """(canonical form of s, id of P with canonical = [s[P[k]] for k], host values
        renamed with the containers when a host fd may hold a container's file)."""
        hit = self._canon.get(s)
        if hit is not None:
            return hit
        if self._host_opens:
            return self._canonical_renaming(s)
        # A container's sort key is one flat tuple (its file, its mount, its fd slots in
        # slot order): every part is 3 wide, so it sorts as the parts would.  The search
        # spends most of its time here; two slots, the common case, skip the sort.
        blocks: list[tuple[tuple[int, ...], int, tuple[int, ...]]] = []
        for nc, ino, ofs, slots in self._cont:
            if len(slots) == 2:
                (f0, x0), (f1, x1) = slots
                a, z = s[f0 : f0 + 3], s[f1 : f1 + 3]
                if z > a:
                    blocks.append((s[ino : ino + 3] + s[ofs : ofs + 3] + z + a, nc, (x1, x0)))
                else:
                    blocks.append((s[ino : ino + 3] + s[ofs : ofs + 3] + a + z, nc, (x0, x1)))
                continue
            order = self._slot_order(s, slots) if len(slots) > 1 else (slots[0][1],)
            fds = tuple(v for x in order for v in s[self.b.fd_base(x) : self.b.fd_base(x) + 3])
            blocks.append((s[ino : ino + 3] + s[ofs : ofs + 3] + fds, nc, order))
        blocks.sort(reverse=True)
        host = (
            self._slot_order(s, self._host)
            if len(self._host) > 1
            else tuple(x for _, x in self._host)
        )
        orders = (tuple((-nc, order) for _, nc, order in blocks), host)
        plan = self._by_order.get(orders)
        if plan is None:
            plan = self._by_order[orders] = self._plan(orders)
        pid, getter = plan
        # Most states are canonical already: they stand for themselves, no copy stored.
        out = (s if pid == self.identity else getter(s), pid)
        if len(self._canon) < 1 << 20:
            self._canon[s] = out
        return out

    @property
    def local_orders(self) -> bool:
        """Whether `order_pairs` can tell a canonical state's successor canonical: not when
        host values are renamed, nor for a subclass with another canonical form."""
        return self._local

    #: Where the stepper's memo keeps this symmetry's order pairs (each symmetry its own).
    pairs_slot = 2

    def order_pairs(self, changed: tuple[int, ...]) -> list[tuple[Getter, Getter]]:
        """(a, b) getters such that a state that was canonical before the fields `changed`
        were written is canonical after iff a(t) >= b(t) for every pair.  A canonical
        state has each owner's slots and the containers in order, and only the orders
        those fields take part in can break: the slots of an owner whose slot was
        written, a written container against its neighbours (`local_orders` must hold)."""
        pairs = self._orders.get(changed)
        if pairs is not None:
            return pairs
        b, written = self.b, set(changed)
        pairs = self._orders[changed] = []
        for o in range(b.mounts + 1):
            bases = [b.fd_base(x) for x in b.owner_slots(o)]
            if written & {f + j for f in bases for j in range(3)}:
                for x, y in zip(bases, bases[1:], strict=False):
                    pairs.append((itemgetter(x, x + 1, x + 2), itemgetter(y, y + 1, y + 2)))
        moved = [c for c in range(b.mounts) if written & set(self._block_fields(c))]
        for k in sorted({k for c in moved for k in (c - 1, c) if 0 <= k < b.mounts - 1}):
            pairs.append((self._blocks[k], self._blocks[k + 1]))
        return pairs

    def _block_fields(self, c: int) -> list[int]:
        """Container c's sort key in slot order: its file, its mount, its fd slots."""
        b = self.b
        out = [b.inode_base(c) + j for j in range(3)] + [b.ofs_base(c) + j for j in range(3)]
        return out + [b.fd_base(x) + j for x in b.owner_slots(c) for j in range(3)]

    def _canonical_renaming(self, s: State) -> tuple[State, int]:
        """`canonical` when host fds may hold container files (`--host-files any`)."""
        b = self.b
        refs: dict[int, list[tuple[int, ...]]] = {}
        for f, _ in self._host:
            if s[f] > 1:
                refs.setdefault(s[f] - 2, []).append(s[f + 1 : f + 3])
        blocks = []
        for nc, ino, ofs, slots in self._cont:
            order = self._slot_order(s, slots) if len(slots) > 1 else (slots[0][1],)
            fds = tuple(v for x in order for v in s[b.fd_base(x) : b.fd_base(x) + 3])
            held = tuple(sorted(refs.get(-nc, ()), reverse=True))
            blocks.append((s[ino : ino + 3] + s[ofs : ofs + 3] + fds + (held,), nc, order))
        blocks.sort(reverse=True)
        new_of = {-nc: k for k, (_, nc, _) in enumerate(blocks)}

        def renamed(f: int) -> tuple[int, ...]:
            v = s[f]
            return (2 + new_of[v - 2] if v > 1 else v, s[f + 1], s[f + 2])

        keyed = sorted(((renamed(f), -x) for f, x in self._host), reverse=True)
        host = tuple(-nx for _, nx in keyed)
        orders = (tuple((-nc, order) for _, nc, order in blocks), host)
        plan = self._by_order.get(orders)
        if plan is None:
            plan = self._by_order[orders] = self._plan(orders)
        pid, getter = plan
        t = list(getter(s))
        for f in self._host_opens:
            if t[f] > 1:
                t[f] = 2 + new_of[t[f] - 2]
        out = (tuple(t), pid)
        if len(self._canon) < 1 << 20:
            self._canon[s] = out
        return out

    def _plan(self, orders: tuple) -> tuple[int, itemgetter]:
        """The permutation for a container order and per-owner slot orders."""
        b = self.b
        containers, host = orders
        p = list(range(self.n))
        for k, (c, order) in enumerate(containers):
            for j in range(3):
                p[b.inode_base(k) + j] = b.inode_base(c) + j
                p[b.ofs_base(k) + j] = b.ofs_base(c) + j
            for new_slot, old_slot in zip(b.owner_slots(k), order, strict=True):
                for j in range(3):
                    p[b.fd_base(new_slot) + j] = b.fd_base(old_slot) + j
        for new_slot, old_slot in zip(b.owner_slots(b.host), host, strict=True):
            for j in range(3):
                p[b.fd_base(new_slot) + j] = b.fd_base(old_slot) + j
        perm = tuple(p)
        return self.intern(perm), itemgetter(*perm)

    def translate_action(self, a: Event, p: int) -> Event:
        """`a` written in old coordinates, rewritten in the new coordinates of p."""
        return move_event(a, *self._maps[p])

    def slot_bits(self, mask: int, p: int) -> int:
        """A per-fd-slot bit mask, moved from old to new coordinates."""
        return move_bits(mask, self._maps[p][2])

    def file_bits(self, mask: int, p: int) -> int:
        """A per-file bit mask, moved from old to new coordinates."""
        return move_bits(mask, self._maps[p][1])


def move_event(
    a: Event, containers: dict[int, int], files: dict[int, int], slots: dict[int, int]
) -> Event:
    """`a` with its container, file and fd slot renamed by the three maps (old to new)."""
    if a.verb in ("mount", "umount"):
        return Event(a.verb, containers[a.arg], a.volatile)
    if a.verb in ("wberror", "evict"):
        return Event(a.verb, files[a.arg], err=a.err)
    if a.verb == "sync":
        return a
    return Event(a.verb, slots[a.arg], ino=files[a.ino] if a.ino >= 0 else -1)


def move_bits(mask: int, new_of: dict[int, int]) -> int:
    """Bit k of `mask` becomes bit new_of[k]."""
    out = 0
    while mask:
        low = mask & -mask
        out |= 1 << new_of[low.bit_length() - 1]
        mask ^= low
    return out


class ContainerSymmetry(Symmetry):
    """The containers alone interchangeable, each moved with its file, its mount and its
    fd slots, the slots kept in place.  Each of these permutations moves every run onto
    a run (`contract.Automorphisms`); sorting fd slots does not (an open takes the lowest
    free slot, so a moved state may enable other opens).  Not for `--host-files any`,
    whose host slots name containers."""

    def __init__(self, b: Bounds) -> None:
        assert not b.host_any, "host values that name containers are not moved here"
        super().__init__(b)
        self._fields = [itemgetter(*self._block_fields(c)) for c in range(b.mounts)]
        self._in_place = [tuple(b.owner_slots(c)) for c in range(b.mounts)]
        self._host_in_place = tuple(b.owner_slots(b.host))

    def canonical(self, s: State) -> tuple[State, int]:
        keys = [f(s) for f in self._fields]
        if all(a >= b for a, b in zip(keys, keys[1:], strict=False)):  # most: in order
            return s, self.identity
        blocks = sorted(zip(keys, range(len(keys)), strict=True), reverse=True)
        orders = (tuple((c, self._in_place[c]) for _, c in blocks), self._host_in_place)
        plan = self._by_order.get(orders)
        if plan is None:
            plan = self._by_order[orders] = self._plan(orders)
        pid, getter = plan
        return (s if pid == self.identity else getter(s), pid)

    pairs_slot = 3

    @property
    def local_orders(self) -> bool:
        return True

    def order_pairs(self, changed: tuple[int, ...]) -> list[tuple[Getter, Getter]]:
        """As `Symmetry.order_pairs`, the containers' orders only: slots stay in place."""
        pairs = self._orders.get(changed)
        if pairs is None:
            written = set(changed)
            moved = [c for c in range(self.b.mounts) if written & set(self._block_fields(c))]
            near = sorted({k for c in moved for k in (c - 1, c) if 0 <= k < self.b.mounts - 1})
            pairs = self._orders[changed] = [(self._blocks[k], self._blocks[k + 1]) for k in near]
        return pairs

    def group(self) -> list[int]:
        """Every order of the containers, the identity first."""
        out = []
        for order in itertools.permutations(range(self.b.mounts)):
            orders = (tuple((c, self._in_place[c]) for c in order), self._host_in_place)
            out.append(self._plan(orders)[0])
        return out

    def mover(self, p: int) -> Callable[[State], State]:
        return itemgetter(*self.perms[p])
