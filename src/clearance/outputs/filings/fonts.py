"""The fonts of every filing: DejaVu Serif (pleadings) and DejaVu Sans (exhibit tables).

The PDF's standard fonts (Times, Helvetica) cover Latin-1 only, so a name such as "Nguyễn" or
"Łukasz" printed as black squares. DejaVu covers Latin, Greek, Cyrillic and many more scripts,
is embedded (subset) in every PDF, and is the face the DOCX names, so a DOCX opened where DejaVu
is installed (LibreOffice installs it) lays out line for line like the PDF.

The files come from matplotlib, a dependency, which ships them: the same font files on every
machine, so the same inputs give the same PDF bytes. Text is measured here (advance widths, no
kerning) for both writers.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

Family = Literal["serif", "sans"]

#: ReportLab name -> file name, per family and style (bold, italic).
_FILES: dict[tuple[Family, bool, bool], str] = {
    ("serif", False, False): "DejaVuSerif.ttf",
    ("serif", True, False): "DejaVuSerif-Bold.ttf",
    ("serif", False, True): "DejaVuSerif-Italic.ttf",
    ("serif", True, True): "DejaVuSerif-BoldItalic.ttf",
    ("sans", False, False): "DejaVuSans.ttf",
    ("sans", True, False): "DejaVuSans-Bold.ttf",
    ("sans", False, True): "DejaVuSans-Oblique.ttf",
    ("sans", True, True): "DejaVuSans-BoldOblique.ttf",
}
#: The family names a DOCX asks for (what LibreOffice and Word look up).
DOCX_FAMILY: dict[Family, str] = {"serif": "DejaVu Serif", "sans": "DejaVu Sans"}
#: Distance of the baseline above the bottom of a line box, as a share of the font size (the
#: font's descent): where a word processor sets text in a line of exact height.
DESCENT = 0.236


def font_dir() -> Path:
    """matplotlib's copy of the DejaVu fonts."""
    import matplotlib

    return Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"


def font_name(family: Family, bold: bool = False, italic: bool = False) -> str:
    """The ReportLab name of a face, registered on first use."""
    file = _FILES[(family, bold, italic)]
    name = file.removesuffix(".ttf")
    _register(name, file)
    return name


@cache
def _register(name: str, file: str) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(name, str(font_dir() / file)))


@lru_cache(maxsize=400_000)
def text_width(
    text: str, family: Family, size: float, bold: bool = False, italic: bool = False
) -> float:
    """Advance width of `text` in points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(stringWidth(text, font_name(family, bold, italic), size))
