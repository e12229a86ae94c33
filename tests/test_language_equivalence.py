"""The claim and scenario parsers, split into modules, read every file of the project as
the single-module parsers did (tests/legacy holds those, until this has passed once).

Every claim, scenario and conform corpus file gives the same Claim or Scenario, field
by field (labels, lines and names included), or the same error (file, line, token,
reason); mutated library claims give the same result too, but for the rules that
changed on purpose: a stated result on open is allowed (`open fd1 ovl1 = EIO`, as
scenarios accept it), an environment event's result and an unknown property have new
wording.
"""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from legacy import old_claim, old_scenario
from test_claim_language import mutated

from explorer.domain import claim, scenario
from explorer.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = sorted(ROOT.glob("claims/**/*.claim"))
SCENARIOS = sorted(
    [*ROOT.glob("scenarios/**/*.scn"), *ROOT.glob("tests/scenarios/*.scn")]
    + [*ROOT.glob("explorer/conform/corpus/*.scn")]
)


def dump(x: object) -> object:
    """Every field of a parse result as plain data (compare=False fields too)."""
    if isinstance(x, enum.Enum):
        return x.value
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        fields = {f.name: dump(getattr(x, f.name)) for f in dataclasses.fields(x)}
        return (type(x).__name__, fields)
    if isinstance(x, dict):
        return {dump(k): dump(v) for k, v in x.items()}
    if isinstance(x, list | tuple | frozenset):
        return [dump(v) for v in x]
    return x


def outcome(parse, *args: object) -> object:
    try:
        return dump(parse(*args))
    except InputError as e:
        return ("error", e.source, e.line, e.token, e.reason)  # type: ignore[attr-defined]


def test_the_files_are_many() -> None:
    assert len(CLAIMS) >= 30 and len(SCENARIOS) >= 80


@pytest.mark.parametrize("path", CLAIMS, ids=lambda p: p.stem)
def test_a_claim_file_parses_as_before(path: Path) -> None:
    text = path.read_text()
    assert outcome(claim.parse_claim, text, str(path)) == outcome(
        old_claim.parse_claim, text, str(path)
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_scenario_file_parses_as_before(path: Path) -> None:
    text = path.read_text()
    assert outcome(scenario.parse, text, str(path)) == outcome(old_scenario.parse, text, str(path))


def changed_on_purpose(old: object, new: object) -> bool:
    if not (isinstance(new, tuple) and new[0] == "error") and isinstance(old, tuple):
        return old[-1] == "open always returns 0 in the model"
    if isinstance(old, tuple) and isinstance(new, tuple) and old[:4] == new[:4]:
        return "returns nothing" in old[-1] or "unknown property" in old[-1]
    return False


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_claim_parses_as_before(text: str) -> None:
    old = outcome(old_claim.parse_claim, text, "fuzz.claim")
    new = outcome(claim.parse_claim, text, "fuzz.claim")
    assert new == old or changed_on_purpose(old, new), (old, new)
