"""herd7's `States` for claims (explorer.checker.claim_states), checked by hand on the
seed's claim (docs/model.md §7) and against the claim checker's own run counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.checker.claims import load_claims, observe
from explorer.domain.catalog import load_spec
from explorer.render.claims import states_lines

CLAIMS = Path(__file__).parent.parent / "claims"
SEED = CLAIMS / "examples" / "seed-overlay-mount-hides-error.claim"


def outcomes(claim, spec: str) -> list[tuple[tuple[str, ...], int, int]]:
    o = observe(claim, spec, load_spec(spec))
    assert o.outcomes is not None
    return [(s.results, s.runs, s.satisfying) for s in o.outcomes.counts]


def test_the_seed_claim_has_two_outcomes_under_vivek_v3_seen():
    """§7: 16 runs (the wberror in 2 places, ovl2's mount in 8).  §4 vivek-v3-seen: the
    mount marks the upper SEEN, so in the one run where it falls between the error and
    fd2's open, fd2 samples the marked value and its syncfs returns 0; fd1 was open
    before the error (cursor 0), so its syncfs returns EIO in every run.  Under plain
    and amir both syncfs calls return EIO in all 16."""
    (claim,) = load_claims([str(SEED)])
    o = observe(claim, "vivek-v3-seen", load_spec("vivek-v3-seen"))
    assert o.outcomes is not None
    assert o.outcomes.events == ["mount ovl2", "open fd2 ovl1", "syncfs fd2", "syncfs fd1"]
    assert outcomes(claim, "vivek-v3-seen") == [
        (("0", "0", "EIO", "EIO"), 15, 0),
        (("0", "0", "0", "EIO"), 1, 1),
    ]
    assert (o.satisfied, o.unsatisfied) == (1, 15)
    for spec in ("plain", "amir"):
        assert outcomes(claim, spec) == [(("0", "0", "EIO", "EIO"), 16, 0)]
    assert states_lines(claim.name, o) == [
        "States seed-overlay-mount-hides-error vivek-v3-seen 2",
        "  15  mount ovl2=0; open fd2 ovl1=0; syncfs fd2=EIO; syncfs fd1=EIO;",
        "   1  mount ovl2=0; open fd2 ovl1=0; syncfs fd2=0; syncfs fd1=EIO;  (satisfies)",
    ]


@pytest.mark.parametrize("spec", ["plain", "mainline", "vivek-v3-seen", "amir", "jeff-split"])
def test_outcomes_add_up_to_the_claim_checkers_runs(spec):
    for claim in load_claims([str(CLAIMS / "thread")]):
        if claim.unsettled is not None or not claim.programs:
            continue
        o = observe(claim, spec, load_spec(spec))
        if o.error:
            assert o.outcomes is None
            continue
        assert o.outcomes is not None
        counts = o.outcomes.counts
        assert sum(s.runs for s in counts) == o.satisfied + o.unsatisfied, claim.name
        assert sum(s.satisfying for s in counts) == o.satisfied, claim.name
        assert len({s.results for s in counts}) == len(counts)
        assert all(len(s.results) == len(o.outcomes.events) for s in counts)


def test_the_claim_text_and_json_list_the_states():
    from explorer.checker.claims import check_all, exit_code
    from explorer.render import claims

    outs = check_all(load_claims([str(SEED)]), ["vivek-v3-seen"])
    text = claims.text(outs)
    assert "States seed-overlay-mount-hides-error vivek-v3-seen 2\n" in text
    obs = claims.as_json(outs, exit_code(outs))["claims"][0]["observations"][0]
    assert obs["states"]["outcomes"][1] == {
        "results": ["0", "0", "0", "EIO"],
        "runs": 1,
        "satisfying": 1,
    }
