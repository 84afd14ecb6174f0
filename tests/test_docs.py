"""The documentation holds together: every link leads somewhere, the README stays a newcomer's page.

The README says what the service is, how to start it and where to read on; the reference lives in
``docs/``. A moved or renamed section breaks links silently on GitHub, so each relative link is
followed here: to an existing file, and for ``#anchor`` to a heading of the target, slugged as
GitHub slugs it. Source comments that send a reader to a section name it as
``docs/<file>.md "<Section>"``: those are checked the same way.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MARKDOWN = [*sorted(ROOT.glob("*.md")), *DOCS, *sorted((ROOT / "bench").glob("*.md"))]
README_MAX_LINES = 300

FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target); the target ends at the first space or closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"`+[^`]*`+")
# A section cited from source: docs/operations.md "Fault drills".
SECTION_CITATION = re.compile(r"(docs/[\w-]+\.md)\W{0,3}\"([^\"\n]+)\"")
# Where the citations live: code, build and container files (the README's own text is checked
# above through its links).
CITING_FILES = [
    *[p for p in ROOT.rglob("*.py") if not {".venv", "var", "node_modules"} & set(p.parts)],
    ROOT / "Makefile",
    ROOT / "Dockerfile",
    ROOT / "compose.yaml",
]


def prose_lines(path: Path) -> list[str]:
    """The lines outside fenced code blocks: a ``# comment`` in a shell block is no heading."""
    lines, in_fence = [], False
    for line in path.read_text().splitlines():
        if FENCE.match(line.strip()):
            in_fence = not in_fence
            continue
        if not in_fence:
            lines.append(line)
    return lines


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text lowercased, punctuation other than hyphens
    and underscores dropped, each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links render as their text
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in ``path``; a repeated slug gets ``-1``, ``-2``… as on GitHub."""
    seen: Counter[str] = Counter()
    found = set()
    for line in prose_lines(path):
        if match := HEADING.match(line):
            slug = github_slug(match[2])
            found.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
            seen[slug] += 1
    return found


def links(path: Path) -> list[str]:
    targets = []
    for line in prose_lines(path):
        targets += LINK.findall(INLINE_CODE.sub("", line))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]  # http:, mailto:…


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in links(path):
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading with that anchor")
    return broken


def test_the_readme_and_the_docs_exist() -> None:
    assert README.exists()
    assert len(DOCS) >= 5, "the reference lives in docs/"


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_an_existing_file_and_heading(path: Path) -> None:
    assert broken_links(path) == []


def test_the_readme_stays_short_enough_for_a_newcomer() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_the_readme_keeps_the_two_commands_a_newcomer_starts_with() -> None:
    text = README.read_text()
    assert "make run" in text
    assert "make test" in text


def test_every_doc_is_linked_from_the_readme() -> None:
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(README)}
    assert [doc.name for doc in DOCS if doc.resolve() not in linked] == []


def test_every_section_of_the_docs_is_reachable_from_the_readme() -> None:
    # Each doc is linked from the README (above), so every heading of a doc is one click from
    # there: no section is left behind in a file nobody links.
    reachable, frontier = {README.resolve()}, [README]
    while frontier:
        for target in links(frontier.pop()):
            file_part = target.partition("#")[0]
            if file_part.endswith(".md"):
                destination = (ROOT / file_part).resolve()
                if destination.exists() and destination not in reachable:
                    reachable.add(destination)
                    frontier.append(destination)
    assert [doc.name for doc in DOCS if doc.resolve() not in reachable] == []


def test_source_comments_cite_sections_that_exist() -> None:
    citations = [
        (path, doc, section)
        for path in CITING_FILES
        for doc, section in SECTION_CITATION.findall(path.read_text())
    ]
    assert citations, 'comments cite the docs\' sections as docs/<file>.md "<Section>"'
    broken = [
        f'{path.relative_to(ROOT)}: {doc} "{section}"'
        for path, doc, section in citations
        if not (ROOT / doc).exists() or github_slug(section) not in anchors(ROOT / doc)
    ]
    assert broken == []


def test_no_source_comment_sends_the_reader_to_a_readme_section() -> None:
    # The README keeps no reference sections: a comment citing one points at nothing.
    stale = [
        str(path.relative_to(ROOT))
        for path in CITING_FILES
        if re.search(r"README(?:'s)?\W{0,3}\"", path.read_text())
    ]
    assert stale == []
