"""DOCX writer for `LegalDocument`s: the same motion and order, editable in a word processor.

An office edits the motion (local rules, a hearing date) before it files it, so the DOCX holds
the same caption, text and Exhibit A as the PDF. python-docx builds the body; the exhibit table
is written as one piece of WordprocessingML and parsed once, because adding 66,000 rows through
python-docx's cell API takes many minutes. The header row repeats on every page
(`w:tblHeader`), rows do not split across pages, and the footer carries "Page X of Y" fields.

The package is rewritten with fixed zip timestamps and document dates (the run's as-of date), so
the same run gives a byte-identical file.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from clearance.outputs.filings.exhibit import Exhibit, column_widths
from clearance.outputs.filings.model import Block, LegalDocument, esc, plain, runs

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: Landscape letter less half-inch margins, in twentieths of a point.
EXHIBIT_WIDTH_TWIPS = 14400
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Zip entries get this timestamp (the earliest a zip can hold): no build time in the file.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def xml_text(text: str) -> str:
    """Text safe inside a w:t element (XML-escaped, control characters dropped)."""
    return escape(_CONTROL.sub("", text))


def _styles(doc: DocxDocument) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(8)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)

    def add(name: str, size: float, *, bold: bool = False, serif: bool = True) -> None:
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.font.name = "Times New Roman" if serif else "Arial"
        style.font.size = Pt(size)
        style.font.bold = bold

    add("Pleading Body", 12)
    body = doc.styles["Pleading Body"].paragraph_format
    body.first_line_indent = Inches(0.5)
    body.line_spacing = 1.5
    body.space_after = Pt(4)
    body.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    add("Pleading Plain", 12)
    doc.styles["Pleading Plain"].paragraph_format.line_spacing = 1.5
    doc.styles["Pleading Plain"].paragraph_format.space_after = Pt(4)
    add("Pleading Item", 12)
    item = doc.styles["Pleading Item"].paragraph_format
    item.left_indent = Inches(0.5)
    item.first_line_indent = Inches(-0.3)
    item.line_spacing = 1.5
    item.space_after = Pt(4)
    add("Pleading Heading", 12, bold=True)
    heading = doc.styles["Pleading Heading"].paragraph_format
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading.space_before = Pt(8)
    heading.space_after = Pt(6)
    add("Filer", 11)
    add("Court", 12, bold=True)
    doc.styles["Court"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add("Court Address", 10)
    doc.styles["Court Address"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add("Case Caption", 11.5)
    add("Case Caption Title", 11.5, bold=True)
    add("Signature", 12)
    doc.styles["Signature"].paragraph_format.left_indent = Inches(3.25)
    add("Footer Text", 8)
    doc.styles["Footer Text"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add("Exhibit Title", 10, bold=True, serif=False)
    add("Exhibit Cover", 28, bold=True)
    doc.styles["Exhibit Cover"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.styles["Exhibit Cover"].paragraph_format.space_before = Pt(200)
    doc.styles["Exhibit Cover"].paragraph_format.page_break_before = True
    add("Exhibit Note", 13)
    doc.styles["Exhibit Note"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _write(paragraph: Paragraph, markup: str) -> Paragraph:
    """Append the markup's runs (bold, italic, `<br/>` line breaks) to a paragraph."""
    for chunk_index, chunk in enumerate(markup.split("<br/>")):
        if chunk_index:
            paragraph.add_run().add_break()
        for text, bold, italic in runs(chunk):
            run = paragraph.add_run(_CONTROL.sub("", text))
            run.bold = bold or None
            run.italic = italic or None
    return paragraph


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A simple field (PAGE, NUMPAGES) that Word computes when it lays the document out."""
    element = parse_xml(
        f'<w:fldSimple xmlns:w="{W_NS}" w:instr="{instruction}"><w:r><w:t>1</w:t></w:r>'
        "</w:fldSimple>"
    )
    paragraph._p.append(element)


def _footer(doc: DocxDocument, title: str) -> None:
    for section in doc.sections:
        footer = section.footer
        footer.is_linked_to_previous = False
        first = footer.paragraphs[0]
        first.style = doc.styles["Footer Text"]
        first.add_run("Page ")
        _field(first, "PAGE")
        first.add_run(" of ")
        _field(first, "NUMPAGES")
        footer.add_paragraph(plain(title), style="Footer Text")


def _cell_border(cell: _Cell, sides: tuple[str, ...]) -> None:
    borders = "".join(
        f'<w:{side} w:val="single" w:sz="6" w:space="0" w:color="000000"/>' for side in sides
    )
    cell._tc.get_or_add_tcPr().append(
        parse_xml(f'<w:tcBorders xmlns:w="{W_NS}">{borders}</w:tcBorders>')
    )


def _caption(doc: DocxDocument, document: LegalDocument) -> None:
    for line in document.filer:
        _write(doc.add_paragraph(style="Filer"), line)
    doc.add_paragraph(style="Filer")
    _write(doc.add_paragraph(style="Court"), esc(document.court.upper()))
    _write(doc.add_paragraph(style="Court Address"), esc(document.court_address))
    doc.add_paragraph(style="Filer")
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].style = doc.styles["Case Caption"]
    _write(left.paragraphs[0], document.parties[0])
    for line in document.parties[1:]:
        _write(left.add_paragraph(style="Case Caption"), line)
    right.paragraphs[0].style = doc.styles["Case Caption"]
    _write(right.paragraphs[0], document.case_lines[0])
    for line in document.case_lines[1:]:
        _write(right.add_paragraph(style="Case Caption"), line)
    right.add_paragraph(style="Case Caption")
    _write(right.add_paragraph(style="Case Caption Title"), document.title)
    _write(right.add_paragraph(style="Case Caption"), document.title_note)
    _cell_border(left, ("right", "bottom"))
    doc.add_paragraph(style="Filer")


def _small_table(doc: DocxDocument, block: Block) -> None:
    table = doc.add_table(rows=0, cols=len(block.rows[0]))
    table.style = doc.styles["Table Grid"]
    for index, values in enumerate(block.rows):
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            run = cell.paragraphs[0].add_run(_CONTROL.sub("", value))
            run.bold = index == 0 or None
    doc.add_paragraph(style="Filer")


def _block(doc: DocxDocument, block: Block) -> None:
    if block.kind == "heading":
        _write(doc.add_paragraph(style="Pleading Heading"), block.text)
    elif block.kind == "para":
        _write(doc.add_paragraph(style="Pleading Body"), block.text)
    elif block.kind == "plain":
        _write(doc.add_paragraph(style="Pleading Plain"), block.text)
    elif block.kind == "item":
        paragraph = doc.add_paragraph(style="Pleading Item")
        paragraph.add_run(f"{block.label}\t")
        _write(paragraph, block.text)
    elif block.kind == "spacer":
        doc.add_paragraph(style="Pleading Plain")
    elif block.kind == "table":
        _small_table(doc, block)
    else:
        doc.add_paragraph(style="Pleading Plain")
        if block.label:
            _write(doc.add_paragraph(style="Pleading Plain"), block.label)
        if block.text:
            _write(doc.add_paragraph(style="Signature"), block.text)
        doc.add_paragraph(style="Signature")
        doc.add_paragraph(style="Signature")
        doc.add_paragraph("_" * 36, style="Signature")
        for line in block.lines:
            _write(doc.add_paragraph(style="Signature"), line)


def exhibit_table_xml(exhibit: Exhibit) -> str:
    """The exhibit as one w:tbl element: fixed grid, repeated header row, rows kept whole.

    The element has no namespace declaration: it is spliced into word/document.xml, whose root
    declares the `w` prefix.
    """
    # Fixed widths are in points: 20 twips each.
    twips = column_widths(
        tuple(replace(c, width=c.width * 20) for c in exhibit.columns), EXHIBIT_WIDTH_TWIPS
    )
    grid = "".join(f'<w:gridCol w:w="{round(w)}"/>' for w in twips)
    border = 'w:val="single" w:sz="4" w:space="0" w:color="8C919E"'
    borders = "".join(
        f"<w:{side} {border}/>" for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    head = "".join(
        '<w:tc><w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="D6DBE5"/></w:tcPr><w:p>'
        f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{xml_text(c.header)}</w:t></w:r>'
        "</w:p></w:tc>"
        for c in exhibit.columns
    )
    parts = [
        f'<w:tbl><w:tblPr><w:tblW w:w="{EXHIBIT_WIDTH_TWIPS}" w:type="dxa"/>'
        f"<w:tblBorders>{borders}</w:tblBorders>"
        '<w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="45" w:type="dxa"/>'
        '<w:right w:w="45" w:type="dxa"/></w:tblCellMar></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>"
        f"<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>{head}</w:tr>"
    ]
    open_cell = '<w:tc><w:p><w:r><w:t xml:space="preserve">'
    close_cell = "</w:t></w:r></w:p></w:tc>"
    between = close_cell + open_cell
    for row in exhibit.rows():
        parts.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>" + open_cell)
        parts.append(between.join(xml_text(value) for value in row))
        parts.append(close_cell + "</w:tr>")
    parts.append("</w:tbl>")
    return "".join(parts)


def _exhibit(doc: DocxDocument, document: LegalDocument, exhibit: Exhibit) -> None:
    _write(doc.add_paragraph(style="Exhibit Cover"), exhibit.label)
    _write(doc.add_paragraph(style="Exhibit Note"), esc(exhibit.title))
    n, people = exhibit.frame.height, exhibit.people
    doc.add_paragraph(
        f"{n:,} conviction{'s' if n != 1 else ''} of {people:,} person{'s' if people != 1 else ''}",
        style="Exhibit Note",
    )
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Inches(11), Inches(8.5)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(0.5))
    title = doc.add_paragraph(style="Exhibit Title")
    title.add_run(_CONTROL.sub("", f"{exhibit.label}: {exhibit.title}"))
    note = doc.add_paragraph(_CONTROL.sub("", f"{document.court} - {plain(document.short_title)}"))
    note.paragraph_format.space_after = Pt(6)
    for run in note.runs:
        run.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
    # The table goes in as text when the package is finished: moving a 66,000-row element into
    # python-docx's tree costs minutes, splicing its text costs nothing.
    doc.element.body.sectPr.addprevious(
        parse_xml(f'<w:p xmlns:w="{W_NS}"><w:r><w:t>{_MARKER}</w:t></w:r></w:p>')
    )


_MARKER = "clearance-exhibit-table-goes-here"
_MARKER_XML = f"<w:p><w:r><w:t>{_MARKER}</w:t></w:r></w:p>".encode()


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def normalize_zip(
    path: Path, document_xml: dict[bytes, bytes] | None = None, modified: date | None = None
) -> None:
    """Rewrite a zip package with fixed entry timestamps, replacing text in the main part.

    `document_xml` maps exact byte strings of word/document.xml to their replacement (each
    must occur exactly once). `modified` replaces the "last modified" date of the package
    properties, which some writers set to the time of saving.
    """
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            if name == "word/document.xml" and document_xml:
                for old, new in document_xml.items():
                    if data.count(old) != 1:
                        raise RuntimeError("DOCX exhibit marker not found exactly once")
                    data = data.replace(old, new)
            if name == "docProps/core.xml" and modified is not None:
                stamp = f"{modified.isoformat()}T00:00:00Z".encode()
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)


def render_docx(document: LegalDocument, path: Path, as_of: date) -> None:
    """Write one document (and its exhibit) as DOCX."""
    doc = Document()
    _styles(doc)
    section = doc.sections[0]
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Inches(1))
    section.top_margin = Inches(0.75)
    section.bottom_margin = Inches(1)
    _caption(doc, document)
    for block in document.blocks:
        _block(doc, block)
    if document.exhibit is not None and document.exhibit.frame.height:
        _exhibit(doc, document, document.exhibit)
    _footer(doc, document.short_title)
    props = doc.core_properties
    stamp = datetime(as_of.year, as_of.month, as_of.day)
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
    splice: dict[bytes, bytes] = {}
    if document.exhibit is not None and document.exhibit.frame.height:
        splice[_MARKER_XML] = (exhibit_table_xml(document.exhibit) + "<w:p/>").encode("utf-8")
    normalize_zip(path, splice, modified=as_of)


def read_exhibit_rows(path: Path) -> list[tuple[str, ...]]:
    """The data rows of a DOCX's exhibit table (the last table), for checks and tests."""
    doc = Document(str(path))
    if not doc.tables:
        return []
    tbl = doc.tables[-1]._tbl
    rows: list[tuple[str, ...]] = []
    for tr in tbl.findall(qn("w:tr"))[1:]:
        rows.append(
            tuple(
                "".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in tr.findall(qn("w:tc"))
            )
        )
    return rows
