"""Federal statute texts -> one normalised citation and the facts the pardon rules read.

Case lists and RAP sheets write the same federal section many ways: `21 USC 844`, `21:844`,
`21 U.S.C. § 844(a)`, `846/844`, `21 USC 846 (844)`, `D.C. Code § 48-904.01(d)(1)`,
`36 C.F.R. 2.35(b)(2)`, `UCMJ Art. 112a`. The rules must not depend on the spelling, so each
distinct text is read once here into:

- `code`: `USC` (United States Code), `DC` (D.C. Code), `CFR` (Code of Federal Regulations),
  `UCMJ` (military), `STATE` (a state code such as `HS 11357`), or null when no section is read;
- `title`, `section`, `subsection` (lower case, e.g. `(d)(1)`), and `statute`, the normalised
  citation (`21 USC 844(a)`, `DC 48-904.01(d)(1)`, `36 CFR 2.35(b)(2)`, `21 USC 846/844`);
- `object_section`: for an attempt or conspiracy section (21 USC 846, D.C. Code 48-904.09) the
  section it is an attempt or conspiracy to violate (`844`, `841`), from the statute text or,
  failing that, from the offense description (`ATTEMPTED POSSESSION` -> 844);
- `attempt`, `conspiracy`: the text says so (846 reads "attempt or conspiracy": only the words
  of the record tell them apart);
- `substance`: `marijuana`, `other` (another controlled substance is named, alone or with
  marijuana) or `unknown`.

A bare Controlled Substances Act section (`846/844`, `844`) is read as Title 21: those numbers
(801-971) name nothing else a federal drug case list would carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

#: The columns `parse_statutes` adds.
STATUTE_SCHEMA: dict[str, pl.DataType] = {
    "statute": pl.String(),
    "code": pl.String(),
    "title": pl.String(),
    "section": pl.String(),
    "subsection": pl.String(),
    "object_section": pl.String(),
    "attempt": pl.Boolean(),
    "conspiracy": pl.Boolean(),
    "substance": pl.String(),
}


@dataclass(frozen=True)
class Statute:
    """What one statute text (with its offense description) says."""

    statute: str | None
    code: str | None
    title: str | None
    section: str | None
    subsection: str | None
    object_section: str | None
    attempt: bool
    conspiracy: bool
    substance: str


_SUB = r"((?:\s*\((?:[A-Z]{1,4}|[0-9]{1,2})\))*)"
_SUB_GLUED = r"((?:\((?:[A-Z]{1,4}|[0-9]{1,2})\))*)"

#: Spellings of the codes, made one word each before the patterns run.
_CODE_WORDS = (
    (re.compile(r"\bU\.?\s*S\.?\s*C\.?\s*(?:A\.?|S\.?)?(?=[\s§:\d]|$)"), " USC "),
    (re.compile(r"\bUNITED STATES CODE\b"), " USC "),
    (re.compile(r"\bC\.?\s*F\.?\s*R\.?(?=[\s§\d]|$)"), " CFR "),
    (re.compile(r"\bD\.?\s*C\.?\s*(?:OFFICIAL\s+)?(?:CODE|ST\.?)(?:\s+ANN\.?)?"), " DCCODE "),
    (re.compile(r"\bDISTRICT OF COLUMBIA CODE\b"), " DCCODE "),
    (re.compile(r"§+|\bSECTIONS?\b|\bSECS?\.|\bTITLE\b"), " "),
)

_DC = re.compile(r"DCCODE\s*(\d{1,2}-\d{3,4}(?:\.\d{1,3})?)" + _SUB)
#: A D.C. Code section without the words "D.C. Code" (48-904.01(d)(1), 33-541(d)).
_DC_BARE = re.compile(r"(?<![\d.-])((?:48-9\d\d|33-5\d\d)(?:\.\d{1,3})?)" + _SUB)
_CFR = re.compile(r"(\d{1,2})\s*CFR\s*(\d{1,5}(?:[.-]\d{1,5}){0,3})" + _SUB)
_USC = re.compile(r"(\d{1,2})\s*USC\s*(\d{1,5}[A-Z]?)(?![.\d])" + _SUB)
_COLON = re.compile(r"(?<![\d:])(\d{1,2})\s*:\s*(\d{2,5}[A-Z]?)" + _SUB_GLUED)
_UCMJ = re.compile(r"\bUCMJ\b|\bART(?:ICLE|\.)?\s*112A\b|\b10\s*USC\s*912A\b")
#: A bare Controlled Substances Act section (Title 21).
_CSA = re.compile(r"(?<![\d.()-])(8[0-9]{2}|9[0-7][0-9])(?![\d.])" + _SUB_GLUED)
_STATE = re.compile(
    r"\b(?:HS|H&S|H\s*&\s*S|PC|VC|BP|WI)\b\s*-?\s*\d{3,5}|\d{3,5}(?:\([A-Z0-9]+\))*\s*"
    r"(?:HS|H&S|PC|VC|BP|WI)\b|HEALTH\s*(?:&|AND)\s*SAFETY|\bPENAL CODE|\bVEHICLE CODE|"
    r"\bCAL(?:IFORNIA|\.)?\s+(?:HEALTH|PENAL|H\s*&\s*S)"
)
#: The CSA sections an attempt or conspiracy (846, 963) is most often attached to.
_OBJECT = re.compile(r"(?<![\d.])(841|844|856|952|960|843|859|860|861)(?![\d.])" + _SUB_GLUED)

_HEADING = re.compile(
    r"ATTEMPTS?\s*(?:AND|OR|/|&)\s*CONSPIRAC(?:Y|IES)|CONSPIRAC(?:Y|IES)\s*(?:AND|OR|/|&)\s*ATTEMPTS?"
)
_ATTEMPT = re.compile(r"\bATTEMPT|\bATT\b|\bATTMPT|\bATMPT")
_CONSPIRACY = re.compile(r"CONSPIR|\bCONSP\b|\bCONS\b")
_MARIJUANA = re.compile(r"MARIJUANA|MARIHUANA|CANNABIS|HASHISH|\bMJ\b|\bPOT\b")
_OTHER = re.compile(
    r"COCAINE|\bCRACK\b|HEROIN|METH|AMPHETAMINE|FENTANYL|OXYCOD|HYDROCOD|OPIUM|OPIATE|OPIOID|"
    r"\bLSD\b|\bPCP\b|MDMA|ECSTASY|PSILOCY|MUSHROOM|KETAMINE|ALPRAZOLAM|XANAX|MORPHINE|"
    r"CODEINE|NARCOTIC|BARBITUR|PEYOTE|MESCALINE|STEROID"
)
_DISTRIBUTE = re.compile(r"DISTRIB|INTENT|\bPWID\b|\bSELL|\bSALE|MANUFACT|CULTIVAT|\bGROW")
_IMPORT = re.compile(r"IMPORT|EXPORT|SMUGGL")
_POSSESS = re.compile(r"POSS|\bUSE\b")


def _sub(text: str | None) -> str | None:
    cleaned = re.sub(r"\s+", "", text or "").lower()
    return cleaned or None


#: Dashes other than the hyphen (the proclamations print `48–904.01` with an en dash).
_DASHES = str.maketrans(
    {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"}
)


def _normalise(text: str) -> str:
    upper = f" {text.translate(_DASHES).upper()} "
    for pattern, word in _CODE_WORDS:
        upper = pattern.sub(word, upper)
    return re.sub(r"\s+", " ", upper).strip()


def _object_from(description: str) -> str | None:
    """The object of an attempt or conspiracy from the offense's words."""
    if _IMPORT.search(description):
        return "952"
    if _DISTRIBUTE.search(description):
        return "841"
    if _POSSESS.search(description):
        return "844"
    return None


def parse_statute(text: str | None, description: str | None = None) -> Statute:
    """One statute text (and the offense description, when the record has one)."""
    raw = text or ""
    words = f"{raw.upper()} {(description or '').upper()}"
    # 846's own heading ("attempt and conspiracy") says neither.
    words = _HEADING.sub(" ", words)
    attempt = bool(_ATTEMPT.search(words))
    conspiracy = bool(_CONSPIRACY.search(words))
    other = bool(_OTHER.search(words))
    substance = "other" if other else "marijuana" if _MARIJUANA.search(words) else "unknown"
    norm = _normalise(raw)
    code = title = section = subsection = obj = None
    rest = ""
    if _UCMJ.search(norm):
        code, title, section = "UCMJ", "10", "912a"
    elif m := _DC.search(norm) or _DC_BARE.search(norm):
        code, section, subsection = "DC", m.group(1), _sub(m.group(2))
        rest = norm[m.end() :]
    elif m := _CFR.search(norm):
        code, title, section, subsection = "CFR", m.group(1), m.group(2), _sub(m.group(3))
    elif m := _USC.search(norm) or _COLON.search(norm):
        code, title, section, subsection = "USC", m.group(1), m.group(2).lower(), _sub(m.group(3))
        rest = norm[m.end() :]
    elif _STATE.search(norm):
        code = "STATE"
    elif m := _CSA.search(norm):
        code, title, section, subsection = "USC", "21", m.group(1), _sub(m.group(2))
        rest = norm[m.end() :]
    if code == "USC" and title == "21" and section in ("846", "963"):
        found = _OBJECT.search(rest)
        obj = found.group(1) if found else _object_from(words)
    elif code == "DC" and section == "48-904.09":
        found = re.search(r"48-904\.01" + _SUB, rest)
        if found:
            obj = "48-904.01" + (_sub(found.group(1)) or "")
        else:
            guess = _object_from(words)
            obj = {"844": "48-904.01(d)(1)", "841": "48-904.01(a)"}.get(guess or "")
    statute = None
    if code == "USC":
        statute = f"{title} USC {section}{subsection or ''}" + (f"/{obj}" if obj else "")
    elif code == "DC":
        statute = f"DC {section}{subsection or ''}" + (f"/{obj}" if obj else "")
    elif code == "CFR":
        statute = f"{title} CFR {section}{subsection or ''}"
    elif code == "UCMJ":
        statute = "10 USC 912a (UCMJ art. 112a)"
    elif code == "STATE":
        statute = re.sub(r"\s+", " ", raw.strip().upper())
    return Statute(statute, code, title, section, subsection, obj, attempt, conspiracy, substance)


def parse_statutes(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with the `STATUTE_SCHEMA` columns, read from `statute_raw` and `description`.

    Each distinct (statute, description) pair is read once and joined back, so a list of
    thousands of cases with a few dozen spellings parses a few dozen texts."""
    keys = frame.select("statute_raw", "description").unique(maintain_order=True)
    parsed = [
        parse_statute(text, desc)
        for text, desc in zip(keys["statute_raw"], keys["description"], strict=True)
    ]
    table = pl.DataFrame(
        {
            "statute_raw": keys["statute_raw"],
            "description": keys["description"],
            **{
                name: pl.Series(name, [getattr(p, name) for p in parsed], dtype=dtype)
                for name, dtype in STATUTE_SCHEMA.items()
            },
        }
    )
    return frame.join(
        table,
        on=["statute_raw", "description"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
