"""The options of a run, checked before anything is built: shared by explore and diff.

Every refusal is an `OptionError` naming the option and the reason (exit code 2).
"""

from __future__ import annotations

import math
import re

from explorer.app.outcome import PROPERTIES
from explorer.bridge.model import KIND_ORDER
from explorer.bridge.user_property import Property, load_property
from explorer.domain.errseq import COUNTER_BITS, MIN_COUNTER_BITS
from explorer.domain.world import (
    ERRNOS,
    HOST_FILES,
    MAX_DEPTH,
    MAX_FDS,
    MAX_HOST_FDS,
    MAX_MOUNTS,
    MOUNT_OPTIONS,
    Bounds,
)
from explorer.errors import InputError

#: More processes than a run has tasks (two per spec at most) gain nothing.
MAX_JOBS = 64

#: About 10 s and 300 MB of the isolation witness search per spec; the main job needs 2%.
ISOLATION_BUDGET = 1_000_000


class OptionError(InputError):
    """An option value the tool cannot use, naming the option and the reason (exit 2)."""


def parse_options(
    mounts: int,
    depth: int,
    fds: int,
    host_fds: int,
    mount_options: str,
    props: list[str] | None,
    containers: list[str] | None,
    allow: list[str] | None,
    errnos: str = "EIO",
    host_files: str = "own",
):
    """The bounds and choices of a run, checked: an OptionError names the option."""
    for flag, value, low, high in (
        ("--depth", depth, 1, MAX_DEPTH),
        ("--mounts", mounts, 1, MAX_MOUNTS),
        ("--fds", fds, 1, MAX_FDS),
        ("--host-fds", host_fds, 0, MAX_HOST_FDS),
    ):
        if not low <= value <= high:
            raise OptionError(f"{flag} {value}: must be {low} to {high}")
    if mount_options not in MOUNT_OPTIONS:
        raise OptionError(f"--mount-options {mount_options!r}: choose normal, volatile or both")
    if host_files not in HOST_FILES:
        raise OptionError(f"--host-files {host_files!r}: choose own or any")
    builtins = [p for p in props or [] if not p.endswith(".py")]  # .py: a user property
    for p in builtins:
        if p not in PROPERTIES:
            raise OptionError(
                f"--property {p!r}: choose from {', '.join(PROPERTIES)}, or give a .py file"
            )
    viewers = None
    if containers:
        viewers = []
        for c in containers:
            m = re.fullmatch(r"ovl([1-9][0-9]?)", c)
            if m is None or int(m.group(1)) > mounts:
                raise OptionError(f"--container {c!r}: choose ovl1..ovl{mounts}")
            viewers.append(int(m.group(1)) - 1)
    for k in allow or []:
        if k not in KIND_ORDER:
            raise OptionError(f"--allow {k!r}: choose from {', '.join(KIND_ORDER)}")
    props_t = tuple(p for p in PROPERTIES if p in builtins) if props else PROPERTIES
    return (
        Bounds(mounts, fds, host_fds, parse_errnos(errnos), host_files),
        MOUNT_OPTIONS[mount_options],
        props_t,
        viewers,
        frozenset(allow or []),
    )


def parse_errnos(text: str) -> tuple[int, ...]:
    """`--errnos EIO,ENOSPC`: the errnos a writeback error may record, EIO first."""
    names = [n.strip() for n in re.split(r"[,+]", text)]
    for n in names:
        if n not in ERRNOS:
            raise OptionError(f"--errnos {text!r}: {n!r} is not one of {', '.join(ERRNOS)}")
    return tuple(err for name, err in ERRNOS.items() if name in names)


def errnos_text(errnos: tuple[int, ...]) -> str:
    """The errnos as --errnos writes them: EIO,ENOSPC."""
    return ",".join(name for name, err in ERRNOS.items() if err in errnos)


def parse_counter_bits(counter_bits: int | None) -> int | None:
    """`--counter-bits K`: the errseq counter's width; None (or the kernel's 19): full."""
    if counter_bits is None:
        return None
    if not MIN_COUNTER_BITS <= counter_bits <= COUNTER_BITS:
        raise OptionError(
            f"--counter-bits {counter_bits}: must be {MIN_COUNTER_BITS} to {COUNTER_BITS} "
            f"(the kernel's counter has {COUNTER_BITS} bits, 18 with split flags)"
        )
    return None if counter_bits == COUNTER_BITS else counter_bits


def check_run_options(
    max_states: int | None, max_memory: float | None, show: int, jobs: int
) -> None:
    """The main job's options that are not bounds (parse_options checks those)."""
    if max_states is not None and max_states < 1:
        raise OptionError(f"--max-states {max_states}: must be 1 or more")
    if max_memory is not None and not (math.isfinite(max_memory) and max_memory > 0):
        raise OptionError(f"--max-memory {max_memory}: must be a finite number of GiB above 0")
    if show < 0:
        raise OptionError(f"--show {show}: must be 0 or more")
    if not 0 <= jobs <= MAX_JOBS:
        raise OptionError(f"--jobs {jobs}: must be 0 to {MAX_JOBS}")


def user_properties(props: list[str] | None) -> dict[str, Property]:
    """The user properties among --property's values (.py files), loaded, by name: two
    with one name would share a column and a file of out/."""
    found: dict[str, Property] = {}
    given: dict[str, str] = {}
    for path in props or []:
        if not path.endswith(".py"):
            continue
        prop = load_property(path)
        if prop.name in found:
            raise OptionError(
                f"--property {path}: a property named {prop.name!r} is already given "
                f"({given[prop.name]}): each property once"
            )
        found[prop.name], given[prop.name] = prop, path
    return found
