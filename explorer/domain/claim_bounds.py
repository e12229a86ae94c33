"""The bounds a claim is checked at: its `bounds:` items, the defaults, and what its
programs need (docs/claims-language.md, Headers).

A claim states some bounds and leaves the others at their defaults; both are raised
as far as the programs need (a program for ovl3 needs mounts 3, a volatile mount needs
`volatile` or `both`, `ENOSPC` in a program needs errnos EIO+ENOSPC, a host fd on a
container's file needs host-files any), and a stated bound below that is an error
naming it.  `errnos` is raised by `ENOSPC` in a program only: `= ENOSPC` in the
condition is an atom that may just never hold.  A host fd on a container's file
(`open fdN host ovlK`) counts against host-fds.
"""

from __future__ import annotations

import re
from dataclasses import astuple, dataclass, fields
from typing import TYPE_CHECKING, NoReturn

from explorer.domain.claim_formula import ClaimError
from explorer.domain.claim_program import AnyLine, actor_of
from explorer.domain.errseq import COUNTER_BITS, MIN_COUNTER_BITS
from explorer.domain.race_world import MAX_THREADS
from explorer.domain.scenario import CONTAINER_RE
from explorer.domain.world import (
    ERRNOS,
    MAX_DEPTH,
    MAX_FDS,
    MAX_HOST_FDS,
    MAX_MOUNTS,
    MOUNT_OPTIONS,
    Bounds,
)

if TYPE_CHECKING:  # the claim holds its bounds; only its type is needed here
    from explorer.domain.claim import Claim

NUMBER_RE = re.compile(r"[0-9]{1,6}$")

Value = int | str | None


@dataclass(frozen=True)
class BoundSetting:
    """One `bounds:` item as written: mounts, fds, host-fds, mount-options, ..."""

    key: str
    value: int | str
    line: int


@dataclass(frozen=True)
class ClaimBounds:
    """The bounds a claim is checked at: stated, defaulted, raised to what it needs.
    The defaults are the main job's."""

    mounts: int = 2
    fds: int = 2
    host_fds: int = 1
    mount_options: str = "both"
    depth: int = 8
    errnos: tuple[str, ...] = ("EIO",)
    counter_bits: int | None = None  # None: the errseq counter's full width
    host_files: str = "own"
    races: str = "off"  # "on": calls in steps (docs/model.md §8)
    threads: int = 1  # threads per actor, with races on

    def world(self) -> Bounds:
        """The world's bounds: its shape, the errnos a wberror may record and the files a
        host fd may open.  The counter's width is the spec's (`Spec.with_counter_bits`)."""
        errnos = tuple(ERRNOS[name] for name in self.errnos)
        return Bounds(self.mounts, self.fds, self.host_fds, errnos, self.host_files)


# key -> (smallest, largest) for a number, or the words allowed, weakest first
# (mount-options: by the kinds of mount each allows).
BOUND_KEYS: dict[str, tuple[int, int] | tuple[str, ...]] = {
    "mounts": (1, MAX_MOUNTS),
    "fds": (1, MAX_FDS),
    "host-fds": (0, MAX_HOST_FDS),
    "mount-options": tuple(MOUNT_OPTIONS),
    "depth": (1, MAX_DEPTH),
    "errnos": ("EIO", "EIO+ENOSPC"),
    "counter-bits": (MIN_COUNTER_BITS, COUNTER_BITS),
    "host-files": ("own", "any"),
    "races": ("off", "on"),
    "threads": (1, MAX_THREADS),
}


def _defaults() -> dict[str, Value]:
    """ClaimBounds' defaults by the keys a claim writes (`errnos` as `EIO+ENOSPC`)."""
    out: dict[str, Value] = {}
    for f, value in zip(fields(ClaimBounds), astuple(ClaimBounds()), strict=True):
        out[f.name.replace("_", "-")] = "+".join(value) if isinstance(value, tuple) else value
    return out


DEFAULTS = _defaults()


def bound_setting(source: str, n: int, words: list[str]) -> BoundSetting:
    """One `bounds:` item, `KEY VALUE`, with its value in range."""

    def fail(token: str, reason: str) -> NoReturn:
        raise ClaimError(source, n, token, reason)

    key = words[0]
    allowed = BOUND_KEYS.get(key)
    if allowed is None:
        fail(key, f"unknown bound (one of: {', '.join(BOUND_KEYS)})")
    if len(words) != 2:
        fail(words[2] if len(words) > 2 else key, f"usage is '{key} VALUE'")
    word = words[1]
    if isinstance(allowed[0], int):
        lo, hi = allowed
        if not NUMBER_RE.match(word) or not int(lo) <= int(word) <= int(hi):
            fail(word, f"{key} is a number from {lo} to {hi}")
        return BoundSetting(key, int(word), n)
    if word not in allowed:
        fail(word, f"{key} is one of: {', '.join(map(str, allowed))}")
    return BoundSetting(key, word, n)


Need = tuple[int | str, int, str]  # the value needed, the line that needs it, why


def needs(claim: Claim) -> dict[str, Need]:
    """What the programs need, per bound."""
    need: dict[str, Need] = {}

    def at_least(key: str, value: int, line: int, why: str) -> None:
        if value > int(need.get(key, (0, 0, ""))[0]):
            need[key] = (value, line, why)

    kinds: dict[str, str] = {}  # normal/volatile -> the first mount of that kind
    depth = 0
    holding: dict[str, list[str]] = {}  # per actor, the fds its programs hold open
    for name, program in claim.programs.items():
        actor = actor_of(name)
        if m := CONTAINER_RE.match(actor):
            at_least("mounts", int(m[1]), program[0].line, f"a program for {name}")
        live = holding.setdefault(actor, [])
        for pl in program:
            depth += pl.k if isinstance(pl, AnyLine) else 1
            at_least("depth", depth, pl.line, f"they have {depth} events")
            if isinstance(pl, AnyLine):
                continue
            e, why = pl.event, f"{pl.event} at line {pl.line}"
            for named in (e.target, e.file):
                if named and (m := CONTAINER_RE.match(named)):
                    at_least("mounts", int(m[1]), pl.line, why)
            if e.verb == "mount":
                kinds.setdefault("volatile" if e.volatile else "normal", why)
                want = "both" if len(kinds) == 2 else next(iter(kinds))
                need["mount-options"] = (want, pl.line, ", ".join(kinds.values()))
            if e.verb == "open" and e.fd:
                live.append(e.fd)
                held = f"{actor} has {len(live)} open at once ({', '.join(live)}, line {pl.line})"
                at_least("host-fds" if actor == "host" else "fds", len(live), pl.line, held)
            if e.verb == "close" and e.fd in live:
                live.remove(e.fd)
            if e.verb == "wberror" and e.errno == "ENOSPC":
                need.setdefault("errnos", ("EIO+ENOSPC", pl.line, why))
            if e.file:
                need.setdefault("host-files", ("any", pl.line, why))
    return need


def covers(key: str, have: Value, want: int | str) -> bool:
    """Whether the bound `have` allows what the programs need (`want`)."""
    if isinstance(want, int):
        return int(have or 0) >= want
    if key == "mount-options":
        return set(MOUNT_OPTIONS[str(have)]) >= set(MOUNT_OPTIONS[want])
    words = [str(w) for w in BOUND_KEYS[key]]
    return words.index(str(have)) >= words.index(want)


def required_bounds(claim: Claim) -> ClaimBounds:
    """The bounds the claim is checked at: its `bounds:`, the defaults for the others,
    raised as far as the programs need; a stated bound below that is a ClaimError."""
    stated = {b.key: b for b in claim.bounds}
    out: dict[str, Value] = {k: stated[k].value if k in stated else v for k, v in DEFAULTS.items()}
    for key, (want, line, why) in needs(claim).items():
        limit = BOUND_KEYS[key][1]
        if isinstance(want, int) and isinstance(limit, int) and want > limit:
            why = f"the programs need {key} {want}, more than the tool explores ({limit}): {why}"
            raise ClaimError(claim.source, line, key, why)
        if not covers(key, out[key], want):
            if key in stated:
                why = f"{key} {out[key]} is below what the programs need: {why}"
                raise ClaimError(claim.source, stated[key].line, key, why)
            out[key] = want
    bits = out["counter-bits"]
    return ClaimBounds(
        mounts=int(out["mounts"] or 0),
        fds=int(out["fds"] or 0),
        host_fds=int(out["host-fds"] or 0),
        mount_options=str(out["mount-options"]),
        depth=int(out["depth"] or 0),
        errnos=tuple(str(out["errnos"]).split("+")),
        counter_bits=None if bits is None else int(bits),
        host_files=str(out["host-files"]),
        races=str(out["races"]),
        threads=int(out["threads"] or 1),
    )
