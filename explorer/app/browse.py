"""`explore browse`: the report's state browser, served on this machine, which asks the
model for every state (explorer.render.html.serve; docs/report.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from explorer.app.options import (
    CounterBitsOpt,
    DepthOpt,
    ErrnosOpt,
    FdsOpt,
    HostFdsOpt,
    HostFilesOpt,
    MountOptionsOpt,
    MountsOpt,
    SpecOpt,
)
from explorer.checker.options import OptionError, RunOptions

#: The port `explore browse` listens on unless told (0: any free one).
PORT = 8023


def browse_command(
    mounts: MountsOpt = 2,
    depth: DepthOpt = 8,
    fds: FdsOpt = 2,
    host_fds: HostFdsOpt = 1,
    mount_options: MountOptionsOpt = "both",
    errnos: ErrnosOpt = "EIO",
    counter_bits: CounterBitsOpt = None,
    host_files: HostFilesOpt = "own",
    spec: SpecOpt = None,
    prop: Annotated[
        list[str] | None,
        typer.Option(
            "--property",
            "-p",
            help="A user property's .py file to follow along the path, besides "
            "open-before and no-loss; repeatable.",
        ),
    ] = None,
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 to serve on, 0 to 65535 (0: any free one).")
    ] = PORT,
) -> None:
    """Serve the report's state browser for every state of the model: from the initial
    state, each state's next steps, the properties along the path, back and forward,
    and a shortest path to the state shown (searched up to --depth).

    The page is out/index.html's, served by the standard library's http.server on
    127.0.0.1; it asks the explorer for what it does not hold.  Ctrl-C stops it.

    Examples:

    \b
        explore browse --spec vivek-v3-seen
        explore browse --mounts 3 --depth 10 --spec mainline --port 0
    """
    from explorer.checker.config import configure
    from explorer.checker.properties import checks
    from explorer.checker.properties.monitors import MonitorProperty
    from explorer.render.html.serve import Browser, serve

    if not 0 <= port <= 65535:
        raise OptionError(f"--port {port}: must be 0 to 65535")
    users = [p for p in prop or [] if p.endswith(".py")]
    if len(users) != len(prop or []):
        raise OptionError("--property: the browser follows user properties (.py files)")
    opts = RunOptions(
        mounts=mounts,
        depth=depth,
        fds=fds,
        host_fds=host_fds,
        mount_options=mount_options,
        errnos=errnos,
        host_files=host_files,
        counter_bits=counter_bits,
        specs=spec,
        properties=["open-before-syncfs", "open-before-fsync", "no-loss", *users],
    )
    cfg = configure(opts)
    followed = [p for p in checks(cfg) if isinstance(p, MonitorProperty)]
    b = cfg.bounds
    run = (
        f"{b.mounts} container{'s' if b.mounts != 1 else ''}, {b.fds} fds each, "
        f"{b.host_fds} host fd{'s' if b.host_fds != 1 else ''}; shortest paths "
        f"searched up to depth {cfg.depth}; {len(cfg.specs)} spec"
        f"{'s' if len(cfg.specs) != 1 else ''}"
    )
    browser = Browser(
        b,
        cfg.options,
        cfg.specs,
        lambda model: {p.name: p.monitor(model) for p in followed},
        cfg.depth,
        run,
    )
    try:
        serve(browser, port)
    except OSError as exc:
        raise OptionError(f"--port {port}: cannot listen on 127.0.0.1: {exc.strerror}") from None
    except KeyboardInterrupt:
        typer.echo("explore browse: stopped", err=True)
