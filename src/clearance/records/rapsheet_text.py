"""The small readers a RAP sheet's lines need: dates, numbers and sentences through OCR noise.

A RAP sheet reaches the project as text typed by a system, as a PDF made from that text, or as
a scan read back by OCR. OCR confuses a few shapes (`O` and `0`, `l` and `1`, `S` and `5`...).
Where a field can only hold digits (a date, a count number, the section before its code) the
confusion is undone when exactly one reading is a valid value; otherwise the value is left
unknown and reported. A guess that could move a conviction across 2016-11-09 is never made.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from clearance.records.canonical import SentencePart

#: Letters OCR reads in place of digits, and the digit each stands for.
_DIGIT_LOOKALIKES = str.maketrans(
    {
        "O": "0", "o": "0", "Q": "0", "D": "0", "U": "0",
        "I": "1", "l": "1", "i": "1", "|": "1", "!": "1", "L": "1", "J": "1",
        "Z": "2", "z": "2",
        "S": "5", "s": "5",
        "G": "6", "b": "6",
        "T": "7",
        "B": "8",
        "g": "9", "q": "9",
    }
)  # fmt: skip


def clean_text(text: str) -> str:
    """Upper case, accents and typographic dashes folded, page breaks and odd spaces removed.
    The number of lines is kept, so every line number still points at the source."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = (
        text.replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\f", "")
        .replace("\u00a0", " ")
        .replace("\t", "    ")
    )
    text = re.sub("[\u2010-\u2015\u2212]", "-", text)
    text = re.sub("[\u2018\u2019\u201a\u201b]", "'", text)
    text = text.replace("\u00b7", ".").replace("\u2022", ".")
    return text.upper()


@dataclass(frozen=True)
class Reading:
    """A value read from noisy text: the value (None when unknown), and what was done."""

    value: date | None
    corrected: bool = False
    doubt: str | None = None


def digits(raw: str) -> str | None:
    """The digits a token stands for, with OCR look-alikes replaced and stray periods and
    spaces dropped; None when some character is neither a digit nor a known look-alike."""
    token = re.sub(r"[.,' ]", "", raw)
    fixed = token.translate(_DIGIT_LOOKALIKES)
    return fixed if fixed.isdigit() else None


def read_date(raw: str) -> Reading:
    """A YYYYMMDD date. Unknown parts (`00`, `0000`) give an unknown date, not a guess."""
    token = re.sub(r"[.,' ]", "", raw)
    fixed = digits(raw)
    if fixed is None or len(fixed) != 8:
        return Reading(None, doubt=f"date {raw.strip()!r} cannot be read")
    corrected = fixed != token
    year, month, day = int(fixed[:4]), int(fixed[4:6]), int(fixed[6:])
    if month == 0 or day == 0 or year == 0:
        return Reading(None, corrected, doubt=f"date {raw.strip()!r} is marked unknown")
    try:
        value = date(year, month, day)
    except ValueError:
        return Reading(None, doubt=f"date {raw.strip()!r} is not a calendar date")
    if not 1900 <= value.year <= 2100:
        return Reading(None, doubt=f"date {raw.strip()!r} is out of range")
    return Reading(value, corrected)


#: A token that may be a date: eight digits or look-alikes, maybe with stray periods.
DATE_TOKEN = r"(?<![0-9A-Z])[0-9OQDIlLSZBG][0-9OQDIlLSZBG.]{6,10}[0-9OQDIlLSZBG](?![0-9A-Z])"


def find_date(line: str) -> tuple[Reading, int, int] | None:
    """The first date-like token of a line (at least four real digits), with its span."""
    for match in re.finditer(DATE_TOKEN, line):
        token = match.group(0)
        if sum(c.isdigit() for c in token) >= 4:
            return read_date(token), match.start(), match.end()
    return None


def fix_section(text: str) -> tuple[str, bool]:
    """The offense text with OCR look-alikes undone in its leading section number: `113S9 HS`
    is HS 11359, `1l357(B)` is 11357(b). Only the run before the first space, dash or bracket
    is touched, and only when it is mostly digits, so words are never changed."""
    match = re.match(r"^(\W*)([0-9A-Za-z|!]{3,8}(?:[.,][0-9A-Za-z]{1,3})?)(?=[\s(/\-]|$)", text)
    if not match:
        return text, False
    token = match.group(2)
    real = sum(c.isdigit() for c in token)
    # A subsection glued to a full section (`11357B2`, `11360A2`) is no misread digit.
    glued = re.fullmatch(r"[0-9]{4,}(?:[.,][0-9]+)?[A-Z][0-9]{0,2}", token)
    if real < 2 or real < len(token) - 2 or token.isdigit() or glued:
        return _comma_decimal(text), False
    fixed = token.replace(",", ".").translate(_DIGIT_LOOKALIKES)
    if not re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", fixed):
        return text, False
    return match.group(1) + fixed + text[match.end(2) :], fixed != token.replace(",", ".")


def _comma_decimal(text: str) -> str:
    """`496,3(A)` is PC 496.3(a): a comma inside the leading section is a misread period."""
    return re.sub(r"^(\W*[0-9]+),([0-9]+)", r"\1.\2", text)


_UNITS = {"Y": 0, "M": 1, "D": 2}
_KINDS = (
    ("PROBATION", r"PROB"),
    ("JAIL", r"JAIL|JL"),
    ("PRISON", r"PRISON|PRIS|CDC"),
    ("FINE", r"FINE"),
    ("RESTITUTION", r"RESTN|RSTN|RESTITUTION|RESIN"),
    ("PAROLE", r"PAROLE"),
    ("SUPERVISION", r"SUPERVISION|PRCS|MANDATORY"),
)


def read_sentence(text: str) -> tuple[SentencePart, ...]:
    """The parts of a sentence text: `012 MONTHS PROBATION, 045 DAYS JAIL` is 12 months of
    probation and 45 days of jail; `SEN-X3 YR PROB, 6 MO JL WORK, $971 FINE` as well. A fine or
    restitution carries an amount of money, never a length."""
    parts: list[SentencePart] = []
    for piece in re.split(r"[,;]", text.upper()):
        piece = piece.strip(" .'-")
        if not piece:
            continue
        kind = next((name for name, pat in _KINDS if re.search(rf"\b(?:{pat})", piece)), "OTHER")
        match = re.search(
            r"(?<![$0-9A-Z])([0-9OQDILSZBG]{1,4})\s*(YEARS?|YRS?|YR|Y|MONTHS?|MOS?|MO|M|DAYS?|DS|D)\b",
            piece,
        )
        if match is None or kind in ("FINE", "RESTITUTION"):
            parts.append(SentencePart(0, 0, 0, kind))
            continue
        amount = digits(match.group(1))
        if amount is None:
            parts.append(SentencePart(0, 0, 0, kind))
            continue
        length = [0, 0, 0]
        length[_UNITS[match.group(2)[0]]] = int(amount)
        parts.append(SentencePart(length[0], length[1], length[2], kind))
    return tuple(parts)
