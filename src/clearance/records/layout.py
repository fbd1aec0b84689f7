"""Where each DOJ column is in one input file: read from its header by name, or the DOJ order.

Why by name: an office that opens the extract in a spreadsheet and saves it again may move
columns (dates swapped, SUBJECT_ID beside CII_NUMBER). Reading such a file by position would
load every row without a complaint and decide on the wrong facts. So when a file has a header,
its names say where each column is (any case, quoted or not, in any order); a column the
decisions need that the header lacks is a clear error naming it; columns the DOJ layout does
not know are kept for results.csv and reported. A file without a header is read in the DOJ
order, as the layout document gives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clearance.records import schema
from clearance.records.chunks import ReadError, header_names

#: The DOJ columns the canonical record is built from (the rest are never parsed). A header
#: without one of them cannot be read.
USED_COLUMNS: tuple[str, ...] = (
    "SUBJECT_ID", "CII_NUMBER", "PRI_NAME", "GENDER", "PRI_DOB", "CYC_DATE", "STP_EVENT_DATE",
    "STP_TYPE_DESCR", "STP_ORI_CNTY_NAME", "CNT_ORDER", "OFN", "OFFENSE_DESCR", "OFFENSE_TOC",
    "DISP_OFFENSE_DESCR", "DISP_OFFENSE_TOC", "CONV_OFFENSE_DESCR", "CONV_OFFENSE_TOC",
    "FE_NUM_CRT_CASE", "DISP_DESCR", "CONV_STAT_DESCR", "SENT_LENGTH", "SENT_TIME_CODE",
    "SENT_TIME_DESCR", "CYC_AGE", "COMMENT_TEXT", "SENT_LOC_DESCR",
)  # fmt: skip

_KNOWN = frozenset(schema.DOJ_COLUMNS)


@dataclass(frozen=True)
class Layout:
    """The columns of one file: its names in file order and the fields of a row."""

    names: tuple[str, ...]
    #: The header ended in a comma (an empty last name): rows may too.
    trailing_comma: bool = False

    @property
    def width(self) -> int:
        """Fields of a row (a trailing comma not counted)."""
        return len(self.names)

    @property
    def canonical(self) -> bool:
        """The DOJ order exactly: rows are copied to results.csv as they are."""
        return self.names == schema.DOJ_COLUMNS

    @property
    def used(self) -> tuple[int, ...]:
        """File positions of `USED_COLUMNS`, in that order."""
        where = {name: i for i, name in enumerate(self.names)}
        return tuple(where[name] for name in USED_COLUMNS)

    @property
    def extras(self) -> tuple[str, ...]:
        """Columns the DOJ layout does not have, in file order."""
        return tuple(name for name in self.names if name not in _KNOWN)

    def position(self, name: str) -> int | None:
        """Where a DOJ column is in this file; None when the file does not have it."""
        return self.names.index(name) if name in self.names else None


#: A file without a header: the DOJ order.
DOJ_LAYOUT = Layout(names=schema.DOJ_COLUMNS)


def layout_of(header: bytes | None, path: Path) -> Layout:
    """The layout a file's header gives, or the DOJ order without one; ReadError when the
    header lacks a column the decisions need or names one twice."""
    if header is None:
        return DOJ_LAYOUT
    names = header_names(header)
    trailing = len(names) > 1 and names[-1] == ""
    if trailing:
        names = names[:-1]
    if tuple(names) == schema.DOJ_COLUMNS:
        return Layout(names=schema.DOJ_COLUMNS, trailing_comma=trailing)
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise ReadError(f"{path}: the header names {', '.join(twice)} more than once")
    missing = [name for name in USED_COLUMNS if name not in names]
    if missing:
        raise ReadError(
            f"{path}: the header has no column {', '.join(missing)} (columns are matched by "
            "name; these are needed to decide)"
        )
    unnamed = [i + 1 for i, n in enumerate(names) if not n]
    if unnamed:
        raise ReadError(f"{path}: the header's column {unnamed[0]} has no name")
    return Layout(names=tuple(names), trailing_comma=trailing)
