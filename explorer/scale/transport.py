"""The partitioned search's transport over Ray actors: one actor per partition.

The batches a partition sends are Ray objects passed from actor to actor (an actor
method's results, split with `num_returns`, are the next call's arguments), so the
successors do not travel through the driver; the driver handles only each level's
keys and ranks (ints) and the witnesses' few edges.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from explorer.checker.timelimit import armed, time_limit
from explorer.engine.limits import rss_bytes
from explorer.engine.partition import Partition
from explorer.scale.cluster import stand_in, unwrap


class Holder:
    """A Ray actor that holds one partition (the engine's `Partition`) across calls."""

    def __init__(self) -> None:
        self.partition: Partition | None = None
        self.limit: float | None = None

    def start(
        self,
        make: Callable[[int], Partition],
        part: int,
        modules: dict[str, str],
        limit: float | None = None,
    ) -> None:
        """Build partition `part`; a user's code runs under the driver's time `limit` in
        every call (armed per call: between calls the actor's process is Ray's)."""
        stand_in(modules)
        self.limit = limit
        self.partition = None  # free the last search's before building the next
        with time_limit(limit):
            self.partition = make(part)

    def call(self, method: str, *args: Any) -> Any:
        with time_limit(self.limit):
            return getattr(self.partition, method)(*args)

    def split(self, method: str, n: int, *args: Any) -> Any:
        """A method that gives a tuple of n, as n Ray objects (one is the element)."""
        with time_limit(self.limit):
            r = getattr(self.partition, method)(*args)
        return r if n > 1 else r[0]

    def rss(self) -> int:
        return rss_bytes()


class RayTransport:
    """P actors; `call` hands out one method call per actor, `fetch` waits for results
    and re-raises a worker's exception as it was raised there."""

    def __init__(
        self, ray: Any, parts: int, cpus: float, modules: dict[str, str] | None = None
    ) -> None:
        self.ray, self.parts, self.modules = ray, parts, modules or {}
        actor = ray.remote(Holder).options(num_cpus=cpus, scheduling_strategy="SPREAD")
        self.actors = [actor.remote() for _ in range(parts)]

    def start(self, make: Callable[[int], Partition]) -> None:
        limit = armed()
        self.fetch(
            [a.start.remote(make, i, self.modules, limit) for i, a in enumerate(self.actors)]
        )

    def call(self, method: str, args: list[tuple], returns: int | None = None) -> list[list[Any]]:
        out = []
        for a, xs in zip(self.actors, args, strict=True):
            if returns is None:
                out.append([a.call.remote(method, *xs)])
            else:
                refs = a.split.options(num_returns=returns).remote(method, returns, *xs)
                out.append(list(refs) if returns > 1 else [refs])
        return out

    def fetch(self, handles: list[Any]) -> list[Any]:
        try:
            return self.ray.get(handles)
        except self.ray.exceptions.RayTaskError as exc:
            raise unwrap(exc) from None

    def ask(self, part: int, method: str, *args: Any) -> Any:
        return self.fetch([self.actors[part].call.remote(method, *args)])[0]

    def rss(self) -> list[int]:
        """Each actor's resident memory (the cost model's figure)."""
        return self.fetch([a.rss.remote() for a in self.actors])

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
