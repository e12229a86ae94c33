"""Races on the real kernels, in the manner of klitmus7 (docs/conformance.md, "Races on
real kernels"; docs/model.md §8).

A race program is a setup (scenario-language events run one after the other) and two or
more threads, each a short list of calls on the setup's fds.  One VM with a vCPU per
thread (multi-threaded TCG) runs it many times in one boot (race.c): each iteration
re-creates the setup (fresh fds, a new dirty page, a new injected writeback error),
starts the threads together and records every call's result; iterations whose injection
cannot be confirmed are set aside, never counted.  A kernel can show that an outcome
happens, never that it cannot: `judge` fails only on an outcome the model calls Never,
and reports how many of the model's possible outcomes were seen.

The interface (for `explore conform` on a race claim: the claim's setup and its
`ACTOR.K:` thread programs make the RaceProgram, the model's outcome set the `possible`):

    program = RaceProgram("syncfs-shared-fd",                  # or parse_program(text)
                          setup=("open fd1 host", "write fd1", "wberror host"),
                          threads=(("syncfs fd1",), ("syncfs fd1",)),
                          labels=("host.1", "host.2"))
    hist = run_race(program, "6.12", 2000, flushers=1, cpus=3)     # -> Histogram
    verdict = judge(hist, {("EIO", "0"), ("0", "EIO"), ("EIO", "EIO")})  # -> RaceVerdict
    print(format_histogram(hist, condition={("EIO", "EIO")}))   # klitmus7's lines
    print(format_verdict(verdict, program))

`verdict.status` is ok, FORBIDDEN (an outcome the model calls Never appeared: exit 1),
invalid (no iteration counted: exit 1) or setup mismatch (a setup line's `= RESULT`
was not the kernel's: exit 1); `verdict.seen_possible` says which of the model's
outcomes were observed.  run_race raises RaceError (an InputError: exit 2) for a
program race.c cannot run, vm.VmError or build.BuildError when no VM ran.

An outcome is a tuple of every call's result ("0", "EIO", ...), thread 1's calls first,
each thread's in program order.  A thread may call write, fsync and syncfs on an fd the
setup opened, and sync.  Setup lines may end in `= RESULT`: the kernel's result of that
event must then be RESULT.  `not_representable` says why a kernel cannot run a program;
whether the model's world and the kernel's agree on the setup itself (a file's
dirtiness, conform's `core.not_representable`) is the caller's to check.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from explorer.conform import build, vm
from explorer.domain.scenario import ScenarioError, parse

Outcome = tuple[str, ...]
THREAD_CALLS = ("write", "fsync", "syncfs", "sync")
MAX_THREADS, MAX_CALLS, MAX_SETUP = 8, 8, 64  # race.c's limits
GAP_BUCKETS = ("<1us", "<10us", "<100us", "<1ms", ">=1ms")
STALL_S = 180.0  # race.c reports progress every 100 iterations
LABEL_RE = re.compile(r"\s*([A-Za-z0-9_.]+)\s*:(.*)$")


class RaceError(ScenarioError):
    """A race program or outcome set the driver cannot run or judge: an InputError,
    one line naming the program (and the token) and the reason, exit 2."""

    def __init__(self, source: str, reason: str, token: str = "") -> None:
        super().__init__(source, 0, token, reason)


@dataclass(frozen=True)
class RaceProgram:
    """Setup events, then threads of calls that race, as scenario-language lines."""

    name: str
    setup: tuple[str, ...]
    threads: tuple[tuple[str, ...], ...]
    labels: tuple[str, ...] = ()  # a name per thread, e.g. host.1; default 1, 2, ...

    def label(self, k: int) -> str:
        return self.labels[k] if k < len(self.labels) else str(k + 1)

    def calls(self) -> list[tuple[str, str]]:
        """(thread label, call) for each result of an outcome, in outcome order."""
        return [(self.label(k), c) for k, t in enumerate(self.threads) for c in t]


@dataclass
class Histogram:
    """What one kernel did with a race program, iteration after iteration."""

    program: RaceProgram
    kernel: str  # build.KERNELS key: 6.1, 6.12
    release: str = ""
    iterations: int = 0  # asked for; counted + sum(excluded) when the run ended
    counts: dict[Outcome, int] = field(default_factory=dict)
    overlap: dict[Outcome, int] = field(default_factory=dict)  # every thread in a call at once
    gaps: dict[Outcome, tuple[int, ...]] = field(default_factory=dict)  # per GAP_BUCKETS
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> iterations
    examples: list[str] = field(default_factory=list)  # the first excluded ones, and why
    unmet: int = 0  # iterations whose threads started without being seen running together
    setup_results: tuple[str, ...] = ()
    cpus: int = 0
    preempt: str = ""  # the kernel's preemption model, as it says at boot
    delay: int = 0
    busy: int = 0
    flushers: int = 0
    seed: int = 1
    boot_args: str = ""  # added to the kernel's command line
    clock: dict[str, str] = field(default_factory=dict)  # start/end -> the clocksource
    guest_s: float = 0.0
    wall_s: float = 0.0

    @property
    def counted(self) -> int:
        return sum(self.counts.values())


@dataclass
class RaceVerdict:
    """A histogram held against the model's possible outcomes."""

    name: str
    kernel: str
    possible: tuple[Outcome, ...]
    seen_possible: dict[Outcome, int]
    forbidden: dict[Outcome, int]  # observed, and the model calls them Never
    counted: int
    setup_mismatch: str = ""

    @property
    def status(self) -> str:
        if self.counted == 0:
            return "invalid"  # nothing was checked
        if self.setup_mismatch:
            return "setup mismatch"
        return "FORBIDDEN" if self.forbidden else "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def parse_program(text: str, source: str = "<race>", name: str = "") -> RaceProgram:
    """A race program from text: setup lines, then `LABEL: CALL` lines for the threads
    (`host.1: syncfs fd1`); a thread's calls in order, threads in order of appearance."""
    setup: list[str] = []
    threads: dict[str, list[str]] = {}
    flat = []  # the same lines without labels: the scenario parser names the right line
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        m = LABEL_RE.match(line)
        flat.append(m.group(2) if m else line)
        if not line:
            continue
        if m:
            verb = (m.group(2).split() or [""])[0]
            if verb not in THREAD_CALLS:
                raise ScenarioError(
                    source, n, verb, f"a thread's call is one of {', '.join(THREAD_CALLS)}"
                )
            threads.setdefault(m.group(1), []).append(m.group(2).strip())
        elif threads:
            raise ScenarioError(source, n, line.split()[0], "a setup event after a thread's call")
        else:
            setup.append(line)
    parse("\n".join(flat) + "\n", source)
    program = RaceProgram(
        name or source, tuple(setup), tuple(tuple(c) for c in threads.values()), tuple(threads)
    )
    check_program(program, source)
    return program


def check_program(program: RaceProgram, source: str = "") -> None:
    """Raise RaceError (or ScenarioError) unless race.c can run `program`."""
    src = source or program.name
    if not 2 <= len(program.threads) <= MAX_THREADS:
        raise RaceError(src, f"a race needs 2 to {MAX_THREADS} threads")
    if len(program.setup) > MAX_SETUP:
        raise RaceError(src, f"at most {MAX_SETUP} setup events")
    lines = [*program.setup, *(c for t in program.threads for c in t)]
    scenario = parse("\n".join(lines) + "\n", src)  # fds opened before use, never reused
    opened = {e.fd for e in scenario.events[: len(program.setup)] if e.verb == "open"}
    closed = {e.fd for e in scenario.events[: len(program.setup)] if e.verb == "close"}
    for k, thread in enumerate(program.threads):
        if not 1 <= len(thread) <= MAX_CALLS:
            raise RaceError(src, f"thread {program.label(k)} needs 1 to {MAX_CALLS} calls")
        for call in thread:
            words = call.split("=")[0].split()
            if words[0] not in THREAD_CALLS:
                raise RaceError(
                    src,
                    f"thread {program.label(k)}: a thread's call is one of "
                    f"{', '.join(THREAD_CALLS)}",
                    call,
                )
            if words[0] != "sync" and (words[1] not in opened or words[1] in closed):
                raise RaceError(
                    src,
                    f"thread {program.label(k)}: {words[1]} is not open when the setup ends",
                    call,
                )


def not_representable(program: RaceProgram, kernel: str) -> str | None:
    """Why `kernel` cannot run `program` faithfully, or None."""
    for line in program.setup:
        words = line.split("=")[0].split()
        if kernel == "6.1" and words[:1] == ["wberror"] and words[2:3] == ["ENOSPC"]:
            return (
                f"{line!r}: 6.1's ext4 records EIO for every failed data write "
                "(fs/ext4/page-io.c ext4_finish_bio: mapping_set_error(page->mapping, -EIO))"
            )
    return None


def driver_text(
    program: RaceProgram, iterations: int, delay: int, busy: int, seed: int, flushers: int = 0
) -> str:
    """The /race.txt that race.c reads."""
    head = [f"iterations {iterations}", f"delay {delay}", f"busy {busy}", f"seed {seed}"]
    head += [f"flushers {flushers}"] if flushers else []
    setup = [f"setup {line.split('=')[0].strip()}" for line in program.setup]
    calls = [
        f"thread {k} {c.split('=')[0].strip()}" for k, t in enumerate(program.threads, 1) for c in t
    ]
    return "\n".join([*head, *setup, *calls]) + "\n"


def parse_driver_output(program: RaceProgram, kernel: str, text: str) -> Histogram:
    """Read race.c's `@@` lines; raise vm.VmError when the run did not finish."""
    h = Histogram(program, kernel)
    setup: dict[int, str] = {}
    ended = False
    for line in text.splitlines():
        if not line.startswith("@@ "):
            continue
        tag, _, rest = line[3:].partition(" ")
        if tag == "KVER":
            h.release = rest.split()[0] if rest else ""
        elif tag == "BAD":
            raise vm.VmError(f"driver: {rest}")
        elif tag == "RACE":
            opts = dict(kv.split("=", 1) for kv in rest.split())
            h.iterations, h.cpus = int(opts["iterations"]), int(opts["cpus"])
            h.busy, h.delay = int(opts["busy"]), int(opts["delay"])
            h.flushers = int(opts.get("flushers", 0))
        elif tag == "BOOT" and rest.startswith("Dynamic Preempt:"):
            h.preempt = rest.split(":", 1)[1].strip()
        elif tag == "S":
            idx, _, res = rest.partition(" ")
            setup[int(idx)] = res
        elif tag == "H":
            count, key, overlap, gaps = rest.split()
            outcome = tuple(key.split(","))
            h.counts[outcome] = int(count)
            h.overlap[outcome] = int(overlap.removeprefix("overlap="))
            h.gaps[outcome] = tuple(int(g) for g in gaps.removeprefix("gaps=").split(","))
        elif tag == "X":
            h.examples.append(rest)
        elif tag == "XC":
            reason, _, n = rest.rpartition(" ")
            h.excluded[reason] = int(n)
        elif tag == "CLOCK":
            h.clock[rest.split()[0]] = rest.split()[-1]
        elif tag == "M":
            h.unmet = int(rest)
        elif tag == "RT":
            h.guest_s = float(rest)
        elif tag == "END":
            ended = True
    if not ended or not h.iterations:
        tail = [ln for ln in text.splitlines() if ln.strip()][-3:]
        raise vm.VmError(f"the VM stopped before the race finished; console ends with {tail!r}")
    h.setup_results = tuple(setup[i] for i in sorted(setup))
    return h


def run_race(
    program: RaceProgram,
    kernel: str,
    iterations: int,
    *,
    delay: int = 0,
    busy: int = 0,
    flushers: int = 0,
    seed: int = 1,
    cpus: int | None = None,
    boot_args: str = "",
    accel: str = "tcg",
    timeout: float | None = None,
) -> Histogram:
    """Run `program` `iterations` times in one boot of `kernel` (a build.KERNELS key) with
    a vCPU per thread (or `cpus`); `delay` makes each thread wait a random 0..delay spin
    rounds first, `busy` adds threads that keep the CPUs busy meanwhile, `flushers` threads
    that keep a cache flush of the block device in flight, `boot_args` go on the kernel's
    command line (e.g. `preempt=full`, `idle=poll`).  None of these changes the code the
    threads run: they change when it runs.  Raises RaceError
    for a program the kernel cannot run, build.BuildError or vm.VmError when no VM ran."""
    check_program(program)
    why = not_representable(program, kernel)
    if why:
        raise RaceError(program.name, f"not representable on {kernel}: {why}")
    image = build.build(kernel)
    text = driver_text(program, iterations, delay, busy, seed, flushers)
    ncpu = cpus or len(program.threads)
    limit = timeout or 600 + 2.0 * iterations  # a cap; a stalled VM is stopped far sooner
    b = vm.boot(image, build.race_cpio(text), accel, limit, ncpu, boot_args, stall=STALL_S)
    h = parse_driver_output(program, kernel, b.stdout)
    h.wall_s, h.seed, h.boot_args = b.wall_s, seed, boot_args
    return h


def judge(histogram: Histogram, possible: Iterable[Iterable[str]]) -> RaceVerdict:
    """Hold a histogram against the model's possible outcomes (everything else is Never)."""
    calls = len(histogram.program.calls())
    allowed = {tuple(o) for o in possible}
    for o in allowed:
        if len(o) != calls:
            raise RaceError(
                histogram.program.name,
                f"outcome {o} has {len(o)} results; the program makes {calls} calls",
            )
    wrong = [
        f"setup {i} ({line}) returned {got}, not {want}"
        for i, (line, got) in enumerate(
            zip(histogram.program.setup, histogram.setup_results, strict=False)
        )
        if "=" in line and (want := line.split("=", 1)[1].strip()) != got
    ]
    return RaceVerdict(
        histogram.program.name,
        histogram.kernel,
        tuple(sorted(allowed)),
        {o: n for o, n in histogram.counts.items() if o in allowed},
        {o: n for o, n in histogram.counts.items() if o not in allowed},
        histogram.counted,
        "; ".join(wrong),
    )


def outcome_text(program: RaceProgram, outcome: Outcome) -> str:
    """klitmus7's way of writing a state: `host.1:syncfs fd1=EIO; host.2:syncfs fd1=0;`."""
    return " ".join(f"{t}:{c}={r};" for (t, c), r in zip(program.calls(), outcome, strict=True))


def format_histogram(h: Histogram, condition: Collection[Outcome] | None = None) -> str:
    """The histogram as klitmus7 prints one: a line per state (`*>` marks the states of
    `condition`), then `Observation NAME Never|Sometimes|Always POSITIVE NEGATIVE`."""
    name = h.program.name
    lines = [
        f"Test {name} on {h.release} ({h.kernel}): {h.iterations} iterations, "
        f"{h.cpus} vCPUs, preempt {h.preempt or '?'}, delay {h.delay}, busy {h.busy}"
        + (f", flushers {h.flushers}" if h.flushers else "")
        + (f", boot {h.boot_args}" if h.boot_args else ""),
        f"Histogram ({len(h.counts)} states)",
    ]
    marked = {tuple(o) for o in condition or ()}
    for o, n in sorted(h.counts.items(), key=lambda kv: (-kv[1], kv[0])):
        gaps = " ".join(
            f"{b}:{g}" for b, g in zip(GAP_BUCKETS, h.gaps.get(o, ()), strict=False) if g
        )
        star = "*>" if o in marked else ":>"
        lines.append(
            f"{n:<8}{star}{outcome_text(h.program, o)}   (overlap {h.overlap.get(o, 0)}; "
            f"ends apart {gaps})"
        )
    if h.unmet:
        lines.append(f"{h.unmet} iterations started without every thread seen running")
    for reason, n in sorted(h.excluded.items()):
        lines.append(f"excluded {n} iterations: {reason}")
    lines += [f"  {x}" for x in h.examples[:3]]
    if condition is not None:
        pos = sum(n for o, n in h.counts.items() if o in marked)
        neg = h.counted - pos
        word = "Never" if pos == 0 else "Always" if neg == 0 else "Sometimes"
        lines.append(f"Observation {name} {word} {pos} {neg}")
    lines.append(f"Time {name} {h.guest_s:.2f}")
    return "\n".join(lines)


def format_verdict(v: RaceVerdict, program: RaceProgram | None = None) -> str:
    """One line: the verdict, how many possible outcomes were observed, what was wrong."""
    show = (lambda o: outcome_text(program, o)) if program else (lambda o: ",".join(o))
    head = f"Verdict {v.name} {v.kernel}: {v.status}"
    seen = f"{len(v.seen_possible)} of the model's {len(v.possible)} possible outcomes observed"
    if v.status == "invalid":
        return f"{head}: no iteration was counted (see the exclusions)"
    if v.status == "setup mismatch":
        return f"{head}: {v.setup_mismatch}"
    if v.forbidden:
        bad = "; ".join(f"{show(o)} x{n}" for o, n in sorted(v.forbidden.items()))
        return f"{head}: outcomes the model calls Never were observed: {bad} ({seen})"
    missing = [show(o) for o in v.possible if o not in v.seen_possible]
    rest = f"; not observed: {' | '.join(missing)}" if missing else ""
    return f"{head}: {seen} in {v.counted} iterations{rest}"
