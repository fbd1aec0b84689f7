"""Small CSV files an office keeps by hand (addresses, a court's response), read by column name.

Such files come from spreadsheets and other systems: UTF-8 with or without a byte-order mark or
Latin-1, and headers spelled as each office likes (`Subject ID`, `SUBJECT_ID`, `subject`). One
reader serves them all, so that every such file is decoded and its columns matched the same
way; each caller says which names it knows and what error the user sees.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl


def column_key(name: str) -> str:
    """A column name compared without regard to case, spaces, underscores or punctuation."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def read_named_csv(
    path: Path, aliases: Mapping[str, tuple[str, ...]], error: type[Exception]
) -> pl.DataFrame:
    """The columns of `path` that `aliases` knows (canonical name: other spellings, as
    `column_key`s), renamed to their canonical names, every value a string. The first column
    matching a name wins; other columns are left out. Raises `error` (one line naming the file,
    never its content) for a file that is missing or not a CSV with a header row."""
    if not path.is_file():
        raise error(f"{path}: no such file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        frame = pl.read_csv(text.encode("utf-8"), infer_schema=False, truncate_ragged_lines=True)
    except pl.exceptions.PolarsError:
        raise error(f"{path.name}: not a CSV file with a header row") from None
    rename: dict[str, str] = {}
    for name in frame.columns:
        for canonical, spellings in aliases.items():
            known = (column_key(canonical), *spellings)
            if column_key(name) in known and canonical not in rename.values():
                rename[name] = canonical
                break
    return frame.select(list(rename)).rename(rename)
