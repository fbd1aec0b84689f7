"""What the office adds to a run before filing: court case numbers the record lacks, and the
public-safety ground for people still serving.

**Court case numbers.** A count whose record carries no court case number cannot be docketed,
so it is held out of every order and listed in `needs-case-number-<court>.csv` (and `.pdf`, for
the clerk). The office or the clerk fills in the `court_case_number` column of that file and
gives it back (`clearance filings --case-numbers FILE`): the rows are matched on `subject_id`
and `count_id`, and the counts go into their orders.

**Public safety.** For a person still serving, the People may oppose recall on the ground that
it would pose an unreasonable risk of danger to public safety (HS 11361.8(b), defined by PC
1170.18(c)). That is a judgment about a person that only the office can make; the program never
infers it. The office lists the counts in a CSV (`subject_id`, `count_id`, optional `note`) and
gives it with `--public-safety FILE`: those counts leave the recall motion and go in the
challenge notice with that ground (the note only in the confidential exhibit).

Errors name the file and line, never a value from it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from clearance.outputs.filings.data import FilingsError

KEY = ("subject_id", "count_id")
#: The groups a public-safety challenge can take a count out of (people still serving).
SERVING_GROUPS = frozenset({"recall-resentence", "policy-dismiss-pc1385", "related-dismiss-pc1385"})


def _read(path: Path, needed: tuple[str, ...], what: str) -> tuple[list[dict[str, str]], list[int]]:
    """Rows of a CSV the user gives, with their line numbers; one-line errors."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in needed if c not in header]
            if missing:
                raise FilingsError(
                    f"{path.name}: the {what} file needs the columns {', '.join(needed)} "
                    f"(missing: {', '.join(missing)})"
                )
            rows, lines = [], []
            for row in reader:
                rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
                lines.append(reader.line_num)
            return rows, lines
    except OSError:
        raise FilingsError(f"{path}: the {what} file cannot be read") from None
    except (UnicodeDecodeError, csv.Error):
        raise FilingsError(f"{path.name}: the {what} file is not a UTF-8 CSV") from None


def _lines_text(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:5])
    return f"line{'s' if len(lines) > 1 else ''} {shown}{' ...' if len(lines) > 5 else ''}"


def read_case_numbers(path: Path, convictions: pl.DataFrame) -> pl.DataFrame:
    """The court case numbers a file supplies: (subject_id, count_id, supplied_case)."""
    rows, lines = _read(path, (*KEY, "court_case_number"), "case number")
    keep = [(r, n) for r, n in zip(rows, lines, strict=True) if r["court_case_number"]]
    frame = pl.DataFrame(
        {
            "subject_id": [r["subject_id"] for r, _ in keep],
            "count_id": [r["count_id"] for r, _ in keep],
            "supplied_case": [" ".join(r["court_case_number"].split()) for r, _ in keep],
            "_line": [n for _, n in keep],
        },
        schema={
            "subject_id": pl.String,
            "count_id": pl.String,
            "supplied_case": pl.String,
            "_line": pl.Int64,
        },
    )
    twice = frame.filter(pl.struct(KEY).is_duplicated())["_line"].to_list()
    if twice:
        raise FilingsError(f"{path.name}: the same count is given twice ({_lines_text(twice)})")
    known = frame.join(convictions.select(*KEY, "court_case_number"), on=list(KEY), how="left")
    unknown = frame.join(convictions.select(*KEY), on=list(KEY), how="anti")["_line"].to_list()
    if unknown:
        raise FilingsError(
            f"{path.name}: no conviction of this run has that subject_id and count_id "
            f"({_lines_text(unknown)})"
        )
    clash = known.filter(
        pl.col("court_case_number").is_not_null()
        & (pl.col("court_case_number") != pl.col("supplied_case"))
    )["_line"].to_list()
    if clash:
        raise FilingsError(
            f"{path.name}: the record already has a different court case number for that "
            f"count ({_lines_text(clash)}); correct the record or leave the line out"
        )
    return frame.drop("_line")


def supply_case_numbers(convictions: pl.DataFrame, supplied: pl.DataFrame | None) -> pl.DataFrame:
    """The convictions with the supplied case numbers filled in where the record has none."""
    if supplied is None or supplied.height == 0:
        return convictions
    return (
        convictions.join(supplied, on=list(KEY), how="left", maintain_order="left")
        .with_columns(pl.coalesce("court_case_number", "supplied_case").alias("court_case_number"))
        .drop("supplied_case")
    )


def read_public_safety(path: Path) -> pl.DataFrame:
    """The counts the office challenges on the public-safety ground: (subject_id, count_id,
    public_safety_note, _line)."""
    rows, lines = _read(path, KEY, "public-safety")
    frame = pl.DataFrame(
        {
            "subject_id": [r["subject_id"] for r in rows],
            "count_id": [r["count_id"] for r in rows],
            "public_safety_note": [r.get("note") or None for r in rows],
            "_line": lines,
        },
        schema={
            "subject_id": pl.String,
            "count_id": pl.String,
            "public_safety_note": pl.String,
            "_line": pl.Int64,
        },
    )
    twice = frame.filter(pl.struct(KEY).is_duplicated())["_line"].to_list()
    if twice:
        raise FilingsError(f"{path.name}: the same count is given twice ({_lines_text(twice)})")
    return frame


def mark_public_safety(
    classified: pl.DataFrame, marks: pl.DataFrame | None, name: str = ""
) -> pl.DataFrame:
    """Adds `public_safety` and `public_safety_note`; a marked count leaves its recall group.

    Only a count the run relieves for a person still serving can be marked: for a completed
    sentence the statute allows a challenge on eligibility alone (HS 11361.8(f))."""
    if marks is None or marks.height == 0:
        return classified.with_columns(
            pl.lit(False).alias("public_safety"),
            pl.lit(None, dtype=pl.String).alias("public_safety_note"),
        )
    unknown = marks.join(classified.select(*KEY), on=list(KEY), how="anti")["_line"].to_list()
    if unknown:
        raise FilingsError(
            f"{name}: no conviction of this run has that subject_id and count_id "
            f"({_lines_text(unknown)})"
        )
    joined = marks.join(classified.select(*KEY, "order_group"), on=list(KEY), how="left")
    wrong = joined.filter(~pl.col("order_group").is_in(list(SERVING_GROUPS)).fill_null(True))[
        "_line"
    ].to_list()
    if wrong:
        raise FilingsError(
            f"{name}: the public-safety ground applies only to a count the run relieves for a "
            "person still serving (HS 11361.8(b)); a completed sentence can be challenged on "
            f"eligibility alone ({_lines_text(wrong)})"
        )
    flagged = classified.join(
        marks.drop("_line").with_columns(pl.lit(True).alias("public_safety")),
        on=list(KEY),
        how="left",
        maintain_order="left",
    ).with_columns(pl.col("public_safety").fill_null(False))
    return flagged.with_columns(
        pl.when(pl.col("public_safety"))
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("order_group"))
        .alias("order_group")
    )


def hold_without_case(classified: pl.DataFrame) -> pl.DataFrame:
    """Rows bound for an order or notice without a court case number are held out of it:
    `held_group` keeps the group they wait for."""
    group = pl.coalesce(pl.col("order_group"), pl.col("notice_group"))
    held = group.is_not_null() & pl.col("court_case_number").is_null()
    return classified.with_columns(
        pl.when(held).then(group).otherwise(pl.lit(None, dtype=pl.String)).alias("held_group"),
        pl.when(held)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("order_group"))
        .alias("order_group"),
        pl.when(held)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("notice_group"))
        .alias("notice_group"),
    )
