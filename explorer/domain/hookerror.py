"""A spec's hook that misbehaves, as one line naming spec, file:line, hook and event.

A spec given by path is a user's code: whatever one of its hooks raises (SystemExit
and RecursionError included), or returns that the kernel function it is named after
could not (`RESULTS`), becomes a SpecHookError (bad input, exit 2).  `Spec.apply`
(explorer.domain.vfs) is the one place every search and replay calls hooks through;
`hook_errors`, `check_result` and `check_void` do the same for code that calls a hook
directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from explorer.domain.errseq import MAX_ERRNO, Ref
from explorer.domain.userfile import PASS_THROUGH, exception_text, location, module_file
from explorer.domain.world import Bounds, Event
from explorer.errors import InputError


class TimeLimitExceeded(BaseException):
    """Raised into a user's hook or property method that ran past its time limit (by the
    checker's watchdog, explorer.checker.timelimit).  Not an Exception: a hook's own
    `except Exception` must not swallow it; the code that called the hook reports it."""


class StepLimitExceeded(BaseException):
    """Raised into a hook whose call, run in steps (docs/model.md §8), goes on making
    shared accesses without returning (explorer.domain.steps): each access ends a step
    and the hook runs again for the next, so no single run of it lasts long enough for
    the time limit, and a loop over shared fields would never end.  Not an Exception,
    as TimeLimitExceeded."""


class SpecHookError(InputError):
    """A spec's hook raised, exited, or returned something that is not a result: bad input
    (exit 2) in one line.  Rebuilt from its fields when pickled, so that a worker process
    sends it to the parent whole (its cause, the hook's own exception, stays behind)."""

    def __init__(self, spec: str, where: str, hook: str, event: str, problem: str) -> None:
        self.spec, self.where, self.hook, self.event = spec, where, hook, event
        self.problem = problem
        place = f" ({where})" if where else ""
        super().__init__(f"spec {spec}{place}, hook {hook}, {event}: {problem}")

    def __reduce__(self) -> tuple[type[SpecHookError], tuple[str, str, str, str, str]]:
        return SpecHookError, (self.spec, self.where, self.hook, self.event, self.problem)


def event_text(b: Bounds, ev: Event) -> str:
    """An event as a hook error names it: "event 'fsync' by ovl1 (fd slot 2)"."""
    verb = ev.verb
    if verb in ("mount", "umount"):
        return f"event '{verb}{' volatile' if ev.volatile else ''}' by {b.owner_name(ev.arg)}"
    if verb in ("wberror", "evict"):
        return f"event '{verb}' of {b.owner_name(ev.arg)}'s file"
    if verb == "open" and ev.ino >= 0:
        who = b.owner_name(b.owner(ev.arg))
        return f"event 'open' of {b.owner_name(ev.ino)}'s file by {who} (fd slot {ev.arg + 1})"
    if verb == "sync":
        return "event 'sync' by host"
    return f"event '{verb}' by {b.owner_name(b.owner(ev.arg))} (fd slot {ev.arg + 1})"


def _spec_files(spec: object) -> list[str]:
    """The files defining the spec's class and the spec classes it derives from; not the
    tool's own (the base rules, reached from a spec's line)."""
    files = []
    for cls in type(spec).__mro__:
        path = module_file(cls)
        if path and cls.__module__.split(".")[0] != "explorer":
            files.append(path)
    return files


def _where(spec: object, hook: str, exc: BaseException | None) -> str:
    """file:line where the spec went wrong: the deepest frame of the traceback in one of
    its files; without one, the hook's definition if a spec file has it, else the file."""
    return location(exc, _spec_files(spec), getattr(type(spec), hook, None))


def _spec_name(spec: object) -> str:
    name = getattr(spec, "name", None)
    return name if isinstance(name, str) else type(spec).__name__


def hook_error(spec: object, hook: str, event: str, exc: BaseException) -> SpecHookError:
    """The SpecHookError for `exc`, raised by `hook` of `spec` while running `event`."""
    problem = exception_text(exc)
    if isinstance(exc, SystemExit):
        problem += " (a hook returns its result; it must not exit)"
    elif isinstance(exc, TypeError) and "unpack non-iterable int" in str(exc):
        problem += (
            " (the errseq functions take fields by reference and return the kernel's "
            "result: f.f_sb_err = es.sample(w.sb.s_wb_err))"
        )
    return SpecHookError(_spec_name(spec), _where(spec, hook, exc), hook, event, problem)


@contextmanager
def hook_errors(spec: object, hook: str, event: str) -> Iterator[None]:
    """For code that calls a spec's hook directly rather than through `Spec.apply`:
    whatever the hook raises becomes a SpecHookError (Ctrl-C stays itself).

        what = "event 'syncfs' by ovl1 (a fresh open)"
        with hook_errors(spec, "sys_syncfs", what):
            ret = check_result(spec, "sys_syncfs", what, spec.sys_syncfs(w, ofs, f))
    """
    try:
        yield
    except (*PASS_THROUGH, SpecHookError):
        raise
    except BaseException as exc:
        raise hook_error(spec, hook, event, exc) from exc


#: What a hook may return: a call's result (0 or a negative errno), an open's (the same,
#: or nothing for 0), or nothing at all.
ERRNO, OPEN, VOID = "errno", "open", "void"

#: What each hook the dispatcher (`Spec.apply`) calls may return, after the kernel
#: function it is named after: an `int` function that can fail returns 0 or a negative
#: errno, and the errno is honoured (a refused mount, a failed fsync, a failed open:
#: no fd); a `void` one returns nothing, and a value would go nowhere, so it is refused.
#: The open hooks may also return nothing (0): setting up the fd is what they are for,
#: and the base rules and the built-in specs return nothing.  The shared helpers
#: (ovl_sync_fs, ovl_real_fsync, ovl_sync_upper, ovl_sync_status) are not here: only a
#: spec's own code calls them and uses what they return.
RESULTS: dict[str, tuple[str, str]] = {
    "ovl_fill_super": (ERRNO, "static int ovl_fill_super(), fs/overlayfs/super.c"),
    "generic_shutdown_super": (
        VOID,
        "void generic_shutdown_super(), fs/super.c, which drops what sync_filesystem returns",
    ),
    "vfs_open": (OPEN, "int vfs_open(), fs/open.c"),
    "ovl_open": (OPEN, "static int ovl_open(), fs/overlayfs/file.c"),
    "vfs_fsync": (ERRNO, "int vfs_fsync(), fs/sync.c"),
    "ovl_fsync": (ERRNO, "static int ovl_fsync(), fs/overlayfs/file.c"),
    "vfs_syncfs": (ERRNO, "syncfs(2), fs/sync.c"),
    "sys_syncfs": (ERRNO, "syncfs(2), fs/sync.c"),
    "mapping_set_error": (VOID, "static inline void mapping_set_error(), include/linux/pagemap.h"),
}


def _shown(ret: object) -> str:
    """A returned value as a message quotes it: its repr, cut short, and its type."""
    try:
        shown = repr(ret)
    except Exception:  # a user's object whose __repr__ fails
        shown = "an object"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{shown} ({type(ret).__name__})"


def check_result(spec: object, hook: str, event: str, ret: object) -> int:
    """The result of a hook that returns one (mount, open, fsync, syncfs; `RESULTS`): 0
    or a negative errno in [-4095, -1], or, from an open hook, nothing for 0; anything
    else (a str, a float, True, 5, None from a call) is a SpecHookError.  A field
    returned by reference counts as its value."""
    kind = RESULTS.get(hook, (ERRNO, ""))[0]
    if isinstance(ret, Ref):
        ret = ret.value
    if isinstance(ret, int) and not isinstance(ret, bool) and -MAX_ERRNO <= ret <= 0:
        return int(ret)
    if ret is None and kind == OPEN:
        return 0
    what = "an open returns 0 (or nothing)" if kind == OPEN else "a call returns 0"
    raise SpecHookError(
        _spec_name(spec),
        _where(spec, hook, None),
        hook,
        event,
        f"returned {_shown(ret)}; {what} or a negative errno in [-{MAX_ERRNO}, -1]",
    )


def check_void(spec: object, hook: str, event: str, ret: object) -> None:
    """A hook named after a void kernel function (`RESULTS`) returns nothing: a value
    it returns would be silently lost, so it is a SpecHookError."""
    if ret is None:
        return
    raise SpecHookError(
        _spec_name(spec),
        _where(spec, hook, None),
        hook,
        event,
        f"returned {_shown(ret)}; {hook} returns nothing: the kernel's is void "
        f"({RESULTS[hook][1]})",
    )
