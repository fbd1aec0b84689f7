"""The review queue with 100,000 counts: paging, filters, search and sorts run on the server.

Their speed belongs to the benchmark; a timed assertion here would only flake on a busy machine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import polars as pl
from web_site import Site, login

from clearance.store.db import session_factory
from clearance.store.models import Determination, Run, utcnow
from clearance.store.runs import bulk_insert

COUNTS = 100_000


def _big_run(site: Site) -> int:
    """A finished run with 100,000 stored counts (no run folder: the queue needs none)."""
    decisions = ["dismiss", "reduce", "not_eligible", "review"]
    sections = ["HS 11357(a)", "HS 11358(c)", "HS 11359(b)", "HS 11360(a)"]
    reasons = ["remedy_completed;policy_crime_free", "hs11359_now_misdemeanor", "no_lesser_level"]
    with session_factory(site.url)() as db:
        run = Run(
            created_at=utcnow(),
            created_by="analyst",
            county="SACRAMENTO",
            policy_name="statute",
            policy_text="name: statute\n",
            policy_sha256="0" * 64,
            as_of=date(2024, 1, 1),
            status="done",
        )
        db.add(run)
        db.flush()
        i = pl.col("i")

        def pick(values: list[Any]) -> pl.Expr:
            return pl.lit(pl.Series(values)).gather(i % len(values))

        days = [date(1980, 1, 1) + timedelta(days=d) for d in range(0, 14_000, 7)]
        frame = pl.DataFrame({"i": pl.int_range(0, COUNTS, eager=True)}).select(
            pl.lit(run.id, dtype=pl.Int64).alias("run_id"),
            (i // 3 + 10_000_000).cast(pl.String).alias("subject_id"),
            (i % 3 + 101_001_001_000).cast(pl.String).alias("count_id"),
            pl.format("PERSON,NUMBER {}", i // 3).alias("name"),
            (i // 3 + 500_000_000).cast(pl.String).alias("cii_number"),
            pick(days).alias("dob"),
            pick(decisions).alias("decision"),
            pick(sections).alias("code_section"),
            pick(["11357", "11358", "11359", "11360"]).alias("section"),
            pick(reasons).alias("reasons"),
            (i * 7 + 1_000_000).cast(pl.String).alias("court_case_number"),
            pick(days).alias("conviction_date"),
            pick(["felony", "misdemeanor"]).alias("offense_level"),
            pl.lit("pending").alias("review_status"),
        )
        bulk_insert(db, Determination.__table__, frame)  # type: ignore[arg-type]
        db.commit()
        return run.id


def _matching(test: Callable[[int], bool]) -> int:
    """How many of the big run's counts (numbered 0 .. COUNTS - 1) pass `test`."""
    return sum(1 for n in range(COUNTS) if test(n))


def test_queue_pages_filter_and_sort_100k_counts(site: Site) -> None:
    run_id = _big_run(site)
    with site.client() as client:
        login(client, "viewer")
        url = f"/runs/{run_id}/review"
        cases = [
            ({}, COUNTS),
            ({"page": "1500"}, COUNTS),
            ({"decision": "review", "sort": "conviction_date", "desc": "1"}, COUNTS // 4),
            ({"decision": "reduce", "sort": "name", "page": "400"}, COUNTS // 4),
            ({"reason": "no_lesser_level", "sort": "court_case_number"}, COUNTS // 3),
            ({"section": "HS 11359", "status": "pending", "page": "300"}, COUNTS // 4),
            ({"court": "1000700"}, 1),
            # The search box, evaluated by the database over the whole run.
            ({"search": "10004242"}, 3),
            ({"search": "500004242"}, 3),
            ({"search": "number 4242"}, _matching(lambda n: "4242" in str(n // 3))),
            ({"search": "70007"}, _matching(lambda n: "70007" in str(n * 7 + 1_000_000))),
            ({"search": "1980-01-08", "sort": "name"}, COUNTS // 2000),
            ({"search": "01/08/1980", "page": "2"}, COUNTS // 2000),
            ({"search": "person 999999"}, 0),
        ]
        client.get(url)  # warm the page cache and the templates
        for params, expected in cases:
            response = client.get(url, params=params)
            assert response.status_code == 200, params
            total = re.search(r'id="total">([\d,]+)<', response.text)
            assert total and int(total.group(1).replace(",", "")) == expected, params
            assert response.text.count("<tr>") <= 51, "one page of 50 rows at most"
