"""A claim's runs under one spec: the product of the world and the claim's programs.

A claim (explorer.domain.claim) gives each actor a program; its runs are the
interleavings that keep each program's order and in which every event is enabled in
the world (docs/model.md §7).  `ClaimModel` presents them to the engine as a `Model` whose
state is a `Node`:

    world    the world's state (explorer.domain.world)
    pcs      per program, the index of its next line
    anys     per `any K` line, how many events it has taken
    fds      per fd the claim names, its slot while open (-1 before its open, after
             its close)
    record   one bit per atom of the filter and the formula, set when the atom
             became true: `E = R` when E ran and returned R, `A < B` when B ran after A

A move is a program line with the world event it performs; the world steps through
the spec's model (explorer.bridge.model, its stepper), as the explorer's search does,
so a spec's misbehaving hook is the same SpecHookError.  An `any K` line offers
every event its actor can perform (anonymous fds only: the claim's named fds belong
to its explicit lines), K at most, and the lines after it stay enabled, which ends
it; so each choice of sequence is a path of its own.  A run is a distinct sequence of
events (docs/model.md §7): of consecutive `any` lines, the first that has room takes
the events (the next one starts once it is full), so each way of splitting a
sequence between them is the same single path, and `any 2` then `any 1` has the
runs of `any 3`.  Every move adds one event, and pcs and anys say how many: the
graph is layered, and runs are counted as paths (explorer.engine.count, which
checks that no node offers two moves with the same `label`).  A run is a path to a *complete* node, where every explicit
line has run (what follows is `any` lines, which may stop at any time).

Symmetry: containers whose whole program is `any` lines, the same K for each, and
that no explicit line names (so neither does the condition) are interchangeable;
the model then declares a `ClaimSymmetry` (explorer.bridge.claim_symmetry) that sorts
them.  The recorded graph keeps one edge per move of the representative, so counted
paths stay exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from explorer.bridge.claim_symmetry import ClaimSymmetry
from explorer.bridge.model import ErrseqModel
from explorer.domain import world
from explorer.domain.claim import AnyLine, Claim, ClaimBounds, ProgramLine, required_bounds
from explorer.domain.claim_formula import Before, LineId, Returns, Tally
from explorer.domain.scenario import CONTAINER_RE, owner_index
from explorer.domain.scenario import Event as Line
from explorer.domain.vfs import Spec
from explorer.domain.world import ERRNO_NAMES, ERRNOS, MOUNT_OPTIONS, Bounds, Event, State
from explorer.engine import contract


class Node(NamedTuple):
    """A state of the product (see the module's docstring)."""

    world: State
    pcs: tuple[int, ...]
    anys: tuple[int, ...]
    fds: tuple[int, ...]
    record: int


class Move(NamedTuple):
    """A program line performing one world event (an `any K` line: one of its events)."""

    line: LineId
    event: Event


@dataclass(frozen=True)
class _Program:
    actor: str
    who: int  # a container index, the host's index, or world.ENVIRONMENT
    lines: tuple[ProgramLine | AnyLine, ...]
    done_from: int  # the program is complete once its pc reaches this (trailing `any`s)


@dataclass
class ClaimModel(contract.Model[Node, Move, "int | None"]):
    """The runs of `claim` under `spec`, at the claim's bounds (`required_bounds`): its
    world offers the claim's errnos and host files, and `spec` is narrowed to its
    counter-bits.

    `symmetric` declares the symmetry of interchangeable `any` containers when the
    claim has some; the counts are the same either way (tested)."""

    claim: Claim
    spec: Spec
    symmetric: bool = True
    bounds: ClaimBounds = field(init=False)
    world_bounds: Bounds = field(init=False)
    options: tuple[int, ...] = field(init=False)
    world_model: ErrseqModel = field(init=False, repr=False)

    def __post_init__(self) -> None:
        claim = self.claim
        self.bounds = required_bounds(claim)
        self.world_bounds = b = self.bounds.world()
        self.options = MOUNT_OPTIONS[self.bounds.mount_options]
        self.spec = self.spec.with_counter_bits(self.bounds.counter_bits)
        self.world_model = ErrseqModel(self.spec, b, self.options)
        self.programs: list[_Program] = []
        for actor, lines in claim.programs.items():
            done = len(lines)
            while done and isinstance(lines[done - 1], AnyLine):
                done -= 1
            self.programs.append(_Program(actor, self._who(actor), lines, done))
        self.program_of = {p.actor: i for i, p in enumerate(self.programs)}
        any_lines = [pl for pl in claim.lines() if isinstance(pl, AnyLine)]
        self.any_index = {pl.id: i for i, pl in enumerate(any_lines)}
        opens = [
            pl for pl in claim.lines() if isinstance(pl, ProgramLine) and pl.event.verb == "open"
        ]
        self.fd_names = [pl.event.fd or "" for pl in opens]
        self.fd_index = {name: i for i, name in enumerate(self.fd_names)}
        atoms: list[Returns | Before] = []
        for f in (claim.filter, claim.formula):
            for a in f.atoms() if f is not None else ():
                assert not isinstance(a, Tally), "step counts need races on (claim_races)"
                if a not in atoms:
                    atoms.append(a)
        self.atoms = tuple(atoms)
        self.bit = {a: 1 << i for i, a in enumerate(atoms)}
        # Per line: the atoms its run may make true.
        self.effects: dict[LineId, list[Returns | Before]] = {}
        for a in atoms:
            line = a.event.id if isinstance(a, Returns) else a.then.id
            self.effects.setdefault(line, []).append(a)
        self.depth = sum(pl.k if isinstance(pl, AnyLine) else 1 for pl in claim.lines())
        classes = self._interchangeable() if self.symmetric else []
        self.symmetry = ClaimSymmetry(self, classes) if classes else None

    def _who(self, actor: str) -> int:
        if actor == "env":
            return world.ENVIRONMENT
        if actor == "host":
            return self.world_bounds.host
        m = CONTAINER_RE.match(actor)
        assert m is not None
        return int(m[1]) - 1

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.spec.name

    # --- symmetry -------------------------------------------------------------------------

    def _interchangeable(self) -> list[list[int]]:
        """Classes (two or more) of containers whose programs are `any` lines alone with
        the same Ks (or no program) and whom no explicit line names."""
        b = self.world_bounds
        if self.bounds.host_files != "own":
            return []  # a host fd on a container's file would have to move with it
        named: set[int] = set()
        for pl in self.claim.lines():
            if isinstance(pl, ProgramLine):
                for name in (pl.event.target, pl.event.file):
                    if name and (m := CONTAINER_RE.match(name)):
                        named.add(int(m[1]) - 1)
        shapes: dict[tuple[int, ...], list[int]] = {}
        for c in range(b.mounts):
            if c in named:
                continue
            lines = self.claim.programs.get(f"ovl{c + 1}", ())
            if any(isinstance(pl, ProgramLine) for pl in lines):
                continue
            shapes.setdefault(tuple(pl.k for pl in lines if isinstance(pl, AnyLine)), []).append(c)
        return [members for members in shapes.values() if len(members) > 1]

    # --- the engine's Model -------------------------------------------------------------

    def initial_states(self) -> list[Node]:
        return [
            Node(
                self.world_bounds.initial(),
                (0,) * len(self.programs),
                (0,) * len(self.any_index),
                (-1,) * len(self.fd_names),
                0,
            )
        ]

    def actions(self, state: Node) -> list[Move]:
        return [m for m, _ in self._moves(state)]

    def next_state(self, state: Node, action: Move) -> tuple[Node, int | None]:
        i = self.program_of[action.line[0]]
        return self._apply(state, i, action.line[1], action.event)

    def successors(self, state: Node) -> list[tuple[Move, Node, int | None]]:
        out = []
        for move, i in self._moves(state):
            t, obs = self._apply(state, i, move.line[1], move.event)
            out.append((move, t, obs))
        return out

    def _moves(self, node: Node) -> Iterator[tuple[Move, int]]:
        """The enabled moves with their program's index: for each program, its next
        line, or the events of an `any` line and whatever line follows it."""
        enabled = self.world_model.actions(node.world)
        allowed = set(enabled)
        named = {s for s in node.fds if s >= 0}
        for i, prog in enumerate(self.programs):
            taking = False  # an `any` line of this block still takes events
            for j in range(node.pcs[i], len(prog.lines)):
                pl = prog.lines[j]
                if isinstance(pl, AnyLine):
                    if not taking and node.anys[self.any_index[pl.id]] < pl.k:
                        taking = True
                        for ev in enabled:
                            if self._actor_may(prog.who, ev, named):
                                yield Move(pl.id, ev), i
                    continue
                named_ev = self.world_event(pl, node)
                if named_ev is not None and named_ev in allowed:
                    yield Move(pl.id, named_ev), i
                break

    def label(self, move: Move) -> tuple[str, LineId | None, Event]:
        """What a run records of a move: the actor, the explicit line (None for an
        `any` line's event: which `any` line took it is not part of what happens) and
        the world event.  Two runs are one when their labels are equal, and `_moves`
        offers at most one move per label in a node (explorer.engine.count checks)."""
        pl = self.claim.program_line(move.line)
        return move.line[0], None if isinstance(pl, AnyLine) else move.line, move.event

    def _actor_may(self, who: int, ev: Event, named: set[int]) -> bool:
        """Whether an `any` line of actor `who` may perform `ev`: its own events, on its
        anonymous fds only."""
        b = self.world_bounds
        if b.actor(ev) != who:
            return False
        return ev.verb not in world.FD_VERBS or ev.verb == "open" or ev.arg not in named

    def world_event(self, pl: ProgramLine, node: Node) -> Event | None:
        """The world event a program line performs in `node` (None: it cannot, an open
        with no free fd slot)."""
        b, e = self.world_bounds, pl.event
        verb = e.verb
        if verb in ("mount", "umount"):
            return Event(verb, self._who(e.target or ""), e.volatile)
        if verb == "wberror":
            return Event(verb, self._who(e.target or ""), err=ERRNOS[e.errno])
        if verb == "evict":
            return Event(verb, self._who(e.target or ""))
        if verb == "sync":
            return Event("sync")
        if verb == "open":
            slot = world.free_slot(b, node.world, self._who(e.target or ""))
            ino = owner_index(e.file, b.mounts) if e.file else -1
            return None if slot is None else Event("open", slot, ino=ino)
        return Event(verb, node.fds[self.fd_index[e.fd or ""]])

    def _apply(self, node: Node, i: int, j: int, ev: Event) -> tuple[Node, int | None]:
        """Line j of program i performs `ev`."""
        t, obs = self.world_model.next_state(node.world, ev)
        prog = self.programs[i]
        pl = prog.lines[j]
        pcs = list(node.pcs)
        anys, fds, record = node.anys, node.fds, node.record
        if isinstance(pl, AnyLine):
            pcs[i] = j
            k = self.any_index[pl.id]
            anys = anys[:k] + (anys[k] + 1,) + anys[k + 1 :]
        else:
            pcs[i] = j + 1
            if pl.event.fd is not None:
                f = self.fd_index[pl.event.fd]
                # A failed open (an errno) leaves its fd unopened, as a close does.
                opened = ev.verb == "open" and not obs
                slot = ev.arg if opened else -1 if ev.verb in ("open", "close") else fds[f]
                if slot != fds[f]:
                    fds = fds[:f] + (slot,) + fds[f + 1 :]
            for atom in self.effects.get(pl.id, ()):
                if isinstance(atom, Returns):
                    hit = obs == atom.result
                else:
                    first = atom.first.id
                    hit = node.pcs[self.program_of[first[0]]] > first[1]
                if hit:
                    record |= self.bit[atom]
        return Node(t, tuple(pcs), anys, fds, record), obs

    # --- runs -----------------------------------------------------------------------------

    def complete(self, node: Node) -> bool:
        """Every explicit line has run: a path to this node is a run of the claim."""
        return all(pc >= p.done_from for pc, p in zip(node.pcs, self.programs, strict=True))

    def holds(self, node: Node, which: str) -> bool:
        """The value of the claim's filter (True when it has none) or formula in a run
        ending in `node`."""
        f = self.claim.filter if which == "filter" else self.claim.formula
        if f is None:
            return True
        return f.decide(lambda atom: bool(node.record & self.bit[atom]))  # type: ignore[index]

    def line_names(self, moves: list[Move]) -> list[Line]:
        """A run's events as scenario lines named as the claim names them: its fds keep
        their names; an `any` line's opens get fresh ones (fdN, unused by the claim)."""
        b = self.world_bounds
        names: dict[int, str] = {}
        taken = set(self.fd_names)
        fresh = (f"fd{n}" for n in range(1, 10_000) if f"fd{n}" not in taken)
        out: list[Line] = []
        for n, (line, ev) in enumerate(moves, 1):
            pl = self.claim.program_line(line)
            if isinstance(pl, ProgramLine):
                e = pl.event
                if e.verb == "open" and e.fd:
                    names[ev.arg] = e.fd
                out.append(replace(e, line=n, expect=None))
                continue
            if ev.verb in ("mount", "umount", "evict"):
                out.append(Line(ev.verb, target=b.owner_name(ev.arg), volatile=ev.volatile, line=n))
            elif ev.verb == "wberror":
                name = ERRNO_NAMES[ev.err]
                out.append(Line(ev.verb, target=b.owner_name(ev.arg), line=n, errno=name))
            elif ev.verb == "sync":
                out.append(Line("sync", line=n))
            elif ev.verb == "open":
                names[ev.arg] = next(fresh)
                owner = b.owner(ev.arg)
                file = b.owner_name(ev.ino) if ev.ino >= 0 and ev.ino != owner else None
                out.append(Line("open", names[ev.arg], b.owner_name(owner), line=n, file=file))
            else:
                out.append(Line(ev.verb, names[ev.arg], line=n))
        return out

    def blocked(self, node: Node) -> list[tuple[ProgramLine, str]]:
        """In a node where the run cannot go on: each unfinished program's next explicit
        line, with why the world does not let it run there."""
        out = []
        for i, prog in enumerate(self.programs):
            for pl in prog.lines[node.pcs[i] :]:
                if isinstance(pl, AnyLine):
                    continue
                ev = self.world_event(pl, node)
                if ev is None:  # no free slot: ask about the owner's first one
                    owner = self._who(pl.event.target or "")
                    ev = Event("open", self.world_bounds.owner_slots(owner)[0])
                why = world.why_disabled(self.world_bounds, node.world, ev, self.options)
                out.append((pl, why or "it is not enabled"))
                break
        return out
