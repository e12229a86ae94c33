"""The recorded graph split for one viewer: the moves it sees and the moves it does not.

Every search of the isolation check walks the same graph many times, asking of each
edge whether the viewer sees it.  The split asks the model once per distinct action
(`Observers.role`, `Observers.kind`) and files each expanded state's out-edges by an
action id: the viewer's own and environment moves (with their results) apart from
the outside ones (whose kinds are bits of a mask, for the removal search).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from explorer.engine.contract import Observers, Role
from explorer.engine.limits import guard
from explorer.engine.search import Exploration

#: Per state: its moves of one sort (seen or outside), action id -> the move's place
#: among the state's out-edges.  States that enable the same actions in the same order
#: share one (a handful of them serve the whole graph): nothing is stored per edge.
Layout = dict[int, int]


class _Moves:
    """A state's moves as a dict, action id -> `make(edge)`, built when asked: for the
    walks and the oracle, which ask for few states (the searches read the layouts)."""

    def __init__(self, at: list[Layout | None], start: list[int], make: Callable) -> None:
        self.at, self.start, self.make = at, start, make

    def __getitem__(self, s: int) -> dict[int, Any] | None:
        lay = self.at[s]
        if lay is None:
            return None
        b, make = self.start[s], self.make
        return {aid: make(b + off) for aid, off in lay.items()}

    def __len__(self) -> int:
        return len(self.at)


@dataclass
class Split:
    """Per expanded state: seen moves and outside moves, by action id."""

    seen_at: list[Layout | None]  # per state: its seen moves (None: not expanded)
    out_at: list[Layout | None]  # per state: its outside moves
    start: list[int]  # per state: its first out-edge (an edge is start + place)
    obs: list[Any]  # per edge: its result
    dst: list[int]  # per edge: the state it leads to
    inside: list[bool]  # per aid: the viewer's own action
    kind_bit: list[int]  # per aid (outside ones): a bit of `kinds`
    kinds: list[str]  # bit index -> kind
    actions: list[Any]  # aid -> action
    varies: list[bool]  # per aid (seen ones): its result is not the same in every state
    cost: list[int]  # per aid: what it adds to a run's length (1 unless the model says)
    settles: Callable[[Any], bool] = lambda obs: True  # a result runs can differ on

    @property
    def cmoves(self) -> _Moves:
        """Per state, its seen moves: aid -> (result, dst, edge), or None."""
        obs, dst = self.obs, self.dst
        return _Moves(self.seen_at, self.start, lambda e: (obs[e], dst[e], e))

    @property
    def omoves(self) -> _Moves:
        """Per state, its outside moves: aid -> (dst, edge), or None."""
        dst = self.dst
        return _Moves(self.out_at, self.start, lambda e: (dst[e], e))

    def kinds_of(self, mask: int, rank: Callable[[str], int]) -> list[str]:
        """The kinds whose bits are set in `mask`, by `rank` (the model's kind_rank)."""
        kinds = (k for i, k in enumerate(self.kinds) if mask >> i & 1)
        return sorted(kinds, key=lambda k: (rank(k), k))


class _Ids:
    """Action ids, in the order the split meets the actions, and what it files per id."""

    def __init__(self, model: Observers, viewer: int) -> None:
        self.model, self.viewer = model, viewer
        self.aid_of: dict[Any, int] = {}
        self.actions: list[Any] = []
        self.inside: list[bool] = []
        self.outside: list[bool] = []
        self.kind_bit: list[int] = []
        self.kinds: list[str] = []
        self.first: list[Any] = []  # per aid: the result of its first move met
        self.varies: list[bool] = []
        self.cost: list[int] = []

    def new(self, a: Any, obs: Any, cost: int) -> int:
        """The id of an action met for the first time (with this result and cost)."""
        aid = self.aid_of[a] = len(self.actions)
        self.actions.append(a)
        role = self.model.role(a, self.viewer)
        self.inside.append(role is Role.INSIDE)
        self.outside.append(role is Role.OUTSIDE)
        bit = 0
        if role is Role.OUTSIDE:
            k = self.model.kind(a)
            if k not in self.kinds:
                self.kinds.append(k)
            bit = 1 << self.kinds.index(k)
        self.kind_bit.append(bit)
        self.first.append(obs)
        self.varies.append(False)
        self.cost.append(cost)
        return aid

    def saw(self, aid: int, obs: Any) -> None:
        """A seen action's result, which varies if it is not its first one."""
        if not self.outside[aid] and obs != self.first[aid]:
            self.varies[aid] = True


def split_graph(
    ex: Exploration, model: Observers, viewer: int, max_bytes: int | None = None
) -> Split:
    """File the edges of `ex` for `viewer`; `max_bytes` is the memory guard.

    An unfolded graph names each state's actions by a shape (`Exploration.orbits`):
    one state of each shape is filed, the first (so ids come in the order of a full
    scan), and results are told apart over its distinct (action, result)s."""
    ids = _Ids(model, viewer)
    aid_of, outside, first, varies = ids.aid_of, ids.outside, ids.first, ids.varies
    seen_at: list[Layout | None] = [None] * ex.n_states
    out_at: list[Layout | None] = [None] * ex.n_states
    layouts: dict[tuple[int, ...], tuple[Layout, Layout]] = {}
    act, obs = ex.action, ex.obs
    shapes = ex.orbits.shape if ex.orbits is not None else None
    by_shape: dict[int, tuple[Layout, Layout]] = {}
    for sid in range(ex.n_states):
        if max_bytes is not None and not sid & 0xFFF:
            at = (
                f"in isolation's split of the full graph ({ex.n_states:,} distinct states to "
                f"depth {ex.max_depth}), at its state {sid:,}"
            )
            guard(sid, ex.depth[sid], None, max_bytes, at)
        if shapes is not None:
            if shapes[sid] < 0:
                break  # the rest are not expanded
            lay = by_shape.get(shapes[sid])
            if lay is not None:
                seen_at[sid], out_at[sid] = lay
                continue
        aids = []
        for e in ex.out_edges(sid):
            aid = aid_of.get(act[e])
            if aid is None:
                aid = ids.new(act[e], obs[e], ex.edge_cost(e))
            elif shapes is None and not outside[aid] and obs[e] != first[aid]:
                varies[aid] = True  # `_Ids.saw`, inlined: this runs for every edge
            aids.append(aid)
        if not aids:
            continue
        key = tuple(aids)
        lay = layouts.get(key)
        if lay is None:
            c = {aid: off for off, aid in enumerate(aids) if not outside[aid]}
            o = {aid: off for off, aid in enumerate(aids) if outside[aid]}
            lay = layouts[key] = (c, o)
        seen_at[sid], out_at[sid] = lay
        if shapes is not None:
            by_shape[shapes[sid]] = lay
    if ex.orbits is not None:
        for a, o in ex.orbits.labels:
            ids.saw(aid_of[a], o)
    return Split(
        seen_at,
        out_at,
        ex.edge_start,
        obs,
        ex.dst,
        ids.inside,
        ids.kind_bit,
        ids.kinds,
        ids.actions,
        ids.varies,
        ids.cost,
        model.settles,
    )
