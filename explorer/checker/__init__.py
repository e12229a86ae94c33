"""The checker: a run's configuration, its properties, who does its work, what it found.

Between the bridge and engine below and the command line, the renderers, explore
--ray and explore conform above (docs/architecture.md):

- `options`, `config`: a run's options as given, checked once into a `Config`;
- `properties`: the registry of properties (`base.Property`, one module each);
- `sites`, `executor`, `pool`, `guard`, `run`: where and by whom a spec is checked,
  the memory guard's policy, and the run that gathers it into an `Outcome`;
- `results`: what the renderers read (no model, no graph);
- `replay`, `diff`, `claims`, `claim_runs`: the other commands' work.
"""
