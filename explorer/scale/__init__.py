"""explore --ray: the same run on a Ray runtime, local or a cluster (docs/scale-out.md).

Only `explore --ray` imports this package, and only it imports ray (the `ray` extra).
"""
