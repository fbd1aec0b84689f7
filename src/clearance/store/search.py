"""The review queue's one search box: a name, a SUBJECT_ID, a CII number, a date of birth or part
of a court case number, turned into one SQL condition.

Why it is built this way:
- The search is a WHERE condition of the store's query, never a filter in Python over a run's
  rows, so it pages and counts like every other filter, on SQLite and PostgreSQL alike, however
  large the run.
- An office types what it has in front of it: a date of birth from a letter (`1975-08-20` or
  `08/20/1975`), a SUBJECT_ID or CII number from the DOJ file, a name in any order
  ("scott mitchell" finds `MITCHELL,SCOTT K`), a fragment of a case number. A date searches
  dates of birth only; anything else is matched against the identifiers exactly and against
  names and case numbers by their words, without regard to case.
- Every value is a bound parameter and LIKE wildcards in the text are escaped, so what is typed
  can only fail to match.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import ColumnElement, and_, false, or_

from clearance.store.models import Determination

__all__ = ["MAX_WORDS", "escape_like", "search_condition", "search_date"]

#: Words of a name search beyond this many are ignored (each is one LIKE over the run's rows).
MAX_WORDS = 6
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_WORDS = re.compile(r"[^\s,]+")
_SEPARATORS = re.compile(r"[\s-]+")


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards escaped (use with escape='\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_date(text: str) -> date | None:
    """The date `text` spells as YYYY-MM-DD or MM/DD/YYYY, or None if it is not one."""
    value = text.strip()
    iso = _ISO.fullmatch(value)
    us = _US.fullmatch(value)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if us:
            return date(int(us[3]), int(us[1]), int(us[2]))
    except ValueError:
        return None
    return None


def search_condition(text: str) -> ColumnElement[bool] | None:
    """The condition a search box's text stands for, or None when it is empty.

    A date (YYYY-MM-DD, MM/DD/YYYY) matches dates of birth; a string shaped like a date that is
    no date (02/30/1990) matches nothing rather than being searched as a name. Anything else
    matches a SUBJECT_ID or CII number exactly (the CII also without its dashes or spaces), a
    court case number containing the text, or a name containing every word of the text.
    """
    value = text.strip()
    if not value:
        return None
    d = Determination
    if _ISO.fullmatch(value) or _US.fullmatch(value):
        born = search_date(value)
        return d.dob == born if born is not None else false()
    compact = _SEPARATORS.sub("", value)
    words = _WORDS.findall(value)[:MAX_WORDS]
    name = (
        and_(*(d.name.ilike(f"%{escape_like(w)}%", escape="\\") for w in words))
        if words
        else false()
    )
    return or_(
        d.subject_id == value,
        d.cii_number == value,
        d.cii_number == compact.upper(),
        d.court_case_number.ilike(f"%{escape_like(value)}%", escape="\\"),
        name,
    )
