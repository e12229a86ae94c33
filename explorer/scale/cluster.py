"""Reaching a Ray runtime: start a local one or join a cluster, and turn what Ray raises
into what the user would see from a run on one machine."""

from __future__ import annotations

import logging
import math
import socket
import sys
import types
from typing import Any

from explorer.bridge import user_property
from explorer.checker.options import OptionError
from explorer.domain import catalog

#: `--ray` without a value: a runtime on this machine, started by the run.
LOCAL = "local"

INSTALL = "pip install 'errseq-explorer[ray]'"


def ray_module() -> Any:
    """ray, or a bad-input error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise OptionError(f"--ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


def connect(address: str) -> Any:
    """A Ray runtime: a local one (`local`), or the cluster at `address` (`auto` or
    HOST:PORT, as `ray start --head` prints it).  Joined once per process."""
    ray = ray_module()
    if ray.is_initialized():
        return ray
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.ERROR,
        "configure_logging": True,
    }
    if address not in (LOCAL, "auto"):
        reachable(address)
    try:
        if address == LOCAL:
            ray.init(**kwargs)
        else:
            ray.init(address=address, **kwargs)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OptionError(
            f"--ray {address}: cannot join a Ray cluster there ({first}); start one with "
            "`ray start --head`, or give --ray without an address for a local runtime"
        ) from None
    return ray


def reachable(address: str) -> None:
    """Refuse an address nothing answers at, at once: Ray itself retries for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise OptionError(
            f"--ray {address}: give HOST:PORT (as `ray start --head` prints it) or auto"
        )
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise OptionError(
            f"--ray {address}: no Ray cluster answers there ({exc.strerror or exc}); start one "
            "with `ray start --head`, or give --ray without an address for a local runtime"
        ) from None


def cpus(ray: Any) -> int:
    """The cluster's CPUs (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def per_node(ray: Any, actors: int, tasks: int) -> int:
    """How many workers share the busiest node: the memory guard's divisor.  The actors
    spread over the nodes and stay for the run; a node runs up to its CPUs' worth of
    the tasks at once."""
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    most_cpus = max((int(n.get("Resources", {}).get("CPU", 1)) for n in nodes), default=1)
    return max(1, math.ceil(actors / max(1, len(nodes))) + min(tasks, most_cpus))


def unwrap(exc: BaseException) -> BaseException:
    """The exception a worker raised (a limit, a spec's bad hook), not Ray's wrapper, so
    the run ends with the message and exit code it would have on one machine."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


#: The modules explore loads from a user's files (a spec, a property).
USER_MODULES = (f"{catalog.PREFIX}_", f"{user_property.PREFIX}_")


def user_modules(ray: Any) -> dict[str, str]:
    """The user's modules, sent by value (a worker cannot import them), by name with
    their file."""
    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith(USER_MODULES):
            ray.cloudpickle.register_pickle_by_value(module)
            found[name] = getattr(module, "__file__", "") or ""
    return found


def stand_in(modules: dict[str, str]) -> None:
    """In a worker: a module of each name with its file, so that a spec's error names
    its file and line as on the user's machine (the classes came by value)."""
    for name, path in modules.items():
        if name not in sys.modules:
            stub = types.ModuleType(name)
            stub.__file__ = path
            sys.modules[name] = stub
