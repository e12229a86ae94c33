"""The --out folder: write only what a run produces, remove only what explore wrote.

A run may overwrite or remove a file there only if explore wrote it and nobody changed
it since: `.explore-manifest.json` lists every file explore wrote (its path relative to
the folder and its sha256) and the spec folders it created.  Before the search,
`OutDir.claim` refuses a folder explore cannot write, a non-empty folder without a
manifest (the user's, or an older tool's), and a folder where a file explore wrote was
changed.  After the search, everything is produced in a staging folder first, so the
full list of paths is known before anything is touched; `OutDir.commit` refuses (and
writes nothing) if one of them is a file explore did not write, then removes what the
previous run wrote and this one does not, moves the new files in with os.replace (so
report.json is replaced atomically) and writes the new manifest.

Every refusal is an `OutError`, an InputError: the command line turns it into one line
naming --out and exit code 2.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from explorer.errors import InputError

MANIFEST = ".explore-manifest.json"
MANIFEST_SCHEMA = "errseq-explorer/manifest/1"
#: Files the repository keeps in an empty out/ (git tracks no empty folder).
IGNORED = frozenset({".gitkeep"})
#: Top-level names a run writes itself: no spec folder may take them.
REPORT, TIMINGS = "report.json", "timings.json"
#: The run for mail (explorer.render.mail) and the report in one page (explorer.render.html).
SUMMARY, INDEX = "summary.txt", "index.html"
RESERVED = frozenset({REPORT, TIMINGS, SUMMARY, INDEX, MANIFEST, *IGNORED})
STAGING_PREFIX = ".explore-staging-"
MOVE_AWAY = "move it away or choose another folder"


class OutError(InputError):
    """An --out folder that explore cannot write, or must not write to."""


def out_folder(given: str) -> Path:
    """The --out folder as the user gave it.  An empty name is refused: as a path it is
    the current folder, and it most often comes from a shell variable left unset
    (`--out "$DIR"`), not from a wish to write there (`--out .` says that)."""
    if given == "":
        raise OutError(
            "--out '': an empty folder name; give a folder (--out . writes into the current one)"
        )
    return Path(given)


_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def slug(name: str) -> str:
    """A spec's folder name: one safe path component, whatever the spec calls itself.

    A user's spec may be named anything, "..", "" or "a/b" included; the folder must stay
    inside --out, be visible, and not take a name the run writes itself.
    """
    s = _UNSAFE.sub("_", name.replace("@", "_at_"))[:100]
    if not s or s.startswith(".") or s in RESERVED:
        s = "_" + s
    return s


def spec_folders(names: Iterable[str]) -> dict[str, str]:
    """Each spec's folder: its slug, numbered when two specs' slugs are the same."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = slug(name)
        s, n = base, 2
        while s in taken:
            s, n = f"{base}-{n}", n + 1
        taken.add(s)
        out[name] = s
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _safe_relative(p: str) -> bool:
    parts = PurePosixPath(p).parts
    return (
        bool(parts)
        and not PurePosixPath(p).is_absolute()
        and all(x not in ("", ".", "..") for x in parts)
        and "\\" not in p
    )


def _through_symlink(root: Path, rel: str) -> bool:
    """Whether a path below `root` is, or passes through, a symbolic link."""
    p = root
    for part in PurePosixPath(rel).parts:
        p = p / part
        if p.is_symlink():
            return True
    return False


@dataclass
class OutDir:
    """The --out folder of one run, and what earlier runs of explore wrote there."""

    root: Path
    option: str  # the folder as the user gave it, for messages
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    folders: list[str] = field(default_factory=list)  # folders explore created

    def fail(self, reason: str) -> OutError:
        return OutError(f"--out {self.option}: {reason}")

    def where(self, rel: str) -> str:
        return str(PurePosixPath(self.option) / rel)

    @classmethod
    def claim(cls, root: Path) -> OutDir:
        """Check, before the search, that the run can write `root` and may write there."""
        d = cls(root, str(root))
        d._make_folder()
        d._read_manifest()
        d._check_unchanged()
        for name in (REPORT, TIMINGS):
            if name not in d.files and os.path.lexists(root / name):
                raise d.fail(f"{d.where(name)} exists and was not written by explore; {MOVE_AWAY}")
        d._probe()
        return d

    def last_seconds(self) -> dict[str, float]:
        """Each spec's seconds in the run that last wrote here (timings.json), {} if none:
        a hint for handing out the work, never part of a result."""
        if TIMINGS not in self.files:
            return {}
        try:
            specs = json.loads((self.root / TIMINGS).read_text())["specs"]
            return {name: float(t["seconds"]) for name, t in specs.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def _make_folder(self) -> None:
        root = self.root
        if os.path.lexists(root):
            if not root.is_dir():
                raise self.fail("is a file, not a folder" if root.is_file() else "is not a folder")
            return
        for parent in root.parents:
            if os.path.lexists(parent):
                if not parent.is_dir():
                    raise self.fail(f"{parent} is a file, not a folder")
                break
        try:
            root.mkdir(parents=True)
        except OSError as exc:
            raise self.fail(f"cannot create the folder: {exc.strerror}") from None

    def _read_manifest(self) -> None:
        try:
            entries = [e for e in os.listdir(self.root) if e not in IGNORED]
        except OSError as exc:
            raise self.fail(f"cannot read the folder: {exc.strerror}") from None
        if MANIFEST not in entries:
            if entries:
                raise self.fail(
                    "the folder is not empty and was not written by explore; "
                    "choose an empty or new folder"
                )
            return
        path = self.root / MANIFEST
        try:
            data = json.loads(path.read_text())
            files, folders = data["files"], data["folders"]
            ok = (
                data.get("schema") == MANIFEST_SCHEMA
                and isinstance(files, dict)
                and isinstance(folders, list)
                and all(isinstance(h, str) for h in files.values())
                and all(_safe_relative(p) for p in [*files, *folders])
            )
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
            raise self.fail(f"{self.where(MANIFEST)} cannot be read: {exc}") from None
        if not ok:
            raise self.fail(
                f"{self.where(MANIFEST)} is not a manifest explore wrote; "
                "choose an empty or new folder"
            )
        self.files, self.folders = dict(files), list(folders)

    def _check_unchanged(self) -> None:
        """Every file explore wrote is as it wrote it (or gone): nobody's work is lost."""
        for rel, digest in sorted(self.files.items()):
            p = self.root / rel
            if not os.path.lexists(p):
                continue
            if _through_symlink(self.root, rel) or not p.is_file() or sha256(p) != digest:
                raise self.fail(
                    f"{self.where(rel)} was changed since explore wrote it; {MOVE_AWAY}"
                )

    def _probe(self) -> None:
        try:
            fd, name = tempfile.mkstemp(prefix=".explore-probe-", dir=self.root)
            os.close(fd)
            os.unlink(name)
        except OSError as exc:
            raise self.fail(f"cannot write in the folder: {exc.strerror}") from None

    def staging(self) -> Path:
        """A fresh folder inside the root (same filesystem: os.replace moves from it)."""
        try:
            return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
        except OSError as exc:
            raise self.fail(f"cannot write in the folder: {exc.strerror}") from None

    def commit(self, staged: Path) -> None:
        """Move every file of `staged` into the root, replacing what the last run wrote.

        Nothing is written or removed unless every target path is free or explore's.
        """
        produced = sorted(
            p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()
        )
        self._check_unchanged()  # the search may have taken hours: look again
        for rel in produced:
            self._check_free(rel)
        for rel in sorted(set(self.files) - set(produced)):
            p = self.root / rel
            if os.path.lexists(p):
                p.unlink()
        folders = [f for f in self.folders if (self.root / f).is_dir()]
        files = {rel: sha256(staged / rel) for rel in produced}
        # A folder new to the root moves in whole, by one rename: moving its files out
        # one by one would leave the staging folder's copy to remove (a slow rmdir).
        whole = {rel.split("/", 1)[0] for rel in produced if "/" in rel}
        whole = {top for top in whole if not os.path.lexists(self.root / top)}
        for top in sorted(whole):
            os.replace(staged / top, self.root / top)
        for rel in produced:
            top = rel.split("/", 1)[0]
            if top in whole:
                folders += [p.as_posix() for p in PurePosixPath(rel).parents[:-1]]
                continue
            src, dst = staged / rel, self.root / rel
            for parent in reversed(PurePosixPath(rel).parents[:-1]):
                if not (self.root / parent).is_dir():
                    (self.root / parent).mkdir()
                    folders.append(parent.as_posix())
            os.replace(src, dst)
        # The folders explore created that this run left empty go too (deepest first).
        kept = []
        for f in sorted(set(folders), key=lambda f: (-f.count("/"), f)):
            p = self.root / f
            if not any(p.iterdir()) and not any(r.startswith(f + "/") for r in produced):
                p.rmdir()
            else:
                kept.append(f)
        self.files, self.folders = files, sorted(kept)
        manifest = staged / MANIFEST
        manifest.write_text(
            json.dumps(
                {
                    "schema": MANIFEST_SCHEMA,
                    "note": "the files explore wrote here; it removes or replaces only these",
                    "files": self.files,
                    "folders": self.folders,
                },
                indent=2,
            )
            + "\n"
        )
        os.replace(manifest, self.root / MANIFEST)

    def _check_free(self, rel: str) -> None:
        """A path the run writes must be explore's, or free, all the way down."""
        p = self.root
        parts = PurePosixPath(rel).parts
        for i, part in enumerate(parts):
            p = p / part
            sub = "/".join(parts[: i + 1])
            last = i == len(parts) - 1
            if not os.path.lexists(p):
                return
            mode = os.lstat(p).st_mode
            if last and sub in self.files and stat.S_ISREG(mode):
                return
            if not last and stat.S_ISDIR(mode):
                continue
            raise self.fail(f"{self.where(sub)} exists and was not written by explore; {MOVE_AWAY}")

    @staticmethod
    def discard(staged: Path) -> None:
        shutil.rmtree(staged, ignore_errors=True)
