"""`explore conform FILE.claim`, the planning and the counting: no VM is booted here.

Which runs a kernel replays (all of them up to 48, else a satisfying and a refuting
one), that each is a scenario the harness accepts, and how a kernel's own results
become its Observation line (tests/test_conform_vm.py runs a claim on 6.12).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from explorer.app.cli import app
from explorer.checker.claim_runs import kernel_verdict
from explorer.checker.replay import replay
from explorer.conform import claims as cc
from explorer.conform import core
from explorer.domain.catalog import load_spec
from explorer.domain.claim import load_claim

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "claims/examples/seed-overlay-mount-hides-error.claim"
runner = CliRunner()


def test_a_claim_with_few_runs_replays_every_one() -> None:
    check = cc.plan_one(load_claim(SEED), "6.12")
    assert check.spec == "mainline" and check.plan is not None and check.plan.complete
    assert len(check.items) == 16  # the claim's 16 runs, each once
    assert len({i.text for i in check.items}) == 16
    assert all(i.only_kernel == "6.12" for i in check.items)
    # each run is a scenario whose model results are the claim model's: no line skipped
    for it in check.items:
        results = replay(it.scenario, load_spec("mainline"))
        assert "skipped" not in results
    assert sum(r.satisfies for r in check.plan.runs) == 0  # mainline: Never 0 16


def test_a_claim_with_many_runs_replays_its_witnesses() -> None:
    claim = load_claim(ROOT / "claims/thread/18-amir-n1-v1-requirements.claim")
    check = cc.plan_one(claim, "6.1")
    assert check.plan is not None and not check.plan.complete
    assert (check.plan.observation.satisfied, check.plan.observation.unsatisfied) == (34, 126)
    assert [r.satisfies for r in check.plan.runs] == [True, False]
    assert len(check.items) == 2


def test_the_limit_decides_between_all_runs_and_witnesses() -> None:
    check = cc.plan_one(load_claim(SEED), "6.1", limit=15)
    assert check.plan is not None and not check.plan.complete
    assert [r.satisfies for r in check.plan.runs] == [False]  # v5.11: no run satisfies it


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        ("thread/23-volatile-sample-pre-mount-error", "not among the claim's specs"),
        ("thread/30-predictable-over-simple", "unsettled: an opinion"),
        ("thread/01-open-before-error-sees-it", "nothing to replay"),
        ("thread/25-counter-wrap-false-negative", "counter-bits 2: a real kernel's errseq counter"),
    ],
)
def test_claims_with_nothing_to_replay_say_why(claim: str, why: str) -> None:
    check = cc.plan_one(load_claim(ROOT / f"claims/{claim}.claim"), "6.12")
    assert not check.items and why in check.skipped
    assert why in cc.lines(check)[0]


def outcome(item: core.Item, status: str, kernel: list[str | None]) -> core.Outcome:
    rows = [
        core.Row(e.line, str(e), None, k, False)
        for e, k in zip(item.scenario.events, kernel, strict=True)
    ]
    return core.Outcome(item.name, "6.12", "mainline", status, rows=rows)


def test_the_kernel_gets_its_own_observation_from_its_results() -> None:
    """Pretend 6.12 gave vivek-v3-seen's results on the seed's order (fd2 0, fd1 EIO):
    the kernel's line counts that run as satisfying, and says it differs from the
    model."""
    check = cc.plan_one(load_claim(SEED), "6.12")
    assert check.plan is not None
    model = {i.name: replay(i.scenario, load_spec("mainline")) for i in check.items}
    seed_order = next(
        i
        for i in check.items
        if i.text.splitlines()[3:6] == ["wberror ovl1", "mount ovl2", "open fd2 ovl1"]
    )
    check.outcomes = []
    for it in check.items:
        results = list(model[it.name])
        status = core.AGREE
        if it is seed_order:
            results[-1] = "EIO"  # syncfs fd1
            status = core.MISMATCH
        check.outcomes.append(outcome(it, status, results))
    ko = cc.observe_kernel(check)
    assert (ko.satisfied, ko.unsatisfied, ko.failed, ko.replayed) == (1, 15, 1, 16)
    text = "\n".join(cc.lines(check))
    assert "Observation seed-overlay-mount-hides-error mainline Never 0 16   (the model)" in text
    assert "Observation seed-overlay-mount-hides-error 6.12 Sometimes 1 15   MISMATCH" in text
    assert cc.failed(check)


def test_agreeing_runs_give_the_models_verdict_and_ok() -> None:
    check = cc.plan_one(load_claim(SEED), "6.12")
    check.outcomes = [
        outcome(it, core.AGREE, replay(it.scenario, load_spec("mainline"))) for it in check.items
    ]
    assert cc.lines(check)[-1] == "Observation seed-overlay-mount-hides-error 6.12 Never 0 16   ok"
    assert not cc.failed(check)


def test_runs_not_representable_leave_a_partial_verdict() -> None:
    check = cc.plan_one(load_claim(SEED), "6.12")
    check.outcomes = [
        outcome(it, core.NOT_REPRESENTABLE if n < 2 else core.AGREE, ["0"] * 8)
        for n, it in enumerate(check.items)
    ]
    last = cc.lines(check)
    assert "witnesses only (14 of 16 runs)" in last[2]
    assert "2 run(s) not representable" in last[3]


def test_the_condition_is_evaluated_on_the_kernels_results() -> None:
    claim = load_claim(SEED)
    check = cc.plan_one(claim, "6.12")
    assert check.plan is not None
    seed = [
        "mount ovl1",
        "open fd1 ovl1",
        "write fd1",
        "wberror ovl1",
        "mount ovl2",
        "open fd2 ovl1",
        "syncfs fd2",
        "syncfs fd1",
    ]
    [run] = [r for r in check.plan.runs if r.text.splitlines() == seed]
    vivek_v3_seen = ["0", "0", "0", None, "0", "0", "0", "EIO"]
    assert kernel_verdict(claim, run, vivek_v3_seen) == (True, True)
    assert kernel_verdict(claim, run, ["0", "0", "0", None, "0", "0", "0", "0"]) == (True, False)


def test_conform_with_claims_that_replay_nothing_needs_no_vm() -> None:
    r = runner.invoke(
        app, ["conform", str(ROOT / "claims/thread/30-predictable-over-simple.claim")]
    )
    assert r.exit_code == 0, r.output
    assert "not replayed: unsettled" in r.stdout


def test_conform_with_a_bad_claim_file_is_bad_input(tmp_path: Path) -> None:
    p = tmp_path / "bad.claim"
    p.write_text("claim x\novl1:\n  fsync fd1\nexists (fsync fd1 = 0)\n")
    r = runner.invoke(app, ["conform", str(p)])
    assert r.exit_code == 2
    assert f"{p}:3: 'fd1': unknown fd" in r.stderr


def test_a_second_errno_replays_on_6_12_and_is_not_representable_on_6_1() -> None:
    """latest-errno-wins has 1 run; its ENOSPC reaches errseq as ENOSPC on 6.12 only
    (ext4 before v6.4 records EIO for every failed data write: conformance.md F4)."""
    from explorer.conform.cli import plan

    claim = load_claim(ROOT / "claims/examples/latest-errno-wins.claim")
    on_6_1, on_6_12 = cc.plan_one(claim, "6.1"), cc.plan_one(claim, "6.12")
    assert [len(c.items) for c in (on_6_1, on_6_12)] == [1, 1]
    assert "wberror host ENOSPC" in on_6_12.items[0].text
    refused, todo = plan(on_6_1.items, ["6.1"])
    assert not todo and refused[0].status == core.NOT_REPRESENTABLE
    assert "ext4 on 6.1 records EIO" in refused[0].reason
    done, todo = plan(on_6_12.items, ["6.12"])
    assert not done and len(todo) == 1
    on_6_1.outcomes = refused
    assert cc.lines(on_6_1) == [
        "claim latest-errno-wins on 6.1 (model: v5.11): all 1 of 1 runs, none representable"
        " on this kernel",
        "Observation latest-errno-wins v5.11 Always 1 0   (the model)",
        "Observation latest-errno-wins 6.1 NoRun 0 0   not representable (tables above)",
    ]


def test_a_host_fd_on_a_containers_file_replays_every_run_on_both_kernels() -> None:
    """host-writes-upper-file-fsync-sees: 48 runs (derived in the file), each a scenario
    with the host's `open fd1 host ovl1`, all representable on both kernels."""
    from explorer.conform.cli import plan

    claim = load_claim(ROOT / "claims/examples/host-writes-upper-file-fsync-sees.claim")
    for kernel in core.KERNEL_ORDER:
        check = cc.plan_one(claim, kernel)
        assert check.plan is not None and check.plan.complete and len(check.items) == 48
        assert all(
            i.text.startswith("open fd1 host ovl1\n") or "open fd1 host ovl1\n" in i.text
            for i in check.items
        )
        done, todo = plan(check.items, [kernel])
        assert not done and len(todo) == 48
