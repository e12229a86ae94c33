"""herd7's `States` for claims (explorer.app.claim_states), checked by hand on the seed's
claim (docs/model.md §7) and against the claim checker's own run counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.app.claim_states import states, states_lines
from explorer.app.claims import counted, load_claims, search
from explorer.domain.catalog import load_spec

SEED = Path(__file__).parent.parent / "claims" / "examples" / "seed-overlay-mount-hides-error.claim"


def outcomes(claim, spec: str):
    model, ex = search(claim, load_spec(spec))
    return counted(claim, spec, model, ex), *states(model, ex)


def test_the_seed_claim_has_two_outcomes_under_vivek_v3_seen():
    """§7: 16 runs (the wberror in 2 places, ovl2's mount in 8).  §4 vivek-v3-seen: the
    mount marks the upper SEEN, so in the one run where it falls between the error and
    fd2's open, fd2 samples the marked value and its syncfs returns 0; fd1 was open
    before the error (cursor 0), so its syncfs returns EIO in every run.  Under plain
    and amir both syncfs calls return EIO in all 16."""
    (claim,) = load_claims([str(SEED)])
    o, names, found = outcomes(claim, "vivek-v3-seen")
    assert names == ["mount ovl2", "open fd2 ovl1", "syncfs fd2", "syncfs fd1"]
    assert [(s.results, s.runs, s.satisfying) for s in found] == [
        (("0", "0", "EIO", "EIO"), 15, 0),
        (("0", "0", "0", "EIO"), 1, 1),
    ]
    assert (o.satisfied, o.unsatisfied) == (1, 15)
    for spec in ("plain", "amir"):
        _, _, found = outcomes(claim, spec)
        assert [(s.results, s.runs, s.satisfying) for s in found] == [
            (("0", "0", "EIO", "EIO"), 16, 0)
        ]
    _, names, found = outcomes(claim, "vivek-v3-seen")
    assert states_lines(claim.name, "vivek-v3-seen", names, found) == [
        "States seed-overlay-mount-hides-error vivek-v3-seen 2",
        "  15  mount ovl2=0; open fd2 ovl1=0; syncfs fd2=EIO; syncfs fd1=EIO;",
        "   1  mount ovl2=0; open fd2 ovl1=0; syncfs fd2=0; syncfs fd1=EIO;  (satisfies)",
    ]


@pytest.mark.parametrize("spec", ["plain", "mainline", "vivek-v3-seen", "amir", "jeff-split"])
def test_outcomes_add_up_to_the_claim_checkers_runs(spec):
    folder = Path(__file__).parent.parent / "claims" / "thread"
    for claim in load_claims([str(folder)]):
        if claim.unsettled is not None or not claim.programs:
            continue
        o, names, found = outcomes(claim, spec)
        if o.error:
            continue
        assert sum(s.runs for s in found) == o.satisfied + o.unsatisfied, claim.name
        assert sum(s.satisfying for s in found) == o.satisfied, claim.name
        assert len({s.results for s in found}) == len(found)
        assert all(len(s.results) == len(names) for s in found)
