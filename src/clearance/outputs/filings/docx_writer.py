"""DOCX writer: the same pages as the PDF, editable in a word processor.

An office edits a motion (a hearing date, a local rule) before it files it, so the DOCX holds
the PDF's caption, text and exhibits line for line: every paragraph has an exact line height
on the pleading grid, its lines end where the layout ended them (explicit line breaks), every
page starts where the layout started it (page break before its first paragraph), and exhibit
pages are one table each with rows of exact height. Line numbers 1-28 are a text box in the
header of the portrait sections, the footer carries "Page X of Y" fields and the short title.
A word processor therefore lays the file out page for page like the PDF (the tests render it
with LibreOffice and compare every page's text). The document's title is a "Heading 1",
its sections and each exhibit's first page "Heading 2": the PDF's outline (`layout.outline`)
again, so a DOCX converted to PDF gets the same bookmarks.

The body is written as one piece of WordprocessingML (a 66,000-row exhibit through
python-docx's object model takes many minutes); python-docx provides the package, styles,
headers and footers. The package is rewritten with fixed zip timestamps and document dates
(the run's as-of date), so the same run gives a byte-identical file.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Pt
from lxml import etree

from clearance.outputs.filings.fonts import DOCX_FAMILY, Family
from clearance.outputs.filings.layout import (
    CELL_LEADING,
    CELL_PAD,
    CELL_PAD_X,
    CELL_PAD_Y,
    CELL_SIZE,
    EXHIBIT_MARGIN,
    FOOTER_SIZE,
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
    TEXT_RIGHT,
    TEXT_WIDTH,
    TITLE_BAND,
    TITLE_SIZE,
    ExhibitPage,
    LaidOut,
    Line,
    Page,
    PleadingPage,
    TableFragment,
    TextFragment,
    fit,
)
from clearance.outputs.filings.model import plain
from clearance.outputs.filings.pdf import footer_line

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Zip entries get this timestamp (the earliest a zip can hold): no build time in the file.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_MARKER = "clearance-body-goes-here"
_MARKER_XML = f"<w:p><w:r><w:t>{_MARKER}</w:t></w:r></w:p>".encode()
#: Bottom margins: the body area is a little taller than the grid, so rounding in a word
#: processor never pushes the last line of a full page over.
PORTRAIT_BOTTOM = 44.0
LANDSCAPE_BOTTOM = 44.0
FOOTER_DISTANCE = 12.0
HEADER_DISTANCE = 18.0
EMU = 12700


def xml_text(text: str) -> str:
    """Text safe inside a w:t element (XML-escaped, control characters dropped)."""
    return escape(_CONTROL.sub("", text))


def tw(points: float) -> int:
    """Points -> twentieths of a point."""
    return round(points * 20)


def _rpr(family: Family, size: float, bold: bool, italic: bool) -> str:
    parts = []
    if family != "serif":
        name = DOCX_FAMILY[family]
        parts.append(f'<w:rFonts w:ascii="{name}" w:hAnsi="{name}" w:cs="{name}"/>')
    if bold:
        parts.append("<w:b/>")
    if italic:
        parts.append("<w:i/>")
    if size != 12.0:
        half = round(size * 2)
        parts.append(f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/>')
    return f"<w:rPr>{''.join(parts)}</w:rPr>" if parts else ""


def _full_rpr(family: Family, size: float, bold: bool) -> str:
    """Run properties that override a paragraph style entirely (font, weight, colour, size):
    for runs in a heading-styled paragraph."""
    name = DOCX_FAMILY[family]
    weight = "<w:b/>" if bold else '<w:b w:val="0"/>'
    return (
        f'<w:rPr><w:rFonts w:ascii="{name}" w:hAnsi="{name}" w:eastAsia="{name}" w:cs="{name}"/>'
        f'{weight}<w:color w:val="000000"/><w:sz w:val="{round(size * 2)}"/></w:rPr>'
    )


def _runs(line: Line, family: Family, size: float) -> str:
    return "".join(
        f'<w:r>{_rpr(family, size, bold, italic)}<w:t xml:space="preserve">{xml_text(text)}'
        "</w:t></w:r>"
        for text, bold, italic in line
    )


def _lines(lines: tuple[Line, ...], family: Family, size: float) -> str:
    return "<w:r><w:br/></w:r>".join(_runs(line, family, size) for line in lines)


def _spacing(line: float) -> str:
    return f'<w:spacing w:before="0" w:after="0" w:line="{tw(line)}" w:lineRule="exact"/>'


def _empty(height: float, page_break: bool) -> str:
    """An empty paragraph of an exact height (blank lines of the grid)."""
    brk = "<w:pageBreakBefore/>" if page_break else ""
    return f'<w:p><w:pPr>{brk}{_spacing(height)}<w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>'


def _text_paragraph(fragment: TextFragment, page_break: bool) -> str:
    ppr = []
    if fragment.heading:
        ppr.append(_HEADING.format(level=2))
    if page_break:
        ppr.append("<w:pageBreakBefore/>")
    ppr.append(_spacing(fragment.pitch * SLOT))
    if fragment.label:
        hang = fragment.indent - fragment.label_at
        ppr.append(f'<w:ind w:left="{tw(fragment.indent)}" w:hanging="{tw(hang)}"/>')
    elif fragment.first and fragment.starts:
        ppr.append(f'<w:ind w:left="{tw(fragment.indent)}" w:firstLine="{tw(fragment.first)}"/>')
    elif fragment.indent:
        ppr.append(f'<w:ind w:left="{tw(fragment.indent)}"/>')
    if fragment.align != "left":
        ppr.append(f'<w:jc w:val="{fragment.align}"/>')
    if fragment.heading:
        ppr.append('<w:rPr><w:b/><w:color w:val="000000"/><w:sz w:val="24"/></w:rPr>')
    body = ""
    if fragment.label:
        body = (
            _runs(((fragment.label, False, False),), "serif", fragment.size) + "<w:r><w:tab/></w:r>"
        )
    lines = fragment.lines
    if fragment.heading:
        # The heading style's colour and size give way to the pleading's.
        rpr = _full_rpr("serif", fragment.size, True)
        body += "<w:r><w:br/></w:r>".join(
            "".join(
                f'<w:r>{rpr}<w:t xml:space="preserve">{xml_text(text)}</w:t></w:r>'
                for text, _, _ in line
            )
            for line in lines
        )
    else:
        body += _lines(lines, "serif", fragment.size)
    return f"<w:p><w:pPr>{''.join(ppr)}</w:pPr>{body}</w:p>"


#: A heading style (the outline level a converted PDF's bookmarks follow), without the style's
#: own pagination: the layout has already placed every line.
_HEADING = '<w:pStyle w:val="Heading{level}"/><w:keepNext w:val="0"/><w:keepLines w:val="0"/>'


def _caption_cell(cell: tuple[Line, ...], title: tuple[int, int], size: float) -> str:
    """The right cell of a caption box: the title's lines one "Heading 1" paragraph (the
    document's title in the outline), every other line a paragraph of its own, each line one
    slot high as in the PDF."""
    first, end = title
    out = []
    for index, line in enumerate(cell):
        if index == first and end > first:
            out.append(
                f"<w:p><w:pPr>{_HEADING.format(level=1)}{_spacing(SLOT)}</w:pPr>"
                f"{_heading_lines(cell[first:end], 'serif', size)}</w:p>"
            )
        if first <= index < end:
            continue
        out.append(f"<w:p><w:pPr>{_spacing(SLOT)}</w:pPr>{_runs(line, 'serif', size)}</w:p>")
    return "".join(out)


def _heading_lines(lines: tuple[Line, ...], family: Family, size: float) -> str:
    """Lines of a heading-styled paragraph: runs that override the style's font, colour and
    size, each run keeping its own weight."""
    return "<w:r><w:br/></w:r>".join(
        "".join(
            f'<w:r>{_full_rpr(family, size, bold)}<w:t xml:space="preserve">'
            f"{xml_text(text)}</w:t></w:r>"
            for text, bold, _ in line
        )
        for line in lines
    )


def _border(side: str, size: int = 6, color: str = "000000") -> str:
    return f'<w:{side} w:val="single" w:sz="{size}" w:space="0" w:color="{color}"/>'


def _table(fragment: TableFragment, page_break: bool) -> str:
    """A caption box or small table: fixed grid, exact row heights, single-spaced cells."""
    out = []
    if page_break:
        out.append(_empty(0.05, True))
    family: Family = "serif" if fragment.style == "caption" else "sans"
    grid = "".join(f'<w:gridCol w:w="{tw(w)}"/>' for w in fragment.widths)
    if fragment.style == "grid":
        borders = "".join(
            _border(s, 4, "8C919E")
            for s in ("top", "left", "bottom", "right", "insideH", "insideV")
        )
        margins = (
            f'<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="{tw(CELL_PAD)}" '
            f'w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="{tw(CELL_PAD)}" '
            'w:type="dxa"/></w:tblCellMar>'
        )
    else:
        borders = ""
        margins = (
            '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="0" w:type="dxa"/>'
            '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar>'
        )
    out.append(
        f'<w:tbl><w:tblPr><w:tblW w:w="{tw(sum(fragment.widths))}" w:type="dxa"/>'
        f'<w:tblInd w:w="{tw(fragment.x)}" w:type="dxa"/>'
        f'<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/>{margins}'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
    )
    for r, (row, height) in enumerate(zip(fragment.rows, fragment.heights, strict=True)):
        header = fragment.style == "grid" and fragment.header and r == 0
        trpr = f'<w:trPr><w:cantSplit/><w:trHeight w:val="{tw(height * SLOT)}" w:hRule="exact"/>'
        trpr += "<w:tblHeader/></w:trPr>" if header else "</w:trPr>"
        cells = []
        for c, (cell, width) in enumerate(zip(row, fragment.widths, strict=True)):
            tcpr = f'<w:tcW w:w="{tw(width)}" w:type="dxa"/>'
            if fragment.style == "caption":
                if c == 0:
                    tcpr += (
                        f"<w:tcBorders>{_border('right', 8)}{_border('bottom', 8)}</w:tcBorders>"
                    )
                else:
                    tcpr += '<w:tcMar><w:left w:w="200" w:type="dxa"/></w:tcMar>'
            if header:
                tcpr += '<w:shd w:val="clear" w:color="auto" w:fill="D6DBE5"/>'
            if fragment.style == "caption" and c == 1 and fragment.title_lines is not None:
                paragraphs = _caption_cell(cell, fragment.title_lines, fragment.size)
            else:
                paragraphs = (
                    f"<w:p><w:pPr>{_spacing(SLOT)}</w:pPr>"
                    f"{_lines(cell, family, fragment.size)}</w:p>"
                )
            cells.append(f"<w:tc><w:tcPr>{tcpr}</w:tcPr>{paragraphs}</w:tc>")
        out.append(f"<w:tr>{trpr}{''.join(cells)}</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


def _pleading_page(page: PleadingPage, first: bool) -> Iterator[str]:
    """One page of pleading paper: blank slots as empty paragraphs, then each fragment."""
    cursor = 0
    page_break = not first
    for fragment in page.fragments:
        if fragment.slot > cursor:
            yield _empty((fragment.slot - cursor) * SLOT, page_break)
            page_break = False
        if isinstance(fragment, TextFragment):
            yield _text_paragraph(fragment, page_break)
        else:
            yield _table(fragment, page_break)
        page_break = False
        cursor = fragment.slot + fragment.slots


def _exhibit_page(page: ExhibitPage, first: bool) -> Iterator[str]:
    """Title band and one table of exact-height rows: the PDF's exhibit page."""
    layout = page.layout
    width = LANDSCAPE[0] - 2 * EXHIBIT_MARGIN
    brk = "" if first else "<w:pageBreakBefore/>"
    title = fit(page.title, width - 110, "sans", TITLE_SIZE, True)
    # The exhibit's first page is a heading (the exhibit in the outline); the title repeated
    # on every later page is not.
    style = _HEADING.format(level=2) if page.index == 0 else ""
    yield (
        f"<w:p><w:pPr>{style}"
        f"{brk}{_spacing(13)}"
        f'<w:tabs><w:tab w:val="right" w:pos="{tw(width)}"/></w:tabs></w:pPr>'
        f"<w:r>{_full_rpr('sans', TITLE_SIZE, True)}"
        f'<w:t xml:space="preserve">{xml_text(title)}</w:t></w:r><w:r><w:tab/></w:r>'
        f"<w:r>{_full_rpr('sans', NOTE_SIZE, False)}"
        f'<w:t xml:space="preserve">{xml_text(page.rows_note)}</w:t></w:r></w:p>'
    )
    yield (
        f'<w:p><w:pPr><w:spacing w:before="0" w:after="{tw(TITLE_BAND - 24)}" w:line="{tw(11)}" '
        f'w:lineRule="exact"/></w:pPr>'
        f"{_runs(((page.caption, False, False),), 'sans', NOTE_SIZE)}</w:p>"
    )
    grid = "".join(f'<w:gridCol w:w="{tw(w)}"/>' for w in layout.widths)
    borders = "".join(
        _border(s, 3, "8C919E") for s in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    parts = [
        f'<w:tbl><w:tblPr><w:tblW w:w="{tw(sum(layout.widths))}" w:type="dxa"/>'
        f'<w:tblInd w:w="0" w:type="dxa"/><w:tblBorders>{borders}</w:tblBorders>'
        '<w:tblLayout w:type="fixed"/><w:tblCellMar>'
        f'<w:top w:w="{tw(CELL_PAD_Y)}" w:type="dxa"/><w:left w:w="{tw(CELL_PAD_X)}" w:type="dxa"/>'
        f'<w:bottom w:w="0" w:type="dxa"/><w:right w:w="{tw(CELL_PAD_X)}" w:type="dxa"/>'
        f"</w:tblCellMar></w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
    ]
    cell_ppr = f'<w:pPr><w:pStyle w:val="ExhibitCell"/>{_spacing(CELL_LEADING)}</w:pPr>'
    head_rpr = _rpr("sans", HEADER_SIZE, True, False)
    parts.append(
        f'<w:tr><w:trPr><w:cantSplit/><w:trHeight w:val="{tw(layout.header_height)}" '
        'w:hRule="exact"/></w:trPr>'
    )
    for lines in layout.header:
        text = "<w:r><w:br/></w:r>".join(
            f'<w:r>{head_rpr}<w:t xml:space="preserve">{xml_text(t)}</w:t></w:r>' for t in lines
        )
        parts.append(
            '<w:tc><w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="D6DBE5"/></w:tcPr>'
            f"<w:p>{cell_ppr}{text}</w:p></w:tc>"
        )
    parts.append("</w:tr>")
    zebra = '<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="F0F2F7"/></w:tcPr>'
    for row in layout.pages[page.index]:
        parts.append(
            f'<w:tr><w:trPr><w:cantSplit/><w:trHeight w:val="{tw(row.height)}" w:hRule="exact"/>'
            "</w:trPr>"
        )
        fill = zebra if row.number % 2 == 0 else ""
        for lines in row.cells:
            text = "<w:r><w:br/></w:r>".join(
                f'<w:r><w:t xml:space="preserve">{xml_text(t)}</w:t></w:r>' if t else ""
                for t in lines
            )
            parts.append(f"<w:tc>{fill}<w:p>{cell_ppr}{text}</w:p></w:tc>")
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    yield "".join(parts)


def _sections(pages: tuple[Page, ...]) -> list[list[Page]]:
    """Runs of pages of one orientation: each becomes a DOCX section."""
    sections: list[list[Page]] = []
    for page in pages:
        if sections and type(sections[-1][-1]) is type(page):
            sections[-1].append(page)
        else:
            sections.append([page])
    return sections


def _header_numbers() -> str:
    """Line numbers 1-28 in a text box at the left of the page, with the rules of pleading
    paper (a double rule right of the numbers, a single one at the right)."""
    ns = (
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
    )
    numbers = "".join(
        f'<w:p><w:pPr>{_spacing(2 * SLOT)}<w:jc w:val="right"/></w:pPr>'
        f"<w:r><w:t>{n}</w:t></w:r></w:p>"
        for n in range(1, NUMBERED_LINES + 1)
    )

    def anchor(shape_id: int, name: str, x: float, y: float, w: float, h: float, body: str) -> str:
        return (
            '<w:r><w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" '
            f'relativeHeight="{shape_id}" behindDoc="1" locked="1" layoutInCell="1" '
            'allowOverlap="1"><wp:simplePos x="0" y="0"/>'
            f'<wp:positionH relativeFrom="page"><wp:posOffset>{round(x * EMU)}</wp:posOffset>'
            f'</wp:positionH><wp:positionV relativeFrom="page"><wp:posOffset>{round(y * EMU)}'
            "</wp:posOffset></wp:positionV>"
            f'<wp:extent cx="{round(w * EMU)}" cy="{round(h * EMU)}"/>'
            '<wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
            f'<wp:docPr id="{shape_id}" name="{name}"/><wp:cNvGraphicFramePr/>'
            "<a:graphic><a:graphicData "
            'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
            f"{body}</a:graphicData></a:graphic></wp:anchor></w:drawing></w:r>"
        )

    box_w = NUMBER_RIGHT - 20.0
    box = (
        '<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/>'
        f'<a:ext cx="{round(box_w * EMU)}" cy="{round(SLOT * 56 * EMU)}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln>'
        f"</wps:spPr><wps:txbx><w:txbxContent>{numbers}</w:txbxContent></wps:txbx>"
        '<wps:bodyPr rot="0" vert="horz" wrap="square" lIns="0" tIns="0" rIns="0" bIns="0" '
        'anchor="t"><a:noAutofit/></wps:bodyPr></wps:wsp>'
    )

    def rule(width: float) -> str:
        return (
            '<wps:wsp><wps:cNvCnPr/><wps:spPr><a:xfrm><a:off x="0" y="0"/>'
            f'<a:ext cx="0" cy="{round(PORTRAIT[1] * EMU)}"/></a:xfrm>'
            '<a:prstGeom prst="line"><a:avLst/></a:prstGeom>'
            f'<a:ln w="{round(width * EMU)}"><a:solidFill><a:srgbClr val="000000"/></a:solidFill>'
            "</a:ln></wps:spPr><wps:bodyPr/></wps:wsp>"
        )

    drawings = anchor(1, "Line numbers", 20.0, GRID_TOP, box_w, SLOT * 56, box)
    for index, x in enumerate((*RULE_LEFT, RULE_RIGHT), start=2):
        drawings += anchor(index, f"Rule {index - 1}", x, 0.0, 0.0, PORTRAIT[1], rule(0.6))
    return f'<w:p {ns}><w:pPr>{_spacing(1)}<w:rPr><w:sz w:val="2"/></w:rPr></w:pPr>{drawings}</w:p>'


def _setup_section(section: Section, portrait: bool, footer_title: str, first: bool) -> None:
    if portrait:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Pt(PORTRAIT[0]), Pt(PORTRAIT[1])
        section.left_margin = Pt(TEXT_LEFT)
        section.right_margin = Pt(PORTRAIT[0] - TEXT_RIGHT)
        section.top_margin = Pt(GRID_TOP)
        section.bottom_margin = Pt(PORTRAIT_BOTTOM)
    else:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Pt(LANDSCAPE[0]), Pt(LANDSCAPE[1])
        for side in ("left_margin", "right_margin", "top_margin"):
            setattr(section, side, Pt(EXHIBIT_MARGIN))
        section.bottom_margin = Pt(LANDSCAPE_BOTTOM)
    section.header_distance = Pt(HEADER_DISTANCE)
    section.footer_distance = Pt(FOOTER_DISTANCE)
    header = section.header
    header.is_linked_to_previous = False
    element = header._element
    for child in list(element):
        element.remove(child)
    if portrait:
        element.append(parse_xml(_header_numbers()))
    else:
        element.append(parse_xml(f'<w:p xmlns:w="{W_NS}"><w:pPr>{_spacing(1)}</w:pPr></w:p>'))
    footer = section.footer
    if not first:
        footer.is_linked_to_previous = True
        return
    footer.is_linked_to_previous = False
    element = footer._element
    for child in list(element):
        element.remove(child)
    line = xml_text(footer_line(footer_title, TEXT_WIDTH))
    sans = _rpr("sans", FOOTER_SIZE, False, False)
    serif = f'<w:rPr><w:sz w:val="{round(FOOTER_SIZE * 2)}"/></w:rPr>'

    def field(instruction: str) -> str:
        return f'<w:fldSimple w:instr="{instruction}"><w:r>{sans}<w:t>1</w:t></w:r></w:fldSimple>'

    element.append(
        parse_xml(
            f'<w:p xmlns:w="{W_NS}"><w:pPr><w:pBdr>{_border("top", 4, "8C919E")}</w:pBdr>'
            f'{_spacing(10)}<w:jc w:val="center"/></w:pPr>'
            f'<w:r>{sans}<w:t xml:space="preserve">Page </w:t></w:r>{field("PAGE")}'
            f'<w:r>{sans}<w:t xml:space="preserve"> of </w:t></w:r>{field("NUMPAGES")}</w:p>'
        )
    )
    element.append(
        parse_xml(
            f'<w:p xmlns:w="{W_NS}"><w:pPr>{_spacing(10)}<w:jc w:val="center"/></w:pPr>'
            f'<w:r>{serif}<w:t xml:space="preserve">{line}</w:t></w:r></w:p>'
        )
    )


def _styles(doc: DocxDocument) -> None:
    from docx.enum.style import WD_STYLE_TYPE

    normal = doc.styles["Normal"]
    normal.font.name = DOCX_FAMILY["serif"]
    normal.font.size = Pt(12)
    rfonts = normal.element.rPr.rFonts
    for attribute in ("w:eastAsia", "w:cs"):
        rfonts.set(qn(attribute), DOCX_FAMILY["serif"])
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    cell = doc.styles.add_style("Exhibit Cell", WD_STYLE_TYPE.PARAGRAPH)
    cell.base_style = normal
    cell.font.name = DOCX_FAMILY["sans"]
    cell.font.size = Pt(CELL_SIZE)
    cell_fonts = cell.element.rPr.rFonts
    for attribute in ("w:eastAsia", "w:cs"):
        cell_fonts.set(qn(attribute), DOCX_FAMILY["sans"])


def render_docx(laid: LaidOut, path: Path, as_of: date) -> None:
    """Write one laid-out document as DOCX."""
    doc = Document()
    _styles(doc)
    groups = _sections(laid.pages)
    for _ in groups[1:]:
        doc.add_section(WD_SECTION.NEW_PAGE)
    sections: list[Section] = list(doc.sections)
    for index, (section, pages) in enumerate(zip(sections, groups, strict=True)):
        _setup_section(section, isinstance(pages[0], PleadingPage), laid.footer_title, index == 0)
    body = doc.element.body
    # The section properties python-docx made, in order; the body is rewritten around them.
    breaks = [
        p.pPr.sectPr
        for p in body.iterchildren(qn("w:p"))
        if p.pPr is not None and p.pPr.sectPr is not None
    ]
    final = body.sectPr
    sect_xml = [etree.tostring(s, encoding="unicode") for s in (*breaks, final)]
    for child in list(body):
        body.remove(child)
    body.append(parse_xml(f'<w:p xmlns:w="{W_NS}"><w:r><w:t>{_MARKER}</w:t></w:r></w:p>'))
    parts: list[str] = []
    for index, pages in enumerate(groups):
        for number, page in enumerate(pages):
            first = number == 0
            if isinstance(page, PleadingPage):
                parts.extend(_pleading_page(page, first))
            else:
                parts.extend(_exhibit_page(page, first))
        if index < len(groups) - 1:
            parts.append(
                f'<w:p><w:pPr>{_spacing(0.05)}<w:rPr><w:sz w:val="2"/></w:rPr>'
                f"{sect_xml[index]}</w:pPr></w:p>"
            )
    parts.append(sect_xml[-1])
    props = doc.core_properties
    stamp = datetime(as_of.year, as_of.month, as_of.day)
    document = laid.document
    props.author = document.author
    props.last_modified_by = document.author
    props.title = plain(document.title)
    props.subject = plain(document.short_title)
    props.keywords = ", ".join(document.keywords)
    props.created = stamp
    props.modified = stamp
    props.revision = 1
    props.comments = ""
    doc.save(str(path))
    normalize_zip(path, {_MARKER_XML: "".join(parts).encode("utf-8")}, modified=as_of)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def normalize_zip(
    path: Path, document_xml: dict[bytes, bytes] | None = None, modified: date | None = None
) -> None:
    """Rewrite a zip package with fixed entry timestamps, replacing text in the main part.

    `document_xml` maps exact byte strings of word/document.xml to their replacement (each
    must occur exactly once). `modified` replaces the "last modified" date of the package
    properties, which some writers set to the time of saving. The thumbnail of python-docx's
    template (a picture of another document) is left out.
    """
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            if name == "word/document.xml" and document_xml:
                for old, new in document_xml.items():
                    if data.count(old) != 1:
                        raise RuntimeError("DOCX body marker not found exactly once")
                    data = data.replace(old, new)
            if name == "docProps/core.xml" and modified is not None:
                stamp = f"{modified.isoformat()}T00:00:00Z".encode()
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)


def read_exhibit_rows(path: Path) -> list[tuple[str, ...]]:
    """The data rows of a DOCX's exhibit pages (tables in the exhibit cell style), in order,
    header rows left out: for checks and tests. A cell's lines are joined by spaces."""
    doc = Document(str(path))
    rows: list[tuple[str, ...]] = []
    for table in doc.tables:
        styles = {s.get(qn("w:val")) for s in table._tbl.iter(qn("w:pStyle"))}
        if "ExhibitCell" not in styles:
            continue
        for tr in table._tbl.findall(qn("w:tr"))[1:]:
            cells = []
            for tc in tr.findall(qn("w:tc")):
                lines: list[str] = []
                current: list[str] = []
                for node in tc.iter(qn("w:t"), qn("w:br")):
                    if node.tag == qn("w:br"):
                        lines.append("".join(current))
                        current = []
                    else:
                        current.append(node.text or "")
                lines.append("".join(current))
                cells.append(" ".join(line for line in lines if line))
            rows.append(tuple(cells))
    return rows
