"""Reading filings back the way a clerk's tools would: PDF text, DOCX tables, CSV rows."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import polars as pl
from pypdf import PdfReader

#: An exhibit row read from PDF text: "... <dob> <cii> <12-digit count> ...".
ROW_KEY = re.compile(r"(?:\d{4}-\d{2}-\d{2}|unknown) (\S+) (\d{12})(?= )")


def pdf_pages(path: Path) -> list[str]:
    """The text of every page (read once per file and modification time)."""
    return list(_pages(str(path), path.stat().st_mtime_ns))


@lru_cache(maxsize=256)
def _pages(path: str, mtime: int) -> tuple[str, ...]:
    del mtime
    return tuple(page.extract_text() or "" for page in PdfReader(path).pages)


def exhibit_keys(path: Path) -> Counter[tuple[str, str]]:
    """(CII, count) of every exhibit row of a PDF, with how often each appears."""
    keys: Counter[tuple[str, str]] = Counter()
    for text in pdf_pages(path):
        if "Rows " not in text or "EXHIBIT A" not in text:
            continue
        for line in text.splitlines():
            match = ROW_KEY.search(line)
            if match:
                keys[(match.group(1), match.group(2))] += 1
    return keys


def exhibit_lines(path: Path) -> list[str]:
    """The exhibit's row lines, in page order."""
    lines: list[str] = []
    for text in pdf_pages(path):
        if "Rows " not in text or "EXHIBIT A" not in text:
            continue
        lines += [line for line in text.splitlines() if ROW_KEY.search(line)]
    return lines


def keys_of(frame: pl.DataFrame) -> Counter[tuple[str, str]]:
    """(CII, count) of conviction rows."""
    return Counter(
        (cii or "unknown", count)
        for cii, count in frame.select("cii_number", "count_id").iter_rows()
    )
