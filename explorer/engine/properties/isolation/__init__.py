"""Isolation (docs/model.md §5): what a viewer sees must not depend on what it cannot see.

For a viewer every action is inside (its own), environment or outside
(`explorer.engine.contract.Role`).  The viewer's view of a run (its c-view) is its
inside and environment actions in order, with the results of the inside ones.
Isolation is violated when two runs (each of at most `ex.max_depth` actions) have the
same view up to an inside action that returns different results.

The parts, each with one job:

- `split`: the recorded graph filed for one viewer (seen and outside moves);
- `exact`: the subset construction over the view, which decides (exact within the
  bounds) and finds the shortest pair of every flip;
- `removal`: the removal witness search, run B = run A minus some outside actions,
  which presents the exact check's violations by the kinds of the removed actions;
- `oracle`: the self-composition, the other exact check, kept to test `exact`;
- `assemble`: `check` runs them in order and groups flips into typed results
  (explorer.engine.verdict.IsolationResult).

Nothing here names an action: kinds and their ranks come from the model
(`Observers.kind`, `Observers.kind_rank`), sentences from the renderers.
"""

from explorer.engine.properties.isolation.assemble import (
    METHODS,
    ObservedModel,
    check,
    full_graph,
    representatives,
)
from explorer.engine.properties.isolation.exact import (
    Conflict,
    CView,
    ExactResult,
    Flip,
    members,
    subset_construction,
)
from explorer.engine.properties.isolation.oracle import self_composition
from explorer.engine.properties.isolation.removal import RemovalResult, Witness, removal_search
from explorer.engine.properties.isolation.split import Split, split_graph
from explorer.engine.verdict import IsolationResult, RemovalGroup, ReorderedPair

__all__ = [
    "METHODS",
    "CView",
    "Conflict",
    "ExactResult",
    "Flip",
    "IsolationResult",
    "ObservedModel",
    "RemovalGroup",
    "RemovalResult",
    "ReorderedPair",
    "Split",
    "Witness",
    "check",
    "full_graph",
    "members",
    "removal_search",
    "representatives",
    "self_composition",
    "split_graph",
    "subset_construction",
]
