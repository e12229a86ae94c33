"""Build, once, what a conformance VM boots: a Debian kernel and a small initramfs.

Everything comes from Debian packages (`apt-get download`, `dpkg-deb -x`) and the
host's gcc, and is cached outside the repo ($XDG_CACHE_HOME/errseq-explorer, else
~/.cache/errseq-explorer).  Nothing is rebuilt while it is present; the initramfs
name carries a hash of the driver's sources, so editing the driver builds a new one.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# kernel key -> (Debian metapackage, spec that models it)
KERNELS: dict[str, tuple[str, str]] = {
    "6.1": ("linux-image-cloud-amd64", "v5.11"),
    "6.12": ("linux-image-6.12-cloud-amd64", "mainline"),
}
#: In load order (each after those it depends on).  The dm-thin ones (and what they
#: need) serve `wberror F ENOSPC` only: driver.c loads them for such a scenario.
MODULES = (
    "loop",
    "dm-mod",
    "overlay",
    "dm-bufio",
    "libcrc32c",
    "dm-persistent-data",
    "dm-bio-prison",
    "dm-thin-pool",
)
DRIVER_C = Path(__file__).with_name("driver.c")
#: The in-VM driver: the world and its events (driver.c), the race mode (race.c).
DRIVER_SOURCES = (DRIVER_C, DRIVER_C.with_name("race.c"))
DRIVER_HEADERS = (DRIVER_C.with_name("driver.h"),)
MKE2FS = "/sbin/mke2fs"


class BuildError(RuntimeError):
    """Something the build needs is missing; the message says what and how to get it."""


@dataclass(frozen=True)
class KernelImage:
    """A bootable kernel with the initramfs built for it."""

    key: str
    release: str  # uname -r, e.g. 6.12.117+deb12-cloud-amd64
    version: str  # Debian package version, e.g. 6.12.117-1~deb12u1
    vmlinuz: Path
    initramfs: Path


def cache_dir() -> Path:
    """The XDG cache directory of the project."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "errseq-explorer"


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise BuildError(f"{cmd[0]} not found: run explorer/conform/setup-host.sh") from e
    if p.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-800:]}")
    return p.stdout


def _download(pkg: str, where: Path) -> Path:
    """apt-get download one package into `where`; return the .deb."""
    where.chmod(0o777)  # lets apt's _apt user write there (no sandbox warning)
    try:
        _run(["apt-get", "download", pkg], cwd=where)
    except BuildError:
        if os.geteuid() != 0:
            raise
        _run(["apt-get", "update", "-qq"])  # a fresh machine may have no package lists yet
        _run(["apt-get", "download", pkg], cwd=where)
    debs = sorted(where.glob(f"{pkg.replace('+', '?')}_*.deb"))
    if not debs:
        raise BuildError(f"apt-get download {pkg} produced no .deb")
    return debs[-1]


def _image_package(meta: str, tmp: Path) -> Path:
    """Resolve the metapackage to its linux-image-<abi> package and download that."""
    deb = _download(meta, tmp)
    depends = _run(["dpkg-deb", "-f", str(deb), "Depends"])
    for dep in depends.split(","):
        name = dep.strip().split()[0]
        if name.startswith("linux-image-") and name != meta:
            return _download(name, tmp)
    raise BuildError(f"{meta} depends on no linux-image package: {depends!r}")


def _module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xz":
        return lzma.decompress(data)
    if path.suffix == ".zst":
        return subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True).stdout
    return data


def fetch_kernel(key: str) -> Path:
    """Download and unpack the kernel and its modules into the cache (once; again when
    the cache lacks a module MODULES names)."""
    kdir = cache_dir() / f"kernel-{key}"
    have = all((kdir / "modules" / f"{mod}.ko").exists() for mod in MODULES)
    if (kdir / "vmlinuz").exists() and (kdir / "release").exists() and have:
        return kdir
    meta = KERNELS[key][0]
    with tempfile.TemporaryDirectory(prefix="errseq-kernel-") as t:
        tmp = Path(t)
        deb = _image_package(meta, tmp)
        version = _run(["dpkg-deb", "-f", str(deb), "Version"]).strip()
        root = tmp / "x"
        _run(["dpkg-deb", "-x", str(deb), str(root)])
        vmlinuz = sorted((root / "boot").glob("vmlinuz-*"))
        if not vmlinuz:
            raise BuildError(f"{deb.name} has no /boot/vmlinuz-*")
        release = vmlinuz[0].name.removeprefix("vmlinuz-")
        stage = cache_dir() / f".kernel-{key}.tmp"
        shutil.rmtree(stage, ignore_errors=True)
        (stage / "modules").mkdir(parents=True)
        shutil.copy(vmlinuz[0], stage / "vmlinuz")
        moddir = root / "lib" / "modules" / release
        for mod in MODULES:
            found = [p for p in moddir.rglob(f"{mod}.ko*") if p.name.split(".ko")[0] == mod]
            if not found:
                raise BuildError(f"{deb.name}: module {mod} not found")
            (stage / "modules" / f"{mod}.ko").write_bytes(_module_bytes(found[0]))
        (stage / "version").write_text(version + "\n")
        (stage / "release").write_text(release + "\n")
        shutil.rmtree(kdir, ignore_errors=True)
        stage.rename(kdir)
    return kdir


def _driver_hash() -> str:
    h = hashlib.sha256()
    for path in (*DRIVER_SOURCES, *DRIVER_HEADERS):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def compile_driver() -> Path:
    """gcc -static the in-VM driver (once per content of its sources)."""
    out = cache_dir() / f"driver-{_driver_hash()}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    sources = [str(p) for p in DRIVER_SOURCES]
    _run(["gcc", "-static", "-O2", "-Wall", "-pthread", "-o", str(tmp), *sources])
    tmp.rename(out)
    return out


# ---- newc cpio, enough for an initramfs ----


def _cpio_entry(name: str, mode: int, data: bytes = b"", ino: int = 1) -> bytes:
    nameb = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nameb), 0]
    head = b"070701" + b"".join(f"{v:08x}".encode() for v in fields)
    pad1 = b"\0" * ((4 - (len(head) + len(nameb)) % 4) % 4)
    pad2 = b"\0" * ((4 - len(data) % 4) % 4)
    return head + nameb + pad1 + data + pad2


def cpio(
    files: dict[str, bytes], dirs: list[str] | None = None, exe: set[str] | None = None
) -> bytes:
    """An uncompressed newc archive: `dirs` first, then `files` (mode 0755 if in `exe`)."""
    out = bytearray()
    ino = 1
    for d in dirs or []:
        out += _cpio_entry(d, 0o040755, ino=ino)
        ino += 1
    for name, data in files.items():
        mode = 0o100755 if name in (exe or set()) else 0o100644
        out += _cpio_entry(name, mode, data, ino=ino)
        ino += 1
    out += _cpio_entry("TRAILER!!!", 0, ino=0)
    return bytes(out)


def _shared_libs(binary: str) -> list[str]:
    libs = []
    for line in _run(["ldd", binary]).splitlines():
        parts = line.split()
        for p in parts:
            if p.startswith("/"):
                libs.append(p)
                break
    return libs


def build_initramfs(key: str, kdir: Path) -> Path:
    """driver as /init, mke2fs with its libraries, the modules (once)."""
    out = cache_dir() / f"initramfs-{key}-{_driver_hash()}.cpio"
    if out.exists():
        return out
    if not Path(MKE2FS).exists():
        raise BuildError(f"{MKE2FS} missing: run explorer/conform/setup-host.sh (e2fsprogs)")
    driver = compile_driver()
    files: dict[str, bytes] = {
        "init": driver.read_bytes(),
        "sbin/mke2fs": Path(MKE2FS).read_bytes(),
    }
    exe = {"init", "sbin/mke2fs"}
    dirs = {"sbin", "etc", "modules", "proc", "sys", "dev", "tmp", "mnt", "upper"}
    for lib in _shared_libs(MKE2FS):
        real = Path(lib).resolve()
        rel = lib.lstrip("/")
        files[rel] = real.read_bytes()
        exe.add(rel)
        parts = Path(rel).parts
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
    if Path("/etc/mke2fs.conf").exists():
        files["etc/mke2fs.conf"] = Path("/etc/mke2fs.conf").read_bytes()
    for mod in MODULES:
        files[f"modules/{mod}.ko"] = (kdir / "modules" / f"{mod}.ko").read_bytes()
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(cpio(files, sorted(dirs, key=lambda d: (d.count("/"), d)), exe))
    tmp.rename(out)
    return out


def build(key: str) -> KernelImage:
    """Everything needed to boot kernel `key`, built now if missing."""
    if key not in KERNELS:
        raise BuildError(f"unknown kernel {key!r} (known: {', '.join(KERNELS)})")
    kdir = fetch_kernel(key)
    initramfs = build_initramfs(key, kdir)
    return KernelImage(
        key=key,
        release=(kdir / "release").read_text().strip(),
        version=(kdir / "version").read_text().strip(),
        vmlinuz=kdir / "vmlinuz",
        initramfs=initramfs,
    )


def scenario_cpio(text: str) -> bytes:
    """The second archive appended to the initramfs: just /scenario.scn."""
    return cpio({"scenario.scn": text.encode()})


def race_cpio(text: str) -> bytes:
    """The second archive for a race program (race.c reads /race.txt instead)."""
    return cpio({"race.txt": text.encode()})
