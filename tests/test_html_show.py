"""A state as named kernel fields (explorer.domain.show), decoded by hand from
docs/model.md §3: the bit layouts of the classic and the split errseq_t, and the
values the scenario comments use (0x5, 0x1005, 0x2005)."""

from __future__ import annotations

from explorer.domain.catalog import load_spec
from explorer.domain.errseq import Classic, Split
from explorer.domain.scenario import format_run
from explorer.domain.show import (
    GROUPS,
    change_lines,
    errseq_text,
    fields,
    run_names,
    state_lines,
)
from explorer.domain.world import Bounds, Event, World


def test_classic_values_as_docs_model_3_writes_them():
    # bits 0-11 errno magnitude, bit 12 SEEN, bits 13-31 counter
    assert errseq_text(0, Classic) == "0x0"
    assert errseq_text(0x5, Classic) == "0x5 (EIO, ctr 0)"  # EIO not yet seen
    assert errseq_text(0x1005, Classic) == "0x1005 (EIO, SEEN, ctr 0)"  # EIO seen
    assert errseq_text(0x2005, Classic) == "0x2005 (EIO, ctr 1)"  # one counter step, unseen
    assert errseq_text(0x301C, Classic) == "0x301c (ENOSPC, SEEN, ctr 1)"  # 28 = ENOSPC
    # the counter's top value of the kernel's 19 bits, seen
    assert errseq_text(0xFFFFF005, Classic) == "0xfffff005 (EIO, SEEN, ctr 524287)"


def test_split_values_have_both_flags_and_an_18_bit_counter():
    # bit 12 REPORTED, bit 13 OBSERVED, bits 14-31 counter
    assert errseq_text(0x1005, Split) == "0x1005 (EIO, REPORTED, ctr 0)"
    assert errseq_text(0x2005, Split) == "0x2005 (EIO, OBSERVED, ctr 0)"
    assert errseq_text(0x3005, Split) == "0x3005 (EIO, REPORTED, OBSERVED, ctr 0)"
    assert errseq_text(0x4005, Split) == "0x4005 (EIO, ctr 1)"


def test_every_field_of_the_layout_is_named_once():
    b = Bounds(mounts=2, fds=2, host_fds=1)
    fs = fields(b)
    # world.py's layout: 1 + 3 per file + 3 per container + 3 per fd slot
    assert sorted(f.index for f in fs) == list(range(b.width))
    labels = [f.label() for f in fs]
    assert labels[:4] == [
        "upper.s_wb_err",
        "ovl1.inode.cached",
        "ovl1.inode.wb_err",
        "ovl1.inode.dirty",
    ]
    assert "ovl2.ofs.errseq" in labels and "host.slot1.f_sb_err" in labels
    assert len(GROUPS) == 4


def apply(b: Bounds, spec, state, ev: Event):
    w = World(b, state)
    ret = spec.apply(w, ev)
    return w.freeze(), ret


def test_the_seed_timeline_under_vivek_v3_seen_decoded_step_by_step():
    """docs/model.md §4 vivek-v3-seen: every overlay mount marks the upper SEEN, so after
    `wberror ovl1` (upper 0x5) the mount of ovl2 turns it into 0x1005, and fd2, opened
    afterwards, samples 0x1005 as its f_sb_err: its syncfs returns 0."""
    b = Bounds(mounts=2, fds=2, host_fds=0)
    spec = load_spec("vivek-v3-seen")
    run = [
        Event("mount", 0),
        Event("open", 0),
        Event("write", 0),
        Event("wberror", 0),
        Event("mount", 1),
        Event("open", 1),
        Event("syncfs", 1),
    ]
    names = run_names(b, run, format_run(b, run))
    state = b.initial()
    seen = []
    for ev, nm in zip(run, names, strict=True):
        after, ret = apply(b, spec, state, ev)
        seen.append((change_lines(b, spec.errseq, state, after, nm), ret))
        state = after
    assert seen[3] == (
        [
            "upper.s_wb_err: 0x0 -> 0x5 (EIO, ctr 0)",
            "ovl1.inode.wb_err: 0x0 -> 0x5 (EIO, ctr 0)",
            "ovl1.inode.dirty: yes -> no",
        ],
        None,
    )
    assert seen[4][0][0] == "upper.s_wb_err: 0x5 -> 0x1005 (EIO, SEEN, ctr 0)"
    assert seen[4][0][1:] == [
        "ovl2.mounted: normal",
        "ovl2.sb.s_wb_err: 0x0",
        "ovl2.ofs.errseq: 0x0",
    ]
    assert seen[5][0] == [
        "fd2.open: open",
        "fd2.f_wb_err: 0x0",
        "fd2.f_sb_err: 0x1005 (EIO, SEEN, ctr 0)",
    ]
    assert seen[6] == ([], 0)  # syncfs fd2: nothing changes, and it returns 0


def test_a_second_error_after_a_report_moves_the_counter():
    """§3: errseq_set bumps the counter only when SEEN was set.  Host: error, syncfs
    reports it (0x1005), a second error gives 0x2005; the split layout counts in bit 14
    and the host's open there already set OBSERVED."""
    b = Bounds(mounts=1, fds=1, host_fds=1)
    h = b.owner_slots(b.host)[0]
    run = [Event("open", h), Event("write", h), Event("wberror", b.host), Event("syncfs", h)]
    run += [Event("write", h), Event("wberror", b.host)]
    for name, last in (
        ("plain", "0x1005 -> 0x2005 (EIO, ctr 1)"),
        ("jeff-split", "0x3005 -> 0x4005 (EIO, ctr 1)"),
    ):
        spec = load_spec(name)
        state = b.initial()
        for ev in run:
            before = state
            state, _ = apply(b, spec, state, ev)
        lines = change_lines(b, spec.errseq, before, state, {h: "fd1"})
        assert lines[0] == f"upper.s_wb_err: {last}", name


def test_a_closed_fd_goes_away_by_its_open_field_alone():
    b = Bounds(mounts=1, fds=1, host_fds=0)
    spec = load_spec("plain")
    s1, _ = apply(b, spec, b.initial(), Event("mount", 0))
    s2, _ = apply(b, spec, s1, Event("open", 0))
    s3, _ = apply(b, spec, s2, Event("close", 0))
    assert change_lines(b, spec.errseq, s2, s3, {0: "fd1"}) == ["fd1.open: open -> closed"]
    assert "fd1.open: open" in state_lines(b, spec.errseq, s2, {0: "fd1"})
    assert not any(x.startswith("ovl1.slot1") for x in state_lines(b, spec.errseq, s3))


def test_a_host_fd_on_a_container_file_says_which():
    b = Bounds(mounts=1, fds=1, host_fds=1, host_files="any")
    spec = load_spec("plain")
    h = b.owner_slots(b.host)[0]
    s1, _ = apply(b, spec, b.initial(), Event("open", h, ino=0))
    assert "fd1.open: open on ovl1's file" in change_lines(
        b, spec.errseq, b.initial(), s1, {h: "fd1"}
    )
