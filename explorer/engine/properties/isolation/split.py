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


@dataclass
class Split:
    """Per expanded state: seen moves and outside moves, by action id."""

    cmoves: list[dict[int, tuple[Any, int, int]] | None]  # aid -> (obs, dst, edge)
    omoves: list[dict[int, tuple[int, int]] | None]  # aid -> (dst, edge)
    inside: list[bool]  # per aid: the viewer's own action
    kind_bit: list[int]  # per aid (outside ones): a bit of `kinds`
    kinds: list[str]  # bit index -> kind
    actions: list[Any]  # aid -> action
    varies: list[bool]  # per aid (seen ones): its result is not the same in every state
    cost: list[int]  # per aid: what it adds to a run's length (1 unless the model says)
    settles: Callable[[Any], bool] = lambda obs: True  # a result runs can differ on

    def kinds_of(self, mask: int, rank: Callable[[str], int]) -> list[str]:
        """The kinds whose bits are set in `mask`, by `rank` (the model's kind_rank)."""
        kinds = (k for i, k in enumerate(self.kinds) if mask >> i & 1)
        return sorted(kinds, key=lambda k: (rank(k), k))


def split_graph(
    ex: Exploration, model: Observers, viewer: int, max_bytes: int | None = None
) -> Split:
    """File the edges of `ex` for `viewer`; `max_bytes` is the memory guard."""
    aid_of: dict[Any, int] = {}
    actions: list[Any] = []
    inside: list[bool] = []
    kind_bit: list[int] = []
    kinds: list[str] = []
    kind_index: dict[str, int] = {}
    outside: list[bool] = []
    first: list[Any] = []  # per aid: the result of its first seen move
    varies: list[bool] = []
    cost: list[int] = []
    cm: list[dict[int, tuple[Any, int, int]] | None] = [None] * ex.n_states
    om: list[dict[int, tuple[int, int]] | None] = [None] * ex.n_states
    act, obs, dst = ex.action, ex.obs, ex.dst
    for sid in range(ex.n_states):
        if max_bytes is not None and not sid & 0xFFF:
            at = (
                f"in isolation's split of the full graph ({ex.n_states:,} distinct states to "
                f"depth {ex.max_depth}), at its state {sid:,}"
            )
            guard(sid, ex.depth[sid], None, max_bytes, at)
        edges = ex.out_edges(sid)
        if not edges:
            continue
        c: dict[int, tuple[Any, int, int]] = {}
        o: dict[int, tuple[int, int]] = {}
        for e in edges:
            a = act[e]
            aid = aid_of.get(a)
            if aid is None:
                aid = aid_of[a] = len(actions)
                actions.append(a)
                role = model.role(a, viewer)
                inside.append(role is Role.INSIDE)
                outside.append(role is Role.OUTSIDE)
                bit = 0
                if role is Role.OUTSIDE:
                    k = model.kind(a)
                    if k not in kind_index:
                        kind_index[k] = len(kinds)
                        kinds.append(k)
                    bit = 1 << kind_index[k]
                kind_bit.append(bit)
                first.append(obs[e])
                varies.append(False)
                cost.append(ex.edge_cost(e))
            if outside[aid]:
                o[aid] = (dst[e], e)
            else:
                r = obs[e]
                if r != first[aid]:
                    varies[aid] = True
                c[aid] = (r, dst[e], e)
        cm[sid], om[sid] = c, o
    return Split(cm, om, inside, kind_bit, kinds, actions, varies, cost, model.settles)
