"""One worker's share of a partitioned search (explorer.engine.partition): the states
it owns, their depths, parent edges and out-edges.

Each level, a `Partition` expands its frontier and sends every successor to the
partition that owns it (`owner`: a stable hash, the same in every process and on
every machine), one batch per owner; the owners file the new states, keep for each
the least key (rank of a parent, index of the action) anyone reached it by, and the
driver's ranks order the next frontier as `search.bfs` would.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from array import array
from collections.abc import Callable, Iterable
from typing import Any

from explorer.engine.contract import Model
from explorer.engine.limits import guard

#: A key is (rank of the parent in its level) << SHIFT | (index of the action).
SHIFT = 32


def owner(state: Any, parts: int, of_ints: bool = False) -> int:
    """The partition that stores `state`: the same in every process and on every machine.

    Python's `hash` of ints and of tuples of them is (CPython, 64 bits), and costs far
    less than hashing the pickled form; a str's, None's and others' change from process
    to process, so states holding anything but ints and tuples (`of_ints` False) go by
    their pickled form (without the memo, which would write a tuple met twice in one
    state, one object, unlike two equal ones)."""
    if parts == 1:
        return 0
    if of_ints:
        return hash(state) % parts
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    pickler.fast = True
    pickler.dump(state)
    digest = hashlib.blake2b(buf.getvalue(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % parts


def of_ints(value: Any) -> bool:
    """Whether `value` is built of ints (bools aside) and tuples only."""
    if type(value) is int:
        return True
    return type(value) is tuple and all(of_ints(v) for v in value)


class Partition:
    """One worker's share of the search: the states it owns and their out-edges.

    A state is named across partitions by its ref, `local id * parts + partition`.
    """

    def __init__(
        self,
        part: int,
        parts: int,
        model: Model,
        depth: int,
        max_bytes: int | None = None,
        ints: bool = False,
    ) -> None:
        self.part, self.parts, self.model, self.max_bytes = part, parts, model, max_bytes
        self.ints = ints  # states are built of ints and tuples: `owner` may use `hash`
        sym = model.symmetry
        self.canonical = sym.canonical if sym is not None else None
        self.index: dict[Any, int] = {}
        self.states: list[Any] = []
        # Per state and per edge, numbers in arrays: 8 bytes each, where a list holds a
        # pointer and an int object (36 bytes) for each.
        self.level = array("h")
        self.rank = array("q")  # position in its level, in bfs's order
        self.parent_ref = array("q")  # -1: an initial state
        self.parent_act = array("q")  # the index of the action that reached it first
        self.key: dict[int, int] = {}  # while a level is filed: the least key seen
        self.edge_start = array("q")  # -1: not expanded
        self.expanded: list[int] = []  # in expansion order: their edges follow one another
        self.act: list[Any] = []
        self.obs: list[Any] = []
        self.perm = array("q")
        self.dst = array("q")  # refs
        self.frontier: list[int] = []
        self.new: list[int] = []  # the level being filed, in arrival order
        # per owner, the edges awaiting their dst: (edge, position in the batch sent)
        self.sent: list[list[tuple[int, int]]] = [[] for _ in range(parts)]

    def ref(self, lid: int) -> int:
        return lid * self.parts + self.part

    def seed(self, states: list[tuple[int, Any]]) -> None:
        """The initial states this partition owns, with their rank in level 0."""
        for rank, s in states:
            lid = self._add(s, 0, -1, -1)
            self.rank[lid] = rank
            self.frontier.append(lid)

    def _add(self, s: Any, level: int, pref: int, i: int) -> int:
        lid = len(self.states)
        self.index[s] = lid
        self.states.append(s)
        self.level.append(level)
        self.rank.append(-1)
        self.parent_ref.append(pref)
        self.parent_act.append(i)
        self.edge_start.append(-1)
        return lid

    def expand(self) -> tuple[list[tuple[Any, int, int]], ...]:
        """Expand this partition's frontier; one batch of (state, key, parent ref) per owner.

        A successor goes once per owner and level, with its first key (the least: the
        frontier is in rank order, actions in their order); one this partition owns and
        holds already is not sent at all."""
        parts, me = self.parts, self.part
        batches: list[list[tuple[Any, int, int]]] = [[] for _ in range(parts)]
        placed: list[dict[Any, int]] = [{} for _ in range(parts)]
        sent = self.sent = [[] for _ in range(parts)]
        canonical, successors, index = self.canonical, self.model.successors, self.index
        ints = self.ints
        act, obs, perm, dst = self.act, self.obs, self.perm, self.dst
        for lid in self.frontier:
            self.expanded.append(lid)
            self.edge_start[lid] = len(dst)
            base = self.rank[lid] << SHIFT
            pref = self.ref(lid)
            for i, (a, t, o) in enumerate(successors(self.states[lid])):
                p = 0
                if canonical is not None:
                    t, p = canonical(t)
                act.append(a)
                obs.append(o)
                perm.append(p)
                w = owner(t, parts, ints)
                if w == me:
                    held = index.get(t)
                    if held is not None:
                        dst.append(held * parts + me)
                        continue
                at = placed[w].get(t)
                if at is None:
                    at = placed[w][t] = len(batches[w])
                    batches[w].append((t, base | i, pref))
                sent[w].append((len(dst), at))
                dst.append(-1)
        return tuple(batches)

    def receive(
        self, level: int, *batches: list[tuple[Any, int, int]]
    ) -> tuple[array | list[int], ...]:
        """File the successors sent to this partition: the new states' keys in increasing
        order (for the driver to rank), then per sender the refs of what it sent, in its
        order."""
        index = self.index
        key = self.key = {}
        mask = (1 << SHIFT) - 1
        new = self.new = []
        replies: list[list[int]] = []  # small ints pickle shorter in a list than in an array
        for batch in batches:
            refs = []
            for t, k, pref in batch:
                lid = index.get(t)
                if lid is None:
                    lid = self._add(t, level, pref, k & mask)
                    key[lid] = k
                    new.append(lid)
                    n = len(self.states)
                    if self.max_bytes is not None and not n & 0xFFF:
                        where = (
                            f"at {n:,} distinct states in partition {self.part + 1} of "
                            f"{self.parts} while expanding depth {level}"
                        )
                        guard(n, level, None, self.max_bytes, where)
                elif k < key.get(lid, k):  # a state of this level, reached earlier
                    key[lid] = k
                    self.parent_ref[lid], self.parent_act[lid] = pref, k & mask
                refs.append(lid * self.parts + self.part)
            replies.append(refs)
        new.sort(key=key.__getitem__)  # the driver merges sorted runs
        return (array("q", [key[lid] for lid in new]), *replies)

    def settle(self, ranks: Iterable[int], *replies: list[int]) -> int:
        """Take the new states' ranks (the next frontier, in bfs's order) and the refs
        the owners gave the successors sent; return the states held."""
        for lid, r in zip(self.new, ranks, strict=True):
            self.rank[lid] = r
        self.frontier = sorted(self.new, key=self.rank.__getitem__)
        self.new, self.key = [], {}
        dst = self.dst
        for w, refs in enumerate(replies):
            for e, at in self.sent[w]:
                dst[e] = refs[at]
        self.sent = [[] for _ in range(self.parts)]
        return len(self.states)

    # --- questions after the search ---------------------------------------------------

    def counts(self) -> tuple[int, int]:
        return len(self.states), len(self.dst)

    def fold(self, fn: Callable[[list[Any], list[Any]], Any]) -> Any:
        """`fn(actions, observations)` of this partition's edges (coverage, say)."""
        return fn(self.act, self.obs)

    def out_slices(self) -> list[tuple[int, int, int]]:
        """(state, first edge, end) of every expanded state, in expansion order."""
        starts = [self.edge_start[lid] for lid in self.expanded] + [len(self.dst)]
        return [(lid, starts[k], starts[k + 1]) for k, lid in enumerate(self.expanded)]

    def first(self, flagged: Callable[[Any], bool]) -> tuple[int, tuple[int, int, int, int] | None]:
        """How many edges have an observation `flagged` marks (a violation), and the first
        of them in bfs's order: (level, rank, action index, source)."""
        count = 0
        best: tuple[int, int, int, int] | None = None
        obs = self.obs
        for lid, start, end in self.out_slices():
            for e in range(start, end):
                if flagged(obs[e]):
                    count += 1
                    cand = (self.level[lid], self.rank[lid], e - start, lid)
                    if best is None or cand < best:
                        best = cand
        return count, best

    def step_back(self, lid: int) -> tuple[int, int]:
        """The parent ref of a state and the index of the action that first reached it."""
        return self.parent_ref[lid], self.parent_act[lid]

    def edge(self, lid: int, i: int) -> tuple[Any, Any, int]:
        """The action, observation and destination ref of a state's i-th out-edge."""
        e = self.edge_start[lid] + i
        return self.act[e], self.obs[e], self.dst[e]

    def state(self, lid: int) -> Any:
        return self.states[lid]

    def export(self) -> tuple[list, list, list, list, list]:
        """Everything held, for `gather` (tests, small runs): per state its level, rank,
        parent and out-edges (None if not expanded) as (action, obs, perm, dst ref)."""
        sym = self.model.symmetry
        out: list[list | None] = [None] * len(self.states)
        for lid, start, end in self.out_slices():
            out[lid] = [
                (self.act[e], self.obs[e], sym.portable(self.perm[e]) if sym else 0, self.dst[e])
                for e in range(start, end)
            ]
        parents = list(zip(self.parent_ref, self.parent_act, strict=True))
        return self.states, list(self.level), list(self.rank), parents, out
