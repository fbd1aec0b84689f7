"""Filings ready for electronic filing: every PDF of a filings build is read back with pypdf.

California Rules of Court, rule 3.1110(f) asks electronic exhibits to be bookmarked, each
bookmark naming the exhibit by its letter and describing it; a screen reader needs the document
language; a court's portal reads the title, author, subject and keywords, refuses encrypted
files and files whose fonts are not embedded. The DOCX versions carry the same outline as
heading styles, so that a DOCX converted to PDF gets the same bookmarks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from filings_fixtures import FILING
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from clearance.outputs.filings import FilingsResult


def every_pdf(folder: Path) -> list[Path]:
    """Every PDF under the filings folder, packets included."""
    return sorted(folder.rglob("*.pdf"))


def flat_outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(level, title, page index) of every bookmark, in order."""
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                page = reader.get_destination_page_number(item)
                found.append((level, str(item.title), page if page is not None else -1))

    walk(reader.outline, 0)
    return found


def fonts_of(reader: PdfReader) -> Iterator[DictionaryObject]:
    """Every font dictionary the pages use (descendant fonts of composite fonts included)."""
    for page in reader.pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        fonts = resources.get_object().get("/Font")
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            font = ref.get_object()
            yield font
            for descendant in font.get("/DescendantFonts", []):
                yield descendant.get_object()


def test_the_sample_build_writes_every_kind_of_pdf(filings: FilingsResult) -> None:
    names = {p.stem.split("-")[0] for p in every_pdf(filings.out_dir)}
    assert {"motion", "order", "notice", "exhibit", "challenge", "review", "report"} <= names
    assert any(p.parent.name == "packets" for p in every_pdf(filings.out_dir))


def test_every_pdf_has_language_metadata_and_no_encryption(filings: FilingsResult) -> None:
    manifest = json.loads((filings.out_dir / "manifest.json").read_text(encoding="utf-8"))
    office = manifest["office"]
    assert office == FILING["office"]
    for path in every_pdf(filings.out_dir):
        reader = PdfReader(path)
        assert not reader.is_encrypted, path.name
        root = reader.trailer["/Root"]
        assert root.get("/Lang") == "en-US", path.name
        assert root.get("/PageMode") == "/UseOutlines", path.name
        meta = reader.metadata
        assert meta is not None, path.name
        for key in ("/Title", "/Author", "/Subject", "/Keywords"):
            assert str(meta.get(key, "")).strip(), f"{path.name}: {key} empty"
        assert meta["/Author"] == office, path.name
        assert "Proposition 64" in str(meta["/Keywords"]), path.name


def test_every_font_of_every_pdf_is_embedded(filings: FilingsResult) -> None:
    for path in every_pdf(filings.out_dir):
        seen = 0
        for font in fonts_of(PdfReader(path)):
            if font.get("/Subtype") in ("/Type0", "/Type3"):
                continue  # a composite font's glyphs live in its descendant
            descriptor = font.get("/FontDescriptor")
            assert descriptor is not None, f"{path.name}: {font.get('/BaseFont')} not embedded"
            descriptor = descriptor.get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), (
                f"{path.name}: {font.get('/BaseFont')} not embedded"
            )
            seen += 1
        assert seen, path.name


def test_every_pdf_opens_on_an_outline_headed_by_its_title(filings: FilingsResult) -> None:
    for path in every_pdf(filings.out_dir):
        reader = PdfReader(path)
        marks = flat_outline(reader)
        assert marks, f"{path.name} has no bookmarks"
        assert marks[0][0] == 0 and marks[0][2] == 0, path.name
        pages = [page for _, _, page in marks]
        assert all(0 <= p < len(reader.pages) for p in pages), path.name
        assert pages == sorted(pages), f"{path.name}: bookmarks out of page order"
        if path.parent.name != "packets":
            meta = reader.metadata
            assert meta is not None
            assert marks[0][1] == meta["/Title"], path.name


def exhibit_page(reader: PdfReader, page: int) -> str:
    return reader.pages[page].extract_text() or ""


def test_every_exhibit_is_bookmarked_by_its_letter_and_description(
    filings: FilingsResult,
) -> None:
    """Rule 3.1110(f): each exhibit's bookmark names its letter and describes it, and leads to
    the exhibit's first page (its cover sheet, or its table where it has no cover)."""
    seen = 0
    for path in every_pdf(filings.out_dir):
        reader = PdfReader(path)
        text = [exhibit_page(reader, n) for n in range(len(reader.pages))]
        # An exhibit's table pages carry its title and "Rows x-y of n".
        lettered = [
            n
            for n, t in enumerate(text)
            if ("EXHIBIT A:" in t or "EXHIBIT B:" in t) and "Rows 1-" in t
        ]
        marks = [m for m in flat_outline(reader) if m[1].startswith("Exhibit ")]
        if path.name.startswith(("motion", "order", "notice", "challenge", "exhibit-b")):
            assert lettered, f"{path.name} has no exhibit"
        if not lettered:
            assert not marks, path.name
            continue
        assert len(marks) == 1, f"{path.name}: {marks}"
        level, title, page = marks[0]
        letter = title.split(":")[0].removeprefix("Exhibit ").strip()
        assert letter in ("A", "B"), title
        assert level == 1
        description = title.split(":", 1)[1].strip()
        assert len(description) > 5, title
        # The bookmark leads to the cover (the letter alone in large type) or the first page of
        # the table, before its first table page.
        first_table = lettered[0]
        assert page in (first_table - 1, first_table), (path.name, page, first_table)
        assert f"EXHIBIT {letter}" in text[page]
        seen += 1
    assert seen >= 10


def test_section_headings_are_bookmarked_where_they_start(filings: FilingsResult) -> None:
    path = next(filings.out_dir.glob("motion-*-dismiss-seal.pdf"))
    reader = PdfReader(path)
    marks = flat_outline(reader)
    sections = [title for level, title, _ in marks if level == 1]
    assert sections[:2] == ["I. LEGAL BASIS", "II. THE PEOPLE'S REVIEW"]
    assert any(t.startswith("DECLARATION OF") for t in sections)
    for _, title, page in marks[1:]:
        words = title.split(":")[0].split()[:2]
        if title.startswith("Exhibit"):
            continue
        assert " ".join(words) in " ".join((reader.pages[page].extract_text() or "").split())


def test_a_packet_names_each_of_its_documents_by_its_case(filings: FilingsResult) -> None:
    packet = next((filings.out_dir / "packets").glob("*.pdf"))
    marks = flat_outline(PdfReader(packet))
    tops = [title for level, title, _ in marks if level == 0]
    assert len(tops) >= 2
    assert all("case" in t for t in tops), tops


def test_report_pdf_bookmarks_each_section(filings: FilingsResult) -> None:
    reader = PdfReader(filings.out_dir / "report.pdf")
    marks = flat_outline(reader)
    sections = [title for level, title, _ in marks if level == 1]
    html = (filings.out_dir / "report.html").read_text(encoding="utf-8")
    assert sections
    for title in sections:
        assert f"<h2>{title}</h2>" in html.replace("&#39;", "'")
    assert "Methodology" in sections


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_headings(path: Path) -> list[tuple[str, str]]:
    """(style id, text) of every heading-styled paragraph of a DOCX, in document order (cells
    included); a line break inside a heading reads as a space."""
    found = []
    for p in Document(str(path)).element.body.iter(f"{W}p"):
        style = p.find(f"{W}pPr/{W}pStyle")
        if style is None or not str(style.get(f"{W}val", "")).startswith("Heading"):
            continue
        parts = [
            " " if node.tag == f"{W}br" else node.text or "" for node in p.iter(f"{W}t", f"{W}br")
        ]
        found.append((str(style.get(f"{W}val")), " ".join("".join(parts).split())))
    return found


@pytest.mark.parametrize("kind", ["motion", "order", "notice", "challenge"])
def test_docx_headings_follow_the_pdf_outline(filings: FilingsResult, kind: str) -> None:
    """The DOCX styles its title as Heading 1 and the PDF's level-1 bookmarks as Heading 2, so
    that a word processor's conversion to PDF bookmarks the same sections and exhibit."""
    pdf = next(filings.out_dir.glob(f"{kind}-*.pdf"))
    marks = flat_outline(PdfReader(pdf))
    headings = docx_headings(pdf.with_suffix(".docx"))
    assert headings[0] == ("Heading1", marks[0][1])
    assert [style for style, _ in headings[1:]] == ["Heading2"] * (len(headings) - 1)
    expected = [title for level, title, _ in marks if level == 1]
    got = [text for _, text in headings[1:]]
    assert len(got) == len(expected), (got, expected)
    for text, want in zip(got, expected, strict=True):
        if want.startswith("Exhibit "):
            # The exhibit's first table page: "EXHIBIT A: <description>".
            assert text.upper().startswith(want.split(":")[0].upper() + ":"), (text, want)
        else:
            assert text == want


def test_report_charts_carry_their_figures_as_text(filings: FilingsResult, run_dir: Path) -> None:
    """A chart is an image to a screen reader: its accessible name says what it shows and every
    value it draws."""
    html = (filings.out_dir / "report.html").read_text(encoding="utf-8")
    charts = re.findall(r"<svg [^>]*>", html)
    assert len(charts) >= 4
    for tag in charts:
        assert 'role="img"' in tag, tag[:120]
        label = re.search(r'aria-label="([^"]+)"', tag)
        assert label and ": " in label.group(1), tag[:120]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    section, counts = sorted(summary["by_section"].items())[0]
    by_section = next(t for t in charts if "Decisions by code section" in t)
    for decision, n in counts.items():
        if n:
            assert f"{int(n):,}" in by_section, (section, decision)
