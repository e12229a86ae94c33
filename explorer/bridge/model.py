"""The errseq world as a model for the engine: initial state, enabled events, successors.

This is where the domain meets the search.  `ErrseqModel` implements the engine's
contract (explorer.engine.contract): the search sees hashable states, events and
observations (an event's result: 0, a negative errno, or None); the isolation check
learns who performs each event (`Observers`) and how important each kind of event is
(`kind_rank`: the seed's case, a mount, first).  The words a reader sees are the
renderers', from the domain; `describe` labels a state for state-graph pictures.
"""

from __future__ import annotations

from explorer.bridge.stepper import Stepper
from explorer.bridge.symmetry import ContainerSymmetry, Symmetry
from explorer.domain import world
from explorer.domain.errseq import Flavour
from explorer.domain.vfs import Spec
from explorer.domain.world import ERRNO_NAMES, NORMAL, VOLATILE, Bounds, Event, State
from explorer.engine.contract import Model, Observers, Role
from explorer.engine.contract import Symmetry as AnySymmetry

#: The kinds of outside events, most important first: a mount that changes what a
#: container sees is what the seed objects to; someone else's syncfs reporting the
#: error is the errseq design.
KIND_ORDER = ("mount", "umount", "open", "close", "write", "fsync", "syncfs", "sync")


def kind_rank(kind: str) -> int:
    """A kind's place in KIND_ORDER (an unknown kind after every known one)."""
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def errseq_str(v: int, flavour: Flavour) -> str:
    """0, or errno/counter with the flags: EIO#0, EIO#1+S (SEEN), EIO#0+RO (split)."""
    if v == 0:
        return "0"
    err = v & 0xFFF
    name = ERRNO_NAMES.get(-err, f"E{err}")
    if flavour.name == "split":
        flags = ("R" if v & 0x1000 else "") + ("O" if v & 0x2000 else "")
        return f"{name}#{v >> 14}" + (f"+{flags}" if flags else "")
    return f"{name}#{v >> 13}" + ("+S" if v & 0x1000 else "")


class ErrseqModel(Model[State, Event, "int | None"], Observers[Event]):
    """One spec over one bounded world.  Successors are cached on footprints unless
    `cache` is off (explorer.bridge.stepper explains why that is exact).  With
    `symmetry` on, the model declares the container and fd symmetry of its bounds: its
    own `Symmetry` (what it learns lives as long as the model), or the one given.  The
    models of one run had best share one: their specs reach mostly the same states,
    whose canonical forms are then learnt once (docs/performance.md)."""

    def __init__(
        self,
        spec: Spec,
        bounds: Bounds,
        options: tuple[int, ...] = (NORMAL, VOLATILE),
        cache: bool = True,
        symmetry: bool | Symmetry = False,
    ) -> None:
        self.spec, self.bounds, self.options, self.cache = spec, bounds, options, cache
        self.name = spec.name
        self.stepper = Stepper(spec, bounds, options, cached=cache)
        if isinstance(symmetry, Symmetry):
            assert symmetry.b == bounds, "a shared symmetry is one of the model's bounds"
            self.symmetry: Symmetry | None = symmetry
        else:
            self.symmetry = Symmetry(bounds) if symmetry else None

    def __repr__(self) -> str:
        return f"ErrseqModel({self.name}, {self.bounds}, symmetry={self.symmetry is not None})"

    # --- the engine's Model ------------------------------------------------------------

    def initial_states(self) -> list[State]:
        return [self.bounds.initial()]

    def actions(self, state: State) -> list[Event]:
        return self.stepper.enabled(state)

    def next_state(self, state: State, action: Event) -> tuple[State, int | None]:
        return self.stepper.step(state, action)

    def successors(self, state: State) -> list[tuple[Event, State, int | None]]:
        return self.stepper.successors(state)

    def canonical_successors(
        self, state: State, symmetry: AnySymmetry[State, Event] | None = None
    ) -> list[tuple[Event, State, int, int | None]]:
        """The stepper knows what each step wrote, which tells the canonical form of
        this module's symmetries cheaply; any other is asked the contract's way."""
        sym = symmetry if symmetry is not None else self.symmetry
        if type(sym) is not Symmetry and type(sym) is not ContainerSymmetry:
            return super().canonical_successors(state, sym)
        return self.stepper.canonical_successors(state, sym)

    def automorphisms(self) -> ContainerSymmetry | None:
        """The containers' permutations (explorer.bridge.symmetry.ContainerSymmetry),
        unless a host fd may hold a container's file."""
        return None if self.bounds.host_any else ContainerSymmetry(self.bounds)

    # --- what the isolation check asks (Observers) -------------------------------------

    def viewers(self) -> list[int]:
        """The containers whose isolation can be checked."""
        return list(range(self.bounds.mounts))

    def role(self, action: Event, viewer: int) -> Role:
        """For container `viewer`: its own syscalls, wberror/evict, or anybody else's."""
        actor = self.bounds.actor(action)
        if actor == viewer:
            return Role.INSIDE
        return Role.ENVIRONMENT if actor == world.ENVIRONMENT else Role.OUTSIDE

    def kind(self, action: Event) -> str:
        """The kind an isolation witness is grouped by (mount, open, syncfs, ...)."""
        return action.verb

    def kind_rank(self, kind: str) -> int:
        return kind_rank(kind)

    # --- a label for pictures of the state graph ---------------------------------------

    def describe(self, state: State) -> str:
        """A short human label of a state, for state-graph pictures."""
        b, es = self.bounds, self.spec.errseq
        parts = [f"upper {errseq_str(state[0], es)}"]
        for ino in range(b.files):
            base = b.inode_base(ino)
            if state[base + 2]:
                dirty = " dirty" if state[base + 1] else ""
                parts.append(f"{b.owner_name(ino)}-file {errseq_str(state[base], es)}{dirty}")
        for c in range(b.mounts):
            base = b.ofs_base(c)
            if state[base]:
                mode = "volatile" if state[base] == VOLATILE else "normal"
                parts.append(
                    f"ovl{c + 1} {mode} sb {errseq_str(state[base + 1], es)}"
                    f" errseq {errseq_str(state[base + 2], es)}"
                )
        for slot in range(b.slots):
            base = b.fd_base(slot)
            if state[base]:
                on = f" on {b.owner_name(state[base] - 2)}-file" if state[base] > 1 else ""
                parts.append(
                    f"slot{slot + 1}{on} wb {errseq_str(state[base + 1], es)}"
                    f" sb {errseq_str(state[base + 2], es)}"
                )
        return "\n".join(parts)
