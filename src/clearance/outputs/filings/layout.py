"""Pleading paper: every document laid out once, line by line and page by page, for both
writers.

California Rules of Court, rule 2.108, asks for numbered lines down the left margin (at least
three a vertical inch) with the text double-spaced on them; rule 2.111 fixes the first page
(the attorney's block from line 1, the court's name at line 8, the caption, the title). This
module puts every line of text on that grid: a page has 28 numbered lines of 24 points, that
is 56 half-lines ("slots") of 12 points; double-spaced text takes two slots a line,
single-spaced text (the attorney's block, the caption, signature blocks, small tables) one.

Because the lines and page breaks are decided here, from the same font measurements, the PDF
and the DOCX cannot disagree: the DOCX carries the same lines (explicit line breaks) and the
same page breaks, with exact line heights, so a word processor lays them out exactly as the
PDF (the tests render the DOCX with LibreOffice and compare page by page). Lines are wrapped a
little short of the measure (`SLACK`) so that a word processor's kerning never wraps them
again.

Exhibit tables are cut into landscape pages here too (rows never split, the header repeated on
every page), so both writers draw the same rows on the same pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from clearance.outputs.filings.exhibit import Exhibit, column_widths
from clearance.outputs.filings.fonts import Family, text_width
from clearance.outputs.filings.model import Block, Caption, LegalDocument, plain, runs

# ------------------------------------------------------------------------------------------
# Geometry (points)

PORTRAIT = (612.0, 792.0)
LANDSCAPE = (792.0, 612.0)
#: Top of line 1: one inch from the top of the page (rule 2.111(1)).
GRID_TOP = 72.0
SLOT = 12.0
#: 28 numbered lines of two slots.
SLOTS = 56
NUMBERED_LINES = SLOTS // 2
#: Text runs from here to TEXT_RIGHT: a left margin over one inch, a right one over half an
#: inch (rule 2.107).
TEXT_LEFT = 80.0
TEXT_RIGHT = 552.0
TEXT_WIDTH = TEXT_RIGHT - TEXT_LEFT
#: Line numbers end here; the double rule that separates them from the text sits between.
NUMBER_RIGHT = 62.0
RULE_LEFT = (68.0, 71.0)
RULE_RIGHT = 558.0
BODY_SIZE = 12.0
INDENT = 36.0
#: Where the right half of a signature block starts.
SIGNATURE_X = 236.0
#: Lines are wrapped to this share of their measure: room for a word processor's kerning.
SLACK = 0.97
#: The footer (rule 2.110): a rule, "Page X of Y", the short title.
FOOTER_RULE_Y = 40.0
FOOTER_PAGE_Y = 29.0
FOOTER_TITLE_Y = 19.0
FOOTER_SIZE = 8.0
TABLE_SIZE = 9.5
CELL_PAD = 3.0

# Exhibit pages (landscape)
EXHIBIT_MARGIN = 30.0
TITLE_BAND = 30.0
#: Exhibit rows end this far above the bottom edge (footer and a margin of safety).
EXHIBIT_BOTTOM = 56.0
CELL_SIZE = 7.5
CELL_LEADING = 9.0
CELL_PAD_X = 2.5
CELL_PAD_Y = 2.0
HEADER_SIZE = 7.5
TITLE_SIZE = 10.0
NOTE_SIZE = 7.5

Run = tuple[str, bool, bool]
Line = tuple[Run, ...]
Align = Literal["left", "center", "right"]


# ------------------------------------------------------------------------------------------
# Fragments: what a pleading page holds


@dataclass(frozen=True)
class TextFragment:
    """Consecutive lines of one paragraph on one page.

    Line `i` occupies slots `slot + i*pitch` to `slot + (i+1)*pitch`; it starts at TEXT_LEFT +
    `indent` (+ `first` for the paragraph's first line), or is centred or right-aligned on the
    measure. `label` hangs to the left of the first line (an item's number). `starts` is false
    on a paragraph's continuation on a later page."""

    slot: int
    pitch: int
    lines: tuple[Line, ...]
    indent: float = 0.0
    first: float = 0.0
    align: Align = "left"
    size: float = BODY_SIZE
    label: str = ""
    label_at: float = 0.0
    starts: bool = True
    heading: bool = False
    #: An outline entry (bookmark) that starts here, other than a heading's: an exhibit's cover
    #: names the exhibit by its letter and description.
    bookmark: str = ""

    @property
    def slots(self) -> int:
        return self.pitch * len(self.lines)


@dataclass(frozen=True)
class TableFragment:
    """A small table (or the caption box): cells of single-spaced lines, rows never split."""

    slot: int
    x: float
    widths: tuple[float, ...]
    rows: tuple[tuple[tuple[Line, ...], ...], ...]
    heights: tuple[int, ...]
    style: Literal["grid", "caption"]
    size: float
    header: bool
    #: In a caption box: the lines of the right cell that hold the document's title (first,
    #: end), which the DOCX styles as its "Heading 1".
    title_lines: tuple[int, int] | None = None

    @property
    def slots(self) -> int:
        return sum(self.heights)


Fragment = TextFragment | TableFragment


@dataclass(frozen=True)
class PleadingPage:
    """A portrait page of pleading paper."""

    fragments: tuple[Fragment, ...]


@dataclass(frozen=True)
class ExhibitRow:
    number: int
    cells: tuple[tuple[str, ...], ...]
    height: float


@dataclass(frozen=True)
class ExhibitLayout:
    """An exhibit cut into landscape pages: column widths, the header, the rows of each page."""

    exhibit: Exhibit
    widths: tuple[float, ...]
    header: tuple[tuple[str, ...], ...]
    header_height: float
    pages: tuple[tuple[ExhibitRow, ...], ...]
    total_rows: int


@dataclass(frozen=True)
class ExhibitPage:
    """One landscape page of an exhibit table."""

    layout: ExhibitLayout
    index: int
    #: The line under the exhibit's title (court, document), fitted to the page width.
    caption: str

    @property
    def title(self) -> str:
        exhibit = self.layout.exhibit
        return f"{exhibit.label}: {exhibit.title}"

    @property
    def rows_note(self) -> str:
        rows = self.layout.pages[self.index]
        total = self.layout.total_rows
        return f"Rows {rows[0].number:,}-{rows[-1].number:,} of {total:,}"


Page = PleadingPage | ExhibitPage


@dataclass(frozen=True)
class LaidOut:
    """A document cut into pages, with the footer title of each page."""

    document: LegalDocument
    pages: tuple[Page, ...]

    @property
    def numbered(self) -> bool:
        return self.document.numbered

    @property
    def footer_title(self) -> str:
        title = self.document.short_title
        return f"CONFIDENTIAL - {title}" if self.document.confidential else title


# ------------------------------------------------------------------------------------------
# Wrapping


def _family_width(text: str, family: Family, size: float, bold: bool, italic: bool) -> float:
    return text_width(text, family, size, bold, italic)


def line_width(line: Line, family: Family, size: float) -> float:
    """Width of a line of runs."""
    return sum(_family_width(t, family, size, b, i) for t, b, i in line)


def _break_word(parts: list[Run], width: float, family: Family, size: float) -> list[list[Run]]:
    """A word wider than the line, cut into pieces that fit (nothing is dropped)."""
    pieces: list[list[Run]] = []
    current: list[Run] = []
    used = 0.0
    for text, bold, italic in parts:
        for char in text:
            w = _family_width(char, family, size, bold, italic)
            if current and used + w > width:
                pieces.append(current)
                current, used = [], 0.0
            if current and current[-1][1:] == (bold, italic):
                current[-1] = (current[-1][0] + char, bold, italic)
            else:
                current.append((char, bold, italic))
            used += w
    if current:
        pieces.append(current)
    return pieces


def _merge(parts: Iterable[Run]) -> Line:
    merged: list[Run] = []
    for text, bold, italic in parts:
        if not text:
            continue
        if merged and merged[-1][1:] == (bold, italic):
            merged[-1] = (merged[-1][0] + text, bold, italic)
        else:
            merged.append((text, bold, italic))
    return tuple(merged)


def wrap_runs(
    chunk: Sequence[Run], width: float, family: Family, size: float, first: float | None = None
) -> list[Line]:
    """Greedy word wrap of styled runs by measured width (`first`: the first line's width).

    Words are separated by spaces; a word may change style inside (`<b>A</b>B`). Nothing is
    ever cut off: a word wider than the line is broken between characters."""
    words: list[list[Run]] = []
    current: list[Run] = []
    for text, bold, italic in chunk:
        pieces = text.split(" ")
        for index, piece in enumerate(pieces):
            if index:
                if current:
                    words.append(current)
                current = []
            if piece:
                current.append((piece, bold, italic))
    if current:
        words.append(current)
    lines: list[Line] = []
    line: list[Run] = []
    used = 0.0
    limit = (first if first is not None else width) * SLACK
    for word in words:
        w = sum(_family_width(t, family, size, b, i) for t, b, i in word)
        space = _family_width(" ", family, size, word[0][1], word[0][2])
        if line and used + space + w <= limit:
            line.append((" ", word[0][1], word[0][2]))
            line.extend(word)
            used += space + w
            continue
        if line:
            lines.append(_merge(line))
            line, used = [], 0.0
            limit = width * SLACK
        if w <= limit:
            line, used = list(word), w
            continue
        *full, last = _break_word(word, limit, family, size)
        for broken in full:
            lines.append(_merge(broken))
            limit = width * SLACK
        line = list(last)
        used = sum(_family_width(t, family, size, b, i) for t, b, i in last)
    if line:
        lines.append(_merge(line))
    return lines or [()]


def wrap_markup(
    markup: str,
    width: float,
    family: Family = "serif",
    size: float = BODY_SIZE,
    first: float | None = None,
    bold: bool = False,
) -> list[Line]:
    """Markup (with `<br/>` forced breaks) wrapped into lines."""
    lines: list[Line] = []
    for index, chunk in enumerate(markup.split("<br/>")):
        parsed = [(t, b or bold, i) for t, b, i in runs(chunk)]
        lines += wrap_runs(parsed, width, family, size, first if index == 0 else None)
    return lines


def wrap_text(
    text: str, width: float, family: Family = "sans", size: float = CELL_SIZE
) -> list[str]:
    """Plain text wrapped into lines (exhibit cells); nothing is ever cut off."""
    if text_width(text, family, size) <= width * SLACK:
        return [text]
    return [
        "".join(t for t, _, _ in line)
        for line in wrap_runs([(text, False, False)], width, family, size)
    ]


def fit(text: str, width: float, family: Family, size: float, bold: bool = False) -> str:
    """`text` shortened (with an ellipsis) to fit `width`: for one-line titles and captions."""
    if text_width(text, family, size, bold) <= width * SLACK:
        return text
    while text and text_width(text + "...", family, size, bold) > width * SLACK:
        text = text[:-1]
    return text.rstrip() + "..."


# ------------------------------------------------------------------------------------------
# Pleading pages


class _Pager:
    """Places fragments on pages, slot by slot."""

    def __init__(self) -> None:
        self.pages: list[list[Fragment]] = [[]]
        self.slot = 0

    @property
    def room(self) -> int:
        return SLOTS - self.slot

    def new_page(self) -> None:
        if self.pages[-1] or self.slot:
            self.pages.append([])
        self.slot = 0

    def skip(self, slots: int) -> None:
        """Blank space; none at the top of a page, and never past its end."""
        if self.slot == 0:
            return
        if self.slot + slots >= SLOTS:
            self.new_page()
        else:
            self.slot += slots

    def place(self, fragment: Fragment) -> None:
        self.pages[-1].append(fragment)
        self.slot = fragment.slot + fragment.slots

    def ensure(self, slots: int) -> None:
        """Start a new page unless `slots` fit on this one."""
        if slots > self.room and self.slot:
            self.new_page()


def _text_block(
    pager: _Pager,
    lines: list[Line],
    *,
    pitch: int,
    indent: float = 0.0,
    first: float = 0.0,
    align: Align = "left",
    size: float = BODY_SIZE,
    label: str = "",
    label_at: float = 0.0,
    heading: bool = False,
) -> None:
    """Lines of one paragraph, split across pages at line boundaries (never one line alone at
    the foot or the head of a page when the paragraph has more)."""
    start = 0
    starts = True
    while start < len(lines):
        left = len(lines) - start
        fits = pager.room // pitch
        take = min(left, fits)
        if take < left:
            if take < 2 or left < 4:
                take = 0 if pager.slot else max(take, 1)
            elif left - take == 1:
                take -= 1
        if take == 0:
            pager.new_page()
            continue
        pager.place(
            TextFragment(
                slot=pager.slot,
                pitch=pitch,
                lines=tuple(lines[start : start + take]),
                indent=indent,
                first=first if starts else 0.0,
                align=align,
                size=size,
                label=label if starts else "",
                label_at=label_at,
                starts=starts,
                heading=heading,
            )
        )
        start += take
        starts = False
        if start < len(lines):
            pager.new_page()


def _cell_lines(text: str, width: float, size: float, bold: bool) -> tuple[Line, ...]:
    return tuple(wrap_markup(text, width - 2 * CELL_PAD, "sans", size, bold=bold) if text else [()])


def _table(pager: _Pager, block: Block) -> None:
    """A small table (a packet's counts): rows whole, the header row repeated on a new page."""
    columns = len(block.rows[0])
    weights = block.widths or tuple(1.0 for _ in range(columns))
    total = sum(weights)
    widths = tuple(w * TEXT_WIDTH / total for w in weights)
    rows = [
        tuple(_cell_lines(v, w, TABLE_SIZE, r == 0) for v, w in zip(row, widths, strict=True))
        for r, row in enumerate(block.rows)
    ]
    heights = [max(len(c) for c in row) for row in rows]
    header, header_h = rows[0], heights[0]
    body = list(zip(rows[1:], heights[1:], strict=True))
    index = 0
    while index < len(body) or (index == 0 and not body):
        pager.ensure(header_h + (body[index][1] if body else 0))
        page_rows, page_heights = [header], [header_h]
        used = header_h
        while index < len(body) and used + body[index][1] <= pager.room:
            page_rows.append(body[index][0])
            page_heights.append(body[index][1])
            used += body[index][1]
            index += 1
        if len(page_rows) == 1 and body:
            # A row taller than a whole page: placed alone (it runs over the foot).
            page_rows.append(body[index][0])
            page_heights.append(body[index][1])
            index += 1
        pager.place(
            TableFragment(
                slot=pager.slot,
                x=0.0,
                widths=widths,
                rows=tuple(page_rows),
                heights=tuple(page_heights),
                style="grid",
                size=TABLE_SIZE,
                header=True,
            )
        )
        if not body:
            break
        if index < len(body):
            pager.new_page()
    pager.skip(1)


def _signature(pager: _Pager, block: Block) -> None:
    """Date line, then on the right half: the text, room to sign, the line, the names."""
    right = TEXT_WIDTH - SIGNATURE_X
    label = wrap_markup(block.label, TEXT_WIDTH) if block.label else []
    above = wrap_markup(block.text, right) if block.text else []
    under = [line for text in block.lines for line in wrap_markup(text, right)]
    need = 1 + 2 * len(label) + len(above) + 3 + 1 + len(under)
    pager.ensure(need)
    pager.skip(1)
    if label:
        _text_block(pager, label, pitch=2)
    if above:
        _text_block(pager, above, pitch=1, indent=SIGNATURE_X)
    pager.skip(3)
    _text_block(pager, [(("_" * 30, False, False),)], pitch=1, indent=SIGNATURE_X)
    if under:
        _text_block(pager, under, pitch=1, indent=SIGNATURE_X)
    pager.skip(1)


def _block(pager: _Pager, block: Block, next_block: Block | None) -> None:
    kind = block.kind
    if kind == "pagebreak":
        pager.new_page()
    elif kind == "spacer":
        pager.skip(2)
    elif kind == "heading":
        lines = wrap_markup(block.text, TEXT_WIDTH, bold=True)
        keep = 4 if next_block is not None and next_block.kind not in ("pagebreak",) else 0
        pager.ensure(2 * len(lines) + keep)
        _text_block(pager, lines, pitch=2, align="center", heading=True)
    elif kind == "para":
        lines = wrap_markup(
            block.text, TEXT_WIDTH - block.indent, first=TEXT_WIDTH - block.indent - INDENT
        )
        _text_block(pager, lines, pitch=2, indent=block.indent, first=INDENT)
    elif kind == "plain":
        lines = wrap_markup(block.text, TEXT_WIDTH - block.indent)
        _text_block(pager, lines, pitch=2, indent=block.indent)
    elif kind == "single":
        lines = wrap_markup(block.text, TEXT_WIDTH - block.indent)
        _text_block(pager, lines, pitch=1, indent=block.indent)
    elif kind == "item":
        hang = block.indent + INDENT
        lines = wrap_markup(block.text, TEXT_WIDTH - hang - INDENT)
        _text_block(pager, lines, pitch=2, indent=hang + INDENT, label=block.label, label_at=hang)
    elif kind == "table":
        _table(pager, block)
    else:
        _signature(pager, block)


def _caption(pager: _Pager, caption: Caption) -> None:
    """Rule 2.111: the filer from line 1, the court at line 8, then the caption box."""
    # To the left of the centre of the page (rule 2.111(1)).
    half = PORTRAIT[0] / 2 - TEXT_LEFT
    filer = [line for text in caption.filer for line in wrap_markup(text, half)]
    _text_block(pager, filer, pitch=1)
    pager.slot = max(pager.slot + 1, 14)
    court = wrap_markup(caption.court.upper(), TEXT_WIDTH, bold=True)
    _text_block(pager, court, pitch=2, align="center")
    if caption.court_address:
        _text_block(pager, wrap_markup(caption.court_address, TEXT_WIDTH), pitch=1, align="center")
    pager.skip(2)
    cell = TEXT_WIDTH / 2
    left = [line for text in caption.parties for line in wrap_markup(text, cell - 2 * CELL_PAD)]
    right: list[Line] = [
        line for text in caption.case_lines for line in wrap_markup(text, cell - 2 * CELL_PAD)
    ]
    right += [()]
    title_start = len(right)
    right += wrap_markup(caption.title, cell - 2 * CELL_PAD, bold=True)
    title_lines = (title_start, len(right))
    if caption.title_note:
        right += [()]
        right += wrap_markup(caption.title_note, cell - 2 * CELL_PAD)
    if caption.hearing:
        right += [()]
        right += [
            line for text in caption.hearing for line in wrap_markup(text, cell - 2 * CELL_PAD)
        ]
    height = max(len(left), len(right)) + 1
    pager.place(
        TableFragment(
            slot=pager.slot,
            x=0.0,
            widths=(cell, cell),
            rows=((tuple(left), tuple(right)),),
            heights=(height,),
            style="caption",
            size=BODY_SIZE,
            header=False,
            title_lines=title_lines,
        )
    )
    pager.skip(2)


def _cover(pager: _Pager, exhibit: Exhibit) -> None:
    """The exhibit's cover sheet (a pleading page): its letter, title and size."""
    pager.new_page()
    pager.slot = 18
    pager.place(
        TextFragment(
            slot=pager.slot,
            pitch=4,
            lines=(((exhibit.label, True, False),),),
            align="center",
            size=28.0,
            bookmark=exhibit_bookmark(exhibit),
        )
    )
    pager.skip(2)
    _text_block(pager, wrap_markup(exhibit.title, TEXT_WIDTH), pitch=2, align="center")
    n, people = exhibit.frame.height, exhibit.people
    note = (
        f"{n:,} conviction{'s' if n != 1 else ''} of {people:,} person{'s' if people != 1 else ''}"
    )
    _text_block(pager, wrap_markup(note, TEXT_WIDTH), pitch=2, align="center")
    if exhibit.confidential:
        pager.skip(2)
        _text_block(
            pager,
            wrap_markup(
                "<b>CONFIDENTIAL: LODGED CONDITIONALLY UNDER SEAL</b><br/>"
                "(California Rules of Court, rules 2.550-2.551)",
                TEXT_WIDTH,
            ),
            pitch=2,
            align="center",
        )


def exhibit_bookmark(exhibit: Exhibit) -> str:
    """An exhibit's outline entry: its letter and what it lists, e.g. "Exhibit A: Dismissed
    and sealed (HS 11361.8(f))" (California Rules of Court, rule 3.1110(f))."""
    label = exhibit.label.strip()
    lettered = label.upper().startswith("EXHIBIT ")
    label = f"Exhibit {label[8:]}" if lettered else label.capitalize()
    return f"{label}: {plain(exhibit.title)}"


@dataclass(frozen=True)
class OutlineEntry:
    """One bookmark of a laid-out document: level 0 is the document itself (its title), level 1
    a section heading or an exhibit. `slot` is where on the page it starts (None: the top)."""

    page: int
    level: int
    title: str
    slot: int | None = None


def outline(laid: LaidOut, title: str | None = None) -> tuple[OutlineEntry, ...]:
    """The bookmarks of a document, in page order: its title (or `title`), each section heading
    (where it starts, not its continuation on a later page) and each exhibit, named by its
    letter and description. The PDF writes them as its outline; the DOCX styles the same
    paragraphs as headings (Heading 1 the title, Heading 2 the sections and the exhibit's first
    page), so a converted DOCX gets the same outline."""
    title = title if title is not None else plain(laid.document.title)
    entries = [OutlineEntry(0, 0, title)]
    exhibit_named = False
    for index, page in enumerate(laid.pages):
        if isinstance(page, ExhibitPage):
            if not exhibit_named:
                entries.append(OutlineEntry(index, 1, exhibit_bookmark(page.layout.exhibit)))
                exhibit_named = True
            continue
        for fragment in page.fragments:
            if not isinstance(fragment, TextFragment):
                continue
            if fragment.bookmark:
                exhibit_named = True
                text = fragment.bookmark
            elif not (fragment.heading and fragment.starts):
                continue
            else:
                text = " ".join("".join(t for t, _, _ in line) for line in fragment.lines)
                text = " ".join(text.split())
            if text and not (index == 0 and text == title):
                entries.append(OutlineEntry(index, 1, text, fragment.slot))
    return tuple(entries)


def _blocks(pager: _Pager, blocks: Sequence[Block]) -> None:
    for index, block in enumerate(blocks):
        _block(pager, block, blocks[index + 1] if index + 1 < len(blocks) else None)


def layout_document(
    document: LegalDocument, exhibit_layout: ExhibitLayout | None = None
) -> LaidOut:
    """The document's pages: caption and body, the exhibit (cover and table pages), then what
    follows the exhibit. `exhibit_layout` reuses an exhibit already cut into pages (a motion
    and its order share one)."""
    pager = _Pager()
    if document.caption is not None:
        _caption(pager, document.caption)
    _blocks(pager, document.blocks)
    pages: list[Page] = [PleadingPage(tuple(p)) for p in pager.pages if p]
    exhibit = document.exhibit
    if exhibit is not None and exhibit.frame.height:
        if document.caption is not None:  # a work list goes straight to its table
            cover = _Pager()
            _cover(cover, exhibit)
            pages += [PleadingPage(tuple(p)) for p in cover.pages if p]
        layout = exhibit_layout or layout_exhibit(exhibit)
        court = document.caption.court if document.caption is not None else ""
        caption = fit(
            f"{court} - {document.short_title}" if court else document.short_title,
            LANDSCAPE[0] - 2 * EXHIBIT_MARGIN,
            "sans",
            NOTE_SIZE,
        )
        pages += [ExhibitPage(layout, i, caption) for i in range(len(layout.pages))]
    if document.after:
        after = _Pager()
        _blocks(after, document.after)
        pages += [PleadingPage(tuple(p)) for p in after.pages if p]
    return LaidOut(document, tuple(pages))


# ------------------------------------------------------------------------------------------
# Exhibit pages


def exhibit_room(header_height: float) -> float:
    """Height left for rows on an exhibit page."""
    return LANDSCAPE[1] - EXHIBIT_MARGIN - TITLE_BAND - header_height - EXHIBIT_BOTTOM


def layout_exhibit(exhibit: Exhibit) -> ExhibitLayout:
    """Wrap every cell and cut the rows into landscape pages (rows never split)."""
    usable = LANDSCAPE[0] - 2 * EXHIBIT_MARGIN
    widths = column_widths(exhibit.columns, usable)
    inner = tuple(w - 2 * CELL_PAD_X for w in widths)
    header = tuple(
        tuple(
            "".join(t for t, _, _ in line)
            for line in wrap_runs([(c.header, True, False)], w, "sans", HEADER_SIZE)
        )
        for c, w in zip(exhibit.columns, inner, strict=True)
    )
    header_height = max(len(h) for h in header) * CELL_LEADING + 2 * CELL_PAD_Y
    room = exhibit_room(header_height)
    pages: list[tuple[ExhibitRow, ...]] = []
    current: list[ExhibitRow] = []
    used = 0.0
    for number, values in enumerate(exhibit.rows(), start=1):
        cells = tuple(
            tuple(wrap_text(v, w)) if v else ("",) for v, w in zip(values, inner, strict=True)
        )
        height = max(len(c) for c in cells) * CELL_LEADING + 2 * CELL_PAD_Y
        if current and used + height > room:
            pages.append(tuple(current))
            current, used = [], 0.0
        current.append(ExhibitRow(number, cells, height))
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
