"""The states a report's state browser holds for one spec, and a shortest path to each
(the `Region`s of explorer.checker.results).

A whole state graph is thousands of states per spec at the main job's bounds, too
much for one page, so the page holds a *region*: every state along the report's
witnesses with all its successors (the "next steps"), and, for each of those
states, one shortest run that reaches it from the initial state.  A small spec's
graph goes in whole (`whole`).  Beyond the region, `explore browse` asks the model.

A region is made where an exploration of the spec is at hand, a worker process among
them (`of_task`), which is where shortest paths come from: an exploration's parent
pointers.  A prefix of a shortest path is a shortest path to its own end, so parent
pointers taken from any shortest paths, merged (`Region.merge`), still give shortest
paths; a spec whose regions no process made gets one here, without them (`gathered`).
States are real states (never a symmetry's representatives): the browser shows what a
run of that spec holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from explorer.bridge.model import ErrseqModel
from explorer.checker.config import Config
from explorer.checker.results import ClaimOutcome, Region, SpecResult
from explorer.checker.sites import Cache, model_of
from explorer.domain.vfs import Spec
from explorer.domain.world import MOUNT_OPTIONS, State
from explorer.engine.contract import Model
from explorer.engine.search import Exploration, Step, realize
from explorer.engine.verdict import Verdict

#: A shortest run (its actions) from the initial state to a state, None when unknown.
Shortest = Callable[[State], "list[Any] | None"]
#: A spec whose graph has at most this many states goes into the page whole.
WHOLE_STATES = 1500


def expand(part: Region, model: Model, state: State) -> list[tuple[Any, Any, State]]:
    succ = part.expanded.get(state)
    if succ is None:
        succ = part.expanded[state] = [(a, o, t) for a, t, o in model.successors(state)]
    return succ


def along(part: Region, model: Model, run: Sequence[Any]) -> list[State]:
    """Expand every state of a run (its actions from the initial state); the states
    after each action."""
    state = next(iter(model.initial_states()))
    states = []
    for action in run:
        succ = expand(part, model, state)
        state = next(t for a, _, t in succ if a == action)
        states.append(state)
    expand(part, model, state)
    return states


def add_path(part: Region, model: Model, target: State, actions: Sequence[Any]) -> None:
    """Record a shortest run to `target` as parent pointers (replayed through the
    model, which must reach `target`)."""
    state = next(iter(model.initial_states()))
    for action in actions:
        nxt, obs = model.next_state(state, action)
        part.parent.setdefault(nxt, (state, action, obs))
        state = nxt
    if state != target:
        raise AssertionError("a shortest path did not lead to its state")


def build(model: Model, runs: Iterable[Sequence[Any]], ex: Exploration | None = None) -> Region:
    """The region of some runs: their states expanded, and, given the spec's exploration
    (searched from the same initial state), a shortest path to each state held."""
    part = Region()
    init = next(iter(model.initial_states()))
    expand(part, model, init)
    for run in runs:
        along(part, model, run)
    if ex is not None:
        add_shortest(part, model, ex)
    return part


def add_shortest(part: Region, model: Model, ex: Exploration) -> None:
    """A shortest path to every state of the region: the exploration's parent pointers
    (renamed onto real states when it was explored up to symmetry).  A successor the
    exploration lacks is one event beyond its depth, reached from a state at that depth,
    so the path through that state is a shortest one."""
    targets = [t for succ in part.expanded.values() for _, _, t in succ]
    targets += list(part.expanded)
    if ex.reduced:
        shortest = shortest_paths(model, ex)
        for t in targets:
            path = shortest(t) if t not in part.parent else None
            if path:
                add_path(part, model, t, path)
    else:
        states, index, parent = ex.states, ex.index, ex.parent
        for t in targets:
            sid = index.get(t)
            while sid is not None and states[sid] not in part.parent:
                e = parent(sid)
                if e < 0:
                    break
                part.parent[states[sid]] = (states[ex.src[e]], ex.action[e], ex.obs[e])
                sid = ex.src[e]
    for s, succ in part.expanded.items():
        sid = _index(model, ex, s)
        if sid is None or ex.depth[sid] != ex.max_depth:
            continue
        for a, o, t in succ:
            if _index(model, ex, t) is None:
                part.parent.setdefault(t, (s, a, o))


def _index(model: Model, ex: Exploration, s: State) -> int | None:
    if ex.reduced:
        assert model.symmetry is not None
        s = model.symmetry.canonical(s)[0]
    return ex.index.get(s)


def shortest_paths(model: Model, ex: Exploration) -> Shortest:
    """Shortest runs to real states from an exploration up to symmetry: the run to the
    representative, realized, then renamed onto the state asked for."""
    sym = model.symmetry
    assert sym is not None and ex.reduced

    def renamed(s: State) -> list[Any] | None:
        c, ps = sym.canonical(s)
        sid = ex.index.get(c)
        if sid is None:
            return None
        steps = realize(model, ex, ex.path_to(sid))
        r = next(iter(model.initial_states()))
        for st in steps:
            r = model.next_state(r, st.action)[0]
        q = sym.compose(sym.canonical(r)[1], sym.inverse(ps))
        return [sym.translate_action(st.action, q) for st in steps]

    return renamed


def whole(ex: Exploration) -> Region:
    """A graph explored without symmetry, in full: every expanded state with its
    successors, and the search's parent pointers (its shortest paths)."""
    assert not ex.reduced, "a reduced graph holds representatives, not real states"
    part = Region()
    states, act, obs, dst = ex.states, ex.action, ex.obs, ex.dst
    for sid, s in enumerate(states):
        edges = ex.out_edges(sid)
        if len(edges):
            part.expanded[s] = [(act[e], obs[e], states[dst[e]]) for e in edges]
        e = ex.parent(sid)
        if e >= 0:
            part.parent[s] = (states[ex.src[e]], act[e], obs[e])
    return part


def of_spec(model: Model, runs: Iterable[Sequence[Any]], ex: Exploration | None) -> Region:
    """A spec's region: its whole graph when it is small and explored without symmetry,
    else the runs' states and successors; shortest paths from `ex` when given."""
    if ex is not None and not ex.reduced and ex.n_states <= WHOLE_STATES:
        part = whole(ex)
        part.whole = True
        for run in runs:
            along(part, model, run)
        return part
    return build(model, runs, ex)


def parts_for(
    runs: Iterable[tuple[str, Sequence[Any]]],
    explored: Callable[[str], tuple[Model, Exploration] | None],
) -> dict[str, Region]:
    """The regions of some runs (spec name, actions), made where the specs' explorations
    are (`explored(name)`: its model and exploration, None when it has none): each
    spec's runs expanded, with shortest paths.  A worker process that checked a spec
    sends these back with its verdicts; the page merges them (`Region.merge`)."""
    by: dict[str, list[Sequence[Any]]] = {}
    for name, actions in runs:
        by.setdefault(name, []).append(actions)
    out: dict[str, Region] = {}
    for name, rs in by.items():
        found = explored(name)
        if found is not None:
            model, ex = found
            out[name] = of_spec(model, rs, ex)
    return out


def runs_of(v: Verdict) -> list[tuple[str, list[Any]]]:
    """Every run a verdict holds, as its actions, with the spec it is a run of."""
    runs: list[tuple[str, list[Step]]] = []
    if v.isolation is not None:
        res = v.isolation
        for p in [*res.groups, res.general, res.shown]:
            if p is not None:
                runs += [(v.model, p.witness), (v.model, p.other)]
    else:
        if v.witness:
            runs.append((v.model, v.witness))
        if v.other and v.agreement is not None:
            runs.append((v.agreement.against, v.other))
    return [(name, [st.action for st in steps]) for name, steps in runs]


def of_task(
    cfg: Config, cache: Cache, spec: Spec, verdicts: dict[str, list[Verdict]]
) -> dict[str, Region]:
    """The regions a process that checked `spec` makes before it drops its explorations:
    the spec's own (its whole graph when small, else its initial state), and the runs
    of its verdicts, each in its own spec's region (an agreement witness's other run is
    the reference's), with shortest paths from the explorations in `cache`.  A run with
    races has none: its states hold calls in flight, which the page does not show."""
    if cfg.races:
        return {}

    def explored(name: str) -> tuple[Model, Exploration] | None:
        for symmetric in (False, True):  # real states first: no renaming needed
            hit = cache.get((name, symmetric))
            if hit is not None:
                return hit
        return None

    runs: list[tuple[str, Sequence[Any]]] = [(spec.name, [])]
    runs += [run for vs in verdicts.values() for v in vs for run in runs_of(v)]
    return parts_for(runs, explored)


def gathered(cfg: Config, results: Iterable[SpecResult]) -> dict[str, Region]:
    """Every spec's region, merged from what the processes sent; a spec they sent none
    of (a run on Ray) gets its witnesses' states here, without shortest paths.  A run
    with races has none (see `of_task`)."""
    if cfg.races:
        return {}
    out: dict[str, Region] = {}
    runs: dict[str, list[Sequence[Any]]] = {}
    for r in results:
        for name, region in r.regions.items():
            if name in out:
                out[name].merge(region)
            else:
                out[name] = region
        for vs in r.verdicts.values():
            for v in vs:
                for name, actions in runs_of(v):
                    runs.setdefault(name, []).append(actions)
    specs = [*cfg.specs, *([cfg.against] if cfg.against is not None else [])]
    for spec in specs:
        if spec.name not in out:
            out[spec.name] = build(model_of(cfg, spec), runs.get(spec.name, []))
    return out


def for_claims(
    outcomes: Iterable[ClaimOutcome], spec_of: Callable[[ClaimOutcome, str], Spec]
) -> dict[str, Region]:
    """The browser's regions of a campaign, by `CLAIM:SPEC`: each run shown (one per
    observation, and the witnesses of failed `expect:` lines) in its claim's world,
    without shortest paths (the claim's search is over its programs, not every run of
    the world)."""
    out: dict[str, Region] = {}
    for c in outcomes:
        if c.bounds is None or c.world_bounds is None:
            continue
        runs: dict[str, list[Sequence[Any]]] = {}
        for o in c.observations:
            if o.run is not None:
                runs.setdefault(o.spec, []).append([st.action for st in o.run.steps])
        for e in c.expects:
            if e.config is not None:
                continue  # a witness with races: its page shows no state region
            for v in e.verdicts:
                if not v.holds:
                    for name, actions in runs_of(v):
                        runs.setdefault(name, []).append(actions)
                    break
        options = MOUNT_OPTIONS[c.bounds.mount_options]
        for name, rs in runs.items():
            model = ErrseqModel(spec_of(c, name), c.world_bounds, options)
            out[f"{c.claim.name}:{name}"] = build(model, rs)
    return out
