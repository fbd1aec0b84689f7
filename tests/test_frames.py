"""`by_value`: per-distinct-value results spread back must equal the same work done per row,
whatever the key types (text, Categorical, Enum, booleans, dates) and with nulls."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from clearance.frames import by_value


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "code": ["HS", "PC", None, "HS", "PC", "HS", None],
            "section": ["11357", "187", "11360", "11357", "187", "11359", None],
            "attempt": [False, True, None, False, True, False, None],
            "day": [
                date(2016, 11, 8),
                date(2016, 11, 9),
                None,
                date(2016, 11, 8),
                None,
                date(1990, 1, 1),
                None,
            ],
            "level": ["felony", "misdemeanor", None, "felony", "unknown", "felony", None],
        }
    )


def _expected(frame: pl.DataFrame, outputs: dict[str, pl.Expr]) -> pl.DataFrame:
    return frame.with_columns(**outputs)


OUTPUTS = {
    "label": pl.concat_str(
        [
            pl.col("code").cast(pl.String).fill_null("?"),
            pl.col("section").cast(pl.String).fill_null("?"),
            pl.col("attempt").cast(pl.String).fill_null("?"),
            pl.col("day").cast(pl.String).fill_null("?"),
            pl.col("level").cast(pl.String).fill_null("?"),
        ],
        separator="|",
    ),
    "cannabis": (pl.col("code") == "HS") & pl.col("section").str.starts_with("113"),
}


@pytest.mark.parametrize("typed", ["text", "categorical"])
def test_by_value_equals_per_row(typed: str) -> None:
    frame = _frame()
    if typed == "categorical":
        frame = frame.with_columns(
            pl.col("code", "section").cast(pl.Categorical),
            pl.col("level").cast(pl.Enum(["felony", "misdemeanor", "infraction", "unknown"])),
        )
    keys = ["code", "section", "attempt", "day", "level"]
    got = by_value(frame, keys, **OUTPUTS)
    want = _expected(_frame(), OUTPUTS)
    assert got["label"].to_list() == want["label"].to_list()
    assert got["cannabis"].to_list() == want["cannabis"].to_list()
    # The rows keep their order and their own columns.
    assert got.select(keys).cast(pl.String).equals(frame.select(keys).cast(pl.String))


def test_by_value_single_categorical_key_with_null() -> None:
    frame = pl.DataFrame({"county": ["A", None, "B", "A", None]}).with_columns(
        pl.col("county").cast(pl.Categorical)
    )
    got = by_value(frame, ["county"], lower=pl.col("county").str.to_lowercase().fill_null("-"))
    assert got["lower"].to_list() == ["a", "-", "b", "a", "-"]
