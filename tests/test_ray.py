"""explore --ray gives the answers of a run on one machine (issue 16): the partitioned
search over 2, 3 and 4 Ray actors is the single-process search, and the command's
output, report.json, witnesses and exit codes are the same with and without --ray.

One local Ray runtime serves the whole module (two CPUs, no dashboard); the command
joins it (`connect` finds it started)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.bridge.model import ErrseqModel
from explorer.checker.properties import monitors
from explorer.domain.catalog import load_spec
from explorer.domain.world import Bounds
from explorer.engine.partition import gather, partitioned_bfs
from explorer.engine.properties import agreement, safety
from explorer.engine.search import bfs
from explorer.scale.transport import RayTransport

try:
    import ray
except ModuleNotFoundError:  # collected without the extra: conftest.py fails each selected test
    pass

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("states", "index", "depth", "parent_edge", "edge_start", "src", "action", "obs")
FIELDS += ("dst", "perm")


@pytest.fixture(scope="module")
def runtime():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


#: (spec, bounds, depth, symmetry): mounts 1-3, depths 4-8, host fds 0 and 1, host fds
#: on container files (permutations rename them: the portable form crosses processes).
GRID = [
    ("plain", Bounds(1, 2, 1), 8, False),
    ("vivek-v3-seen", Bounds(2, 2, 0), 6, True),
    ("mainline", Bounds(2, 1, 1, host_files="any"), 6, True),
    ("amir", Bounds(3, 1, 1), 4, True),
]


@pytest.mark.parametrize("parts", [2, 3, 4])
def test_ray_actors_give_bfs_s_graph_and_the_graph_checks_verdicts(runtime, parts):
    transport = RayTransport(runtime, parts, 2 / parts)
    try:
        for spec, bounds, depth, symmetry in GRID:
            model = ErrseqModel(load_spec(spec), bounds, symmetry=symmetry)
            ref = bfs(model, depth)
            run = partitioned_bfs(model, depth, transport)
            got = gather(run, model.symmetry)
            assert [f for f in FIELDS if getattr(got, f) != getattr(ref, f)] == [], spec
            for prop, mon in monitors(model).items():
                want = safety.check(ref, mon, model)
                assert safety.check_partitioned(model, mon, depth, transport) == want, prop
            plain = ErrseqModel(load_spec("plain"), bounds, symmetry=symmetry)
            want = agreement.check(ref, bfs(plain, depth), model, plain)
            assert agreement.check_partitioned(model, plain, depth, transport) == want
        # every actor held a share of the last search, none all of it
        assert len([m for m in transport.rss() if m > 0]) == parts
    finally:
        transport.close()


runner = CliRunner()


def explore(*args: str):
    return runner.invoke(app, list(args))


def outputs(out: Path) -> dict[str, str]:
    """Every file the run wrote, but the times (timings.json and its manifest line), and
    index.html without its state browser: a partitioned search keeps no exploration to
    take shortest paths from (docs/report.md), so its browser holds the same states
    without them."""
    files = {}
    for p in sorted(out.rglob("*")):
        if p.is_file() and p.name != "timings.json":
            text = p.read_text()
            if p.name == ".explore-manifest.json":
                text = re.sub(r'"(timings.json|index.html)": "[0-9a-f]+"', "", text)
            if p.name == "index.html":
                data = json.loads(text.split('id="data">', 1)[1].split("</script>", 1)[0])
                browser = ("browser", "templates", "reasons")
                text = json.dumps({k: v for k, v in data.items() if k not in browser})
            files[str(p.relative_to(out))] = text
    return files


def stdout(text: str) -> str:
    return re.sub(r" in \d+\.\d+s", "", text).replace("/ray/", "/one/")


#: (the run, how it runs on Ray)
CONFIGS = [
    (["--mounts", "2", "--depth", "6"], []),  # the cluster's CPUs: 2 partitions
    (["--mounts", "3", "--depth", "5", "--symmetry"], ["--partitions", "3"]),
    (["--mounts", "1", "--depth", "7", "--host-fds", "0"], ["--partitions", "1"]),
    (["--mounts", "2", "--depth", "5", "--host-files", "any", "--symmetry"], ["--partitions", "2"]),
]


@pytest.mark.parametrize("config,how", CONFIGS, ids=lambda c: " ".join(c))
def test_the_command_s_output_is_the_same_with_ray(runtime, tmp_path, config, how):
    one = explore(*config, "--out", str(tmp_path / "one"))
    on_ray = explore(*config, "--out", str(tmp_path / "ray"), "--ray", "local", *how)
    assert one.exit_code == 1  # some spec violates something at these bounds
    assert on_ray.exit_code == one.exit_code, on_ray.output
    assert stdout(on_ray.stdout) == stdout(one.stdout)
    assert outputs(tmp_path / "ray") == outputs(tmp_path / "one")
    assert len(outputs(tmp_path / "one")) > 10  # report.json and the witnesses


def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.py"
    path.write_text(
        "from explorer.domain.vfs import Spec\n\n\nclass Bad(Spec):\n"
        "    name = 'bad'\n    overlay = True\n\n"
        + textwrap.indent("def ovl_fsync(self, w, ofs, f):\n    return 1 // 0\n", "    ")
    )
    return path


@pytest.mark.parametrize("parts", ["1", "2"])
def test_a_worker_s_failure_ends_the_run_as_on_one_machine(runtime, tmp_path, parts):
    """A spec file's hook that raises (exit 2, its file and line named) and a limit
    (exit 2, how far the search got): the same one line, from a Ray worker."""
    tiny = ["--mounts", "1", "--fds", "1", "--depth", "4", "-q", "--out", str(tmp_path / "o")]
    for extra in (["-s", str(spec_file(tmp_path))], ["--max-states", "40"]):
        one = explore(*tiny, *extra)
        on_ray = explore(*tiny, *extra, "--ray", "local", "--partitions", parts)
        assert one.exit_code == 2 and one.stderr.startswith("explore: error: ")
        assert (on_ray.exit_code, on_ray.stderr) == (one.exit_code, one.stderr)


def test_explore_ray_alone_starts_a_local_runtime(tmp_path):
    """The console script: `--ray` without an address (a runtime of its own)."""
    explore_bin = Path(sys.executable).parent / "explore"
    args = [str(explore_bin), "--mounts", "1", "--depth", "5", "-q"]
    env = {**os.environ, "RAY_ADDRESS": ""}
    one = subprocess.run([*args, "--out", str(tmp_path / "one")], capture_output=True, text=True)
    on_ray = subprocess.run(
        [*args, "--ray", "--out", str(tmp_path / "ray")], capture_output=True, text=True, env=env
    )
    assert on_ray.returncode == one.returncode == 1, on_ray.stderr
    assert on_ray.stderr == one.stderr == ""  # -q: Ray's own start-up says nothing either
    assert stdout(on_ray.stdout) == stdout(one.stdout)
    assert outputs(tmp_path / "ray") == outputs(tmp_path / "one")


#: Isolation at mounts 3, depth 7 needs 5,772 states of mainline's full graph (plain:
#: 6,485), the other properties 1,184 (up to symmetry); 3,000 lets only the latter fit.
SHALLOW = ["--mounts", "3", "--depth", "7", "--symmetry", "-p", "isolation", "-p", "no-loss"]
SHALLOW += ["--max-states", "3000", "--show", "0"]


@pytest.mark.parametrize("parts", ["1", "2"])
def test_a_state_limit_in_an_isolation_task_stops_the_run_as_on_one_machine(
    runtime, tmp_path, parts
):
    """--max-states is a bound the user chose, not the memory guard: isolation's task
    on a worker stops the run with exit 2 and the words it has on one machine."""
    args = [*SHALLOW, "-s", "mainline", "-q"]
    one = explore(*args, "--out", str(tmp_path / "one"))
    on_ray = explore(*args, "--out", str(tmp_path / "ray"), "--ray", "local", "--partitions", parts)
    assert one.exit_code == 2 and one.stderr.startswith("explore: error: stopped at 3,000")
    assert (on_ray.exit_code, on_ray.stderr) == (one.exit_code, one.stderr)


@pytest.mark.parametrize("parts", ["1", "2"])
def test_the_memory_guard_on_ray_workers_leaves_verdicts_undecided_exit_3(runtime, tmp_path, parts):
    """10 MB is below any worker's resident size: every search, product and isolation
    task on the workers stops at the guard, and no verdict passes for holding."""
    args = ["-s", "plain", "-s", "v5.10", "--mounts", "3", "--depth", "10", "-q"]
    args += ["--max-memory", "0.01", "--out", str(tmp_path), "--ray", "local"]
    r = explore(*args, "--partitions", parts)
    assert r.exit_code == 3, r.output
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["exit"] == 3 and data["verdicts"]
    assert {(v["holds"], v["decided_depth"]) for v in data["verdicts"]} == {(None, 0)}


@pytest.mark.parametrize("parts", ["1", "2"])
def test_a_runaway_hook_is_stopped_on_ray_workers_too(runtime, tmp_path, parts, monkeypatch):
    """The driver's time limit reaches the Ray tasks and actors: the same one line as on
    one machine (spec, file:line, hook, event)."""
    monkeypatch.setenv("EXPLORE_HOOK_TIME_LIMIT", "0.2")
    path = tmp_path / "loops.py"
    path.write_text(
        "from explorer.domain.vfs import Spec\n\n\nclass Loops(Spec):\n"
        "    name = 'loops'\n    overlay = True\n\n"
        "    def ovl_fsync(self, w, ofs, f):\n        while True: pass\n"
    )
    tiny = ["--mounts", "1", "--fds", "1", "--depth", "4", "-q", "--out", str(tmp_path / "o")]
    one = explore(*tiny, "-s", str(path))
    on_ray = explore(*tiny, "-s", str(path), "--ray", "local", "--partitions", parts)
    assert one.exit_code == 2 and "hook ovl_fsync" in one.stderr
    assert "TimeLimitExceeded" in one.stderr
    assert (on_ray.exit_code, on_ray.stderr) == (one.exit_code, one.stderr)
