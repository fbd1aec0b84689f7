"""A small document model shared by the PDF and DOCX writers.

Motions, orders, notices and petitions are composed once as `LegalDocument`s (caption, blocks
of text, an optional exhibit) and rendered by `pdf.py` and `docx_writer.py`, so the PDF a judge
reads and the DOCX an attorney edits say the same words.

Block text is a tiny markup: `<b>`, `<i>` and the entities `&amp; &lt; &gt;`. Anything taken
from the data goes through `esc` first, so a name such as "O'NEIL & SON" cannot break it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Literal

from clearance.outputs.filings.exhibit import Exhibit

BlockKind = Literal["heading", "para", "plain", "item", "signature", "table", "spacer"]


def esc(text: object) -> str:
    """Data text made safe for the block markup."""
    return html.escape(str(text), quote=False)


_TAG = re.compile(r"(</?[bi]>)")


def runs(markup: str) -> list[tuple[str, bool, bool]]:
    """Markup -> (plain text, bold, italic) runs, for writers without markup (DOCX)."""
    bold = italic = False
    out: list[tuple[str, bool, bool]] = []
    for part in _TAG.split(markup):
        if part == "<b>":
            bold = True
        elif part == "</b>":
            bold = False
        elif part == "<i>":
            italic = True
        elif part == "</i>":
            italic = False
        elif part:
            out.append((html.unescape(part), bold, italic))
    return out


def plain(markup: str) -> str:
    """Markup -> plain text."""
    return "".join(text for text, _, _ in runs(markup))


@dataclass(frozen=True)
class Block:
    """One piece of a document body.

    heading: a centred bold line; para: an indented paragraph; plain: a paragraph without
    indent; item: a numbered paragraph (`label` is its number); signature: a signature block
    (`lines` under the signature line, `text` above it); table: `rows` with a header row first;
    spacer: vertical space.
    """

    kind: BlockKind
    text: str = ""
    label: str = ""
    lines: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    widths: tuple[float, ...] = ()


@dataclass(frozen=True)
class LegalDocument:
    """A pleading or form: who files, the court, the caption, the body and an exhibit."""

    #: Top-left lines: attorney, bar number, office, whom they represent.
    filer: tuple[str, ...]
    court: str
    court_address: str
    #: Left cell of the caption: the parties.
    parties: tuple[str, ...]
    #: Right cell of the caption, above the title: case number lines.
    case_lines: tuple[str, ...]
    title: str
    #: Statutes under the title, e.g. "(Health and Safety Code §§ 11361.8, 11361.9)".
    title_note: str
    #: The footer title (California Rules of Court, rule 2.110).
    short_title: str
    blocks: tuple[Block, ...]
    exhibit: Exhibit | None = None
    #: Author metadata of the file.
    author: str = ""
    keywords: tuple[str, ...] = field(default=())
