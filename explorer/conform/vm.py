"""Boot one throw-away qemu VM per scenario and read back what the kernel returned.

Each run appends a one-file cpio (the scenario) to the cached initramfs, boots the
Debian kernel with the driver as /init, and parses the driver's `@@` lines
(see driver.c).  The kernel log of every event comes back too: `check_run` uses it
to refuse a run that was not data-only (docs/model.md models data writeback errors
only) or whose `evict` did not evict.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from explorer.conform.build import KernelImage, scenario_cpio

QEMU = "qemu-system-x86_64"
APPEND = "console=ttyS0 quiet loglevel=1 rdinit=/init panic=-1 mitigations=off"
TIMEOUT_S = 90.0

# Kernel log lines that speak of a failed write, and how to read their location.
EXT4_DATA_RE = re.compile(r"I/O error (\d+) writing to inode (\d+) starting block (\d+)")
BUFFER_RE = re.compile(r"Buffer I/O error on dev(?:ice)? (\S+?),? logical block (\d+)")
BLK_RE = re.compile(r"I/O error, dev (\S+), sector (\d+) op 0x1:\(WRITE\)")
SUSPECT_RE = re.compile(
    r"EXT4-fs error|lost (?:async )?page write|Remounting filesystem read-only|"
    r"I/O error|Buffer I/O error|error writing|journal|blk_update_request",
    re.IGNORECASE,
)
BLOCK_SECTORS = 8  # the driver formats ext4 with 4096-byte blocks
#: The blk_status_t ext4_end_bio prints for each injected errno (include/linux/blk_types.h:
#: BLK_STS_IOERR from dm's error target, BLK_STS_NOSPC from an out-of-space dm-thin pool).
BLK_STATUS = {"EIO": 10, "ENOSPC": 3}


class VmError(RuntimeError):
    """qemu could not run the scenario (missing binary, crash, timeout)."""


@dataclass
class KernelRun:
    """What one kernel did with one scenario, parsed from the driver's output."""

    kernel: str
    release: str = ""
    results: dict[int, str | None] = field(default_factory=dict)  # event -> result
    details: dict[int, str] = field(default_factory=dict)
    klog: dict[int, list[str]] = field(default_factory=dict)  # event -> kernel log lines
    wberror: dict[int, tuple[int, list[tuple[int, int]]]] = field(default_factory=dict)
    wberror_errno: dict[int, str] = field(default_factory=dict)  # EIO or ENOSPC injected
    bad: str | None = None  # the driver gave up: why
    ended: bool = False
    wall_s: float = 0.0
    guest_s: float = 0.0
    attempts: int = 1  # 2 when the first VM died without a result
    raw: str = ""

    def result_list(self, n: int) -> list[str | None]:
        return [self.results.get(i, "missing") for i in range(n)]


def parse_output(kernel: str, text: str) -> KernelRun:
    """Read the driver's `@@` protocol; other console noise is ignored."""
    run = KernelRun(kernel=kernel, raw=text)
    for line in text.splitlines():
        if not line.startswith("@@ "):
            continue
        tag, _, rest = line[3:].partition(" ")
        if tag == "KVER":
            run.release = rest.split()[0] if rest else ""
        elif tag == "R":
            idx, _, res = rest.partition(" ")
            word, _, detail = res.partition(" ")
            i = int(idx)
            run.results[i] = None if word == "-" else word
            if detail:
                run.details[i] = detail
        elif tag == "K":
            idx, _, msg = rest.partition(" ")
            run.klog.setdefault(int(idx), []).append(msg)
        elif tag == "W":
            m = re.match(r"(\d+) ino=(\d+) sectors=(\S+)(?: errno=(\w+))?", rest)
            if m:
                pairs = (s.split("-", 1) for s in m.group(3).split(","))
                spans = [(int(lo), int(hi)) for lo, hi in pairs]
                run.wberror[int(m.group(1))] = (int(m.group(2)), spans)
                run.wberror_errno[int(m.group(1))] = m.group(4) or "EIO"
        elif tag == "BAD":
            run.bad = rest
        elif tag == "END":
            run.ended = True
            try:
                run.guest_s = float(rest)
            except ValueError:
                pass
    return run


def check_run(run: KernelRun) -> str | None:
    """Why this run cannot be compared with the model, or None if it is faithful.

    A `wberror` must fail F's data and nothing else; no other event may log a
    failed write; an `evict` must really evict.  A `wberror` that failed
    nothing (F was clean on the kernel) becomes "skipped", like the model's.
    """
    if run.bad:
        return f"driver: {run.bad}"
    if not run.ended:
        tail = [ln for ln in run.raw.splitlines() if ln.strip()][-3:]
        return f"the VM stopped before the driver finished; console ends with {tail!r}"
    for i, lines in sorted(run.klog.items()):
        if i < 0:
            continue  # setup (mke2fs probing WRITE_ZEROES on loop is harmless)
        ino, spans = run.wberror.get(i, (None, []))
        hits = 0
        for msg in lines:
            if not SUSPECT_RE.search(msg):
                continue
            if (m := EXT4_DATA_RE.search(msg)) and ino is not None and int(m.group(2)) == ino:
                want = BLK_STATUS[run.wberror_errno.get(i, "EIO")]
                if int(m.group(1)) != want:
                    return (
                        f"event {i}: the target's write failed with block status "
                        f"{m.group(1)}, not {want} ({run.wberror_errno.get(i, 'EIO')}): {msg!r}"
                    )
                hits += 1
                continue
            if (m := BUFFER_RE.search(msg)) and _inside(int(m.group(2)) * BLOCK_SECTORS, spans):
                continue
            if (m := BLK_RE.search(msg)) and _inside(int(m.group(2)), spans):
                continue
            return f"event {i}: a write other than the target's data failed: {msg!r}"
        if i in run.wberror and hits == 0 and run.results.get(i, "x") is None:
            run.results[i] = "skipped"
            run.details[i] = "no dirty data: nothing failed"
    for i in run.wberror:
        if not run.klog.get(i) and run.results.get(i, "x") is None:
            run.results[i] = "skipped"
            run.details[i] = "no dirty data: nothing failed"
    for i, d in run.details.items():
        if d == "still-cached":
            return f"event {i}: evict did not evict the inode (no ext4_evict_inode event)"
        if d == "unverified":
            return f"event {i}: evict could not be verified (tracefs unavailable)"
    return None


def _inside(sector: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(a <= sector < b for a, b in spans)


def qemu_available() -> str | None:
    """None if qemu can be run here, else the reason it cannot."""
    if shutil.which(QEMU) is None:
        return f"{QEMU} not found (run explorer/conform/setup-host.sh)"
    return None


def qemu_cmd(
    image: KernelImage, initrd: Path, accel: str, cpus: int = 1, append: str = ""
) -> list[str]:
    """The qemu command line; with several CPUs under TCG, one host thread per vCPU
    (multi-threaded TCG), so that the guest's CPUs really run at the same time."""
    how = f"{accel},thread=multi" if accel == "tcg" and cpus > 1 else accel
    cmd = [QEMU, "-accel", how, "-M", "pc", "-m", "512", "-smp", str(cpus)]
    if accel == "kvm":
        cmd += ["-cpu", "host"]
    return cmd + [
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-serial",
        "stdio",
        "-monitor",
        "none",
        "-no-reboot",
        "-kernel",
        str(image.vmlinuz),
        "-initrd",
        str(initrd),
        "-append",
        f"{APPEND} {append}".strip(),
    ]


@dataclass
class Boot:
    """What one VM printed on its console, and how it ended."""

    stdout: str
    stderr: str
    returncode: int
    wall_s: float


def boot(
    image: KernelImage,
    extra: bytes,
    accel: str = "tcg",
    timeout: float = TIMEOUT_S,
    cpus: int = 1,
    append: str = "",
    stall: float | None = None,
) -> Boot:
    """One fresh VM whose initramfs is the cached one plus `extra` (a cpio): boot it
    and wait until it powers off.  It is stopped after `timeout` seconds, or after
    `stall` seconds without output (a long run that reports progress: its length
    depends on the host's load, its silence does not).  A guest kernel that panics
    before the driver has said a word (`@@ KVER`) ran nothing of ours: it is booted
    once more, and stderr says so; a panic after that is the run's.  Raises VmError
    if qemu cannot run or is stopped."""
    why = qemu_available()
    if why:
        raise VmError(why)
    b = _boot(image, extra, accel, timeout, cpus, append, stall)
    if "Kernel panic" in b.stdout and "@@ KVER" not in b.stdout:
        panic = next(ln for ln in b.stdout.splitlines() if "Kernel panic" in ln)
        print(
            f"conform: the guest kernel panicked at boot ({panic.strip()}); booting it again",
            file=sys.stderr,
        )
        b = _boot(image, extra, accel, timeout, cpus, append, stall)
    return b


def _boot(
    image: KernelImage,
    extra: bytes,
    accel: str,
    timeout: float,
    cpus: int,
    append: str,
    stall: float | None,
) -> Boot:
    with tempfile.TemporaryDirectory(prefix="errseq-vm-") as t:
        initrd = Path(t) / "initrd.cpio"
        with open(initrd, "wb") as f:
            with open(image.initramfs, "rb") as base:
                shutil.copyfileobj(base, f)
            f.write(extra)
        start = time.monotonic()
        p = subprocess.Popen(
            qemu_cmd(image, initrd, accel, cpus, append),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err, stopped = _collect(p, start, timeout, stall)
        wall = time.monotonic() - start
    text = b"".join(out).decode(errors="replace")
    if stopped:
        raise VmError(f"stopped after {stopped}; last output: {text[-500:]!r}")
    return Boot(text, b"".join(err).decode(errors="replace"), p.returncode, wall)


def _collect(
    p: subprocess.Popen[bytes], start: float, timeout: float, stall: float | None
) -> tuple[list[bytes], list[bytes], str]:
    """Read the VM's output until it exits; kill it on `timeout` or `stall` (and say
    which: the third value, empty when the VM ended by itself)."""
    out: list[bytes] = []
    err: list[bytes] = []
    last = [start]

    def pump(stream: io.BufferedReader, into: list[bytes], mark: bool) -> None:
        for chunk in iter(lambda: stream.read1(4096), b""):
            into.append(chunk)
            if mark:
                last[0] = time.monotonic()

    assert p.stdout is not None and p.stderr is not None
    readers = [
        threading.Thread(target=pump, args=(p.stdout, out, True), daemon=True),
        threading.Thread(target=pump, args=(p.stderr, err, False), daemon=True),
    ]
    for r in readers:
        r.start()
    stopped = ""
    while p.poll() is None:
        now = time.monotonic()
        if now - start >= timeout:
            stopped = f"{timeout:.0f}s"
        elif stall is not None and now - last[0] >= stall:
            stopped = f"{stall:.0f}s without output"
        if stopped:
            p.kill()
            p.wait()
            break
        time.sleep(0.2)
    for r in readers:
        r.join(timeout=5)
    return out, err, stopped


def run_scenario(
    image: KernelImage, text: str, accel: str = "tcg", timeout: float = TIMEOUT_S
) -> KernelRun:
    """One fresh VM: boot, run `text`, power off.  Raises VmError if qemu fails."""
    b = boot(image, scenario_cpio(text), accel, timeout)
    run = parse_output(image.key, b.stdout)
    run.wall_s = b.wall_s
    if not run.ended and b.returncode != 0:
        err = b.stderr.strip()
        raise VmError(f"qemu exited {b.returncode}: {err[-500:] or b.stdout[-500:]}")
    return run


def run_many(
    jobs: list[tuple[KernelImage, str]],
    accel: str = "tcg",
    workers: int | None = None,
    on_done: Callable[[int, KernelRun | VmError], None] | None = None,
) -> list[KernelRun | VmError]:
    """Run every (kernel, scenario) in its own VM, `workers` at a time (default: cores)."""
    workers = workers or max(1, min(len(jobs), os.cpu_count() or 2))
    out: list[KernelRun | VmError] = [VmError("not run")] * len(jobs)

    def one(i: int) -> None:
        image, text = jobs[i]
        for attempt in (1, 2):  # a VM that died (not a result) gets one more try
            try:
                r: KernelRun | VmError = run_scenario(image, text, accel)
            except VmError as e:
                r = e
            if isinstance(r, KernelRun):
                r.attempts = attempt
                if r.ended or r.bad:
                    break
        out[i] = r
        if on_done:
            on_done(i, r)

    with ThreadPoolExecutor(max_workers=workers) as ex:
        list(ex.map(one, range(len(jobs))))
    return out
