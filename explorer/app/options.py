"""The command line's shared options, declared once for typer: the bounds and the
model's options that the main job, diff and replay take alike."""

from __future__ import annotations

from typing import Annotated

import typer

from explorer.domain.catalog import builtin_names
from explorer.domain.race_world import MAX_THREADS
from explorer.domain.world import MAX_DEPTH, MAX_FDS, MAX_HOST_FDS, MAX_MOUNTS

SpecOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--spec",
        "-s",
        help=f"Spec name or path to a spec .py file; repeatable. Default: all ({', '.join(builtin_names())}).",
    ),
]

MountsOpt = Annotated[
    int, typer.Option(help=f"Overlay containers sharing the upper fs, 1 to {MAX_MOUNTS}.")
]
DepthOpt = Annotated[int, typer.Option(help=f"Longest event sequence explored, 1 to {MAX_DEPTH}.")]
FdsOpt = Annotated[int, typer.Option(help=f"Open fds per container at most, 1 to {MAX_FDS}.")]
HostFdsOpt = Annotated[
    int, typer.Option("--host-fds", help=f"Open host fds at most, 0 to {MAX_HOST_FDS}.")
]
MountOptionsOpt = Annotated[
    str, typer.Option("--mount-options", help="Mounts explored: normal, volatile or both.")
]
ErrnosOpt = Annotated[
    str,
    typer.Option(
        "--errnos",
        help="Errnos a writeback error may record: EIO, ENOSPC or EIO,ENOSPC (wberror "
        "FILE ENOSPC as well as EIO; errseq keeps the latest).",
    ),
]
CounterBitsOpt = Annotated[
    int | None,
    typer.Option(
        "--counter-bits",
        metavar="K",
        help="Width of the errseq counter, 2 to 19, so that it wraps within a run "
        "(jeff-split's split flags get K-1 bits). Default: the kernel's 19 (18 split).",
        show_default=False,
    ),
]
HostFilesOpt = Annotated[
    str,
    typer.Option(
        "--host-files",
        help="Files a host fd may open: own (the host's file) or any (also a "
        "container's upper file, as upperdir/file: open fdN host ovlK).",
    ),
]
RacesOpt = Annotated[
    bool,
    typer.Option(
        "--races",
        help="Calls in steps: every errseq_t access, lock and page transition of a call is "
        "a step, and steps of different threads interleave (docs/model.md §8); --depth "
        "still counts calls. Adds mainline-flock and the linearizable property.",
    ),
]
ThreadsOpt = Annotated[
    int,
    typer.Option(
        "--threads",
        metavar="T",
        help=f"With --races: threads per actor (each container, the host), sharing its "
        f"fds, 1 to {MAX_THREADS}.",
    ),
]
