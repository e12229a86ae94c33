"""What the engine asks of a model: a few small protocols, as Stateright's Model trait.

A model says where runs start, which actions are enabled and what each one does
(`Model`).  It may declare a `Symmetry`, so that the search stores one state per
class of interchangeable ones, and `Observers`, the questions the isolation check
asks (who sees an action).  A safety property is a `Monitor` that follows runs.

A model gets the optional parts by subclassing the protocols (PEP 544): the defaults
come with the base class, so the engine calls every method it needs and never probes
for one.  States are hashable; actions and observations are anything hashable the
model likes; the engine compares them and hands them back, never reads them.

Naming is not part of the contract: the engine returns typed results, and the
renderers ask the model's own module for the words.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from enum import Enum
from typing import Protocol, TypeVar

S = TypeVar("S", bound=Hashable)  # a state
A = TypeVar("A", bound=Hashable)  # an action
O = TypeVar("O")  # noqa: E741  an observation: what an action returned
M = TypeVar("M", bound=Hashable)  # a monitor's bookkeeping
# The same, for the protocols that only take them (Observers, Monitor): a monitor of
# any action also monitors runs of a narrower kind of action.
S_in = TypeVar("S_in", bound=Hashable, contravariant=True)
A_in = TypeVar("A_in", bound=Hashable, contravariant=True)
O_in = TypeVar("O_in", contravariant=True)


class Symmetry(Protocol[S, A]):
    """Interchangeable parts of a state: the search stores one canonical state per class.

    A permutation is an int id.  `canonical(s)` returns the representative of s's class
    and the id of the permutation p that maps s onto it; an action taken in s is the
    action `translate_action(a, p)` taken in the representative.  `compose(p, q)` is p
    then q; `inverse(p)` undoes p; `identity` changes nothing.

    Two lamps that look alike, each on (1) or off (0), flipped by its index:

    >>> class Lamps(Symmetry[tuple[int, int], int]):
    ...     identity = 0
    ...     def canonical(self, s):
    ...         return (s, 0) if s[0] <= s[1] else ((s[1], s[0]), 1)
    ...     def compose(self, p, q):
    ...         return p ^ q
    ...     def inverse(self, p):
    ...         return p
    ...     def translate_action(self, a, p):
    ...         return 1 - a if p else a
    >>> Lamps().canonical((1, 0))
    ((0, 1), 1)
    >>> Lamps().translate_action(0, 1)  # flipping lamp 0 of (1, 0) is flipping lamp 1 of (0, 1)
    1
    """

    identity: int

    def canonical(self, state: S) -> tuple[S, int]: ...
    def compose(self, p: int, q: int) -> int: ...
    def inverse(self, p: int) -> int: ...
    def translate_action(self, action: A, p: int) -> A: ...

    def portable(self, p: int) -> Hashable:
        """p as a value that means the same in every process (a search partitioned over
        processes sends it along); ids that are fixed already need nothing."""
        return p

    def local(self, value: Hashable) -> int:
        """The id of the permutation `portable` gave `value` for, in this process."""
        assert isinstance(value, int), "the default `portable` gives the id itself"
        return value


class Automorphisms(Symmetry[S, A], Protocol):
    """A symmetry each of whose permutations moves every run of the model onto a run:
    the out-edges of a moved state are the state's own, moved (actions by
    `translate_action`, observations unchanged).  A search up to it can be unfolded
    into the whole graph without stepping the model again (explorer.engine.unfold).
    `group()` lists every permutation id, the identity first; `mover(p)` moves a state
    into p's new coordinates (the map `canonical` applies)."""

    def group(self) -> list[int]: ...
    def mover(self, p: int) -> Callable[[S], S]: ...


class Model(Protocol[S, A, O]):
    """A state machine: initial states, enabled actions, and what each action does.

    `next_state(s, a)` returns the successor and the observation (what the action
    returned, for the properties to compare).  `successors(s)` gives every enabled
    action with both at once; the default asks the other two, and a model overrides it
    when it can do better.  `symmetry` is None (no reduction) unless the model declares
    one.  `name` labels the model's verdicts.  `cost(a)` is 1 unless the model says
    that some actions are free (0): then a run's length is the sum of its costs.

    A switch that is flipped, observing its new position:

    >>> class Switch(Model[int, str, int]):
    ...     name = "switch"
    ...     def initial_states(self):
    ...         return [0]
    ...     def actions(self, s):
    ...         return ["flip"]
    ...     def next_state(self, s, a):
    ...         return 1 - s, 1 - s
    >>> Switch().successors(0)
    [('flip', 1, 1)]
    >>> from explorer.engine.search import bfs
    >>> ex = bfs(Switch(), depth=3)
    >>> ex.n_states, ex.n_edges, ex.reduced
    (2, 2, False)
    """

    name: str
    symmetry: Symmetry[S, A] | None = None

    def initial_states(self) -> Iterable[S]: ...
    def actions(self, state: S) -> Iterable[A]: ...
    def next_state(self, state: S, action: A) -> tuple[S, O]: ...

    def successors(self, state: S) -> list[tuple[A, S, O]]:
        """Every enabled action of `state` with its successor and observation."""
        return [(a, *self.next_state(state, a)) for a in self.actions(state)]

    def canonical_successors(
        self, state: S, symmetry: Symmetry[S, A] | None = None
    ) -> list[tuple[A, S, int, O]]:
        """`successors` of a canonical state under `symmetry` (the model's own if None),
        as (action, the canonical successor, the id of the permutation that made it so,
        observation); a model that knows what each action changed may tell more cheaply
        which are canonical."""
        sym = symmetry if symmetry is not None else self.symmetry
        assert sym is not None, "only a model with a symmetry has canonical states"
        canonical = sym.canonical
        return [(a, *canonical(t), o) for a, t, o in self.successors(state)]

    def free_successors(self, state: S) -> list[tuple[A, S, O]]:
        """`successors` of the actions that cost 0 (what the search follows from a state
        at its depth); a model that can skip the others does better than this."""
        return [x for x in self.successors(state) if not self.cost(x[0])]

    def automorphisms(self) -> Automorphisms[S, A] | None:
        """The model's automorphisms, if it knows some (None: it does not): its whole
        graph is then unfolded from a search up to them instead of searched state by
        state."""
        return None

    def cost(self, action: A) -> int:
        """What `action` adds to the length of a run, which the search's depth bounds: 1,
        or 0 for an action that goes on with something an earlier action began (a
        model whose actions are the steps of longer operations counts operations).
        The search notices a model that does not override it and costs nothing."""
        return 1


class Role(Enum):
    """What an action is to one viewer: its own, nobody's, or someone else's."""

    INSIDE = "inside"  # the viewer's own action: it sees the action and its result
    ENVIRONMENT = "environment"  # an outside event everyone sees, without a result
    OUTSIDE = "outside"  # another actor's: the viewer sees neither


class Observers(Protocol[A_in]):
    """Who sees what, for the isolation check: the viewers, and each action's role.

    `kind(a)` groups the actions that explain a difference ("what kind of outside action
    made the viewer see another result"); `kind_rank(kind)` orders those kinds by
    importance, lowest first.  `viewer_class(v)` names a class of interchangeable
    viewers: the check needs one per class; by default every viewer is alike.

    Two users share one board; each reads it, and writing it is for the other to see:

    >>> class Board(Model[int, tuple[str, int], int], Observers[tuple[str, int]]):
    ...     name = "board"
    ...     def initial_states(self):
    ...         return [0]
    ...     def actions(self, s):
    ...         return [("read", 0), ("read", 1), ("write", 0), ("write", 1)]
    ...     def next_state(self, s, a):
    ...         return (s, s) if a[0] == "read" else (1, 0)
    ...     def viewers(self):
    ...         return [0, 1]
    ...     def role(self, a, viewer):
    ...         return Role.INSIDE if a[1] == viewer else Role.OUTSIDE
    ...     def kind(self, a):
    ...         return a[0]
    ...     def kind_rank(self, kind):
    ...         return 0
    >>> from explorer.engine.search import bfs
    >>> from explorer.engine.properties import isolation
    >>> v = isolation.check(bfs(Board(), depth=2), Board(), viewer=0)
    >>> v.holds, v.isolation.shown.kinds
    (False, ['write'])
    >>> [s.action for s in v.witness], [s.action for s in v.other]
    ([('write', 1), ('read', 0)], [('read', 0)])
    >>> isolation.representatives(Board())
    [0]
    """

    def viewers(self) -> Iterable[int]: ...
    def role(self, action: A_in, viewer: int) -> Role: ...
    def kind(self, action: A_in) -> str: ...
    def kind_rank(self, kind: str) -> int: ...

    def viewer_class(self, viewer: int) -> Hashable:
        """The class of interchangeable viewers `viewer` belongs to."""
        return None

    def settles(self, obs: object) -> bool:
        """Whether an observation is an outcome two runs can differ on: an action that
        only goes on with something an earlier one began observes none (two runs
        whose views part there are told apart, not in conflict)."""
        return True


class Monitor(Protocol[S_in, A_in, O_in, M]):
    """A safety property as a small bookkeeping value `m` carried along every run.

    `step(m, s, a, o)` returns the next value and a reason, non-empty when this step
    violates the property; `after(m, t)` may judge the state reached instead.  On a
    graph reduced by a symmetry, `translate(m, p)` carries the bookkeeping through the
    permutation p onto the next stored state.  `name` is the property's.

    At most one flip of the switch (the `Switch` of `Model`):

    >>> class Switch(Model[int, str, int]):
    ...     name = "switch"
    ...     def initial_states(self):
    ...         return [0]
    ...     def actions(self, s):
    ...         return ["flip"]
    ...     def next_state(self, s, a):
    ...         return 1 - s, 1 - s
    >>> class AtMostOnce(Monitor[int, str, int, int]):
    ...     name = "at-most-once"
    ...     def initial(self):
    ...         return 0
    ...     def step(self, m, s, a, o):
    ...         return m + 1, "flipped twice" if m == 1 else ""
    >>> from explorer.engine.search import bfs
    >>> from explorer.engine.properties import safety
    >>> v = safety.check(bfs(Switch(), depth=3), AtMostOnce(), Switch())
    >>> v.holds, len(v.witness), v.reason
    (False, 2, 'flipped twice')
    """

    name: str

    def initial(self) -> M: ...
    def step(self, m: M, state: S_in, action: A_in, obs: O_in) -> tuple[M, str]: ...

    def after(self, m: M, state: S_in) -> str:
        """Why reaching `state` with bookkeeping `m` violates the property ("" if not)."""
        return ""

    def translate(self, m: M, p: int) -> M:
        """`m` carried through permutation `p` (nothing to carry by default)."""
        return m
