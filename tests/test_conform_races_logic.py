"""The pure side of explorer/conform/races.py: programs, the driver's text and output,
the verdict and the klitmus7-style printing.  No VM is booted here
(tests/test_conform_races.py runs the races on the kernels)."""

from __future__ import annotations

import pytest

from explorer.conform import build, races, vm
from explorer.domain.scenario import ScenarioError

TEXT = """# two host threads share fd1
open fd1 host = 0
write fd1
wberror host
host.1: syncfs fd1
host.2: syncfs fd1
"""

# What race.c prints for 10 iterations, 1 of them set aside.
OUTPUT = """noise before the driver
@@ KVER 6.12.118+deb12-cloud-amd64 1.82
@@ BOOT Dynamic Preempt: voluntary
@@ BOOT smp: Brought up 1 node, 2 CPUs
@@ CLOCK start tsc
@@ RACE iterations=10 threads=2 cpus=2 busy=0 flushers=1 delay=0
@@ X 3 setup 2 (wberror host): no failed write of its data was logged
@@ S 0 0
@@ S 1 0
@@ S 2 -
@@ H 5 0,EIO overlap=4 gaps=0,1,3,1,0
@@ H 3 EIO,0 overlap=3 gaps=0,0,2,1,0
@@ H 1 EIO,EIO overlap=1 gaps=1,0,0,0,0
@@ XC not-injected 1
@@ CLOCK end tsc
@@ M 2
@@ RT 0.09
@@ END 2.10
"""


def program() -> races.RaceProgram:
    return races.parse_program(TEXT, "syncfs.race", "syncfs-shared-fd")


def test_a_program_reads_setup_then_labelled_threads() -> None:
    p = program()
    assert p.setup == ("open fd1 host = 0", "write fd1", "wberror host")
    assert p.threads == (("syncfs fd1",), ("syncfs fd1",))
    assert p.labels == ("host.1", "host.2")
    assert p.calls() == [("host.1", "syncfs fd1"), ("host.2", "syncfs fd1")]


def test_the_driver_text_drops_expected_results() -> None:
    text = races.driver_text(program(), 500, 20, 1, 7, flushers=2)
    assert text.splitlines() == [
        "iterations 500",
        "delay 20",
        "busy 1",
        "seed 7",
        "flushers 2",
        "setup open fd1 host",
        "setup write fd1",
        "setup wberror host",
        "thread 1 syncfs fd1",
        "thread 2 syncfs fd1",
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("open fd1 host\nhost.1: syncfs fd1\n", "2 to 8 threads"),
        ("open fd1 host\nt1: close fd1\nt2: syncfs fd1\n", "a thread's call is one of"),
        ("open fd1 host\nclose fd1\nt1: sync\nt2: fsync fd1\n", "fd1 was closed"),
        ("open fd1 host\nt1: sync\nt2: fsync fd2\n", "unknown fd"),
        ("open fd1 host\nt1: sync\nwrite fd1\nt2: sync\n", "a setup event after"),
        ("open fd1 host\nt1: sync\nt2: fsync fd1 fd2\n", "wrong number of words"),
    ],
)
def test_a_program_the_driver_cannot_run_is_one_line_of_input_error(
    text: str, message: str
) -> None:
    with pytest.raises((races.RaceError, ScenarioError)) as err:
        races.parse_program(text, "bad.race")
    assert message in str(err.value)
    assert "bad.race" in str(err.value) and "\n" not in str(err.value)


def test_the_wrong_line_is_named_with_labels_and_comments_in_between() -> None:
    with pytest.raises(ScenarioError) as err:
        races.parse_program("# c\nopen fd1 host\n\nt1: sync\nt2: fsync fdX\n", "f.race")
    assert (err.value.line, err.value.token) == (5, "fdX")


def test_enospc_is_not_representable_on_61() -> None:
    p = races.parse_program("open fd1 host\nwrite fd1\nwberror host ENOSPC\na: sync\nb: sync\n")
    assert "records EIO" in (races.not_representable(p, "6.1") or "")
    assert races.not_representable(p, "6.12") is None
    with pytest.raises(races.RaceError, match="not representable on 6.1"):
        races.run_race(p, "6.1", 10)


def test_the_driver_output_becomes_a_histogram() -> None:
    h = races.parse_driver_output(program(), "6.12", OUTPUT)
    assert h.release == "6.12.118+deb12-cloud-amd64"
    assert h.counts == {("0", "EIO"): 5, ("EIO", "0"): 3, ("EIO", "EIO"): 1}
    assert h.overlap[("0", "EIO")] == 4 and h.gaps[("EIO", "EIO")] == (1, 0, 0, 0, 0)
    assert h.excluded == {"not-injected": 1}
    assert h.counted == 9 and h.iterations == 10
    assert h.setup_results == ("0", "0", "-")
    assert (h.cpus, h.preempt, h.guest_s, h.flushers) == (2, "voluntary", 0.09, 1)
    assert h.unmet == 2 and h.clock == {"start": "tsc", "end": "tsc"}


def test_a_run_that_did_not_finish_is_an_error_not_a_histogram() -> None:
    with pytest.raises(vm.VmError, match="before the race finished"):
        races.parse_driver_output(program(), "6.12", OUTPUT.replace("@@ END 2.10\n", ""))
    with pytest.raises(vm.VmError, match="driver: setup failed"):
        races.parse_driver_output(program(), "6.12", "@@ BAD setup failed\n@@ END 1\n")


def test_judge_fails_only_on_an_outcome_the_model_calls_never() -> None:
    h = races.parse_driver_output(program(), "6.12", OUTPUT)
    both = races.judge(h, {("EIO", "0"), ("0", "EIO"), ("EIO", "EIO")})
    assert both.status == "ok" and both.ok
    assert len(both.seen_possible) == 3 and both.forbidden == {}
    fsync_like = races.judge(h, {("EIO", "0"), ("0", "EIO")})
    assert fsync_like.status == "FORBIDDEN" and not fsync_like.ok
    assert fsync_like.forbidden == {("EIO", "EIO"): 1}
    rare = races.judge(h, {("EIO", "0"), ("0", "EIO"), ("EIO", "EIO"), ("0", "0")})
    assert rare.ok and len(rare.seen_possible) == 3  # (0, 0) not seen: a fact, not a failure
    assert "not observed: host.1:syncfs fd1=0; host.2:syncfs fd1=0;" in races.format_verdict(
        rare, h.program
    )


def test_judge_checks_the_setup_results_the_program_states() -> None:
    h = races.parse_driver_output(program(), "6.12", OUTPUT.replace("@@ S 0 0", "@@ S 0 EIO"))
    v = races.judge(h, {("EIO", "0"), ("0", "EIO"), ("EIO", "EIO")})
    assert v.status == "setup mismatch" and "returned EIO, not 0" in v.setup_mismatch


def test_nothing_counted_is_invalid_and_an_outcome_of_the_wrong_size_is_refused() -> None:
    h = races.Histogram(program(), "6.1", iterations=5, excluded={"not-injected": 5})
    assert races.judge(h, {("EIO", "0")}).status == "invalid"
    with pytest.raises(races.RaceError, match="has 1 results; the program makes 2 calls"):
        races.judge(h, {("EIO",)})


def test_the_histogram_prints_like_klitmus7() -> None:
    h = races.parse_driver_output(program(), "6.12", OUTPUT)
    text = races.format_histogram(h, condition={("EIO", "EIO")})
    lines = text.splitlines()
    assert lines[1] == "Histogram (3 states)"
    assert lines[2].startswith("5       :>host.1:syncfs fd1=0; host.2:syncfs fd1=EIO;")
    assert lines[4].startswith("1       *>host.1:syncfs fd1=EIO; host.2:syncfs fd1=EIO;")
    assert "excluded 1 iterations: not-injected" in text
    assert "2 iterations started without every thread seen running" in text
    assert "Observation syncfs-shared-fd Sometimes 1 8" in lines
    never = races.format_histogram(h, condition={("0", "0")})
    assert "Observation syncfs-shared-fd Never 0 9" in never.splitlines()


def test_the_race_mode_is_part_of_the_driver_build() -> None:
    names = {p.name for p in (*build.DRIVER_SOURCES, *build.DRIVER_HEADERS)}
    assert names == {"driver.c", "race.c", "driver.h"}
    assert all(p.exists() for p in (*build.DRIVER_SOURCES, *build.DRIVER_HEADERS))
    assert build.race_cpio("iterations 1\n").count(b"race.txt") == 1


def test_several_vcpus_run_multi_threaded_tcg() -> None:
    image = build.KernelImage("6.12", "r", "v", build.cache_dir(), build.cache_dir())
    cmd = vm.qemu_cmd(image, build.cache_dir(), "tcg", 2, "preempt=full")
    assert cmd[cmd.index("-accel") + 1] == "tcg,thread=multi"
    assert cmd[cmd.index("-smp") + 1] == "2"
    assert cmd[cmd.index("-append") + 1].endswith(" preempt=full")
    one = vm.qemu_cmd(image, build.cache_dir(), "tcg")
    assert one[one.index("-accel") + 1] == "tcg" and one[one.index("-smp") + 1] == "1"
