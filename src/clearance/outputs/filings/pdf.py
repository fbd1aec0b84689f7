"""PDF writer: draws laid-out documents (`layout.py`) on the canvas, page by page.

Everything is positioned by the layout, so this module only draws: the pleading paper (line
numbers 1-28, the double rule to their right, the single rule on the right), the text of each
fragment on its slots, the caption box and small tables, the landscape exhibit pages (title
band, repeated header row, zebra rows, column rules) and the footer of every page ("Page X of
Y" and the short title, rule 2.110). Pages are numbered per document, so a per-person packet
that holds a petition and an order numbers each on its own.

A Los Angeles exhibit has about 66,000 rows; each exhibit page is one text object drawn
straight onto the canvas, so that size takes seconds. Files are written with ReportLab's
invariant mode and fonts from a fixed file set: the same inputs give byte-identical PDFs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas

from clearance.outputs.filings.fonts import DESCENT, Family, font_name
from clearance.outputs.filings.layout import (
    BODY_SIZE,
    CELL_LEADING,
    CELL_PAD,
    CELL_PAD_X,
    CELL_PAD_Y,
    CELL_SIZE,
    EXHIBIT_MARGIN,
    FOOTER_PAGE_Y,
    FOOTER_RULE_Y,
    FOOTER_SIZE,
    FOOTER_TITLE_Y,
    GRID_TOP,
    HEADER_SIZE,
    LANDSCAPE,
    NOTE_SIZE,
    NUMBER_RIGHT,
    NUMBERED_LINES,
    PORTRAIT,
    RULE_LEFT,
    RULE_RIGHT,
    SLOT,
    TEXT_LEFT,
    TEXT_WIDTH,
    TITLE_SIZE,
    ExhibitLayout,
    ExhibitPage,
    LaidOut,
    Line,
    OutlineEntry,
    PleadingPage,
    TableFragment,
    TextFragment,
    fit,
    layout_document,
    line_width,
    outline,
)
from clearance.outputs.filings.model import LegalDocument, plain

ZEBRA = colors.Color(0.94, 0.95, 0.97)
HEADER_FILL = colors.Color(0.84, 0.86, 0.90)
RULE = colors.Color(0.55, 0.57, 0.62)


def slot_top(slot: float) -> float:
    """The y of the top of a slot (PDF coordinates, from the bottom)."""
    return PORTRAIT[1] - GRID_TOP - SLOT * slot


def baseline(slot: float, pitch: int, size: float) -> float:
    """Where a line of exact height `pitch` slots sets its text: at the foot of the line box,
    above the font's descent (as a word processor does with exact line spacing)."""
    return slot_top(slot) - pitch * SLOT + DESCENT * size


def _draw_line(canvas: Canvas, line: Line, x: float, y: float, family: Family, size: float) -> None:
    text = canvas.beginText()
    text.setTextOrigin(x, y)
    for chunk, bold, italic in line:
        text.setFont(font_name(family, bold, italic), size)
        text.textOut(chunk)
    canvas.drawText(text)


def _text_fragment(canvas: Canvas, fragment: TextFragment) -> None:
    for index, line in enumerate(fragment.lines):
        y = baseline(fragment.slot + index * fragment.pitch, fragment.pitch, fragment.size)
        if fragment.align == "left":
            x = TEXT_LEFT + fragment.indent + (fragment.first if index == 0 else 0.0)
        else:
            width = line_width(line, "serif", fragment.size)
            room = TEXT_WIDTH - fragment.indent
            offset = (room - width) / 2 if fragment.align == "center" else room - width
            x = TEXT_LEFT + fragment.indent + offset
        if index == 0 and fragment.label:
            _draw_line(
                canvas,
                ((fragment.label, False, False),),
                TEXT_LEFT + fragment.label_at,
                y,
                "serif",
                fragment.size,
            )
        _draw_line(canvas, line, x, y, "serif", fragment.size)


def _table_fragment(canvas: Canvas, fragment: TableFragment) -> None:
    left = TEXT_LEFT + fragment.x
    xs = [left]
    for width in fragment.widths:
        xs.append(xs[-1] + width)
    top = slot_top(fragment.slot)
    family: Family = "serif" if fragment.style == "caption" else "sans"
    y = top
    canvas.saveState()
    if fragment.style == "grid" and fragment.header:
        canvas.setFillColor(HEADER_FILL)
        canvas.rect(
            left, top - fragment.heights[0] * SLOT, xs[-1] - left, fragment.heights[0] * SLOT, 0, 1
        )
    canvas.setFillColor(colors.black)
    for r, (row, height) in enumerate(zip(fragment.rows, fragment.heights, strict=True)):
        for c, cell in enumerate(row):
            pad = CELL_PAD if fragment.style == "grid" else (0.0 if c == 0 else 10.0)
            for n, line in enumerate(cell):
                slot = fragment.slot + sum(fragment.heights[:r]) + n
                _draw_line(
                    canvas,
                    line,
                    xs[c] + pad,
                    baseline(slot, 1, fragment.size),
                    family,
                    fragment.size,
                )
        y -= height * SLOT
    canvas.setStrokeColor(colors.black if fragment.style == "caption" else RULE)
    canvas.setLineWidth(0.8 if fragment.style == "caption" else 0.5)
    bottom = y
    if fragment.style == "caption":
        canvas.line(xs[1], top, xs[1], bottom)
        canvas.line(xs[0], bottom, xs[1], bottom)
    else:
        for x in xs:
            canvas.line(x, top, x, bottom)
        line_y = top
        canvas.line(left, top, xs[-1], top)
        for height in fragment.heights:
            line_y -= height * SLOT
            canvas.line(left, line_y, xs[-1], line_y)
    canvas.restoreState()


def _pleading_paper(canvas: Canvas) -> None:
    """Line numbers 1-28 on the left, the double rule beside them, a single rule on the right."""
    canvas.saveState()
    for number in range(1, NUMBERED_LINES + 1):
        y = baseline(2 * (number - 1), 2, 12.0)
        canvas.setFont(font_name("serif"), 12.0)
        canvas.drawRightString(NUMBER_RIGHT, y, str(number))
    canvas.setStrokeColor(colors.black)
    canvas.setLineWidth(0.6)
    height = PORTRAIT[1]
    for x in RULE_LEFT:
        canvas.line(x, 0, x, height)
    canvas.line(RULE_RIGHT, 0, RULE_RIGHT, height)
    canvas.restoreState()


def _footer(canvas: Canvas, width: float, page: int, total: int, title: str) -> None:
    margin = EXHIBIT_MARGIN if width > PORTRAIT[0] else TEXT_LEFT
    right = width - EXHIBIT_MARGIN if width > PORTRAIT[0] else TEXT_LEFT + TEXT_WIDTH
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(margin, FOOTER_RULE_Y, right, FOOTER_RULE_Y)
    canvas.setFillColor(colors.black)
    canvas.setFont(font_name("sans"), FOOTER_SIZE)
    middle = (margin + right) / 2
    canvas.drawCentredString(middle, FOOTER_PAGE_Y, f"Page {page} of {total}")
    canvas.setFont(font_name("serif"), FOOTER_SIZE)
    canvas.drawCentredString(middle, FOOTER_TITLE_Y, footer_line(title, right - margin))
    canvas.restoreState()


def footer_line(title: str, width: float) -> str:
    """The short title as the footer prints it (one line)."""
    return fit(plain(title), width, "serif", FOOTER_SIZE)


def draw_exhibit_page(canvas: Canvas, page: ExhibitPage) -> None:
    """Title band, header row, zebra rows and column rules of one exhibit page."""
    layout: ExhibitLayout = page.layout
    width, height = LANDSCAPE
    left, right = EXHIBIT_MARGIN, width - EXHIBIT_MARGIN
    top = height - EXHIBIT_MARGIN
    rows = layout.pages[page.index]
    canvas.saveState()
    canvas.setFillColor(colors.black)
    canvas.setFont(font_name("sans", bold=True), TITLE_SIZE)
    note = page.rows_note
    title_room = right - left - 110
    canvas.drawString(left, top - 10, fit(page.title, title_room, "sans", TITLE_SIZE, True))
    canvas.setFont(font_name("sans"), NOTE_SIZE)
    canvas.drawRightString(right, top - 10, note)
    canvas.drawString(left, top - 21, page.caption)
    table_top = top - 30.0
    xs = [left]
    for w in layout.widths:
        xs.append(xs[-1] + w)
    canvas.setFillColor(HEADER_FILL)
    canvas.rect(left, table_top - layout.header_height, right - left, layout.header_height, 0, 1)
    heading = canvas.beginText()
    heading.setFont(font_name("sans", bold=True), HEADER_SIZE)
    heading.setFillColor(colors.black)
    for x, lines in zip(xs, layout.header, strict=False):
        for n, line in enumerate(lines):
            heading.setTextOrigin(
                x + CELL_PAD_X,
                table_top - CELL_PAD_Y - CELL_LEADING * (n + 1) + DESCENT * HEADER_SIZE,
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
    text.setFont(font_name("sans"), CELL_SIZE)
    text.setFillColor(colors.black)
    y = y_top
    for row in rows:
        base = y - CELL_PAD_Y - CELL_LEADING + DESCENT * CELL_SIZE
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


def draw_pages(canvas: Canvas, laid: LaidOut, key: str = "d0", title: str | None = None) -> None:
    """Every page of one laid-out document, with its footer and its bookmarks (`outline`,
    headed by `title` if given); `key` tells this document's destinations from the others' in
    the same file."""
    total = len(laid.pages)
    marks: dict[int, list[tuple[int, OutlineEntry]]] = {}
    for n, entry in enumerate(outline(laid, title)):
        marks.setdefault(entry.page, []).append((n, entry))
    for number, page in enumerate(laid.pages, start=1):
        height = (PORTRAIT if isinstance(page, PleadingPage) else LANDSCAPE)[1]
        for n, entry in marks.get(number - 1, ()):
            name = f"{key}.{n}"
            top = height if entry.slot is None else slot_top(entry.slot) + SLOT
            canvas.bookmarkPage(name, fit="XYZ", left=0, top=min(top, height), zoom=0)
            canvas.addOutlineEntry(entry.title, name, level=entry.level, closed=False)
        if isinstance(page, PleadingPage):
            canvas.setPageSize(PORTRAIT)
            if laid.numbered:
                _pleading_paper(canvas)
            for fragment in page.fragments:
                if isinstance(fragment, TextFragment):
                    _text_fragment(canvas, fragment)
                else:
                    _table_fragment(canvas, fragment)
            _footer(canvas, PORTRAIT[0], number, total, laid.footer_title)
        else:
            canvas.setPageSize(LANDSCAPE)
            draw_exhibit_page(canvas, page)
            _footer(canvas, LANDSCAPE[0], number, total, laid.footer_title)
        canvas.showPage()


def render_pdf(
    documents: Sequence[LegalDocument],
    path: Path,
    layouts: Sequence[ExhibitLayout | None] | None = None,
) -> list[LaidOut]:
    """Write the documents, one after the other, to one PDF (each numbered on its own).

    `layouts` are the documents' exhibits already cut into pages, so a motion and its order
    share one layout. Returns the laid-out documents (the DOCX writer can reuse them)."""
    laid = [
        layout_document(d, layouts[i] if layouts is not None else None)
        for i, d in enumerate(documents)
    ]
    write_laid_out(laid, path)
    return laid


def write_laid_out(laid: Sequence[LaidOut], path: Path) -> None:
    """The PDF of documents already laid out."""
    first = laid[0].document
    # Every font embedded: not even the canvas's initial font is a standard (Latin-1) one.
    canvas = Canvas(
        str(path),
        pagesize=PORTRAIT,
        invariant=1,
        pageCompression=1,
        initialFontName=font_name("serif"),
        initialFontSize=BODY_SIZE,
        lang=LANG,
    )
    _metadata(canvas, first)
    with binary_streams():
        for index, document in enumerate(laid):
            # Several documents in one file (a person's packet): each is named by its short
            # title, which tells the case apart.
            title = plain(document.document.short_title) if len(laid) > 1 else None
            draw_pages(canvas, document, f"d{index}", title)
        canvas.save()


#: The document language of every PDF the project writes (the /Lang of its catalog).
LANG = "en-US"


def _metadata(canvas: Any, document: LegalDocument) -> None:
    """Title, author (the office), subject, keywords and language: what a court's e-filing
    portal and a screen reader read; the reader opens with the bookmarks shown."""
    canvas.setTitle(plain(document.title))
    canvas.setAuthor(document.author)
    canvas.setSubject(plain(document.short_title))
    canvas.setCreator("clearance")
    canvas.setKeywords(", ".join(document.keywords))
    canvas.setViewerPreference("DisplayDocTitle", "true")
    canvas.showOutline()
