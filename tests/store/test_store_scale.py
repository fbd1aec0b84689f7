"""100,000 counts: every filter and sort pages correctly and bulk actions reach every count.

How fast they are is measured by the benchmark, not here: a timed assertion in a unit test
fails on a busy machine and proves nothing on an idle one.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.orm import Session
from store_helpers import AS_OF, SampleRun

from clearance.store import runs
from clearance.store.models import DETERMINATION_DATA_COLUMNS, Determination
from clearance.store.reviews import bulk_accept

COUNTS = 100_000


def _big_table(sample: SampleRun) -> pl.DataFrame:
    """The sample's determinations repeated with new subject ids up to COUNTS rows."""
    run_dir = sample.run_dir
    decided = pl.read_parquet(run_dir / "record" / "determinations.parquet")
    identity = pl.read_parquet(run_dir / "convictions.parquet").select(
        "subject_id", "count_id", "name", "dob", "cii_number", "source"
    )
    one = (
        decided.join(identity, on=["subject_id", "count_id"], how="left")
        .with_columns(
            pl.col("age").alias("age_at_offense"),
            pl.col("level").alias("offense_level"),
            pl.col("reasons").list.join(";"),
        )
        .select(DETERMINATION_DATA_COLUMNS)
    )
    copies = -(-COUNTS // one.height)
    return (
        pl.concat(
            [
                one.with_columns(pl.format("{}-{}", pl.lit(i), pl.col("subject_id")).alias(
                    "subject_id"
                ))
                for i in range(copies)
            ]
        )
        .head(COUNTS)
    )  # fmt: skip


def test_hundred_thousand_counts(session: Session, sample_run: SampleRun, attorney: object) -> None:
    table = _big_table(sample_run)
    run = runs.create_pending_run(session, "SACRAMENTO", "statute", "name: statute\n", AS_OF, "t")
    runs.bulk_insert(
        session,
        Determination.__table__,  # type: ignore[arg-type]
        table.with_columns(
            pl.lit(run.id, dtype=pl.Int64).alias("run_id"),
            pl.lit("pending").alias("review_status"),
        ),
    )
    session.commit()

    queries: list[dict[str, object]] = [
        {},
        {"page": COUNTS // 50 - 1},
        {"decision": "dismiss", "page": 200},
        {"reason": "remedy_completed", "page": 100},
        {"section": "HS 11359", "sort": "conviction_date", "descending": True},
        {"status": "pending", "sort": "code_section", "page": 500},
        {"sort": "name", "descending": True, "page": 1000},
        {"court": "SACRAMENTO", "sort": "decision"},
    ]
    for query in queries:
        rows, total = runs.query_determinations(session, run.id, **query)  # type: ignore[arg-type]
        assert rows and total > 0, query
    _, total = runs.query_determinations(session, run.id)
    assert total == COUNTS

    # The search box over the whole run, counted by the database against the table's own count.
    person = table.filter(pl.col("dob").is_not_null() & pl.col("name").str.contains(",")).row(
        COUNTS // 2, named=True
    )
    last = str(person["name"]).split(",")[0].strip()

    def holds(column: str, text: str) -> pl.Expr:
        found = pl.col(column).str.to_uppercase().str.contains(text.upper(), literal=True)
        return found.fill_null(False)

    searches = {
        str(person["subject_id"]): pl.col("subject_id") == person["subject_id"],
        person["dob"].strftime("%m/%d/%Y"): pl.col("dob") == person["dob"],
        last.lower(): holds("name", last) | holds("court_case_number", last),
    }
    for text, expected in searches.items():
        _, total = runs.query_determinations(session, run.id, search=text, page=2)
        assert total == table.filter(expected).height > 0, text

    accepted = bulk_accept(session, run.id, attorney, decision="dismiss")  # type: ignore[arg-type]
    assert accepted == table.filter(pl.col("decision") == "dismiss").height
    assert runs.reviewed_table(session, run.id).height == COUNTS
