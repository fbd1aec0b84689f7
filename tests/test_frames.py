"""`by_value` and `ValueCache`: per-distinct-value results spread back must equal the same work
done per row, whatever the key types (text, Categorical, Enum, booleans, dates) and with nulls;
for the cache, also from call to call, from several threads, and past its limit. And
`chunk_slices`: a table cut at its chunk boundaries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import polars as pl
import pytest

from clearance.frames import ValueCache, by_value, chunk_slices


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


TEXT_KEYS = ["code", "section", "level"]
TEXT_OUTPUTS = {
    "label": pl.concat_str(
        [pl.col(k).fill_null("?") for k in TEXT_KEYS], separator="|"
    ).str.to_lowercase(),
    "cannabis": (pl.col("code") == "HS") & pl.col("section").str.starts_with("113"),
}


def _chunks() -> list[pl.DataFrame]:
    """The same values in several chunks, in other orders, some new in each chunk."""
    base = _frame().select(TEXT_KEYS)
    return [
        base,
        base.reverse(),
        pl.DataFrame({"code": ["VC", None], "section": ["23152", None], "level": [None, None]}),
        base.head(0),
        pl.concat([base.tail(3), base.head(2)]),
    ]


def test_value_cache_equals_per_row_from_call_to_call() -> None:
    cache = ValueCache(TEXT_KEYS, **TEXT_OUTPUTS)
    for chunk in _chunks():
        got = cache.apply(chunk)
        assert got.equals(chunk.with_columns(**TEXT_OUTPUTS)), chunk


def test_value_cache_on_a_categorical_key_with_null() -> None:
    cache = ValueCache(["county"], lower=pl.col("county").str.to_lowercase().fill_null("-"))
    for values in (["A", None, "B"], ["B", "C", None, "A"]):
        frame = pl.DataFrame({"county": values}).with_columns(pl.col("county").cast(pl.Categorical))
        want = [v.lower() if v else "-" for v in values]
        assert cache.apply(frame)["lower"].to_list() == want


def test_value_cache_starts_again_past_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ValueCache, "limit", 3)
    cache = ValueCache(TEXT_KEYS, **TEXT_OUTPUTS)
    for chunk in _chunks() * 2:
        assert cache.apply(chunk).equals(chunk.with_columns(**TEXT_OUTPUTS))


def test_value_cache_shared_by_threads() -> None:
    cache = ValueCache(TEXT_KEYS, **TEXT_OUTPUTS)
    chunks = _chunks() * 20
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(cache.apply, chunks))
    for chunk, got in zip(chunks, results, strict=True):
        assert got.equals(chunk.with_columns(**TEXT_OUTPUTS))


def test_chunk_slices_cut_a_table_at_its_chunks() -> None:
    pieces = [_frame().slice(0, 3), _frame().slice(3, 1), _frame().slice(4, 3)]
    table = pl.concat(pieces, how="vertical", rechunk=False)
    slices = chunk_slices(table)
    assert [s.height for s in slices] == [3, 1, 3]
    assert all(s.n_chunks("all") == [1] * s.width for s in slices)
    assert pl.concat(slices).equals(table)


def test_chunk_slices_cut_at_the_chunks_of_every_column() -> None:
    table = pl.concat([_frame().slice(0, 3), _frame().slice(3, 4)], rechunk=False)
    # One column in one chunk, another cut elsewhere: every slice still holds one chunk of each.
    uneven = table.with_columns(
        pl.Series("level", table["level"].to_list()),
        pl.concat([table["day"].slice(0, 5), table["day"].slice(5, 2)], rechunk=False),
    )
    assert uneven.n_chunks("all") == [2, 2, 2, 3, 1]
    slices = chunk_slices(uneven)
    assert [s.height for s in slices] == [3, 2, 2]
    assert all(s.n_chunks("all") == [1] * s.width for s in slices)
    assert pl.concat(slices).equals(uneven)
    assert [s.height for s in chunk_slices(table.rechunk())] == [7]
    assert [s.height for s in chunk_slices(table.clear())] == [0]
