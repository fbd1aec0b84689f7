"""A small document model shared by the PDF and DOCX writers.

Motions, orders, notices and petitions are composed once as `LegalDocument`s (caption, blocks
of text, an optional exhibit, blocks after the exhibit such as a proof of service), laid out
once on pleading paper by `layout.py`, and drawn by `pdf.py` and `docx_writer.py`, so the PDF a
judge reads and the DOCX an attorney edits say the same words on the same lines of the same
pages.

Block text is a tiny markup: `<b>`, `<i>`, `<br/>` and the entities `&amp; &lt; &gt;`.
Anything taken from the data goes through `esc` first, so a name such as "O'NEIL & SON" cannot
break it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Literal

from clearance.outputs.filings.exhibit import Exhibit

BlockKind = Literal[
    "heading", "para", "plain", "item", "single", "signature", "table", "spacer", "pagebreak"
]


def esc(text: object) -> str:
    """Data text made safe for the block markup."""
    return html.escape(str(text), quote=False)


_TAG = re.compile(r"(</?[bi]>)")


def runs(markup: str) -> list[tuple[str, bool, bool]]:
    """Markup (without `<br/>`) -> (plain text, bold, italic) runs."""
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
    """Markup -> plain text (a `<br/>` becomes a space)."""
    return " ".join("".join(text for text, _, _ in runs(chunk)) for chunk in markup.split("<br/>"))


@dataclass(frozen=True)
class Block:
    """One piece of a document body, laid out on the pleading paper's numbered lines.

    heading: a centred bold line; para: a paragraph whose first line is indented; plain: a
    paragraph without indent; item: a paragraph with a hanging `label` (its number or check
    box); single: single-spaced text (`indent` from the left); signature: `label` (the date
    line) on the left, then, on the right half, `text` above the signature line and `lines`
    under it; table: `rows` with a header row first, `widths` relative; spacer: one blank line;
    pagebreak: the next block starts a new page. Every kind but single is double-spaced.
    """

    kind: BlockKind
    text: str = ""
    label: str = ""
    lines: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    widths: tuple[float, ...] = ()
    indent: float = 0.0


@dataclass(frozen=True)
class Caption:
    """The first page of a pleading (California Rules of Court, rule 2.111)."""

    #: Lines 1-7: who files (name and bar number, office, address, phone, email, for whom).
    filer: tuple[str, ...]
    court: str
    court_address: str
    #: Left cell of the caption: the parties.
    parties: tuple[str, ...]
    #: Right cell, above the title: case number lines.
    case_lines: tuple[str, ...]
    title: str
    #: Statutes under the title, e.g. "(Health and Safety Code §§ 11361.8, 11361.9)".
    title_note: str
    #: Under the title note: the hearing (date, time, department) or why there is none.
    hearing: tuple[str, ...] = ()


@dataclass(frozen=True)
class LegalDocument:
    """A pleading or form: its caption, body, an exhibit, and what follows the exhibit."""

    #: None for a work list (no caption).
    caption: Caption | None
    #: The footer title (California Rules of Court, rule 2.110).
    short_title: str
    blocks: tuple[Block, ...]
    exhibit: Exhibit | None = None
    #: Blocks after the exhibit, from a new page (a proof of service).
    after: tuple[Block, ...] = ()
    #: Author metadata of the file.
    author: str = ""
    keywords: tuple[str, ...] = field(default=())
    #: Marked on every page: lodged conditionally under seal (rules 2.550-2.551).
    confidential: bool = False
    #: On pleading paper (numbered lines, rules); false for a work list.
    numbered: bool = True

    @property
    def title(self) -> str:
        return self.caption.title if self.caption is not None else self.short_title
