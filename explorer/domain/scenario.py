"""The scenario language of docs/model.md §2: parse, validate, format.

One event per line, `#` starts a comment, an optional ` = RESULT` (as the tool prints
it) is accepted and kept as the expected result where the call can give it
(`stated_result_error`, the rule the claim language's condition follows too).  Examples:

    mount ovl1            mount ovl2 volatile     umount ovl1
    open fd1 ovl1         open fd3 host           write fd1
    fsync fd1             syncfs fd1              close fd1
    wberror ovl1          evict host              sync

and the lines of the model's options: `wberror ovl1 ENOSPC` (a writeback error that
records ENOSPC; `wberror ovl1` records EIO) and `open fd4 host ovl1` (the host opens
ovl1's upper file directly, as `upperdir/file`).  A scenario that uses them is
replayed in a world that offers them (`Bounds.errnos`, `Bounds.host_files`).

Everything that is wrong whatever the spec (unknown verb or fd, an fd opened twice,
umount or evict with fds open) is a ScenarioError that names the file, the line, the
token and the reason.  Whether an event can happen at all may depend on the spec (a
refused volatile mount, a volatile syncfs that wrote nothing back): `explorer.checker.replay`
skips such an event in that spec's column, and reports an error only when no spec
can run it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from explorer.domain import world
from explorer.domain.world import EIO, ERRNO_NAMES, ERRNOS, MAX_MOUNTS, Bounds
from explorer.errors import InputError

CONTAINER_RE = re.compile(r"ovl([1-9][0-9]*)$")
RESULT_TOKENS = {"0": 0, **ERRNOS}

# Which results a line may state, one rule for scenarios and claims (docs/model.md §2):
# mount, open, fsync and syncfs may fail (a spec's hook returns the errno: a refused
# volatile mount, an ovl_open that cannot open the real file), so they state 0 or an
# errno and replay compares it with the model's; write, close, umount and sync always
# return 0 in the model; wberror and evict are the environment's, nobody's syscall.
ALWAYS_ZERO = ("write", "close", "umount", "sync")
ENVIRONMENT = ("wberror", "evict")
RESULT_WORDS = f"{', '.join(list(RESULT_TOKENS)[:-1])} or {list(RESULT_TOKENS)[-1]}"


def stated_result_error(verb: str, result: str) -> tuple[str, str] | None:
    """Why an event of `verb` cannot state `result`, as (token, reason); None if it can."""
    if result not in RESULT_TOKENS:
        return result, f"a result is {RESULT_WORDS}"
    if verb in ENVIRONMENT:
        return "=", f"{verb} is an environment event: it returns nothing, no result to state"
    if verb in ALWAYS_ZERO and result != "0":
        return result, f"{verb} always returns 0 in the model"
    return None


def result_name(ret: int | None) -> str | None:
    """A result as the scenario language writes it: 0 -> "0", -5 -> "EIO", -28 ->
    "ENOSPC"; None (an environment event has no result) stays None."""
    if ret is None:
        return None
    if ret == 0:
        return "0"
    return ERRNO_NAMES.get(ret, f"E{-ret}")


#: The calls that can fail: a line shows their result always (0 included).
SHOWN = ("mount", "fsync", "syncfs")


def shows_result(verb: str, ret: object) -> bool:
    """Whether a line shows its call's result (`= EIO`): always for a call in SHOWN, and
    for an open that failed (only a spec whose open hook returns an errno fails one,
    docs/model.md §2), so that a run written out replays to the same results."""
    if ret is None or ret is ...:  # an environment event's, a call in flight's (PENDING)
        return False
    return verb in SHOWN or (verb == "open" and ret != 0)


ARITY = {
    "mount": (1, 2),
    "umount": (1, 1),
    "open": (2, 3),
    "write": (1, 1),
    "fsync": (1, 1),
    "syncfs": (1, 1),
    "close": (1, 1),
    "wberror": (1, 2),
    "evict": (1, 1),
    "sync": (0, 0),
}
USAGE = {
    "mount": "mount ovlN [volatile]",
    "umount": "umount ovlN",
    "open": "open FD ovlN|host, or open FD host ovlK",
    "write": "write FD",
    "fsync": "fsync FD",
    "syncfs": "syncfs FD",
    "close": "close FD",
    "wberror": "wberror ovlN|host [EIO|ENOSPC]",
    "evict": "evict ovlN|host",
    "sync": "sync",
}


class ScenarioError(InputError):
    """Bad input, located: file, line, token and reason (printed as one line, exit 2)."""

    def __init__(self, source: str, line: int, token: str, reason: str) -> None:
        self.source, self.line, self.token, self.reason = source, line, token, reason
        where = f"{source}:{line}" if line else source
        tok = f" {token!r}:" if token else ""
        super().__init__(f"{where}:{tok} {reason}")


@dataclass(frozen=True)
class Event:
    """One line of a scenario: a verb with an fd name and/or a target (ovlN or host);
    a wberror's errno; the container whose upper file a host open takes (`file`)."""

    verb: str
    fd: str | None = None
    target: str | None = None
    volatile: bool = False
    line: int = 0
    expect: str | None = None
    errno: str = "EIO"
    file: str | None = None

    def __str__(self) -> str:
        if self.verb == "mount":
            return f"mount {self.target}" + (" volatile" if self.volatile else "")
        if self.verb == "open":
            return f"open {self.fd} {self.target}" + (f" {self.file}" if self.file else "")
        if self.verb in ("write", "fsync", "syncfs", "close"):
            return f"{self.verb} {self.fd}"
        if self.verb == "sync":
            return "sync"
        if self.verb == "wberror" and self.errno != "EIO":
            return f"wberror {self.target} {self.errno}"
        return f"{self.verb} {self.target}"

    @property
    def holder(self) -> str | None:
        """The file an open takes (ovlN or host): its owner's, or the container's whose
        upper file a host fd opens directly."""
        return self.file or self.target


@dataclass
class Scenario:
    """A parsed, structurally valid scenario and the world bounds it needs."""

    source: str
    events: list[Event]
    bounds: Bounds = field(default_factory=Bounds)
    owners: dict[str, str] = field(default_factory=dict)  # fd name -> ovlN | host
    files: dict[str, str] = field(default_factory=dict)  # fd name -> the file it holds

    def text(self) -> str:
        return "".join(f"{e}\n" for e in self.events)


def owner_index(name: str, mounts: int) -> int:
    """ovlN -> N-1, host -> mounts."""
    if name == "host":
        return mounts
    m = CONTAINER_RE.match(name)
    assert m is not None
    return int(m.group(1)) - 1


def _tokens(raw: str) -> tuple[list[str], str | None]:
    text = raw.split("#", 1)[0]
    expect = None
    if "=" in text:
        text, _, rhs = text.partition("=")
        expect = rhs.strip()
    return text.split(), expect


def parse_line(source: str, n: int, raw: str) -> Event | None:
    """One line of a scenario (None for a blank or comment line); a claim's program
    lines and the events its condition names are such lines too."""
    toks, expect = _tokens(raw)
    if not toks:
        if expect is not None:
            raise ScenarioError(source, n, "=", "a result needs an event before it")
        return None
    verb, args = toks[0], toks[1:]
    if verb not in ARITY:
        raise ScenarioError(source, n, verb, f"unknown verb (expected one of: {', '.join(ARITY)})")
    lo, hi = ARITY[verb]
    if not lo <= len(args) <= hi:
        bad = args[hi] if len(args) > hi else verb
        raise ScenarioError(source, n, bad, f"wrong number of words: usage is '{USAGE[verb]}'")
    if expect is not None and (wrong := stated_result_error(verb, expect)):
        raise ScenarioError(source, n, *wrong)

    def container(tok: str, host_ok: bool) -> str:
        m = CONTAINER_RE.match(tok)
        if m:
            digits = m.group(1)
            if len(digits) > len(str(MAX_MOUNTS)) or int(digits) > MAX_MOUNTS:
                raise ScenarioError(
                    source, n, tok, f"at most {MAX_MOUNTS} containers: ovl1..ovl{MAX_MOUNTS}"
                )
            return tok
        if host_ok and tok == "host":
            return tok
        want = "ovlN or host" if host_ok else "a container name ovlN (N >= 1)"
        raise ScenarioError(source, n, tok, f"expected {want}")

    def fd_name(tok: str) -> str:
        if tok in ("host", "volatile") or CONTAINER_RE.match(tok) or tok in ARITY:
            raise ScenarioError(source, n, tok, "expected an fd name such as fd1")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tok):
            raise ScenarioError(source, n, tok, "an fd name is letters, digits and _")
        return tok

    if verb == "mount":
        vol = False
        if len(args) == 2:
            if args[1] != "volatile":
                raise ScenarioError(source, n, args[1], "the only mount option is 'volatile'")
            vol = True
        return Event("mount", target=container(args[0], False), volatile=vol, line=n, expect=expect)
    if verb == "umount":
        return Event("umount", target=container(args[0], False), line=n, expect=expect)
    if verb == "open":
        fd, owner = fd_name(args[0]), container(args[1], True)
        file = None
        if len(args) == 3:
            if owner != "host":
                raise ScenarioError(
                    source, n, args[2], "only the host opens a container's upper file directly"
                )
            if args[2] == "host":
                raise ScenarioError(source, n, args[2], "the host's own file is 'open FD host'")
            file = container(args[2], False)
        return Event("open", fd=fd, target=owner, line=n, expect=expect, file=file)
    if verb == "wberror":
        errno = "EIO"
        if len(args) == 2:
            if args[1] not in ERRNOS:
                raise ScenarioError(
                    source, n, args[1], f"a writeback error records {' or '.join(ERRNOS)}"
                )
            errno = args[1]
        return Event(verb, target=container(args[0], True), line=n, expect=expect, errno=errno)
    if verb == "evict":
        return Event(verb, target=container(args[0], True), line=n, expect=expect)
    if verb == "sync":
        return Event("sync", line=n, expect=expect)
    return Event(verb, fd=fd_name(args[0]), line=n, expect=expect)


def parse(text: str, source: str = "<stdin>") -> Scenario:
    """Parse and validate a scenario; raise ScenarioError on the first bad line."""
    events = [e for n, raw in enumerate(text.splitlines(), 1) if (e := parse_line(source, n, raw))]
    if not events:
        raise ScenarioError(source, 0, "", "the scenario has no events")
    return _validate(source, events)


def _validate(source: str, events: list[Event]) -> Scenario:
    """Check the fd names, then replay the structure on a plain world to find impossible events."""
    owners: dict[str, str] = {}
    files: dict[str, str] = {}  # fd name -> the file it holds (ovlN | host)
    opened_at: dict[str, int] = {}
    closed_at: dict[str, int] = {}
    live: dict[str, set[str]] = {}  # owner -> its open fds
    held: dict[str, set[str]] = {}  # file -> the open fds on it
    peak: dict[str, int] = {}
    named = [CONTAINER_RE.match(name or "") for e in events for name in (e.target, e.file)]
    mounts = max([int(m[1]) for m in named if m] or [1])
    for e in events:
        if e.verb == "open":
            assert e.fd is not None and e.target is not None
            if e.fd in closed_at:
                raise ScenarioError(
                    source,
                    e.line,
                    e.fd,
                    f"fd reused: it was closed at line {closed_at[e.fd]}; give the new open a new name",
                )
            if e.fd in owners:
                raise ScenarioError(
                    source, e.line, e.fd, f"fd reused: already opened at line {opened_at[e.fd]}"
                )
            owners[e.fd], opened_at[e.fd] = e.target, e.line
            files[e.fd] = e.holder or ""
            live.setdefault(e.target, set()).add(e.fd)
            held.setdefault(files[e.fd], set()).add(e.fd)
            peak[e.target] = max(peak.get(e.target, 0), len(live[e.target]))
        elif e.fd is not None:
            if e.fd not in owners:
                raise ScenarioError(
                    source, e.line, e.fd, f"unknown fd (no 'open {e.fd} ...' before this line)"
                )
            if e.fd in closed_at:
                raise ScenarioError(
                    source, e.line, e.fd, f"fd {e.fd} was closed at line {closed_at[e.fd]}"
                )
            if e.verb == "close":
                closed_at[e.fd] = e.line
                live[owners[e.fd]].discard(e.fd)
                held[files[e.fd]].discard(e.fd)
        elif e.verb in ("umount", "evict"):
            fds = (live if e.verb == "umount" else held).get(e.target or "")
            if fds:
                what = "umount with open fds" if e.verb == "umount" else "evict of a held inode"
                still = ", ".join(sorted(fds))
                raise ScenarioError(source, e.line, e.target or "", f"{what}: {still} still open")
    used = {ERRNOS[e.errno] for e in events if e.verb == "wberror"}
    bounds = Bounds(
        mounts=mounts,
        fds=max([v for k, v in peak.items() if k != "host"] or [1]),
        host_fds=peak.get("host", 0),
        errnos=tuple(err for err in ERRNOS.values() if err == EIO or err in used),
        host_files="any" if any(e.file for e in events) else "own",
    )
    return Scenario(source, events, bounds, owners, files)


def world_event(
    scenario: Scenario, e: Event, slots: dict[str, int], state: world.State
) -> world.Event:
    """Translate a scenario line into a world event, giving an open the lowest free slot."""
    b = scenario.bounds
    if e.verb in ("mount", "umount"):
        return world.Event(e.verb, owner_index(e.target or "", b.mounts), e.volatile)
    if e.verb == "wberror":
        return world.Event(e.verb, owner_index(e.target or "", b.mounts), err=ERRNOS[e.errno])
    if e.verb == "evict":
        return world.Event(e.verb, owner_index(e.target or "", b.mounts))
    if e.verb == "sync":
        return world.Event("sync")
    if e.verb == "open":
        owner = owner_index(e.target or "", b.mounts)
        slot = world.free_slot(b, state, owner)
        ino = owner_index(e.file, b.mounts) if e.file else -1
        return world.Event("open", -1 if slot is None else slot, ino=ino)
    return world.Event(e.verb, slots.get(e.fd or "", -1))


def format_run(bounds: Bounds, events: list[world.Event]) -> list[Event]:
    """Name a run of world events as scenario lines: each open gets the next fresh fd name."""
    names: dict[int, str] = {}
    counter = 0
    out: list[Event] = []
    for n, ev in enumerate(events, 1):
        if ev.verb in ("mount", "umount"):
            out.append(
                Event(ev.verb, target=bounds.owner_name(ev.arg), volatile=ev.volatile, line=n)
            )
        elif ev.verb == "wberror":
            name = ERRNO_NAMES[ev.err]
            out.append(Event(ev.verb, target=bounds.owner_name(ev.arg), line=n, errno=name))
        elif ev.verb == "evict":
            out.append(Event(ev.verb, target=bounds.owner_name(ev.arg), line=n))
        elif ev.verb == "sync":
            out.append(Event("sync", line=n))
        elif ev.verb == "open":
            counter += 1
            names[ev.arg] = f"fd{counter}"
            owner = bounds.owner(ev.arg)
            file = bounds.owner_name(ev.ino) if ev.ino >= 0 and ev.ino != owner else None
            out.append(
                Event("open", fd=names[ev.arg], target=bounds.owner_name(owner), line=n, file=file)
            )
        else:
            out.append(Event(ev.verb, fd=names[ev.arg], line=n))
    return out
