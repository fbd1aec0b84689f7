"""Table helpers shared by the reader and the engine."""

from __future__ import annotations

import threading
from itertools import accumulate, pairwise

import numpy as np
import polars as pl

from clearance.records.schema import as_strings

#: Above this many combined codes, the keys are joined as text instead of as one integer.
_MAX_CODES = 1 << 62


def by_value(frame: pl.DataFrame, keys: list[str], **outputs: pl.Expr) -> pl.DataFrame:
    """Evaluate expressions once per distinct value of `keys` and spread the results back.

    A DOJ file repeats a few hundred values (step types, dispositions, counties, offense texts,
    dates) across millions of rows, so string work on the distinct values costs a fraction of
    the same work on every row. Rows find their result through a code per distinct key, which
    is cheaper than a join and keeps the row order. Keys held as Categorical or Enum are codes
    already; the expressions always see them as text.
    """
    numeric = _numeric_key(frame, keys)
    if numeric is not None:
        firsts, codes = _dense_codes(numeric)
        table = as_strings(frame.select(keys)[firsts])
        return frame.hstack(table.select(**outputs)[codes])
    if len(keys) == 1:
        key = frame[keys[0]]
    else:
        key = frame.select(
            pl.concat_str(
                [pl.col(k).cast(pl.String).fill_null("\x00") for k in keys], separator="\x1f"
            )
        ).to_series()
    firsts = key.arg_unique()
    table = frame.select(keys)[firsts]
    table_key = key.gather(firsts)
    present = table_key.is_not_null()
    categories = table_key.filter(present)
    string_codes = key.cast(pl.Enum(categories)).to_physical()
    if not present.all():
        # The one null value of a single key goes last in the table.
        table = pl.concat([table.filter(present), table.filter(~present)])
        string_codes = string_codes.fill_null(len(categories))
    values = table.select(**outputs)
    return frame.hstack(values[string_codes])


def _numeric_key(frame: pl.DataFrame, keys: list[str]) -> pl.Series | None:
    """The keys as one non-negative integer per row, when none of them is free text.

    Categorical and Enum columns are their codes, booleans and small integers their values; a
    null is one more code. Keys whose combined range would overflow are left to the text path.
    """
    combined: pl.Series | None = None
    span = 1
    for name in keys:
        column = frame[name]
        dtype = column.dtype
        if isinstance(dtype, pl.Categorical | pl.Enum):
            part = column.to_physical().cast(pl.Int64)
        elif dtype == pl.Boolean:
            part = column.cast(pl.Int64)
        elif dtype.is_integer() or dtype == pl.Date:
            part = column.to_physical().cast(pl.Int64)
        else:
            return None
        low = part.min()
        high = part.max()
        low_i = int(low) if isinstance(low, int) else 0
        width = (int(high) if isinstance(high, int) else 0) - low_i + 2
        part = (part - low_i).fill_null(width - 1)
        if span * width >= _MAX_CODES:
            return None
        combined = part if combined is None else combined * width + part
        span *= width
    return combined


def _dense_codes(key: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """(index of the first row of each distinct key, each row's position in that list)."""
    firsts = key.arg_unique()
    values = key.to_numpy()
    distinct = values[firsts.to_numpy()]
    if int(values.max(initial=0)) < 4 * len(values) + 1024:
        # A lookup table indexed by the key itself: one pass, no hashing.
        table = np.zeros(int(values.max(initial=0)) + 1, dtype=np.int64)
        table[distinct] = np.arange(len(distinct))
        return firsts, table[values]
    order = np.argsort(distinct)
    return firsts, order[np.searchsorted(distinct, values, sorter=order)]


def is_sorted_by(frame: pl.DataFrame, keys: list[str]) -> bool:
    """Whether the rows are in ascending order of `keys` (keys without nulls): a sort that is
    not needed costs a full copy of the table."""
    after: pl.Expr = pl.lit(False)
    same: pl.Expr = pl.lit(True)
    for key in keys:
        before = pl.col(key).shift(1)
        after = after | (same & (before < pl.col(key)))
        same = same & (before == pl.col(key))
    first = pl.int_range(pl.len()) == 0
    return bool(frame.select((first | after | same).fill_null(False).all()).item())


def chunk_slices(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """The frame cut at its chunk boundaries, so that each slice holds one chunk of every
    column, without a copy.

    A table concatenated from pieces (the determinations, decided a slice at a time) keeps one
    chunk per piece. A column computed over the whole table can come out as one chunk, and
    Polars then copies every other column into one chunk to line them up: for a statewide run
    that copies the explanations, about 260 MB. Working one slice at a time keeps the chunks in
    line. A column of one chunk (or one value) does not cut; columns chunked differently cut
    at the boundaries of each.
    """
    chunked = [c for c, n in zip(frame.columns, frame.n_chunks("all"), strict=True) if n > 1]
    cuts = {0, frame.height}
    for column in chunked:
        cuts.update(accumulate(frame[column].chunk_lengths()))
    bounds = sorted(cuts)
    return [frame.slice(a, b - a) for a, b in pairwise(bounds)] or [frame]


def compact_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its text columns copied into buffers of their own.

    Polars keeps text as views into shared buffers, so a few values picked from a parsed chunk
    keep that chunk's whole column alive. The reader keeps a few values (a person's name) of
    every chunk to the end of the read; copying them lets each chunk's buffers go. (Casting or
    rechunking keeps the views; building the strings anew does not.)
    """
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text:
        return frame
    return frame.with_columns(pl.concat_str([pl.col(c), pl.lit("")]).alias(c) for c in text)


class ValueCache:
    """`by_value` whose results are kept from one call to the next, for the reader's chunks.

    A file repeats the same dates, step types and offense texts in every chunk; with this cache
    each distinct value is evaluated once per process instead of once per chunk. The outputs
    must depend on the key values alone. Keys are cast to a Categorical of the cache's own,
    whose codes stay the same from chunk to chunk (an empty column of that type keeps its
    mapping alive: Polars drops a mapping that no column uses, and its codes would start
    again); a lookup array gives each code its row of results. Shared by the reader's threads
    (updates hold a lock). Past `limit` values it forgets everything and starts again, so a
    stream of values that never repeat cannot grow it without end.
    """

    #: Distinct values kept before the cache starts again.
    limit = 1 << 20

    def __init__(self, keys: list[str], **outputs: pl.Expr) -> None:
        self.keys = keys
        self.outputs = outputs
        self._lock = threading.Lock()
        self._start_again()

    def _start_again(self) -> None:
        self._dtype = pl.Categorical(pl.Categories.random())
        self._anchor = pl.Series(dtype=self._dtype)
        self._rows = np.full(0, -1, dtype=np.int64)
        self._table: pl.DataFrame | None = None

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` with the outputs' columns, as `by_value(frame, keys, **outputs)` gives."""
        if frame.height == 0:
            return frame.hstack(self._evaluate(frame))
        dtype = self._dtype
        codes = self._codes(frame, dtype)
        with self._lock:
            if self._table is not None and self._table.height >= self.limit:
                self._start_again()
            if self._dtype is not dtype:
                codes = self._codes(frame, self._dtype)
            if int(codes.max()) >= len(self._rows):
                grown = np.full(max(int(codes.max()) + 1, 2 * len(self._rows)), -1, np.int64)
                grown[: len(self._rows)] = self._rows
                self._rows = grown
            rows = self._rows[codes]
            missing = np.flatnonzero(rows < 0)
            if len(missing):
                new, first = np.unique(codes[missing], return_index=True)
                values = self._evaluate(frame[missing[first]])
                known = [] if self._table is None else [self._table]
                start = 0 if self._table is None else self._table.height
                self._table = pl.concat([*known, values], rechunk=True)
                self._rows[new] = np.arange(start, start + len(new))
                rows = self._rows[codes]
            table = self._table
        assert table is not None
        return frame.hstack(table[rows])

    def _evaluate(self, frame: pl.DataFrame) -> pl.DataFrame:
        return as_strings(frame.select(self.keys)).select(**self.outputs)

    def _codes(self, frame: pl.DataFrame, dtype: pl.Categorical) -> np.ndarray:
        """A code per row, the same for the same key values in every chunk."""
        key = frame.select(
            pl.concat_str(
                [pl.col(k).cast(pl.String).fill_null("\x00") for k in self.keys],
                separator="\x1f",
            ).cast(dtype)
        ).to_series()
        return key.to_physical().cast(pl.Int64).to_numpy()
