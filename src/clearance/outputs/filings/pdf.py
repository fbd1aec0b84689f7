"""PDF writer for `LegalDocument`s: pleadings in portrait, exhibits in landscape.

The body (caption, text, signature) is laid out by ReportLab's platypus. Exhibit pages are not:
a Los Angeles exhibit has about 66,000 rows, and a platypus `Table` of that size takes minutes
and a lot of memory. Exhibit rows are instead wrapped and paginated once here (cell text wrapped
by measured width, rows never split across pages, the header row repeated on every page) and
each page is drawn straight onto the canvas by one flowable per page.

"Page X of Y" needs Y before the first page is final, so the canvas keeps each finished page
and draws the footers when the document is complete (pages are numbered per document, so a
per-person packet that holds a petition and an order numbers each on its own). Files are written
with ReportLab's invariant mode: the same inputs give byte-identical PDFs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from clearance.outputs.filings.exhibit import Exhibit, column_widths
from clearance.outputs.filings.model import Block, LegalDocument, esc, plain

PORTRAIT = letter
LANDSCAPE = landscape(letter)
MARGIN = 72.0
EXHIBIT_MARGIN = 30.0
FOOTER_Y = 30.0

SERIF = "Times-Roman"
SERIF_BOLD = "Times-Bold"
SANS = "Helvetica"
SANS_BOLD = "Helvetica-Bold"

#: Exhibit table text: small enough for ten columns on a landscape page, large enough to read.
CELL_SIZE = 7.5
CELL_LEADING = 9.0
CELL_PAD_X = 2.5
CELL_PAD_Y = 2.0
HEADER_SIZE = 7.5
ZEBRA = colors.Color(0.94, 0.95, 0.97)
HEADER_FILL = colors.Color(0.84, 0.86, 0.90)
RULE = colors.Color(0.55, 0.57, 0.62)


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=SERIF, fontSize=12, leading=20, alignment=TA_JUSTIFY)
    return {
        "body": ParagraphStyle("para", parent=body, firstLineIndent=36, spaceAfter=4),
        "plain": ParagraphStyle("plain", parent=body, alignment=TA_LEFT, spaceAfter=4),
        "item": ParagraphStyle("item", parent=body, leftIndent=36, bulletIndent=12, spaceAfter=4),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName=SERIF_BOLD,
            alignment=TA_CENTER,
            spaceBefore=8,
            spaceAfter=6,
        ),
        "filer": ParagraphStyle("filer", fontName=SERIF, fontSize=11, leading=13.5),
        "court": ParagraphStyle(
            "court", fontName=SERIF_BOLD, fontSize=12, leading=15, alignment=TA_CENTER
        ),
        "court_address": ParagraphStyle(
            "court_address", fontName=SERIF, fontSize=10, leading=12, alignment=TA_CENTER
        ),
        "caption": ParagraphStyle("caption", fontName=SERIF, fontSize=11.5, leading=15),
        "caption_title": ParagraphStyle(
            "caption_title", fontName=SERIF_BOLD, fontSize=11.5, leading=14.5, alignment=TA_LEFT
        ),
        "signature": ParagraphStyle(
            "signature", fontName=SERIF, fontSize=12, leading=15, leftIndent=234
        ),
        "cell": ParagraphStyle("cell", fontName=SANS, fontSize=8, leading=9.5),
        "cell_head": ParagraphStyle("cell_head", fontName=SANS_BOLD, fontSize=8, leading=9.5),
        "cover": ParagraphStyle(
            "cover", fontName=SERIF_BOLD, fontSize=28, leading=34, alignment=TA_CENTER
        ),
        "cover_note": ParagraphStyle(
            "cover_note", fontName=SERIF, fontSize=13, leading=18, alignment=TA_CENTER
        ),
    }


# ------------------------------------------------------------------------------------------
# The canvas: deferred pages so that every footer knows its document's page count


class _Canvas(Canvas):  # type: ignore[misc]
    """A canvas that keeps finished pages and draws 'Page X of Y' footers on save."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: list[dict[str, Any]] = []
        #: (document number, footer title) of the page being drawn; set by `_DocStart`.
        self.clearance_doc: tuple[int, str] = (0, "")

    def showPage(self) -> None:
        self._kept.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        totals = Counter(state["clearance_doc"][0] for state in self._kept)
        seen: Counter[int] = Counter()
        for state in self._kept:
            self.__dict__.update(state)
            number, title = self.clearance_doc
            seen[number] += 1
            self._footer(seen[number], totals[number], title)
            Canvas.showPage(self)
        Canvas.save(self)

    def _footer(self, page: int, total: int, title: str) -> None:
        width = float(self._pagesize[0])
        margin = EXHIBIT_MARGIN if width > PORTRAIT[0] else MARGIN
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.line(margin, FOOTER_Y + 12, width - margin, FOOTER_Y + 12)
        self.setFont(SANS, 8)
        self.setFillColor(colors.black)
        self.drawCentredString(width / 2, FOOTER_Y + 2, f"Page {page} of {total}")
        self.setFont(SERIF, 8)
        self.drawCentredString(width / 2, FOOTER_Y - 8, title[:160])
        self.restoreState()


class _DocStart(Flowable):  # type: ignore[misc]
    """Marks where a document starts: its pages are numbered on their own."""

    _ZEROSIZE = True

    def __init__(self, number: int, title: str) -> None:
        super().__init__()
        self.number = number
        self.title = title

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return (0.0, 0.0)

    def draw(self) -> None:
        self.canv.clearance_doc = (self.number, self.title)


# ------------------------------------------------------------------------------------------
# Exhibit pages


@lru_cache(maxsize=200_000)
def _width(text: str, font: str, size: float) -> float:
    return float(stringWidth(text, font, size))


def _break_word(word: str, width: float, font: str, size: float) -> list[str]:
    """A word longer than the cell, cut into pieces that fit."""
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and _width(current + char, font, size) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wrap_text(text: str, width: float, font: str = SANS, size: float = CELL_SIZE) -> list[str]:
    """Greedy word wrap by measured width; nothing is ever cut off."""
    if _width(text, font, size) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _width(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if _width(word, font, size) <= width:
            current = word
        else:
            *full, current = _break_word(word, width, font, size)
            lines.extend(full)
    if current:
        lines.append(current)
    return lines or [""]


@dataclass(frozen=True)
class _Row:
    number: int
    cells: tuple[tuple[str, ...], ...]
    height: float


@dataclass(frozen=True)
class ExhibitLayout:
    """An exhibit cut into pages: column positions, the header, and the rows of each page."""

    exhibit: Exhibit
    widths: tuple[float, ...]
    header: tuple[tuple[str, ...], ...]
    header_height: float
    pages: tuple[tuple[_Row, ...], ...]
    total_rows: int


_TITLE_BAND = 30.0


def layout_exhibit(exhibit: Exhibit) -> ExhibitLayout:
    """Wrap every cell and cut the rows into landscape pages (rows never split)."""
    page_w, page_h = LANDSCAPE
    usable = page_w - 2 * EXHIBIT_MARGIN
    widths = column_widths(exhibit.columns, usable)
    inner = tuple(w - 2 * CELL_PAD_X for w in widths)
    header = tuple(
        tuple(wrap_text(c.header, w, SANS_BOLD, HEADER_SIZE))
        for c, w in zip(exhibit.columns, inner, strict=True)
    )
    header_height = max(len(h) for h in header) * CELL_LEADING + 2 * CELL_PAD_Y
    room = page_h - 2 * EXHIBIT_MARGIN - _TITLE_BAND - header_height - (FOOTER_Y + 4)
    pages: list[tuple[_Row, ...]] = []
    current: list[_Row] = []
    used = 0.0
    for number, values in enumerate(exhibit.rows(), start=1):
        cells = tuple(
            tuple(wrap_text(v, w)) if v else ("",) for v, w in zip(values, inner, strict=True)
        )
        height = max(len(c) for c in cells) * CELL_LEADING + 2 * CELL_PAD_Y
        if current and used + height > room:
            pages.append(tuple(current))
            current, used = [], 0.0
        current.append(_Row(number, cells, height))
        used += height
    if current:
        pages.append(tuple(current))
    return ExhibitLayout(
        exhibit=exhibit,
        widths=widths,
        header=header,
        header_height=header_height,
        pages=tuple(pages),
        total_rows=exhibit.frame.height,
    )


class _ExhibitPage(Flowable):  # type: ignore[misc]
    """One exhibit page, drawn directly on the canvas at fixed positions."""

    _ZEROSIZE = True

    def __init__(self, layout: ExhibitLayout, index: int, caption: str) -> None:
        super().__init__()
        self.layout = layout
        self.index = index
        self.caption = caption

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return (0.0, 0.0)

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:
        draw_exhibit_page(canvas, self.layout, self.index, self.caption)


def draw_exhibit_page(canvas: Canvas, layout: ExhibitLayout, index: int, caption: str) -> None:
    """Title band, repeated header row, zebra rows and column rules of one exhibit page."""
    page_w, page_h = LANDSCAPE
    left = EXHIBIT_MARGIN
    right = page_w - EXHIBIT_MARGIN
    top = page_h - EXHIBIT_MARGIN
    rows = layout.pages[index]
    exhibit = layout.exhibit
    canvas.saveState()
    canvas.setFillColor(colors.black)
    canvas.setFont(SANS_BOLD, 10)
    canvas.drawString(left, top - 10, f"{exhibit.label}: {exhibit.title}")
    canvas.setFont(SANS, 7.5)
    canvas.drawString(left, top - 21, caption[:180])
    first, last = rows[0].number, rows[-1].number
    canvas.drawRightString(right, top - 10, f"Rows {first:,}-{last:,} of {layout.total_rows:,}")
    table_top = top - _TITLE_BAND
    xs = [left]
    for w in layout.widths:
        xs.append(xs[-1] + w)
    canvas.setFillColor(HEADER_FILL)
    canvas.rect(left, table_top - layout.header_height, right - left, layout.header_height, 0, 1)
    heading = canvas.beginText()
    heading.setFont(SANS_BOLD, HEADER_SIZE)
    heading.setFillColor(colors.black)
    for x, lines in zip(xs, layout.header, strict=False):
        for n, line in enumerate(lines):
            heading.setTextOrigin(
                x + CELL_PAD_X, table_top - CELL_PAD_Y - CELL_SIZE - n * CELL_LEADING
            )
            heading.textOut(line)
    canvas.drawText(heading)
    y_top = table_top - layout.header_height
    canvas.setFillColor(ZEBRA)
    y = y_top
    for row in rows:
        if row.number % 2 == 0:
            canvas.rect(left, y - row.height, right - left, row.height, 0, 1)
        y -= row.height
    bottom = y
    # One text object per page, each row's first lines written left to right before any
    # wrapped continuation: text extraction and copy-paste then give one line per row.
    text = canvas.beginText()
    text.setFont(SANS, CELL_SIZE)
    text.setFillColor(colors.black)
    y = y_top
    for row in rows:
        base = y - CELL_PAD_Y - CELL_SIZE
        for x, lines in zip(xs, row.cells, strict=False):
            text.setTextOrigin(x + CELL_PAD_X, base)
            text.textOut(lines[0])
        for x, lines in zip(xs, row.cells, strict=False):
            for extra, line in enumerate(lines[1:], start=1):
                text.setTextOrigin(x + CELL_PAD_X, base - extra * CELL_LEADING)
                text.textOut(line)
        y -= row.height
    canvas.drawText(text)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    for x in xs:
        canvas.line(x, table_top, x, bottom)
    for line_y in (table_top, y_top, bottom):
        canvas.line(left, line_y, right, line_y)
    canvas.restoreState()


# ------------------------------------------------------------------------------------------
# Body


def _caption(document: LegalDocument, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = [Paragraph(line, styles["filer"]) for line in document.filer]
    story += [
        Spacer(1, 18),
        Paragraph(esc(document.court.upper()), styles["court"]),
        Paragraph(esc(document.court_address), styles["court_address"]),
        Spacer(1, 14),
    ]
    left = [Paragraph(line, styles["caption"]) for line in document.parties]
    right: list[Flowable] = [Paragraph(line, styles["caption"]) for line in document.case_lines]
    right += [
        Spacer(1, 8),
        Paragraph(document.title, styles["caption_title"]),
        Spacer(1, 6),
        Paragraph(document.title_note, styles["caption"]),
    ]
    width = PORTRAIT[0] - 2 * MARGIN
    table = Table([[left, right]], colWidths=[width * 0.5, width * 0.5])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEAFTER", (0, 0), (0, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 0), (0, 0), 0.8, colors.black),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), 10),
                ("LEFTPADDING", (1, 0), (1, 0), 12),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story += [table, Spacer(1, 14)]
    return story


def _table_block(block: Block, styles: dict[str, ParagraphStyle]) -> Table:
    width = PORTRAIT[0] - 2 * MARGIN
    total = sum(block.widths) or float(len(block.rows[0]))
    widths = (
        [w * width / total for w in block.widths]
        if block.widths
        else [width / len(block.rows[0])] * len(block.rows[0])
    )
    data = [
        [Paragraph(esc(v), styles["cell_head" if r == 0 else "cell"]) for v in row]
        for r, row in enumerate(block.rows)
    ]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _block(block: Block, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    if block.kind == "heading":
        return [Paragraph(block.text, styles["heading"])]
    if block.kind == "para":
        return [Paragraph(block.text, styles["body"])]
    if block.kind == "plain":
        return [Paragraph(block.text, styles["plain"])]
    if block.kind == "item":
        return [Paragraph(block.text, styles["item"], bulletText=block.label)]
    if block.kind == "spacer":
        return [Spacer(1, 12)]
    if block.kind == "table":
        return [_table_block(block, styles), Spacer(1, 8)]
    parts: list[Flowable] = [Spacer(1, 16)]
    if block.label:
        parts.append(Paragraph(block.label, styles["plain"]))
    if block.text:
        parts.append(Paragraph(block.text, styles["signature"]))
    parts += [Spacer(1, 30), Paragraph("_" * 36, styles["signature"])]
    parts += [Paragraph(line, styles["signature"]) for line in block.lines]
    return [KeepTogether(parts)]


def _story(
    documents: Sequence[LegalDocument],
    layouts: Sequence[ExhibitLayout | None],
    styles: dict[str, ParagraphStyle],
) -> list[Flowable]:
    story: list[Flowable] = []
    for number, (document, layout) in enumerate(zip(documents, layouts, strict=True)):
        if number:
            story += [NextPageTemplate("body"), PageBreak()]
        story.append(_DocStart(number, document.short_title))
        story += _caption(document, styles)
        for block in document.blocks:
            story += _block(block, styles)
        if layout is None or not layout.pages:
            continue
        exhibit = layout.exhibit
        people = exhibit.people
        story += [
            PageBreak(),
            Spacer(1, 220),
            Paragraph(esc(exhibit.label), styles["cover"]),
            Spacer(1, 12),
            Paragraph(esc(exhibit.title), styles["cover_note"]),
            Paragraph(
                f"{exhibit.frame.height:,} conviction{'s' if exhibit.frame.height != 1 else ''} "
                f"of {people:,} person{'s' if people != 1 else ''}",
                styles["cover_note"],
            ),
            NextPageTemplate("exhibit"),
        ]
        caption = f"{document.court} - {document.short_title}"
        for index in range(len(layout.pages)):
            story += [PageBreak(), _ExhibitPage(layout, index, caption)]
    return story


@contextmanager
def binary_streams() -> Iterator[None]:
    """Write page streams compressed but not ASCII85-armoured (ReportLab's default): a quarter
    smaller and faster, and every PDF reader accepts binary streams. The setting is restored."""
    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before


def render_pdf(
    documents: Sequence[LegalDocument],
    path: Path,
    layouts: Sequence[ExhibitLayout | None] | None = None,
) -> None:
    """Write the documents, one after the other, to one PDF (each numbered on its own).

    `layouts` are the documents' exhibits already cut into pages (`layout_exhibit`), so a
    motion and its order share one layout; when None they are computed here.
    """
    styles = _styles()
    if layouts is None:
        layouts = [layout_exhibit(d.exhibit) if d.exhibit is not None else None for d in documents]
    first = documents[0]
    doc = BaseDocTemplate(
        str(path),
        pagesize=PORTRAIT,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=54,
        bottomMargin=MARGIN,
        title=plain(first.title),
        author=first.author,
        subject=first.short_title,
        creator="clearance",
        keywords=list(first.keywords),
        invariant=1,
    )
    body = Frame(MARGIN, MARGIN, PORTRAIT[0] - 2 * MARGIN, PORTRAIT[1] - 54 - MARGIN, id="body")
    land = Frame(
        EXHIBIT_MARGIN,
        EXHIBIT_MARGIN,
        LANDSCAPE[0] - 2 * EXHIBIT_MARGIN,
        LANDSCAPE[1] - 2 * EXHIBIT_MARGIN,
        id="exhibit",
    )
    doc.addPageTemplates(
        [
            PageTemplate(id="body", frames=[body], pagesize=PORTRAIT),
            PageTemplate(id="exhibit", frames=[land], pagesize=LANDSCAPE),
        ]
    )
    with binary_streams():
        doc.build(_story(documents, layouts, styles), canvasmaker=_Canvas)
