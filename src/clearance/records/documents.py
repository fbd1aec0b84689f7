"""The text of a RAP sheet file: plain text, a PDF with a text layer, or a scan through OCR.

Legal-aid clinics receive RAP sheets as the DOJ's text, as PDFs printed from it, and as scans
of paper copies. Text and text PDFs need nothing outside Python (pypdf). A scan has no text
layer: its pages are rendered to images (`pdftoppm`, from poppler-utils) and read by Tesseract
OCR. Both are system programs; when one is missing, the error says which and how to install it,
instead of reading an empty sheet.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from clearance.records.chunks import ReadError

#: Characters of text below which a PDF page counts as a scan (a text page has hundreds).
_MIN_TEXT_PER_PAGE = 20
#: Resolution pages are rendered at for OCR: Tesseract reads typewriter text best near 300 dpi.
OCR_DPI = 300


def sheet_text(path: Path) -> tuple[str, int]:
    """(text, bytes on disk) of a RAP sheet file. Raises `ReadError` with one line to show."""
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    data = path.read_bytes()
    if data[:5] == b"%PDF-":
        return pdf_text(path), len(data)
    try:
        return data.decode("utf-8"), len(data)
    except UnicodeDecodeError:
        return data.decode("latin-1"), len(data)


def pdf_text(path: Path) -> str:
    """The text of a PDF: its text layer, or OCR of its pages when it has none."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as exc:
        raise ReadError(f"{path}: not a readable PDF ({type(exc).__name__})") from None
    if pages and all(len(p.strip()) >= _MIN_TEXT_PER_PAGE for p in pages):
        return "\n".join(_layout_lines(p) for p in pages)
    return ocr_pdf(path)


def _layout_lines(page: str) -> str:
    """Layout extraction keeps the columns with spaces; trailing spaces are dropped."""
    return "\n".join(line.rstrip() for line in page.splitlines())


def ocr_available() -> str | None:
    """None when OCR can run here, else what is missing (for the error message)."""
    missing = [tool for tool in ("tesseract", "pdftoppm") if shutil.which(tool) is None]
    if not missing:
        return None
    packages = {"tesseract": "tesseract-ocr", "pdftoppm": "poppler-utils"}
    return (
        f"{' and '.join(missing)} not installed (Debian/Ubuntu: "
        f"apt-get install {' '.join(packages[m] for m in missing)})"
    )


def ocr_pdf(path: Path) -> str:
    """OCR of every page of a scanned PDF, pages joined in order."""
    missing = ocr_available()
    if missing:
        raise ReadError(f"{path}: this PDF is a scan with no text; reading it needs OCR: {missing}")
    with tempfile.TemporaryDirectory(prefix="clearance-ocr-") as tmp:
        prefix = Path(tmp) / "page"
        _run(["pdftoppm", "-r", str(OCR_DPI), "-gray", "-png", str(path), str(prefix)], path)
        images = sorted(Path(tmp).glob("page*.png"))
        if not images:
            raise ReadError(f"{path}: the PDF has no pages to read")
        texts = []
        for image in images:
            # --psm 6: one uniform block of text, which keeps a RAP sheet's lines in order.
            texts.append(_run(["tesseract", str(image), "-", "--psm", "6"], path))
    return "\n".join(texts)


def _run(command: list[str], path: Path) -> str:
    try:
        done = subprocess.run(command, capture_output=True, check=True, timeout=600)
    except subprocess.CalledProcessError as exc:
        raise ReadError(
            f"{path}: {command[0]} could not read the file (exit {exc.returncode})"
        ) from None
    except subprocess.TimeoutExpired:
        raise ReadError(f"{path}: {command[0]} took longer than 10 minutes") from None
    return done.stdout.decode("utf-8", errors="replace")
