"""Pure logic of `explore conform`: corpus, representability, comparison, output.

Nothing here boots a VM, so all of it is unit-tested.  The flow: parse each
scenario, decide whether a real kernel can reproduce the model's world for it
(`not_representable`), run the rest in VMs (vm.py), and compare every event's
kernel result with the model's under the spec that models that kernel.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from explorer.checker import replay as model_replay
from explorer.domain.catalog import load_spec
from explorer.domain.errseq import COUNTER_BITS
from explorer.domain.scenario import Scenario, ScenarioError, owner_index, parse

CORPUS_DIR = Path(__file__).with_name("corpus")
# kernel key -> spec that must predict it (docs/model.md §4: v5.11 covers 6.1, mainline 6.12+)
KERNEL_SPEC = {"6.1": "v5.11", "6.12": "mainline"}
KERNEL_ORDER = ("6.1", "6.12")

AGREE, MISMATCH, NOT_REPRESENTABLE, INVALID, ERROR = (
    "agree",
    "mismatch",
    "not representable",
    "invalid",
    "error",
)


@dataclass
class Item:
    """One scenario to check: its name, text and parsed form."""

    name: str
    text: str
    scenario: Scenario
    origin: str = ""  # corpus, file path, or witness description
    only_kernel: str | None = None  # a witness is replayed on its spec's kernel only
    unrepresentable: str | None = None  # why no kernel can run it, whatever the scenario


@dataclass
class Row:
    """One event of the side-by-side table."""

    line: int
    event: str
    model: str | None
    kernel: str | None
    mismatch: bool
    detail: str = ""


@dataclass
class Outcome:
    """One scenario on one kernel."""

    name: str
    kernel: str
    spec: str
    status: str
    reason: str = ""
    release: str = ""
    rows: list[Row] = field(default_factory=list)
    wall_s: float = 0.0
    origin: str = ""

    @property
    def failed(self) -> bool:
        """Mismatch, or a run that could not be checked (exit 1 either way)."""
        return self.status in (MISMATCH, INVALID, ERROR)


def load_item(path: Path) -> Item:
    """Read and parse a scenario file (ScenarioError names file, line, token, reason)."""
    try:
        text = path.read_text()
    except OSError as e:
        raise ScenarioError(str(path), 0, "", f"cannot read: {e.strerror}") from e
    return Item(path.stem, text, parse(text, str(path)), origin=str(path))


def corpus() -> list[Item]:
    """The built-in corpus, in file-name order."""
    return [load_item(p) for p in sorted(CORPUS_DIR.glob("*.scn"))]


def witnesses(report: Path) -> list[Item]:
    """The mainline/v5.11 witnesses of an explorer report.json, one Item per run.

    A witness is a pair of runs (isolation) or one run (other properties); every
    scenario text found under the witness is replayed, on the kernel that its
    spec models.
    """
    try:
        data = json.loads(report.read_text())
    except OSError as e:
        raise ScenarioError(str(report), 0, "", f"cannot read: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise ScenarioError(str(report), e.lineno, "", f"not JSON: {e.msg}") from e
    if not isinstance(data, dict) or not isinstance(data.get("witnesses"), list):
        raise ScenarioError(str(report), 0, "witnesses", "no top-level 'witnesses' list")
    spec_kernel = {v: k for k, v in KERNEL_SPEC.items()}
    config = data["config"] if isinstance(data.get("config"), dict) else {}
    bits = config.get("counter_bits")
    narrow = (
        f"the report's run used --counter-bits {bits}: a real kernel's errseq counter has "
        f"{COUNTER_BITS} bits (lib/errseq.c), so a run that depends on a narrower one's "
        "wraparound cannot be reproduced"
        if bits is not None
        else None
    )
    items: list[Item] = []
    for n, w in enumerate(data["witnesses"], 1):
        if not isinstance(w, dict):
            raise ScenarioError(str(report), 0, f"witnesses[{n - 1}]", "not an object")
        spec = w.get("spec")
        kernel = spec_kernel.get(spec) if isinstance(spec, str) else None
        if kernel is None:
            continue
        texts = _scenario_texts(w)
        if not texts:
            raise ScenarioError(str(report), 0, f"witnesses[{n - 1}]", "no 'scenario' text")
        prop = w.get("property", "witness")
        run = w.get("run")
        for label, text in texts:
            label = label or (run if isinstance(run, str) else "")
            name = f"w{n}-{prop}-{spec}" + (f"-{label}" if label else "")
            where = f"{report}#witnesses[{n - 1}]" + (f".{label}" if label else "")
            items.append(
                Item(
                    name,
                    text,
                    parse(text, where),
                    origin=where,
                    only_kernel=kernel,
                    unrepresentable=narrow,
                )
            )
    return items


def _scenario_texts(w: dict) -> list[tuple[str, str]]:
    """Scenario texts of one witness: "scenario" (a string, or a list of runs), "runs"."""
    out: list[tuple[str, str]] = []
    sc = w.get("scenario")
    if isinstance(sc, str):
        out.append(("", sc))
    elif isinstance(sc, list):
        out += [(f"run{i + 1}", s) for i, s in enumerate(sc) if isinstance(s, str)]
    for key in ("scenarios", "runs"):
        v = w.get(key)
        if isinstance(v, list):
            for i, s in enumerate(v):
                if isinstance(s, str):
                    out.append((f"run{i + 1}", s))
                elif isinstance(s, dict) and isinstance(s.get("scenario"), str):
                    out.append((str(s.get("name", f"run{i + 1}")), s["scenario"]))
    unique: dict[str, str] = {}  # each scenario once, under its first label
    for lbl, t in out:
        unique.setdefault(t, lbl)
    return [(lbl, t) for t, lbl in unique.items()]


# ---------------------------------------------------------------------------
# Representability: can a real kernel be put in the model's state?


#: Kernels whose ext4 records -EIO for every failed data write, whatever the block
#: layer said: ext4_finish_bio() did `mapping_set_error(page->mapping, -EIO)` until
#: "ext4: Convert ext4_finish_bio() to use folios" (v6.4,
#: 20230126202415.1682629-5-willy@infradead.org) set the bio's own errno.
EXT4_EIO_ONLY = frozenset({"6.1"})


def not_representable(scenario: Scenario, spec_name: str, kernel: str | None = None) -> str | None:
    """Why the kernel cannot follow the model's world on this scenario, or None.

    A writeback error that records ENOSPC (`wberror F ENOSPC`) is injected through an
    out-of-space dm-thin pool; ext4 before v6.4 records EIO for it (EXT4_EIO_ONLY).

    The model's world and a real kernel differ in one observable way: which
    files are dirty.  A real kernel writes back more than the model does:
    the sync(2) that injects `wberror F` writes back every other dirty file, and
    unmounting a normal overlay syncs the whole upper fs (generic_shutdown_super
    -> sync_filesystem -> ovl_sync_fs -> sync_filesystem(upper)).  Dirtiness
    shows only through a later `wberror` or `evict` of that file, so a scenario is
    refused exactly when one of those finds the file dirty in one world and clean
    in the other.
    """
    return eio_only(scenario, kernel) or dirtiness_differs(scenario, spec_name)


def eio_only(scenario: Scenario, kernel: str | None) -> str | None:
    """Why `kernel` cannot record the scenario's first ENOSPC writeback error, or None."""
    if kernel not in EXT4_EIO_ONLY:
        return None
    nospc = next((e for e in scenario.events if e.verb == "wberror" and e.errno == "ENOSPC"), None)
    if nospc is None:
        return None
    return (
        f"line {nospc.line} '{nospc}': ext4 on {kernel} records EIO for "
        "every failed data write (fs/ext4/page-io.c ext4_finish_bio: "
        "mapping_set_error(page->mapping, -EIO); the bio's own errno only from v6.4, "
        "20230126202415.1682629-5-willy@infradead.org), so no writeback error "
        "reaches errseq as ENOSPC"
    )


def dirtiness_differs(scenario: Scenario, spec_name: str) -> str | None:
    """The first `wberror` or `evict` that finds its file dirty in the model's world and
    clean in the kernel's, or the other way round, as the reason; None if there is none
    (see `not_representable` for what the kernel writes back that the model does not)."""
    run = model_replay.run(scenario, load_spec(spec_name))
    b = scenario.bounds
    state = b.initial()
    kdirty = [False] * b.files
    cleaned_by: dict[int, str] = {}
    names = {i: b.owner_name(i) for i in range(b.files)}
    for i, e in enumerate(scenario.events):
        before = state
        state = run.states[i]
        if e.verb in ("wberror", "evict"):
            f = owner_index(e.target or "", b.mounts)
            mdirty = bool(before[b.inode_base(f) + 1])
            if mdirty != kdirty[f]:
                if mdirty:
                    why = cleaned_by.get(f, "an earlier writeback")
                    return (
                        f"line {e.line} '{e}': the model has {names[f]}'s file dirty, but on a "
                        f"real kernel {why} already wrote it back"
                    )
                return (
                    f"line {e.line} '{e}': the kernel has {names[f]}'s file dirty, "
                    "the model has it clean"
                )
        if i in run.skipped:
            continue
        here = f"line {e.line} '{e}'"
        if e.verb == "write":
            f = owner_index(scenario.files[e.fd or ""], b.mounts)
            kdirty[f] = True
            cleaned_by.pop(f, None)
        elif e.verb in ("fsync", "syncfs"):
            owner = owner_index(scenario.owners[e.fd or ""], b.mounts)
            volatile = owner != b.host and before[b.ofs_base(owner)] == 2
            if volatile:
                continue  # a volatile overlay writes nothing back
            own = owner_index(scenario.files[e.fd or ""], b.mounts)
            targets = [own] if e.verb == "fsync" else range(b.files)
            for f in targets:
                kdirty[f] = False
        elif e.verb == "sync":
            kdirty = [False] * b.files
        elif e.verb == "wberror":
            for f in range(b.files):
                if kdirty[f] and f != owner_index(e.target or "", b.mounts):
                    cleaned_by[f] = f"the sync(2) that injects {here}"
            kdirty = [False] * b.files
        elif e.verb == "umount":
            c = owner_index(e.target or "", b.mounts)
            if before[b.ofs_base(c)] == 1:
                for f in range(b.files):
                    if kdirty[f]:
                        cleaned_by[f] = f"the unmount at {here} (it syncs the upper fs)"
                kdirty = [False] * b.files
    return None


# ---------------------------------------------------------------------------
# Comparison


def compare(
    item: Item,
    kernel: str,
    model: list[str | None],
    kernel_results: list[str | None],
    details: dict[int, str] | None = None,
) -> tuple[str, list[Row]]:
    """Rows of the side-by-side table and the status (agree or mismatch)."""
    rows = []
    for i, e in enumerate(item.scenario.events):
        m, k = model[i], kernel_results[i]
        rows.append(Row(e.line, str(e), m, k, m != k, (details or {}).get(i, "")))
    return (MISMATCH if any(r.mismatch for r in rows) else AGREE), rows


def model_rows(item: Item, model: list[str | None]) -> list[Row]:
    """Rows with the model column only (a scenario that was not run)."""
    return [Row(e.line, str(e), model[i], None, False) for i, e in enumerate(item.scenario.events)]


def to_json(outcomes: list[Outcome]) -> dict:
    """The --json document: one entry per scenario and kernel."""
    return {
        "outcomes": [asdict(o) for o in outcomes],
        "summary": summary(outcomes),
    }


def summary(outcomes: list[Outcome]) -> dict[str, dict[str, int]]:
    """Per kernel, how many scenarios ended in each status."""
    out: dict[str, dict[str, int]] = {}
    for o in outcomes:
        per = out.setdefault(o.kernel, {})
        per[o.status] = per.get(o.status, 0) + 1
    return out


def show(v: str | None) -> str:
    """How a result is printed: None (an environment event) as a dash."""
    return "-" if v is None else v
