"""The symmetry of a claim's product: interchangeable `any` containers, sorted.

Containers whose whole program is `any` lines (the same Ks, or none) and that no
explicit line names (explorer.bridge.claim_model's `_interchangeable`) can be swapped
in any node of the product without changing what happens next or whether a run
satisfies the claim: their blocks (file, overlay mount, fd slots, program counter,
`any` counts) are sorted, as explorer.bridge.symmetry sorts the world's containers.
The recorded graph keeps one edge per move of the representative, so the number of
paths into a representative is the number of runs into its whole class
(explorer.engine.count).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.domain import world
from explorer.domain.claim import AnyLine
from explorer.domain.scenario import CONTAINER_RE
from explorer.engine import contract

if TYPE_CHECKING:
    from explorer.bridge.claim_model import ClaimModel, Move, Node


class ClaimSymmetry(contract.Symmetry["Node", "Move"]):
    """Interchangeable containers of a claim (`ClaimModel._interchangeable`), sorted.

    A container's block is its file, its overlay mount, its fd slots, and its program's
    pc and `any` counts; the blocks of each class are sorted, and a permutation is the
    tuple P over containers with "new container k is old container P[k]"."""

    def __init__(self, model: ClaimModel, classes: list[list[int]]) -> None:
        self.model = model
        self.classes = classes
        b = model.world_bounds
        self.b = b
        self.perms: list[tuple[int, ...]] = []
        self.ids: dict[tuple[int, ...], int] = {}
        self.identity = self.intern(tuple(range(b.mounts)))
        self._program = {
            c: model.program_of.get(f"ovl{c + 1}") for members in classes for c in members
        }
        self._anys = {
            c: [
                model.any_index[pl.id]
                for pl in model.claim.programs.get(f"ovl{c + 1}", ())
                if isinstance(pl, AnyLine)
            ]
            for members in classes
            for c in members
        }

    def intern(self, p: tuple[int, ...]) -> int:
        pid = self.ids.get(p)
        if pid is None:
            pid = self.ids[p] = len(self.perms)
            self.perms.append(p)
        return pid

    def _block(self, node: Node, c: int) -> tuple:
        b, s = self.b, node.world
        fds = tuple(
            v for slot in b.owner_slots(c) for v in s[b.fd_base(slot) : b.fd_base(slot) + 3]
        )
        i = self._program[c]
        pc = node.pcs[i] if i is not None else 0
        return (
            s[b.inode_base(c) : b.inode_base(c) + 3]
            + s[b.ofs_base(c) : b.ofs_base(c) + 3]
            + fds
            + (pc,)
            + tuple(node.anys[k] for k in self._anys[c])
        )

    def canonical(self, state: Node) -> tuple[Node, int]:
        p = list(range(self.b.mounts))
        for members in self.classes:
            order = sorted(members, key=lambda c: self._block(state, c), reverse=True)
            for k, c in zip(members, order, strict=True):
                p[k] = c
        perm = tuple(p)
        pid = self.intern(perm)
        if pid == self.identity:
            return state, pid
        return self.apply(state, perm), pid

    def apply(self, node: Node, p: tuple[int, ...]) -> Node:
        """`node` in the coordinates of P (new container k is old container P[k])."""
        b = self.b
        w = list(node.world)
        pcs, anys = list(node.pcs), list(node.anys)
        s = node.world
        for k, old in enumerate(p):
            if k == old:
                continue
            for base in (b.inode_base, b.ofs_base):
                w[base(k) : base(k) + 3] = s[base(old) : base(old) + 3]
            for new_slot, old_slot in zip(b.owner_slots(k), b.owner_slots(old), strict=True):
                w[b.fd_base(new_slot) : b.fd_base(new_slot) + 3] = s[
                    b.fd_base(old_slot) : b.fd_base(old_slot) + 3
                ]
            i, oi = self._program[k], self._program[old]
            if i is not None and oi is not None:
                pcs[i] = node.pcs[oi]
            for a, oa in zip(self._anys[k], self._anys[old], strict=True):
                anys[a] = node.anys[oa]
        return node._replace(world=tuple(w), pcs=tuple(pcs), anys=tuple(anys))

    def compose(self, p: int, q: int) -> int:
        """First p (old -> mid), then q (mid -> new): new k is old P[Q[k]]."""
        pp, qq = self.perms[p], self.perms[q]
        return self.intern(tuple(pp[i] for i in qq))

    def inverse(self, p: int) -> int:
        pp = self.perms[p]
        inv = [0] * len(pp)
        for k, old in enumerate(pp):
            inv[old] = k
        return self.intern(tuple(inv))

    def translate_action(self, action: Move, p: int) -> Move:
        """`action` written in old coordinates, rewritten in the new coordinates of p."""
        pp = self.perms[p]
        new_of = {old: k for k, old in enumerate(pp)}
        b = self.b
        actor, index = action.line
        if (m := CONTAINER_RE.match(actor)) is not None:
            actor = f"ovl{new_of[int(m[1]) - 1] + 1}"
        ev = action.event
        if ev.verb in ("mount", "umount"):
            ev = ev._replace(arg=new_of[ev.arg])
        elif ev.verb in ("wberror", "evict"):
            ev = ev._replace(arg=new_of.get(ev.arg, ev.arg))  # a wberror keeps its errno
        elif ev.verb in world.FD_VERBS:
            owner = b.owner(ev.arg)
            if owner != b.host:
                ev = ev._replace(arg=new_of[owner] * b.fds + ev.arg % b.fds)
        return action._replace(line=(actor, index), event=ev)
