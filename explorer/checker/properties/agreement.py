"""agreement: a spec gives the reference spec's results (plain by default, --against)
on every run (explorer.engine.properties.agreement: the synchronous product)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.checker.properties.base import Property

if TYPE_CHECKING:
    from explorer.checker.config import Config
    from explorer.checker.sites import Graphs, Partitions
    from explorer.domain.vfs import Spec
    from explorer.engine.verdict import Verdict


def reference(cfg: Config, spec: Spec) -> Spec | None:
    """The agreement reference of `spec` (None: it is the reference, or there is none)."""
    ref = cfg.against
    return None if ref is None or ref.name == spec.name else ref


class Agreement(Property):
    name = "agreement"
    column = "agrees\nwith\n{against}"

    def owns(self, verdict: str) -> bool:
        """Its verdicts are named after the reference: agreement-plain."""
        return verdict == self.name or verdict.startswith(f"{self.name}-")

    def applies(self, cfg: Config, spec: Spec) -> bool:
        return reference(cfg, spec) is not None

    def check(self, spec: Spec, graphs: Graphs) -> list[Verdict]:
        from explorer.engine.properties import agreement  # see the registry: loaded to check

        cfg = graphs.cfg
        ref = reference(cfg, spec)
        assert ref is not None  # applies() said so
        model, ex = graphs.of(spec, self)
        ref_model, ref_ex = graphs.explore(ref, cfg.symmetry)
        if cfg.races:
            return [races_agree(cfg, spec, ref, (model, ex), (ref_model, ref_ex))]
        return [agreement.check(ex, ref_ex, model, ref_model, max_bytes=cfg.max_bytes)]

    def check_partitioned(self, spec: Spec, parts: Partitions) -> list[Verdict]:
        from explorer.engine.properties import agreement

        cfg = parts.cfg
        ref = reference(cfg, spec)
        assert ref is not None  # applies() said so
        model, ref_model = parts.of(spec, self), parts.model(ref, cfg.symmetry)
        return [
            agreement.check_partitioned(model, ref_model, cfg.depth, parts.transport, cfg.max_bytes)
        ]


def races_agree(cfg: Config, spec: Spec, ref: Spec, mine, theirs) -> Verdict:
    """With races, two specs agree when each gives only histories the other gives
    (explorer.bridge.race_agreement): each spec's graph is followed in the other's runs."""
    from explorer.bridge.race_agreement import HistoryIn
    from explorer.checker.sites import model_of
    from explorer.engine.properties import safety
    from explorer.engine.verdict import AgreementResult, Verdict

    name = f"agreement-{ref.name}"
    out = Verdict(name, spec.name, holds=True)
    depth = cfg.depth
    for (model, ex), other in ((mine, ref), (theirs, spec)):
        follow = HistoryIn(model_of(cfg, other), model.symmetry, name)  # type: ignore[arg-type]
        # Each direction to its first violation; the second no deeper than the first's.
        v = safety.check(ex, follow, model, cfg.max_bytes, True, depth)
        out.violations += v.violations
        out.explored += v.explored
        if not v.holds and (out.holds or v.length < out.length):
            out.holds, out.witness, out.reason = False, v.witness, f"{model.name}'s run: {v.reason}"
            out.agreement = AgreementResult(ref.name, {})
            depth = v.length - 1
    return out
