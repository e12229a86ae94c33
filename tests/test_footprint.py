"""Successor caching must never change what the search finds (explorer/bridge/stepper.py)."""

from __future__ import annotations

import pytest

from explorer.bridge.model import ErrseqModel
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.vfs import Spec
from explorer.domain.world import EIO, ENOSPC, Bounds
from explorer.engine.search import bfs


def same(a, b) -> bool:
    return a.states == b.states and a.action == b.action and a.obs == b.obs and a.dst == b.dst


@pytest.mark.parametrize("name", builtin_names())
@pytest.mark.parametrize(
    "bounds,depth",
    [
        (Bounds(2, 2, 0), 7),
        (Bounds(2, 1, 1), 7),
        # a host fd's events read the inode its slot names (any file), a wberror its errno
        (Bounds(2, 1, 2, (EIO, ENOSPC), "any"), 6),
    ],
)
def test_cached_search_equals_direct_search(name, bounds, depth):
    cached = ErrseqModel(load_spec(name), bounds)
    direct = ErrseqModel(load_spec(name), bounds, cache=False)
    assert same(bfs(cached, depth), bfs(direct, depth))
    assert cached.stepper.exact  # the built-in specs stay inside their footprints


class Nosy(Spec):
    """A spec whose syncfs looks at another container's overlay mount (not local)."""

    name = "nosy"

    def sys_syncfs(self, w, ofs, f):
        other = w.ofs(1 - f.owner) if w.bounds.mounts > 1 else ofs
        ret = self.vfs_syncfs(w, f)
        return ret if other.mounted else 0


def test_a_spec_reaching_outside_its_footprint_falls_back_to_exact_stepping():
    b = Bounds(2, 1, 0)
    cached = ErrseqModel(Nosy(), b)
    direct = ErrseqModel(Nosy(), b, cache=False)
    assert same(bfs(cached, 7), bfs(direct, 7))
    assert not cached.stepper.exact
