"""The options of a run as given, and their checks: shared by explore, diff and claims.

Every refusal is an `OptionError` naming the option and the reason (exit code 2).
`RunOptions` is what the command line (or a claim's `expect:` lines) asks of a run;
`explorer.checker.config.configure` turns it, checked, into the run's `Config`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from explorer.bridge.model import KIND_ORDER
from explorer.bridge.user_property import Property, load_property
from explorer.checker.properties import PROPERTIES, RACE_PROPERTIES, reserved
from explorer.domain.errseq import COUNTER_BITS, MIN_COUNTER_BITS
from explorer.domain.race_world import MAX_THREADS
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

#: Pair states the isolation witness search may store per spec by default (what that
#: costs, and how much of it the main job needs: docs/performance.md).
ISOLATION_BUDGET = 1_000_000


class OptionError(InputError):
    """An option value the tool cannot use, naming the option and the reason (exit 2)."""


@dataclass(frozen=True)
class RunOptions:
    """What a run is asked, as the command line gives it (unchecked): the model's bounds
    and options, the specs and properties (names or .py paths), and the search's limits."""

    mounts: int = 2
    depth: int = 8
    fds: int = 2
    host_fds: int = 1
    mount_options: str = "both"
    errnos: str = "EIO"
    host_files: str = "own"
    counter_bits: int | None = None
    specs: Sequence[str] | None = None  # None: every built-in
    properties: Sequence[str] | None = None  # None: every built-in
    against: str = "plain"
    containers: Sequence[str] | None = None
    allow: Sequence[str] | None = None
    max_states: int | None = None
    max_memory: float | None = None  # GiB; None: 3/4 of RAM
    symmetry: bool | None = None  # None: where it pays
    isolation_budget: int = ISOLATION_BUDGET  # 0: no cap
    races: bool = False  # calls in steps (docs/model.md §8)
    threads: int = 1  # threads per actor, with races


@dataclass(frozen=True)
class ModelOptions:
    """The world a run explores, checked: its bounds, the mount options explored and the
    errseq counter's width (None: the kernel's)."""

    bounds: Bounds
    options: tuple[int, ...]
    counter_bits: int | None


def check_limits(opts: RunOptions) -> None:
    """--max-states and --max-memory (the bounds are `parse_model`'s)."""
    if opts.max_states is not None and opts.max_states < 1:
        raise OptionError(f"--max-states {opts.max_states}: must be 1 or more")
    mem = opts.max_memory
    if mem is not None and not (math.isfinite(mem) and mem > 0):
        raise OptionError(f"--max-memory {mem}: must be a finite number of GiB above 0")


def parse_model(opts: RunOptions) -> ModelOptions:
    """The bounds and the model's options, checked: an OptionError names the option."""
    check_bounds(opts)
    return ModelOptions(
        Bounds(opts.mounts, opts.fds, opts.host_fds, parse_errnos(opts.errnos), opts.host_files),
        MOUNT_OPTIONS[opts.mount_options],
        parse_counter_bits(opts.counter_bits),
    )


def check_bounds(opts: RunOptions) -> None:
    """The numeric bounds, the mount options and the host files (--errnos is
    `parse_errnos`'s)."""
    for flag, value, low, high in (
        ("--depth", opts.depth, 1, MAX_DEPTH),
        ("--mounts", opts.mounts, 1, MAX_MOUNTS),
        ("--fds", opts.fds, 1, MAX_FDS),
        ("--host-fds", opts.host_fds, 0, MAX_HOST_FDS),
    ):
        if not low <= value <= high:
            raise OptionError(f"{flag} {value}: must be {low} to {high}")
    if opts.mount_options not in MOUNT_OPTIONS:
        raise OptionError(
            f"--mount-options {opts.mount_options!r}: choose normal, volatile or both"
        )
    if opts.host_files not in HOST_FILES:
        raise OptionError(f"--host-files {opts.host_files!r}: choose own or any")


def parse_choices(
    opts: RunOptions,
) -> tuple[tuple[str, ...], list[int] | None, frozenset[str]]:
    """The built-in properties asked (in the matrix's order), the isolation viewers and
    the allowed kinds, checked (the user properties are `user_properties`')."""
    known = RACE_PROPERTIES if opts.races else PROPERTIES
    builtins = [p for p in opts.properties or [] if not p.endswith(".py")]  # .py: a user's
    for p in builtins:
        if p not in known:
            races = f" ({p} needs --races)" if p in RACE_PROPERTIES else ""
            raise OptionError(
                f"--property {p!r}: choose from {', '.join(known)}, or give a .py file{races}"
            )
    viewers = None
    if opts.containers:
        viewers = []
        for c in opts.containers:
            m = re.fullmatch(r"ovl([1-9][0-9]?)", c)
            if m is None or int(m.group(1)) > opts.mounts:
                raise OptionError(f"--container {c!r}: choose ovl1..ovl{opts.mounts}")
            viewers.append(int(m.group(1)) - 1)
    for k in opts.allow or []:
        if k not in KIND_ORDER:
            raise OptionError(f"--allow {k!r}: choose from {', '.join(KIND_ORDER)}")
    props = tuple(p for p in known if p in builtins) if opts.properties else known
    return props, viewers, frozenset(opts.allow or [])


def check_races(opts: RunOptions) -> None:
    """--threads goes with --races."""
    if not 1 <= opts.threads <= MAX_THREADS:
        raise OptionError(f"--threads {opts.threads}: must be 1 to {MAX_THREADS}")
    if opts.threads > 1 and not opts.races:
        raise OptionError(f"--threads {opts.threads}: it goes with --races (calls in steps)")


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


def user_properties(props: Sequence[str] | None) -> dict[str, Property]:
    """The user properties among --property's values (.py files), loaded, by name: two
    with one name would share a column and a file of out/, and none may take a
    built-in property's name."""
    found: dict[str, Property] = {}
    given: dict[str, str] = {}
    for path in props or []:
        if not path.endswith(".py"):
            continue
        prop = load_property(path, reserved)
        if prop.name in found:
            raise OptionError(
                f"--property {path}: a property named {prop.name!r} is already given "
                f"({given[prop.name]}): each property once"
            )
        found[prop.name], given[prop.name] = prop, path
    return found
