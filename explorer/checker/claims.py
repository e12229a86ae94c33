"""`explore claim`: settle claim files per spec, as herd7 settles litmus tests.

For each claim and spec: search the product of the world and the claim's programs
(explorer.bridge.claim_model), count the runs that pass the filter and satisfy the
condition or not, by counting paths (explorer.engine.count: never one run at a
time), and hold the verdict (Never, Sometimes, Always) to the claim's `result:` line
or its quantifier.  `expect:` lines are checked by the main job's own run at the
claim's bounds (explorer.checker.run), so a property's verdict and witness length
are the matrix's.  The outcome types are explorer.checker.results'; explorer.render.
claims prints them.
"""

from __future__ import annotations

from pathlib import Path

from explorer.bridge.claim_model import ClaimModel
from explorer.checker import claim_states
from explorer.checker.claim_races import observe_races
from explorer.checker.config import configure
from explorer.checker.options import RunOptions
from explorer.checker.properties import PROPERTIES, RACE_PROPERTIES
from explorer.checker.results import (
    UNSETTLED,
    ClaimOutcome,
    ClaimRun,
    ExpectOutcome,
    Observation,
)
from explorer.checker.run import run
from explorer.domain.catalog import builtin_names, load_spec
from explorer.domain.claim import (
    Claim,
    ClaimVerdict,
    ProgramLine,
    expected,
    load_claim,
    required_bounds,
)
from explorer.domain.claim_formula import ClaimError
from explorer.domain.vfs import Spec
from explorer.engine.count import paths
from explorer.engine.limits import default_memory_limit
from explorer.engine.search import Exploration, Step, bfs, realize
from explorer.errors import InputError


class ClaimPathError(InputError):
    """A path given to `explore claim` that holds no claim file."""


def claim_files(paths_given: list[str]) -> list[Path]:
    """Each file as given, and every *.claim below a folder (sorted)."""
    files: list[Path] = []
    for given in paths_given:
        p = Path(given)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*.claim") if f.is_file())
            if not found:
                raise ClaimPathError(f"{given}: no *.claim files below this folder")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise ClaimPathError(f"{given}: no such claim file or folder")
    return files


def load_claims(paths_given: list[str]) -> list[Claim]:
    """Every claim the paths hold, parsed: the first bad one is a ClaimError (exit 2)
    before anything runs.  Their `expect:` lines may name the registry's properties."""
    claims = [load_claim(f, RACE_PROPERTIES) for f in claim_files(paths_given)]
    for c in claims:
        races = required_bounds(c).races == "on" if c.programs or c.expects else False
        for e in c.expects:
            if not races and e.property in RACE_PROPERTIES and e.property not in PROPERTIES:
                why = f"{e.property} asks of calls in steps: it needs 'races on' in bounds:"
                raise ClaimError(c.source, e.line, e.property, why)
    return claims


class Specs:
    """Specs by the name a claim or the command line gives them: a built-in's name, or
    a .py path (a claim's relative to the claim's folder), each loaded once."""

    def __init__(self) -> None:
        self._loaded: dict[str, Spec] = {}

    def get(self, name: str, claim: Claim | None = None) -> Spec:
        key = self.path(name, claim)
        if key not in self._loaded:
            self._loaded[key] = load_spec(key)
        return self._loaded[key]

    @staticmethod
    def path(name: str, claim: Claim | None) -> str:
        if not name.endswith(".py") or claim is None or Path(name).is_absolute():
            return name
        return str(Path(claim.source).parent / name)


def specs_of(claim: Claim, chosen: list[str] | None) -> list[str]:
    """The specs a claim is checked under: --spec's (those among the claim's `specs:`
    when it has them), else the claim's `specs:`, else every built-in."""
    if chosen:
        return [s for s in chosen if claim.specs is None or s in claim.specs]
    races = required_bounds(claim).races == "on" if claim.programs else False
    return list(claim.specs) if claim.specs is not None else builtin_names(races)


def search(claim: Claim, spec: Spec, symmetric: bool = True) -> tuple[ClaimModel, Exploration]:
    """The product of the world and the claim's programs under `spec`, explored."""
    model = ClaimModel(claim, spec, symmetric)
    return model, bfs(model, model.depth, max_bytes=default_memory_limit())


def observe(claim: Claim, name: str, spec: Spec, symmetric: bool = True) -> Observation:
    """The claim's runs under one spec, counted, with the run to show."""
    if required_bounds(claim).races == "on":
        return observe_races(claim, name, spec)
    return counted(claim, name, *search(claim, spec, symmetric))


def counted(claim: Claim, name: str, model: ClaimModel, ex: Exploration) -> Observation:
    """The observation of an explored claim: its runs counted, the run to show."""
    per_state = paths(ex, model.label)
    sat = unsat = filtered = 0
    first_sat = first_unsat = -1
    for sid, (n, node) in enumerate(zip(per_state, ex.states, strict=True)):
        if not n or not model.complete(node):
            continue
        if not model.holds(node, "filter"):
            filtered += n
        elif model.holds(node, "formula"):
            sat += n
            first_sat = sid if first_sat < 0 else first_sat
        else:
            unsat += n
            first_unsat = sid if first_unsat < 0 else first_unsat
    accepts, line = expected(claim, name)
    o = Observation(name, None, sat, unsat, filtered, accepts, line, states=ex.n_states)
    if sat + unsat == 0:
        o.error, o.error_line = no_run(model, ex, filtered)
        return o
    o.verdict = (
        ClaimVerdict.NEVER
        if not sat
        else ClaimVerdict.ALWAYS
        if not unsat
        else ClaimVerdict.SOMETIMES
    )
    o.outcomes = claim_states.states(model, ex)
    # Show a run that satisfies the condition; when the expectation fails for want of
    # one that does (Always expected) or every run fails it, a run that does not.
    refute_always = not o.ok and o.verdict != ClaimVerdict.ALWAYS
    shown = first_unsat if refute_always else first_sat
    if shown >= 0:
        moves = realize(model, ex, ex.path_to(shown))
        o.run = ClaimRun(
            not refute_always,
            [Step(st.action.event, st.obs) for st in moves],
            model.line_names([st.action for st in moves]),
        )
    return o


def no_run(model: ClaimModel, ex: Exploration, filtered: int) -> tuple[str, int]:
    """Why a claim has no run under a spec: the filter that no run passes; or the first
    line (in the file) that no interleaving reaches; or, when each line runs in some
    interleaving but none runs them all, the lines where the interleavings stop."""
    if filtered:
        assert model.claim.filter is not None
        line = min(a.line for a in model.claim.filter.atoms())
        runs = f"{filtered} run{'s' if filtered != 1 else ''}"
        return f"no run passes the filter (it leaves out all {runs})", line
    stops: dict[ProgramLine, str] = {}
    for sid, node in enumerate(ex.states):
        if not ex.out_edges(sid) and not model.complete(node):
            for pl, why in model.blocked(node):
                stops.setdefault(pl, why)
    ran = {a.line for a in ex.action}
    never = [pl for pl in stops if pl.id not in ran]
    if never:
        pl = min(never, key=lambda p: p.line)
        return f"'{pl.text}' can never run ({stops[pl]})", pl.line
    shown = sorted(stops, key=lambda p: p.line)
    said = "; ".join(f"line {pl.line} '{pl.text}' ({stops[pl]})" for pl in shown)
    return f"every interleaving stops before its end, at {said}", shown[0].line if shown else 0


def check_expects(claim: Claim, name: str, spec: Spec) -> list[ExpectOutcome]:
    """The claim's `expect:` lines for one spec, checked by the main job's run at the
    claim's bounds (one run for all of them).  A user property keeps the whole run off
    symmetry, as its own check would."""
    mine = [e for e in claim.expects if e.spec == name]
    if not mine:
        return []
    cb = required_bounds(claim)
    files = {e.property: Specs.path(e.property, claim) for e in mine if e.property.endswith(".py")}
    opts = RunOptions(
        mounts=cb.mounts,
        depth=cb.depth,
        fds=cb.fds,
        host_fds=cb.host_fds,
        mount_options=cb.mount_options,
        errnos=",".join(cb.errnos),
        host_files=cb.host_files,
        counter_bits=cb.counter_bits,
        races=cb.races == "on",
        threads=cb.threads,
        properties=[
            *(p for p in RACE_PROPERTIES if any(e.property == p for e in mine)),
            *files.values(),
        ],
        symmetry=False if files else None,
    )
    cfg = configure(opts, specs=[spec])
    named = dict(zip(dict.fromkeys(files.values()), cfg.user_properties, strict=True))
    result = run(cfg).results[0]
    out = []
    for e in mine:
        prop = named[files[e.property]] if e.property in files else e.property
        verdicts = result.verdicts.get(prop, [])
        bad = [v for v in verdicts if not v.holds]
        length = min(v.length for v in bad) if bad else None
        out.append(ExpectOutcome(e, not bad, length, verdicts, cfg if opts.races else None))
    return out


def check(claim: Claim, chosen: list[str] | None, specs: Specs) -> ClaimOutcome:
    """One claim under its specs: observations, then expectations."""
    out = ClaimOutcome(claim)
    if claim.unsettled is not None:
        out.not_checked, out.reason = UNSETTLED, claim.unsettled
        return out
    out.bounds = required_bounds(claim)
    out.world_bounds = out.bounds.world()
    names = specs_of(claim, chosen)
    if not names:
        out.notes.append(
            f"none of --spec is among the claim's specs: {' '.join(claim.specs or ())}"
        )
    for name in names:
        spec = specs.get(name, None if chosen else claim)  # --spec's paths: from here
        if claim.programs:
            out.observations.append(observe(claim, name, spec))
        out.expects += check_expects(claim, name, spec)
    return out


def check_all(claims: list[Claim], chosen: list[str] | None) -> list[ClaimOutcome]:
    specs = Specs()
    return [check(c, chosen, specs) for c in claims]


def exit_code(outcomes: list[ClaimOutcome]) -> int:
    """2 when some spec has no run (bad input), 1 when an expectation is not met, 3 when
    the memory guard left an `expect:` undecided, else 0."""
    if any(o.errors() for o in outcomes):
        return 2
    if any(o.mismatches() for o in outcomes):
        return 1
    return 3 if any(o.undecided() for o in outcomes) else 0
