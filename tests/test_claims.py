"""Counting a claim's runs: the product search against an independent oracle.

The oracle enumerates every interleaving of a claim's programs one by one, replays each
as a scenario through `explore replay`'s code path (World stepping, not the search's
cached stepper), keeps those whose every event is enabled, and evaluates the filter and
the condition on each run's record of positions and results (claim_formula's
position-based semantics, not the search's bits).  The checker counts paths in the
product graph instead; both must give the same numbers for every claim of the library
that the oracle can replay, under every spec.  Symmetry: with interchangeable `any`
containers, counts are the same with and without the reduction.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from explorer.app.claims import observe
from explorer.app.replay import run as replay_run
from explorer.bridge.claim_model import ClaimModel, MissingOption, world_bounds
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.claim import (
    AnyLine,
    Claim,
    ClaimVerdict,
    ExtEvent,
    load_claim,
    parse_claim,
    required_bounds,
)
from explorer.domain.claim_formula import RESULTS, Ran, evaluate
from explorer.domain.scenario import ScenarioError, parse
from explorer.engine.count import NotLayered, count, paths
from explorer.engine.search import Exploration, bfs

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = sorted((ROOT / "claims").rglob("*.claim"))


def interleavings(programs: list[list]) -> list[list]:
    """Every merge of the programs that keeps each one's order."""
    if all(not p for p in programs):
        return [[]]
    out = []
    for i, p in enumerate(programs):
        if p:
            rest = programs[:i] + [p[1:]] + programs[i + 1 :]
            out += [[p[0], *tail] for tail in interleavings(rest)]
    return out


def oracle(claim: Claim, spec_name: str) -> tuple[int, int, int]:
    """(satisfied, unsatisfied, filtered out), one interleaving at a time."""
    spec = load_spec(spec_name)
    sat = unsat = filtered = 0
    for order in interleavings([list(p) for p in claim.programs.values()]):
        try:
            scenario = parse("".join(f"{pl.text}\n" for pl in order), "<oracle>")
        except ScenarioError:
            continue  # impossible whatever the spec (an evict while an fd holds the inode)
        r = replay_run(scenario, spec)
        if r.skipped:
            continue  # an event not enabled: not a run
        record = {
            pl.id: Ran(i, None if res is None else RESULTS[res])
            for i, (pl, res) in enumerate(zip(order, r.results, strict=True))
        }
        if claim.filter is not None and not evaluate(claim.filter, record):
            filtered += 1
        elif evaluate(claim.formula, record):  # type: ignore[arg-type]
            sat += 1
        else:
            unsat += 1
    return sat, unsat, filtered


def replayable(path: Path) -> bool:
    c = load_claim(path)
    try:
        world_bounds(c, required_bounds(c))
    except MissingOption:
        return False
    return bool(c.programs) and not any(
        isinstance(pl, AnyLine) or (hasattr(pl, "event") and isinstance(pl.event, ExtEvent))
        for pl in c.lines()
    )


ORACLE_CLAIMS = [p for p in LIBRARY if replayable(p)]


def test_the_oracle_covers_most_of_the_library() -> None:
    assert len(ORACLE_CLAIMS) >= 24


@pytest.mark.parametrize("path", ORACLE_CLAIMS, ids=lambda p: p.stem)
def test_counts_equal_the_oracles(path: Path) -> None:
    claim = load_claim(path)
    for name in claim.specs or builtin_names():
        o = observe(claim, name, load_spec(name))
        assert (o.satisfied, o.unsatisfied, o.filtered) == oracle(claim, name), name


def test_the_oracle_sees_the_seed_as_the_language_doc_says() -> None:
    """MODEL.md §7's example: 16 runs, the seed's order satisfies it under vivek-v3-seen."""
    claim = load_claim(ROOT / "claims/examples/seed-overlay-mount-hides-error.claim")
    assert oracle(claim, "vivek-v3-seen") == (1, 15, 0)
    assert oracle(claim, "amir") == (0, 16, 0)


# --- any K and symmetry ---------------------------------------------------------------


def claim(text: str) -> Claim:
    return parse_claim(textwrap.dedent(text).lstrip("\n"), "t.claim")


WHATEVER = """
    claim whatever
    bounds: mounts 3, fds 1, host-fds 0, mount-options normal
    ovl1:
      mount ovl1
      open fd1 ovl1
      write fd1
      fsync fd1
    ovl2:
      any 3
    ovl3:
      any 3
    env:
      wberror ovl1
    forall (fsync fd1 = EIO)
"""


@pytest.mark.parametrize("spec", ["plain", "mainline", "vivek-v3-seen", "amir", "jeff-split"])
def test_symmetry_among_any_containers_keeps_counts_exact(spec: str) -> None:
    c = claim(WHATEVER)
    with_sym = observe(c, spec, load_spec(spec), symmetric=True)
    without = observe(c, spec, load_spec(spec), symmetric=False)
    assert (with_sym.satisfied, with_sym.unsatisfied) == (without.satisfied, without.unsatisfied)
    assert with_sym.verdict == ClaimVerdict.ALWAYS
    assert with_sym.states < without.states  # the reduction does reduce
    assert ClaimModel(c, load_spec(spec)).symmetry is not None


def test_any_counts_every_sequence_once() -> None:
    """`any 2` for a container with one fd and normal mounts: nothing; mount; mount
    umount; mount open: 4 sequences, each a run (no other program)."""
    c = claim(
        """
        claim any-alone
        bounds: mounts 1, fds 1, host-fds 0, mount-options normal
        ovl1:
          any 2
        host:
          sync
        exists (sync = 0)
        """
    )
    o = observe(c, "plain", load_spec("plain"))
    # ovl1's sequences: (), mount, mount umount, mount open; the host's sync goes into
    # 1, 2, 3, 3 places: 9 runs, each with sync = 0.
    assert (o.satisfied, o.unsatisfied) == (9, 0)


def test_any_leaves_the_named_fds_alone_and_the_next_line_ends_it() -> None:
    """After `open fd1`, ovl1's `any 1` may do nothing or open an anonymous fd (ovl1 is
    mounted, and fd1 is the claim's, not the any line's): 2 runs, each then closing fd1.
    An `any` that could use fd1 would add its write, fsync, syncfs and close."""
    c = claim(
        """
        claim any-named
        bounds: mounts 1, fds 2, host-fds 0, mount-options normal
        ovl1:
          mount ovl1
          open fd1 ovl1
          any 1
          close fd1
        exists (close fd1 = 0)
        """
    )
    o = observe(c, "plain", load_spec("plain"))
    assert (o.satisfied, o.unsatisfied) == (2, 0)


def test_a_named_container_is_not_permuted() -> None:
    c = claim(
        """
        claim named
        bounds: mounts 3, fds 1, host-fds 0, mount-options normal
        ovl1:
          mount ovl1
        ovl2:
          any 1
        ovl3:
          any 2
        env:
          any 1
        exists (mount ovl1 = 0)
        """
    )
    assert ClaimModel(c, load_spec("plain")).symmetry is None  # any 1 and any 2 differ


# --- errors -------------------------------------------------------------------------------


def test_a_claim_needing_a_model_option_says_so() -> None:
    c = load_claim(ROOT / "claims/thread/25-counter-wrap-false-negative.claim")
    with pytest.raises(MissingOption, match=r"25-counter-wrap.*:\d+: .*counter-bits"):
        ClaimModel(c, load_spec("plain"))


def test_no_run_names_the_line_that_can_never_run() -> None:
    c = claim(
        """
        claim unmounted
        ovl1:
          open fd1 ovl1
          syncfs fd1
        exists (syncfs fd1 = 0)
        """
    )
    o = observe(c, "plain", load_spec("plain"))
    assert o.verdict is None and (o.satisfied, o.unsatisfied) == (0, 0)
    assert o.error == "'open fd1 ovl1' can never run (ovl1 is not mounted)"
    assert o.error_line == 3


def test_no_run_where_each_line_runs_but_never_all() -> None:
    """Claim 23 under mainline: the error falls before the unmount (which writes back),
    so the volatile remount is refused and fd2 cannot open; without the error first,
    the mount succeeds but nothing is left to fail."""
    path = ROOT / "claims/thread/23-volatile-sample-pre-mount-error.claim"
    c = load_claim(path)
    at = {t.strip(): n for n, t in enumerate(path.read_text().splitlines(), 1)}
    opens, fails = at["open fd2 ovl1"], at["wberror ovl1"]
    o = observe(c, "mainline", load_spec("mainline"))
    assert o.verdict is None
    assert o.error == (
        f"every interleaving stops before its end, at line {opens} 'open fd2 ovl1' (ovl1 is "
        f"not mounted); line {fails} 'wberror ovl1' (ovl1's file has no dirty data to fail "
        "writing back)"
    )
    assert o.error_line == opens


def test_no_run_passes_the_filter() -> None:
    c = claim(
        """
        claim filtered
        ovl1:
          mount ovl1
          open fd1 ovl1
        filter (open fd1 ovl1 < mount ovl1)
        exists (mount ovl1 = 0)
        """
    )
    o = observe(c, "plain", load_spec("plain"))
    assert o.error == "no run passes the filter (it leaves out all 1 run)" and o.error_line == 5


# --- the counting itself --------------------------------------------------------------------


def test_count_refuses_a_graph_that_is_not_layered() -> None:
    ex = Exploration(states=["a", "b"], depth=[0, 1], src=[0, 1], dst=[1, 0], edge_start=[0, 1])
    with pytest.raises(NotLayered):
        paths(ex)


def test_count_handles_parallel_edges_and_big_numbers() -> None:
    """Two parallel edges per step, 200 steps: 2**200 paths, exactly."""
    from explorer.engine.contract import Model

    class Chain(Model[int, int, None]):
        name = "chain"

        def initial_states(self):
            return [0]

        def actions(self, s):
            return [0, 1] if s < 200 else []

        def next_state(self, s, a):
            return s + 1, None

    ex = bfs(Chain(), depth=200)
    assert count(ex, lambda s: s == 200) == 2**200
