"""Successor caching: an event's effect depends only on the few fields it touches.

`fsync fd3` reads and writes the upper sb, its container's inode, overlay mount and
fd slot, nothing else (a host fd that may hold any file, `--host-files any`, may read
every inode: its slot says which); two states that agree on those fields get the same result and
the same new values there.  So the successor of (state, event) is computed once per
distinct *footprint* of the event, and for every other state it is a dict lookup and
a few stores.  The same holds for the enabled events, which depend only on the
mounted/open/dirty/cached flags.

Soundness does not rest on trusting the specs: on every cache miss the hook runs on
a copy of the state whose fields outside the footprint are `Poison`, which raises on
any use, and a write outside the allowed set is detected afterwards.  A spec that
reaches outside (a user's spec may) switches the model to plain, uncached stepping,
which is slower but exact.  A hook that fails on the poisoned copy for another reason
is run again on the real state, which decides: the same failure there is the spec's
error (a SpecHookError), none means the hook depends on what it was not given.
"""

from __future__ import annotations

from operator import itemgetter
from typing import NoReturn

from explorer.bridge.symmetry import Symmetry
from explorer.domain import world
from explorer.domain.vfs import SpecHookError
from explorer.domain.world import Bounds, Event, State, World


class PoisonError(RuntimeError):
    """A hook used a field outside the event's footprint."""


class Poison:
    """Stands for a field the event must not depend on; any use of it raises."""

    __slots__ = ()

    def _fail(self, *_: object) -> NoReturn:
        raise PoisonError("a hook read a field outside the event's footprint")

    __int__ = __index__ = __bool__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _fail
    __and__ = __rand__ = __or__ = __ror__ = __add__ = __radd__ = __sub__ = __rsub__ = _fail
    __xor__ = __rxor__ = __lshift__ = __rshift__ = __invert__ = __neg__ = __hash__ = _fail


POISON = Poison()

#: (bounds, options) -> flags -> the enabled events (world.enabled), for every spec.
_ENABLED: dict[tuple[Bounds, tuple[int, ...]], dict[tuple, list[Event]]] = {}


def _fields(base: int) -> list[int]:
    return [base, base + 1, base + 2]


def footprint(b: Bounds, ev: Event) -> tuple[list[int], list[int]]:
    """(fields the event may read and write, fields it may only overwrite with constants)."""
    dirty = [b.inode_base(i) + 1 for i in range(b.files)]
    verb = ev.verb
    if verb in ("mount", "umount"):
        # umount of a normal overlay syncs the upper fs: it may clear every dirty bit.
        return [0, *_fields(b.ofs_base(ev.arg))], dirty if verb == "umount" else []
    if verb in ("wberror", "evict"):
        return [0, *_fields(b.inode_base(ev.arg))], []
    if verb == "sync":
        return [], dirty
    if verb == "close":
        return _fields(b.fd_base(ev.arg)), []
    owner = b.owner(ev.arg)
    if owner == b.host and b.host_any and verb != "open":
        # A host fd may hold any file: the slot's `open` says which, so the event may
        # read every inode (the memo key holds them all, and stays exact).
        inodes = [f for ino in range(b.files) for f in _fields(b.inode_base(ino))]
    else:
        ino = ev.ino if verb == "open" and ev.ino >= 0 else owner
        inodes = _fields(b.inode_base(ino))
    fields = [0, *inodes, *_fields(b.fd_base(ev.arg))]
    if owner != b.host:
        fields += _fields(b.ofs_base(owner))
    return sorted(fields), dirty if verb == "syncfs" else []


class Stepper:
    """next_state and enabled, memoised on footprints, verified on every miss; with
    `cached` off, or once a hook reached outside its footprint, every step is direct."""

    def __init__(self, spec, bounds: Bounds, options: tuple[int, ...], cached: bool = True) -> None:
        self.spec, self.bounds, self.options = spec, bounds, options
        self.exact = cached  # caching is exact for this spec (False: step directly)
        self._plans: dict[Event, tuple] = {}  # event -> (getter, memo, reads, consts)
        b = bounds
        flags = [b.ofs_base(c) for c in range(b.mounts)]
        flags += [b.fd_base(s) for s in range(b.slots)]
        flags += [b.inode_base(i) + k for i in range(b.files) for k in (1, 2)]
        self._flags = itemgetter(*flags)
        self._enabled: dict[tuple, list[tuple]] = {}

    def enabled(self, state: State) -> list[Event]:
        if not self.exact:
            return world.enabled(self.bounds, state, self.options)
        return [entry[0] for entry in self._entries(state)]

    def _entries(self, state: State) -> list[tuple]:
        """The enabled events of `state`, each with its footprint getter and memo."""
        key = self._flags(state)
        entries = self._enabled.get(key)
        if entries is None:
            # The events are the same for every spec (world.enabled): a run's specs share
            # them, and each spec adds its own footprint memos.
            shared = _ENABLED.setdefault((self.bounds, self.options), {})
            events = shared.get(key)
            if events is None:
                events = shared[key] = world.enabled(self.bounds, state, self.options)
            entries = self._enabled[key] = [(ev, *self._plan(ev)) for ev in events]
        return entries

    def _plan(self, ev: Event) -> tuple:
        plan = self._plans.get(ev)
        if plan is None:
            reads, consts = footprint(self.bounds, ev)
            getter = (
                itemgetter(*reads)
                if len(reads) > 1
                else (lambda s, r=reads: tuple(s[i] for i in r))
            )
            plan = self._plans[ev] = (getter, {}, reads, consts)
        return plan

    def successors(self, state: State) -> list[tuple[Event, State, int | None]]:
        """Every enabled event with its successor and result: the search's hot loop."""
        if not self.exact:
            return [
                (ev, *self.direct(state, ev))
                for ev in world.enabled(self.bounds, state, self.options)
            ]
        out = []
        for ev, getter, memo, reads, consts in self._entries(state):
            proj = getter(state)
            hit = memo.get(proj)
            if hit is None:
                hit = self._miss(state, ev, reads, consts)
                if hit is None:  # the spec is not local: give up caching, stay exact
                    self.exact = False
                    return self.successors(state)
                memo[proj] = hit
            writes, ret, _, _ = hit
            if writes:
                t = list(state)
                for i, v in writes:
                    t[i] = v
                out.append((ev, tuple(t), ret))
            else:
                out.append((ev, state, ret))
        return out

    def canonical_successors(
        self, state: State, sym: Symmetry
    ) -> list[tuple[Event, State, int, int | None]]:
        """`successors` of a canonical state as (event, canonical successor, the
        permutation that made it so, result).  Most steps leave the state canonical:
        the symmetry's order pairs for the fields a step wrote (`Symmetry.order_pairs`,
        kept with the memo entry) tell so by a few comparisons."""
        if not self.exact or not sym.local_orders:
            return [(ev, *sym.canonical(t), ret) for ev, t, ret in self.successors(state)]
        out = []
        canonical, identity, slot = sym.canonical, sym.identity, sym.pairs_slot
        for ev, getter, memo, reads, consts in self._entries(state):
            proj = getter(state)
            hit = memo.get(proj)
            if hit is None:
                hit = self._miss(state, ev, reads, consts)
                if hit is None:  # as in `successors`
                    self.exact = False
                    return self.canonical_successors(state, sym)
                memo[proj] = hit
            writes, ret, pairs, other = hit  # the pairs of slot 2, of slot 3
            if slot != 2:
                pairs = other
            if not writes:
                out.append((ev, state, identity, ret))
                continue
            if pairs is None:
                pairs = hit[slot] = sym.order_pairs(tuple(i for i, _ in writes))
            new = list(state)
            for i, v in writes:
                new[i] = v
            t = tuple(new)
            for first, second in pairs:
                if first(t) < second(t):
                    out.append((ev, *canonical(t), ret))
                    break
            else:
                out.append((ev, t, identity, ret))
        return out

    def direct(self, state: State, ev: Event) -> tuple[State, int | None]:
        w = World(self.bounds, state)
        ret = self.spec.apply(w, ev)
        return w.freeze(), ret

    def step(self, state: State, ev: Event) -> tuple[State, int | None]:
        if not self.exact:
            return self.direct(state, ev)
        getter, memo, reads, consts = self._plan(ev)
        proj = getter(state)
        hit = memo.get(proj)
        if hit is None:
            hit = self._miss(state, ev, reads, consts)
            if hit is None:
                self.exact = False
                return self.direct(state, ev)
            memo[proj] = hit
        writes, ret, _, _ = hit
        if not writes:
            return state, ret
        t = list(state)
        for i, v in writes:
            t[i] = v
        return tuple(t), ret

    def _miss(self, state: State, ev: Event, reads: list[int], consts: list[int]):
        """Run the hook on a poisoned copy: [writes, result, then None for each
        symmetry's order pairs in `canonical_successors`], or None if it used anything
        outside the footprint."""
        keep = set(reads)
        poisoned: list[int | Poison] = [POISON] * len(state)
        for i in reads:
            poisoned[i] = state[i]
        # Poison stands in for the int fields the event must not read; any use raises.
        w = World(self.bounds, poisoned)  # type: ignore[arg-type]  # Poison poses as int
        try:
            ret = self.spec.apply(w, ev)
        except SpecHookError as exc:
            if not isinstance(exc.__cause__, PoisonError):
                self.direct(state, ev)  # raises the hook's error if the real state has it too
            return None
        after = w._w
        writes = []
        allowed = keep | set(consts)
        for i, (old, new) in enumerate(zip(poisoned, after, strict=True)):
            if new is old:
                continue
            if i not in allowed or isinstance(new, Poison):
                return None
            if i in keep and new == old:
                continue
            writes.append((i, new))
        # Reads of fields that are then overwritten with a constant count as reads: check
        # the constant writes really are constants by comparing with the direct result.
        direct_state, direct_ret = self.direct(state, ev)
        applied = list(state)
        for i, v in writes:
            applied[i] = v
        if tuple(applied) != direct_state or direct_ret != ret:
            return None
        # The last two: the order pairs of each symmetry that asked (`Symmetry.pairs_slot`).
        return [tuple(writes), ret, None, None]
