"""Text for mail (explorer.render.mail): the verdict matrix of out/summary.txt and the
traces, within 72 columns, saying what the terminal and the model say."""

from __future__ import annotations

import pytest

from explorer.checker.config import Config
from explorer.checker.run import run
from explorer.domain.catalog import load_spec
from explorer.domain.world import Bounds
from explorer.render import mail, report
from explorer.render.terminal import cell

SPECS = ("plain", "mainline", "vivek-v3-seen", "jeff-split")


@pytest.fixture(scope="module")
def outcome():
    specs = [load_spec(n) for n in SPECS]
    cfg = Config(Bounds(), 7, (1, 2), specs, against=load_spec("plain"), symmetry=False)
    return run(cfg)


def test_summary_fits_72_columns_and_holds_the_matrix(outcome):
    text = mail.summary_text(outcome, {("plain", "isolation", ""): ["plain/isolation.txt"]})
    lines = text.splitlines()
    assert max(len(x) for x in lines) <= 72
    assert text.isascii()
    for r in outcome.results:
        row = next(x for x in lines if x.startswith(r.spec.name + " "))
        cells = [cell(r.verdicts.get(p, [])) for p in outcome.config.properties]
        for c in cells:
            assert c in row
        assert row.rstrip().endswith(str(r.states))
    assert "  plain/isolation.txt" in lines


def test_a_wide_matrix_is_split_into_tables_that_fit():
    columns = [f"property-number-{i}" for i in range(8)]
    lines = mail.fitted_tables("spec", columns, [("vivek-v3-seen", ["FAILS 7"] * 8)])
    assert max(len(x) for x in lines) <= 72
    assert sum(x.startswith("vivek-v3-seen") for x in lines) > 1
    assert all(any(c in x for x in lines) for c in columns)


def test_witness_traces_replay_the_witness_and_fit_72_columns(outcome):
    bounds = outcome.config.bounds
    by = {s.name: s for s in outcome.config.specs}
    seen = 0
    for r in outcome.results:
        for vs in r.verdicts.values():
            for v in vs:
                if v.holds:
                    continue
                plain = report.witness_text(bounds, v)
                text = mail.traced_witness(bounds, v, by.__getitem__)
                assert max(len(x) for x in text.splitlines()) <= 72
                # the trace form adds comment lines only: drop them, the file is unchanged
                kept = [x for x in text.splitlines() if not x.strip().startswith("# ")]
                assert kept == plain.splitlines()
                assert text.count("    # ") > len(v.witness)
                seen += 1
    assert seen >= 4


def test_the_seed_mount_is_in_vivek_v3_seen_isolation_trace(outcome):
    r = next(r for r in outcome.results if r.spec.name == "vivek-v3-seen")
    v = r.verdicts["isolation"][0]
    text = mail.traced_witness(outcome.config.bounds, v, {"vivek-v3-seen": r.spec}.__getitem__)
    # run A's outside mount marks the upper SEEN (docs/model.md §4, vivek-v3-seen)
    assert (
        "    mount ovl2 = 0\n        # upper.s_wb_err: 0x5 -> 0x1005 (EIO, SEEN, ctr 0)\n" in text
    )
    assert text.startswith("vivek-v3-seen: isolation")


def test_a_witness_file_in_trace_form_still_replays(outcome):
    """explore replay FILE reads a witness file from its 'As a scenario' line on: the
    trace's comments leave every stated result in place."""
    from explorer.checker.replay import mismatches, replay_all, scenarios_in, stated

    bounds = outcome.config.bounds
    by = {s.name: s for s in outcome.config.specs}
    checked = 0
    for r in outcome.results:
        for vs in r.verdicts.values():
            for v in vs:
                if v.holds:
                    continue
                text = mail.traced_witness(bounds, v, by.__getitem__)
                for sc in scenarios_in(text, "witness.txt"):
                    runs = replay_all(sc, [r.spec])
                    assert mismatches(sc, runs) == []
                    checked += stated(sc, runs)
    assert checked >= 10


def test_replay_trace_is_the_scenario_with_comments():
    from explorer.checker.replay import replay_all
    from explorer.domain.scenario import parse

    text = "mount ovl1\nopen fd1 ovl1\nwrite fd1\nwberror ovl1\nmount ovl2\nopen fd2 ovl1\nsyncfs fd2\n"
    sc = parse(text, "seed.scn")
    out = mail.replay_trace(sc, replay_all(sc, [load_spec("vivek-v3-seen")]))
    lines = out.splitlines()
    assert lines[0] == "# seed.scn under vivek-v3-seen:"
    assert [x for x in lines[1:] if not x.startswith("    # ")] == [
        "mount ovl1 = 0",
        "open fd1 ovl1",
        "write fd1",
        "wberror ovl1",
        "mount ovl2 = 0",
        "open fd2 ovl1",
        "syncfs fd2 = 0",
    ]
    # the mount of ovl2 marks the upper SEEN, fd2 samples it (docs/model.md §4)
    at = lines.index("mount ovl2 = 0")
    assert lines[at + 1] == "    # upper.s_wb_err: 0x5 -> 0x1005 (EIO, SEEN, ctr 0)"
    assert "    # fd2.f_sb_err: 0x1005 (EIO, SEEN, ctr 0)" in lines
    assert parse(out, "again.scn").text() == sc.text()
