"""Table helpers shared by the reader and the engine."""

from __future__ import annotations

import polars as pl


def by_value(frame: pl.DataFrame, keys: list[str], **outputs: pl.Expr) -> pl.DataFrame:
    """Evaluate expressions once per distinct value of `keys` and spread the results back.

    A DOJ file repeats a few hundred values (step types, dispositions, counties, offense texts,
    dates) across millions of rows, so string work on the distinct values costs a fraction of
    the same work on every row. Rows find their result through the key's code in an Enum of the
    distinct values, which is cheaper than a join and keeps the row order.
    """
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
    codes = key.cast(pl.Enum(categories)).to_physical()
    if not present.all():
        # The one null value of a single key goes last in the table.
        table = pl.concat([table.filter(present), table.filter(~present)])
        codes = codes.fill_null(len(categories))
    values = table.select(**outputs)
    return frame.hstack(values[codes])
