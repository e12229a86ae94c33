"""A claim's programs: their lines, who may write which event, and which line a
condition's event names (docs/claims-language.md, Programs and The condition).

A program line is a line of the scenario language (explorer.domain.scenario) that
its actor performs, maybe with a label (`L2: syncfs fd1`), or `any K`.  What holds
whatever the spec is checked here, each as a ClaimError naming the line:
- A program line states no result: results belong in the condition.
- `any K` has 1 <= K <= MAX_DEPTH and no label.
- Labels are identifiers, unique, and none of: a verb, an actor, a container name,
  `any`, `volatile`, a result or formula word, an fd name of the claim.  fd names may
  not be formula words (`not`, `and`, `or`, ...).
- `ovlN` mounts and umounts only itself and opens its own file; the host opens its
  own file or a container's upper file (`open FD host ovlK`) and alone calls sync;
  wberror and evict are env's.  An fd is opened once, by one actor, and used only by
  it (or by another thread of its actor: `host.2:` uses host's fds), after its open and
  before its close in the program that opens it.
- A condition names a line as written (whitespace and `wberror F EIO` normalised),
  which must then be written once, or by its label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from explorer.domain.claim_formula import KEYWORDS, RESULTS, ClaimError, EventRef, LineId, Token
from explorer.domain.scenario import ARITY, CONTAINER_RE, Event, ScenarioError, parse_line
from explorer.domain.world import MAX_DEPTH

KEY_RE = re.compile(r"([^\s:]+):(.*)$")  # `KEY: rest`: a header, an actor or a label
THREAD_RE = re.compile(r"([A-Za-z0-9_]+)\.([0-9]{1,6})$")  # ACTOR.K, a thread program
LABEL_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
NUMBER_RE = re.compile(r"[0-9]{1,6}$")
RESERVED = {*ARITY, *KEYWORDS, *RESULTS, "host", "env", "any", "volatile", "claim"}


@dataclass(frozen=True)
class ProgramLine:
    """One event of an actor's program; `id` is (actor, index in the program)."""

    actor: str
    index: int
    event: Event
    label: str | None
    line: int

    @property
    def id(self) -> LineId:
        return (self.actor, self.index)

    @property
    def text(self) -> str:
        return str(self.event)


@dataclass(frozen=True)
class AnyLine:
    """`any K`: every sequence of at most K events the actor can perform."""

    actor: str
    index: int
    k: int
    line: int

    @property
    def id(self) -> LineId:
        return (self.actor, self.index)


Program = tuple[ProgramLine | AnyLine, ...]


def actor_of(program: str) -> str:
    """The actor a program is for: `host.2`'s is `host` (threads of one actor share
    its fds), `ovl1`'s is `ovl1`."""
    m = THREAD_RE.match(program)
    return m[1] if m else program


def thread_of(program: str) -> int:
    """The thread a program runs on: K of `ACTOR.K`, 1 for `ACTOR:`."""
    m = THREAD_RE.match(program)
    return int(m[2]) if m else 1


def parse_event(source: str, n: int, text: str) -> Event:
    """One event as a claim writes it: a line of the scenario language."""
    try:
        event = parse_line(source, n, text)
    except ScenarioError as e:
        raise ClaimError(source, n, e.token, e.reason) from None
    if event is None:
        raise ClaimError(source, n, "", "expected an event")
    if event.fd in KEYWORDS:
        raise ClaimError(source, n, event.fd or "", "an fd name may not be a formula word")
    return event


def program_line(source: str, n: int, actor: str, index: int, text: str) -> ProgramLine | AnyLine:
    """The line `text` (without its indentation and comment) of `actor`'s program."""

    def fail(token: str, reason: str) -> NoReturn:
        raise ClaimError(source, n, token, reason)

    label = None
    if m := KEY_RE.match(text):
        label, text = m[1], m[2].strip()
        if not LABEL_RE.match(label):
            fail(label, "a label is letters, digits and _, first not a digit")
        if label in RESERVED or CONTAINER_RE.match(label):
            fail(label, "a label may not be a verb, actor, result or keyword")
        if not text:
            fail(label + ":", "a label names the event that follows it")
    if "=" in text:
        fail("=", "a stated result is not allowed in a program: results belong in the condition")
    words = text.split()
    if words[0] != "any":
        return ProgramLine(actor, index, parse_event(source, n, text), label, n)
    if label:
        fail(label, "events of 'any K' cannot be named: no label")
    if len(words) != 2 or not NUMBER_RE.match(words[1]):
        fail(words[-1], "usage is 'any K'")
    if not 1 <= int(words[1]) <= MAX_DEPTH:
        fail(words[1], f"K is a number from 1 to {MAX_DEPTH}")
    return AnyLine(actor, index, int(words[1]), n)


def _who_writes(pl: ProgramLine) -> tuple[str, str] | None:
    """Whether `pl`'s actor may perform its event: None, or (token, reason)."""
    actor, e = actor_of(pl.actor), pl.event
    if e.verb in ("mount", "umount") and e.target != actor:
        return e.verb, f"only {e.target} {e.verb}s {e.target}: put it under {e.target}:"
    if e.verb == "open" and actor == "env":
        return "open", "env's events are wberror and evict"
    if e.verb == "open" and actor == "host" and e.target != "host":
        return e.target or "", "the host opens 'open FD host' or 'open FD host ovlK'"
    if e.verb == "open" and actor not in ("host", "env") and e.target != actor:
        return e.target or "", f"{actor} opens its own file only: 'open {e.fd} {actor}'"
    if e.verb == "sync" and actor != "host":
        return "sync", "only the host calls sync"
    if e.verb in ("wberror", "evict") and actor != "env":
        return e.verb, f"{e.verb} is the environment's: put it under env:"
    return None


def check_programs(source: str, programs: dict[str, Program]) -> None:
    """Who may write which event; fd names, each opened once, by one actor, used only by
    it, after its open and before its close in that actor's program; labels."""

    def fail(pl: ProgramLine, token: str | None, reason: str) -> NoReturn:
        raise ClaimError(source, pl.line, token or "", reason)

    lines = [pl for p in programs.values() for pl in p if isinstance(pl, ProgramLine)]
    opens: dict[str, ProgramLine] = {}
    for pl in lines:
        if pl.event.verb == "open" and (fd := pl.event.fd):
            if fd in opens:
                fail(pl, fd, f"{fd} is opened twice (first at line {opens[fd].line})")
            opens[fd] = pl
    opened: set[str] = set()
    closed: dict[str, int] = {}
    labels: dict[str, int] = {}
    for pl in lines:
        actor, e = pl.actor, pl.event
        if wrong := _who_writes(pl):
            fail(pl, *wrong)
        if e.verb == "open" and e.fd:
            opened.add(e.fd)
        elif e.fd:
            owner = opens.get(e.fd)
            if owner is None:
                fail(pl, e.fd, f"unknown fd (no 'open {e.fd} ...' in any program)")
            if actor_of(owner.actor) != actor_of(actor):
                who = actor_of(owner.actor)
                fail(
                    pl, e.fd, f"{e.fd} is {who}'s (opened at line {owner.line}): only {who} uses it"
                )
            # Another thread of the actor waits for the open in a run: no order here.
            if owner.actor == actor and e.fd not in opened:
                fail(pl, e.fd, f"used before its open (line {owner.line})")
            if owner.actor == actor and e.fd in closed:
                fail(pl, e.fd, f"{e.fd} was closed at line {closed[e.fd]}")
            if e.verb == "close" and owner.actor == actor:
                closed[e.fd] = pl.line
        if pl.label in labels:
            fail(pl, pl.label, f"label given twice (first at line {labels[pl.label]})")
        if pl.label in opens:
            fail(pl, pl.label, "a label may not be an fd name of the claim")
        if pl.label:
            labels[pl.label] = pl.line


class Resolver:
    """Which program line a condition names: a label, or a line as written (whitespace
    and `wberror F EIO` normalised), which must then be written once."""

    def __init__(self, source: str, programs: dict[str, Program]) -> None:
        self.source = source
        self.labels: dict[str, ProgramLine] = {}
        self.by_text: dict[str, list[ProgramLine]] = {}
        lines = [pl for p in programs.values() for pl in p]
        self.has_any = any(isinstance(pl, AnyLine) for pl in lines)
        for pl in lines:
            if isinstance(pl, ProgramLine):
                self.by_text.setdefault(pl.text, []).append(pl)
                if pl.label:
                    self.labels[pl.label] = pl

    def __call__(self, words: list[Token]) -> tuple[EventRef, str]:
        first, n = words[0]
        if first in self.labels:
            if len(words) > 1:
                why = f"expected '=' or '<' after the label {first}"
                raise ClaimError(self.source, words[1][1], words[1][0], why)
            pl = self.labels[first]
            return EventRef(pl.id, first), pl.event.verb
        if len(words) == 1 and first not in ARITY:
            raise ClaimError(self.source, n, first, "neither a label of this claim nor an event")
        event = parse_event(self.source, n, " ".join(w for w, _ in words))
        text = str(event)
        found = self.by_text.get(text, [])
        if not found:
            hint = " (events of 'any K' cannot be named)" if self.has_any else ""
            raise ClaimError(self.source, n, text, f"no program line is this event{hint}")
        if len(found) > 1:
            at = " and ".join(str(pl.line) for pl in found)
            why = f"ambiguous: written at lines {at}; name the one meant by its label"
            raise ClaimError(self.source, n, text, why)
        return EventRef(found[0].id, text), event.verb
