"""The errseq world as a model for the engine: initial state, enabled events, successors.

This is where the domain meets the search: explorer.engine.search sees only hashable states,
actions and observations (an event's result: 0, a negative errno, or None).  The
extra methods (`actor`, `kind`, `describe`) are what the generic properties need to
group and print events without knowing what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.bridge.stepper import CachedStepper
from explorer.bridge.symmetry import Symmetry
from explorer.domain import world
from explorer.domain.vfs import Spec
from explorer.domain.world import NORMAL, VOLATILE, Bounds, Event, State, World


def errseq_str(v: int, flavour: type) -> str:
    """0, or errno/counter with the flags: EIO#0, EIO#1+S (SEEN), EIO#0+RO (split)."""
    if v == 0:
        return "0"
    err = v & 0xFFF
    name = "EIO" if err == 5 else f"E{err}"
    if flavour.name == "split":
        flags = ("R" if v & 0x1000 else "") + ("O" if v & 0x2000 else "")
        return f"{name}#{v >> 14}" + (f"+{flags}" if flags else "")
    return f"{name}#{v >> 13}" + ("+S" if v & 0x1000 else "")


_SYMMETRIES: dict[Bounds, Symmetry] = {}

MOUNT_OPTIONS = {"normal": (NORMAL,), "volatile": (VOLATILE,), "both": (NORMAL, VOLATILE)}

# The largest bounds accepted, from the options and in scenarios.  Real runs stop on the
# memory guard far below them (4 containers at depth 12 already take 6 GB: README.md,
# docs/performance.md); they are there so that a typo
# (--mounts 1000, ovl18446744073709551616) is refused at once with its name, instead of
# a state layout of millions of fields built for minutes before memory runs out.  A
# sequence of 64 events is longer than any witness the thread discusses (the seed has 8).
MAX_MOUNTS = 16
MAX_FDS = 8
MAX_HOST_FDS = 8
MAX_DEPTH = 64


class OptionError(ValueError):
    """An option value the tool cannot use, naming the option and the reason (exit 2)."""


@dataclass
class ErrseqModel:
    """One spec over one bounded world; successors are cached on footprints unless `cache`
    is off (explorer.bridge.stepper explains why that is exact)."""

    spec: Spec
    bounds: Bounds
    options: tuple[int, ...] = (NORMAL, VOLATILE)
    cache: bool = True
    symmetry: bool = False

    def __post_init__(self) -> None:
        self._stepper = CachedStepper(self.spec, self.bounds, self.options) if self.cache else None
        if self._stepper is not None:
            self.actions = self._stepper.enabled  # type: ignore[method-assign]
            self.next_state = self._stepper.step  # type: ignore[method-assign]
            self.successors = self._stepper.successors
        if self.symmetry:
            # One Symmetry per bounds, so that permutation ids mean the same in every model.
            sym = _SYMMETRIES.setdefault(self.bounds, Symmetry(self.bounds))
            self.sym = sym
            self.canonical = sym.canonical
            self.identity = sym.identity
            self.compose = sym.compose
            self.inverse = sym.inverse
            self.translate_action = sym.action

    def initial_states(self) -> list[State]:
        return [self.bounds.initial()]

    def actions(self, state: State) -> list[Event]:
        return world.enabled(self.bounds, state, self.options)

    def next_state(self, state: State, action: Event) -> tuple[State, int | None]:
        w = World(self.bounds, state)
        ret = self.spec.apply(w, action)
        return w.freeze(), ret

    # --- what the generic properties and renderers ask -------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    def actor(self, action: Event) -> int:
        """A container index, the host (== bounds.mounts) or world.ENVIRONMENT."""
        return self.bounds.actor(action)

    def kind(self, action: Event) -> str:
        """The kind an isolation witness is grouped by (mount, open, syncfs, ...)."""
        return action.verb

    def classify(self, action: Event, viewer: int) -> str:
        """For container `viewer`: "inside" (its own syscalls), "env" or "outside"."""
        actor = self.bounds.actor(action)
        if actor == viewer:
            return "inside"
        return "env" if actor == world.ENVIRONMENT else "outside"

    def viewers(self) -> list[int]:
        """The containers whose isolation can be checked."""
        return list(range(self.bounds.mounts))

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
                parts.append(
                    f"slot{slot + 1} wb {errseq_str(state[base + 1], es)}"
                    f" sb {errseq_str(state[base + 2], es)}"
                )
        return "\n".join(parts)

    def describe_step(self, steps: list, i: int) -> str:
        """Step i of a run as a reader names it: "fd2's syncfs", "ovl1's volatile mount"."""
        from explorer.domain.scenario import format_run

        ev = format_run(self.bounds, [st.action for st in steps])[i]
        if ev.fd is not None:
            return f"{ev.fd}'s {ev.verb}"
        who = self.actor_name(self.actor(steps[i].action))
        return f"{who}'s {'volatile ' if ev.volatile else ''}{ev.verb}"

    def actor_name(self, actor: int) -> str:
        return "env" if actor == world.ENVIRONMENT else self.bounds.owner_name(actor)
