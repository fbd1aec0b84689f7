"""summary.json: the figures a District Attorney reports, and the same under other policies.

The what-if blocks run the same engine on the same records with other policies (the statute
alone; dismiss every cannabis conviction; and the same plus related charges), so a board can
compare choices with numbers that come from one implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from clearance.engine import DECISIONS, Decided, decide
from clearance.law import lists
from clearance.outputs.tables import conviction_base, decade, people_table
from clearance.policy.schema import (
    POLICY_SECTIONS,
    Misdemeanors,
    Policy,
    Priors,
    RelatedCharges,
    statute_policy,
)
from clearance.records.doj import Records
from clearance.records.federal import federal_overview


def what_if_policies() -> dict[str, Policy]:
    """The alternatives every summary is compared with."""
    dismiss_all = Policy(
        name="dismiss-all",
        title="Dismiss every cannabis conviction",
        source="what-if: every eligible cannabis conviction dismissed, priors not applied",
        sections=dict.fromkeys(POLICY_SECTIONS, "dismiss"),
        misdemeanors=Misdemeanors(treatment="dismiss"),
        priors=Priors(effect="warn"),
    )
    related = [
        f"{e.code} {e.section}{e.subsection or ''}"
        for e in lists.RELATED_CHARGES_SAN_JOAQUIN.entries
    ]
    dismiss_all_related = dismiss_all.model_copy(
        update={
            "name": "dismiss-all-related",
            "title": "Dismiss every cannabis conviction and related charges",
            "source": "what-if: dismiss all, plus the related charges of the San Joaquin list",
            "related_charges": RelatedCharges(dismiss=related),
        }
    )
    return {
        "statute": statute_policy(),
        "dismiss_all": dismiss_all,
        "dismiss_all_related": dismiss_all_related,
    }


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    grouped = frame.group_by(column).len().sort(column, nulls_last=True)
    return {str(k): int(v) for k, v in grouped.iter_rows()}


def _nested(frame: pl.DataFrame, outer: pl.Expr) -> dict[str, dict[str, int]]:
    # Only the columns grouped are taken: a column added to the whole table could have its
    # other columns (the explanations) copied to line up with it.
    grouped = (
        frame.select(outer.alias("_outer"), "decision")
        .group_by(["_outer", "decision"])
        .len()
        .sort(["_outer", "decision"])
    )
    result: dict[str, dict[str, int]] = {}
    for key, decision, n in grouped.iter_rows():
        result.setdefault(str(key), {})[str(decision)] = int(n)
    return result


def impact(decided: Decided, records: Records, base: pl.DataFrame | None = None) -> dict[str, Any]:
    """Decisions and what they change for people (`base`: see `conviction_base`)."""
    table = decided.table
    people = people_table(decided, records, base)
    by_decision = dict.fromkeys(DECISIONS, 0) | _counts(table, "decision")
    return {
        "convictions": table.height,
        "people": people.height,
        "by_decision": by_decision,
        "people_impact": {
            # Only the two columns read are filtered: the table holds the explanations.
            "relieved": int(
                table.select("subject_id", "decision")
                .filter(pl.col("decision").is_in(["dismiss", "reduce"]))["subject_id"]
                .n_unique()
            ),
            "no_longer_felony": int(
                people.filter(
                    (pl.col("felonies_before") > 0) & (pl.col("felonies_after") == 0)
                ).height
            ),
            "no_conviction_left": int(
                people.filter(
                    (pl.col("convictions_before") > 0) & pl.col("no_conviction_left")
                ).height
            ),
            "no_conviction_last_7_years": int(
                people.filter(
                    pl.col("conviction_last_7_years_before")
                    & ~pl.col("conviction_last_7_years_after")
                ).height
            ),
        },
    }


def build_summary(
    decided: Decided,
    records: Records,
    with_what_ifs: bool = True,
    base: pl.DataFrame | None = None,
    *,
    what_ifs: Mapping[str, Decided] | None = None,
    input_totals: Mapping[str, int] | None = None,
    federal: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """Everything summary.json holds (keys sorted when written). `base` is the people's record
    before any decision (`conviction_base`), computed here when not given.

    A run decided in parts (`clearance.scale`) gives the what-ifs' decisions already made
    (`what_ifs`, by the keys of `what_if_policies`), and the input's `people` and `counts`
    (`input_totals`) and the overview of its federal entries (`federal`) when `records` holds
    only the people decided."""
    table = decided.table
    base = conviction_base(records, decided.as_of) if base is None else base
    quarantine_reasons = (
        _counts(
            records.quarantine.with_columns(pl.col("reason").str.split(":").list.first()),
            "reason",
        )
        if records.quarantine.height
        else {}
    )
    reasons = (
        table.select(pl.col("reasons").explode().alias("reason"))
        .drop_nulls()
        .group_by("reason")
        .len()
        .sort("reason")
    )
    summary: dict[str, Any] = {
        "input": {
            "files": [
                {
                    "name": f.path.replace("\\", "/").rsplit("/", 1)[-1],
                    "bytes": f.bytes,
                    "rows_read": f.rows_read,
                    "rows_loaded": f.rows_loaded,
                    "rows_quarantined": f.rows_quarantined,
                    "blank_lines": f.blank_lines,
                    "header": f.header,
                    "encoding": f.encoding,
                    "latin1_lines": f.latin1_lines,
                    "columns_by_name": f.columns is not None,
                    "extra_columns": list(f.extra_columns),
                }
                for f in records.files
            ],
            "rows_read": records.rows_read,
            "rows_loaded": records.rows_loaded,
            "rows_quarantined": records.rows_quarantined,
            "accounting_holds": records.rows_read == records.rows_loaded + records.rows_quarantined,
            "quarantined_by_reason": quarantine_reasons,
            "people": records.subjects.height,
            "counts": records.counts.height,
            **(input_totals or {}),
            "counts_merged_across_files": records.merged_duplicate_counts,
        },
        "county": decided.county,
        "policy": {
            "name": decided.policy.name,
            "title": decided.policy.title,
            "source": decided.policy.source,
        },
        "as_of": decided.as_of.isoformat(),
        # Federal entries (RAP sheets, DOJ rows of U.S. agencies): for `clearance federal`.
        "federal_entries": federal_overview(records) if federal is None else dict(federal),
        **impact(decided, records, base),
        "by_section": _nested(
            table, pl.col("code_section").str.replace(r"\(.*$", "").fill_null("unknown")
        ),
        "by_reason": {str(k): int(v) for k, v in reasons.iter_rows()},
        "by_decade": _nested(table, decade("conviction_date")),
    }
    if with_what_ifs:
        summary["what_if"] = {
            key: {
                "policy": policy.title,
                **impact(
                    decide(
                        records,
                        policy,
                        decided.as_of,
                        decided.county,
                        decided.cache,
                        explained=False,
                    )
                    if what_ifs is None
                    else what_ifs[key],
                    records,
                    base,
                ),
            }
            for key, policy in what_if_policies().items()
        }
    return summary
