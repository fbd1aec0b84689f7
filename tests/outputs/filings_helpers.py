"""Reading filings back the way a clerk's tools would: PDF text, DOCX tables, CSV rows, and the
DOCX rendered to PDF by LibreOffice."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from collections import Counter
from functools import lru_cache
from pathlib import Path

import polars as pl
from pypdf import PdfReader

#: A row of a confidential Exhibit B read from PDF text: "<row> ... <dob> <cii> <12-digit count>".
B_ROW = re.compile(r"^(\d+) .*?(?:\d{4}-\d{2}-\d{2}|unknown) (\S+) (\d{12})(?= )")
#: A row of a public Exhibit A: "<row> <case> <count> <relief or ground>".
A_ROW = re.compile(
    r"^(\d+) (.+?) (\d{1,3}) (Dismiss and seal|Redesignate as \w+|Recall sentence;|No opposition"
    r"|Ineligible|Unreasonable risk)"
)


def pdf_pages(path: Path) -> list[str]:
    """The text of every page (read once per file and modification time)."""
    return list(_pages(str(path), path.stat().st_mtime_ns))


@lru_cache(maxsize=512)
def _pages(path: str, mtime: int) -> tuple[str, ...]:
    del mtime
    return tuple(page.extract_text() or "" for page in PdfReader(path).pages)


def pdf_text(path: Path) -> str:
    """All the text of a PDF, whitespace collapsed."""
    return " ".join(" ".join(pdf_pages(path)).split())


def exhibit_b_rows(path: Path) -> dict[int, tuple[str, str]]:
    """Row number -> (CII, DOJ count) of a confidential Exhibit B."""
    rows: dict[int, tuple[str, str]] = {}
    for text in pdf_pages(path):
        if "Rows " not in text or "EXHIBIT B" not in text:
            continue
        for line in text.splitlines():
            match = B_ROW.match(line)
            if match:
                rows[int(match.group(1))] = (match.group(2), match.group(3))
    return rows


def exhibit_a_rows(path: Path) -> dict[int, tuple[str, str]]:
    """Row number -> (court case number, count) of a public Exhibit A."""
    rows: dict[int, tuple[str, str]] = {}
    for text in pdf_pages(path):
        if "Rows " not in text or "EXHIBIT A" not in text:
            continue
        for line in text.splitlines():
            match = A_ROW.match(line)
            if match:
                rows[int(match.group(1))] = (match.group(2), match.group(3))
    return rows


def keys_of(frame: pl.DataFrame) -> Counter[tuple[str, str]]:
    """(CII, count) of conviction rows."""
    return Counter(
        (cii or "unknown", count)
        for cii, count in frame.select("cii_number", "count_id").iter_rows()
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def soffice() -> str:
    """LibreOffice, which the Makefile's `system` target installs."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    assert found, "LibreOffice is needed to render DOCX: run `make system`"
    return found


def docx_to_pdf(paths: list[Path], out: Path) -> list[Path]:
    """Render DOCX files to PDF with LibreOffice headless (its own profile, so parallel runs do
    not share one)."""
    out.mkdir(parents=True, exist_ok=True)
    profile = out / "lo-profile"
    subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *map(str, paths),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return [out / f"{p.stem}.pdf" for p in paths]


def page_words(path: Path) -> list[Counter[str]]:
    """The words of each page as poppler extracts them (layout-independent: a bag per page)."""
    reader = PdfReader(path)
    words = []
    for number in range(1, len(reader.pages) + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(number), "-l", str(number), str(path), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        words.append(Counter(text.split()))
    return words


def render_png(pdf: Path, page: int, prefix: Path, dpi: int = 50) -> Path:
    """One page rasterised with pdftoppm."""
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-f",
            str(page),
            "-l",
            str(page),
            str(pdf),
            str(prefix),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    found = sorted(prefix.parent.glob(f"{prefix.name}*.png"))
    assert len(found) == 1, pdf.name
    return found[0]
