"""User properties: a Python file that defines a monitor over runs, in the world's words.

A built-in property such as open-before is a monitor (explorer.engine.contract): a
small bookkeeping value carried along every run, a step that says when a run
violates the property, optionally a judgement of the state reached.  A user writes
one the same way, as a subclass of `Property`, and gives its file by path:
`explore -p ./mount_before_open.py`, or `expect: SPEC ./mount_before_open.py holds`
in a claim.  It gets the same verdicts, shortest witnesses, pictures and report.json
as the built-ins.

What a property sees is not the search's raw tuples: each event is an `Happened`
(verb, actor, file, fd slot, result; printed as "syncfs by ovl1 (fd slot 1) = EIO"),
and each state a `View`, the World that spec hooks get (`w.sb.s_wb_err`,
`w.inode(i).wb_err`, `w.ofs(c).errseq`, `w.file(slot).f_sb_err`) with lookups by
name (`w.mounted("ovl1")`, `w.open_fds("host")`).  A complete example with its
derivation is claims/examples/props/mount-before-open.py.

    from explorer.bridge.user_property import Property

    class NoUnmountWithError(Property):
        name = "no-umount-with-error"
        summary = "a container is not unmounted while the upper fs holds an unseen error"

        def initial(self):
            return 0  # nothing to remember

        def step(self, m, event, world):
            if event.verb == "umount" and world.sb.s_wb_err.value and not world.seen():
                return m, f"{event.actor} unmounted over an unseen error"
            return m, ""

`step(m, event, world)` gets the state *before* the event and returns the next
bookkeeping (hashable: an int, a tuple, a frozenset) and a reason, non-empty when
this step violates the property; `after(m, world)`, if defined, judges the state
reached.  Bookkeeping keyed by fd slots or container indices cannot follow the
search's symmetry reduction, so runs with a user property search without it (the
notes say so when that costs something).  Whatever the file does wrong (fails to
load, raises, returns something else) is a PropertyError naming the file and line
(exit 2), like a spec's hook error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from explorer.domain.scenario import result_name
from explorer.domain.userfile import (
    PASS_THROUGH,
    error_line,
    exception_text,
    load_user_file,
    location,
    module_file,
    user_module_name,
)
from explorer.domain.world import (
    EIO,
    ENVIRONMENT,
    FD_VERBS,
    VOLATILE,
    Bounds,
    Event,
    File,
    Inode,
    OvlFs,
    State,
    World,
)
from explorer.engine.contract import Monitor
from explorer.errors import InputError


class PropertyError(InputError):
    """A user property file that does not load, or whose code raises or returns something
    that is not what the contract asks: one line naming the file and line (exit 2).
    Rebuilt from its text when pickled, so a worker process sends it whole."""

    def __reduce__(self):
        return PropertyError, (str(self),)


@dataclass(frozen=True)
class Happened:
    """One event of a run as a property sees it.

    `verb`: mount, umount, open, write, fsync, syncfs, close, wberror, evict or sync;
    `actor`: ovlN, host or env (wberror, evict); `file`: whose file the event concerns
    (ovlN or host; None for mount, umount, sync; for a host fd on a container's upper
    file, that container's); `fd`: the fd slot of an fd event (a slot is reused after a
    close); `result`: 0 or a negative errno for a call, None for wberror and evict;
    `errno`: the negative errno a wberror records (-5 EIO, -28 ENOSPC), None for the
    other events."""

    verb: str
    actor: str
    file: str | None
    fd: int | None
    volatile: bool
    result: int | None
    errno: int | None = None

    @property
    def failed(self) -> bool:
        return bool(self.result)

    def __str__(self) -> str:
        if self.verb in ("mount", "umount"):
            text = f"{self.verb} {self.actor}" + (" volatile" if self.volatile else "")
        elif self.verb == "wberror":
            text = f"wberror {self.file}"
            if self.errno is not None and self.errno != EIO:
                text += f" {result_name(self.errno)}"
        elif self.verb == "evict":
            text = f"evict {self.file}"
        elif self.verb == "sync":
            text = "sync by host"
        else:
            on = f", {self.file}'s file" if self.file != self.actor else ""
            text = f"{self.verb} by {self.actor} (fd slot {self.fd}{on})"
        res = result_name(self.result)
        return text + (f" = {res}" if res is not None and self.verb != "open" else "")


def happened(b: Bounds, ev: Event, result: int | None, state: State) -> Happened:
    """The world event `ev`, done in `state`, with its result, as a property sees it."""
    actor = b.actor(ev)
    who = "env" if actor == ENVIRONMENT else b.owner_name(actor)
    fd = ev.arg if ev.verb in FD_VERBS else None
    if ev.verb == "open":
        file: str | None = b.owner_name(ev.ino if ev.ino >= 0 else b.owner(ev.arg))
    elif ev.verb in FD_VERBS:
        file = b.owner_name(b.slot_file(state, ev.arg))
    elif ev.verb in ("wberror", "evict"):
        file = b.owner_name(ev.arg)
    else:
        file = None
    errno = ev.err if ev.verb == "wberror" else None
    return Happened(ev.verb, who, file, fd, ev.volatile, result, errno)


class View(World):
    """A state as a property reads it: the World of spec hooks, with lookups by name.
    Changing it changes nothing (it is a copy)."""

    __slots__ = ()

    @property
    def containers(self) -> list[str]:
        return [self.bounds.owner_name(c) for c in range(self.bounds.mounts)]

    def _index(self, name: str) -> int:
        names = [*self.containers, "host"]
        if name not in names:
            raise ValueError(f"no {name!r} in this world (one of: {', '.join(names)})")
        return names.index(name)

    def ovl(self, name: str) -> OvlFs:
        """A container's overlay mount (`.mounted`, `.s_wb_err`, `.errseq`)."""
        return self.ofs(self._index(name))

    def file_of(self, name: str) -> Inode:
        """The upper inode of ovlN's file or the host's (`.wb_err`, `.dirty`, `.cached`)."""
        return self.inode(self._index(name))

    def mounted(self, name: str) -> bool:
        return bool(self.ovl(name).mounted)

    def volatile(self, name: str) -> bool:
        return self.ovl(name).mounted == VOLATILE

    def open_fds(self, owner: str) -> list[int]:
        """The open fd slots of ovlN or the host."""
        b = self.bounds
        return [s for s in b.owner_slots(self._index(owner)) if self.file(s).open]

    def fd(self, slot: int) -> File:
        """An open fd's file (`.f_wb_err`, `.f_sb_err`, `.owner`, `.ino`)."""
        return self.file(slot)

    def seen(self) -> bool:
        """Whether the upper superblock's latest error has been seen (bit 12: SEEN, or
        REPORTED in the split-flag errseq)."""
        return bool(self.sb.s_wb_err.value & 0x1000)


class Property:
    """The base of a user property (see the module's docstring for the contract)."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def initial(self) -> Hashable:
        return 0

    def step(self, m: Any, event: Happened, world: View) -> tuple[Any, str]:
        raise NotImplementedError

    def after(self, m: Any, world: View) -> str:
        return ""


def _where(prop: Property, exc: BaseException | None, method: str) -> str:
    """file:line of the deepest frame of the traceback in the property's file; without
    one, the method's definition."""
    path = module_file(type(prop))
    return location(exc, [path] if path else [], getattr(type(prop), method, None))


def _fail(prop: Property, method: str, what: str, problem: str, exc=None) -> PropertyError:
    return PropertyError(
        f"property {prop.name} ({_where(prop, exc, method)}), {method}, {what}: {problem}"
    )


@dataclass
class UserMonitor(Monitor[State, Event, "int | None", Any]):
    """A user's Property as an engine Monitor over the world of `bounds`."""

    prop: Property
    bounds: Bounds
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.prop.name

    def _call(self, method: str, what: str, *args: Any) -> Any:
        try:
            return getattr(self.prop, method)(*args)
        except (*PASS_THROUGH, PropertyError):
            raise
        except BaseException as exc:
            raise _fail(self.prop, method, what, exception_text(exc), exc) from exc

    def _hashable(self, m: Any, method: str, what: str) -> Any:
        try:
            hash(m)
        except TypeError:
            problem = (
                f"the bookkeeping {type(m).__name__} is not hashable (use an int, a tuple "
                "or a frozenset)"
            )
            raise _fail(self.prop, method, what, problem) from None
        return m

    def initial(self) -> Any:
        return self._hashable(self._call("initial", "at the start"), "initial", "at the start")

    def step(self, m: Any, state: State, action: Event, obs: int | None) -> tuple[Any, str]:
        ev = happened(self.bounds, action, obs, state)
        what = f"event '{ev}'"
        out = self._call("step", what, m, ev, View(self.bounds, state))
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], str)):
            problem = (
                f"returned {_shown(out)}; step returns (bookkeeping, reason) with reason a str"
            )
            raise _fail(self.prop, "step", what, problem)
        return self._hashable(out[0], "step", what), out[1]

    def after(self, m: Any, state: State) -> str:
        if type(self.prop).after is Property.after:
            return ""
        out = self._call("after", "a state reached", m, View(self.bounds, state))
        if not isinstance(out, str):
            problem = f"returned {_shown(out)}; after returns a reason (a str, '' if none)"
            raise _fail(self.prop, "after", "a state reached", problem)
        return out


def _shown(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        text = "an object"
    return text if len(text) <= 60 else text[:57] + "..."


#: The module names of property files start so (explorer.scale ships them to workers).
PREFIX = "errseq_user_property"


def load_property(
    path_given: str, reserved: Callable[[str], bool] = lambda name: False
) -> Property:
    """The property a .py file defines (one subclass of Property, or the one its module
    names in `PROPERTY`); anything wrong is a PropertyError naming the file.  `reserved`
    says which names are taken (the checker's registry: its built-in properties')."""
    path = Path(path_given)
    if path.suffix != ".py":
        raise PropertyError(f"{path_given}: a property file is a .py file")
    if not path.is_file():
        raise PropertyError(f"{path_given}: no such property file")
    module_name = user_module_name(path, PREFIX)
    if module_name in sys.modules:
        return _instance(sys.modules[module_name], path, reserved)
    return load_user_file(
        path, PREFIX, PropertyError, lambda module: _instance(module, path, reserved)
    )


def _instance(module: object, path: Path, reserved: Callable[[str], bool]) -> Property:
    chosen = getattr(module, "PROPERTY", None)
    if chosen is not None:
        if not (isinstance(chosen, type) and issubclass(chosen, Property)):
            raise PropertyError(f"{path}: PROPERTY must be a subclass of Property")
        cls = chosen
    else:
        own = [
            v
            for v in vars(module).values()
            if isinstance(v, type)
            and issubclass(v, Property)
            and v.__module__ == getattr(module, "__name__", "")
        ]
        if len(own) != 1:
            found = ", ".join(c.__name__ for c in own) or "none"
            raise PropertyError(
                f"{path}: expected exactly one Property subclass defined in the file (found "
                f"{found}); name the one to use with PROPERTY = ClassName"
            )
        cls = own[0]
    name = cls.name
    if not isinstance(name, str) or not name or name in (".", ".."):
        raise PropertyError(f"{path}: {cls.__name__}.name {name!r}: give the property a name")
    if "/" in name or any(c.isspace() for c in name) or not name.isprintable():
        raise PropertyError(
            f"{path}: {cls.__name__}.name {name!r}: a property name has no '/', spaces or "
            "control characters"
        )
    if reserved(name):
        raise PropertyError(f"{path}: {cls.__name__}.name {name!r} is a built-in property's")
    if cls.step is Property.step:
        raise PropertyError(f"{path}: {cls.__name__} has no step(self, m, event, world)")
    try:
        return cls()
    except (*PASS_THROUGH,):
        raise
    except BaseException as exc:
        raise PropertyError(f"{path}{error_line(exc, path)}: {exception_text(exc)}") from None
