"""The claim library says what its speakers said: quotes checked against the messages.

A claim file quotes a message as mail does, under an attribution line that ends with
the message's Message-ID and a colon:

    # Jeff Layton, 2020-12-28, 1334bba9cefa81f80005f8416680afb29044379c.camel@kernel.org:
    # > On overlayfs, with the intervening mount of ovlfs2, syncfs(fd1) will
    # > return an error and syncfs(fd2) will not.

`[...]` inside a quote marks words left out.  claims/sources/ keeps one excerpt per
quoted message, `<Message-ID>.txt`: the header lines (From, Date, Subject,
Message-ID, and Quoted-In when the words are read from a reply that quotes the
message because no copy of it is stored) and the paragraphs the claims quote.  In an
excerpt's body, lines starting with `>` are the message's own quoting of others and
`[...]` lines mark omitted text: neither counts as the message's words.

Checked here, offline: every Message-ID in a claim file is well-formed (RFC 5322's
dot-atom on both sides of the @, so no truncated `...@` form); every quote appears,
modulo whitespace and line wraps, in the excerpt of the message its attribution
names, its pieces in order; every phrase of four words or more in double quotes
elsewhere in a claim's comments appears in an excerpt of a message the same file
cites; every excerpt is well-formed and cited by some claim; and every claim of the
thread says how far its verdicts reach (`# Fidelity:`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from explorer.domain.claim import load_claim
from explorer.render.claims import fidelity

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = sorted((ROOT / "claims").rglob("*.claim"))
THREAD = sorted((ROOT / "claims/thread").glob("*.claim"))
SOURCES = ROOT / "claims/sources"

ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MESSAGE_ID = re.compile(rf"{ATEXT}(?:\.{ATEXT})*@{ATEXT}(?:\.{ATEXT})+")
HEADERS = ("From", "Date", "Subject", "Message-ID")
ELISION = "[...]"
FIDELITY_FORMS = ("faithful", "bounded form of ", "one reading of two: ")


def words(text: str) -> str:
    """Text with every run of whitespace one space (line wraps and indentation)."""
    return " ".join(text.split())


def message_ids(text: str) -> list[str]:
    """The Message-IDs a text names, in order; raises on a token with an @ that is
    not one (a truncated or mangled id)."""
    out = []
    for token in text.split():
        if "@" not in token:
            continue
        bare = token.strip("<>(),;:\"'").removesuffix(".").rstrip(">),;:")
        if not MESSAGE_ID.fullmatch(bare):
            raise ValueError(f"not a well-formed Message-ID: {token!r}")
        out.append(bare)
    return out


@dataclass
class Excerpt:
    headers: dict[str, str]
    body: list[str]  # the message's own words, one string per run between omissions


def read_excerpt(path: Path) -> Excerpt:
    head, _, body = path.read_text().partition("\n\n")
    headers: dict[str, str] = {}
    key = ""
    for line in head.splitlines():
        if line.startswith((" ", "\t")) and key:
            headers[key] += " " + line.strip()
        else:
            key, _, value = line.partition(":")
            headers[key] = value.strip()
    runs: list[str] = []
    run: list[str] = []
    for line in body.splitlines():
        if line.startswith(">") or line.startswith("[..."):
            if run:
                runs.append(words(" ".join(run)))
            run = []
        else:
            run.append(line)
    if run:
        runs.append(words(" ".join(run)))
    return Excerpt(headers, [r for r in runs if r])


EXCERPTS = {p.name.removesuffix(".txt"): read_excerpt(p) for p in SOURCES.glob("*.txt")}


def found_in_order(pieces: list[str], runs: list[str]) -> bool:
    """Each piece inside one run of the excerpt, each after the one before it."""
    at = (0, 0)  # run index, offset
    for piece in pieces:
        for r in range(at[0], len(runs)):
            i = runs[r].find(piece, at[1] if r == at[0] else 0)
            if i >= 0:
                at = (r, i + len(piece))
                break
        else:
            return False
    return True


@dataclass
class Quote:
    line: int
    source: str  # the Message-ID that ends the attribution line
    text: str


def comments(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of each whole-line comment, the `#` and one space removed."""
    out = []
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        s = raw.strip()
        if s.startswith("#"):
            out.append((n, s[1:].removeprefix(" ")))
    return out


def quotes(path: Path) -> tuple[list[Quote], list[tuple[int, str]]]:
    """The claim's quote blocks, and its other comment lines."""
    found: list[Quote] = []
    prose: list[tuple[int, str]] = []
    lines = comments(path)
    for i, (n, text) in enumerate(lines):
        if not (text == ">" or text.startswith("> ")):
            prose.append((n, text))
            continue
        if i and (lines[i - 1][1] == ">" or lines[i - 1][1].startswith("> ")):
            found[-1].text += " " + text[1:]
            continue
        before = lines[i - 1] if i else (0, "")
        ids = message_ids(before[1])
        if before[0] != n - 1 or not ids or not before[1].endswith(":"):
            raise AssertionError(
                f"{path.name}:{n}: a quote needs an attribution line right above it "
                "that ends with the message's Message-ID and ':'"
            )
        found.append(Quote(n, ids[-1], text[1:]))
    return found, prose


def test_the_library_and_its_sources_are_there() -> None:
    assert len(THREAD) >= 30 and len(EXCERPTS) >= 20


TEXTS = sorted(p for p in (ROOT / "claims").rglob("*") if p.suffix in (".claim", ".md", ".txt"))


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.name[:32])
def test_message_ids_are_well_formed(path: Path) -> None:
    """In claim files, their READMEs and the excerpts alike."""
    for n, text in enumerate(path.read_text().splitlines(), 1):
        try:
            message_ids(text)
        except ValueError as e:
            pytest.fail(f"{path.name}:{n}: {e}")


@pytest.mark.parametrize("path", CLAIMS, ids=lambda p: p.stem)
def test_quotes_are_the_messages_words(path: Path) -> None:
    found, _ = quotes(path)
    for q in found:
        excerpt = EXCERPTS.get(q.source)
        assert excerpt is not None, f"{path.name}:{q.line}: no excerpt of {q.source}"
        pieces = [words(p) for p in q.text.split(ELISION) if words(p)]
        assert found_in_order(pieces, excerpt.body), (
            f"{path.name}:{q.line}: not in {q.source}: {words(q.text)!r}"
        )


@pytest.mark.parametrize("path", CLAIMS, ids=lambda p: p.stem)
def test_quoted_phrases_come_from_the_messages_the_file_cites(path: Path) -> None:
    found, prose = quotes(path)
    cited = {q.source for q in found}
    for _, text in prose:
        cited.update(message_ids(text))
    runs = [r for m in cited if m in EXCERPTS for r in EXCERPTS[m].body]
    said = words(" ".join(text for _, text in prose))
    for phrase in re.findall(r'"([^"]+)"', said):
        if len(phrase.split()) >= 4:
            assert any(words(phrase) in r for r in runs), (
                f"{path.name}: {phrase!r} is quoted but is in no excerpt it cites"
            )


@pytest.mark.parametrize("name", sorted(EXCERPTS), ids=lambda n: n[:24])
def test_excerpts_are_well_formed_and_cited(name: str) -> None:
    e = EXCERPTS[name]
    missing = [h for h in HEADERS if not e.headers.get(h)]
    assert not missing, f"{name}: missing header lines {missing}"
    assert e.headers["Message-ID"] == f"<{name}>"
    assert e.body, f"{name}: no words of the message"
    if "Quoted-In" in e.headers:
        assert message_ids(e.headers["Quoted-In"])
    citing = [p.name for p in CLAIMS if name in message_ids(p.read_text())]
    assert citing, f"{name}: no claim cites this excerpt"


@pytest.mark.parametrize("path", THREAD, ids=lambda p: p.stem)
def test_each_thread_claim_says_how_far_its_verdicts_reach(path: Path) -> None:
    claim = load_claim(path)
    said = fidelity(claim.question)
    lines = [t for t in claim.question if t.startswith("Fidelity:")]
    assert len(lines) == 1, f"{path.name}: one '# Fidelity:' line before the headers"
    assert said.startswith(FIDELITY_FORMS), f"{path.name}: {said!r}"


def test_the_checks_catch_a_misquote_and_a_truncated_id(tmp_path: Path) -> None:
    """One changed word, a piece out of order, and a `...@` id each fail."""
    src = "1334bba9cefa81f80005f8416680afb29044379c.camel@kernel.org"
    good = "# > On overlayfs, with the intervening mount of ovlfs2, syncfs(fd1) will"
    for body, ok in (
        (good, True),
        (good.replace("intervening", "interfering"), False),
        ("# > syncfs(fd2) will not. [...] On overlayfs, with the intervening", False),
    ):
        path = tmp_path / "q.claim"
        path.write_text(f"claim q\n# Jeff Layton, {src}:\n{body}\n")
        [q] = quotes(path)[0]
        pieces = [words(p) for p in q.text.split(ELISION) if words(p)]
        assert found_in_order(pieces, EXCERPTS[src].body) is ok, body
    with pytest.raises(ValueError):
        message_ids("Amir, CAOQ4uxjbkZ7Qb73...@mail.gmail.com:")
