"""The errseq world as a model for the engine: initial state, enabled events, successors.

This is where the domain meets the search: explorer.search sees only hashable states,
actions and observations (an event's result: 0, a negative errno, or None).  The
extra methods (`actor`, `kind`, `describe`) are what the generic properties need to
group and print events without knowing what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer import world
from explorer.spec import Spec
from explorer.world import NORMAL, VOLATILE, Bounds, Event, State, World

MOUNT_OPTIONS = {"normal": (NORMAL,), "volatile": (VOLATILE,), "both": (NORMAL, VOLATILE)}


@dataclass
class ErrseqModel:
    """One spec over one bounded world."""

    spec: Spec
    bounds: Bounds
    options: tuple[int, ...] = (NORMAL, VOLATILE)

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

    def actor_name(self, actor: int) -> str:
        return "env" if actor == world.ENVIRONMENT else self.bounds.owner_name(actor)
