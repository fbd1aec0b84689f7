"""Build small DOJ bulk files from readable histories, for scenario tests.

A scenario is a person and a list of events written the way an attorney reads a RAP sheet
(offense text, dates, disposition, level, county, sentence). The builder writes them in the
exact 95-column DOJ layout and the test reads them back through the real reader, so every
scenario also exercises parsing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from clearance.records.schema import DOJ_COLUMNS

PLACEHOLDER = "  -  "


@dataclass
class Event:
    """One arrest cycle: an arrest step and (unless step says otherwise) a court step."""

    offense: str
    offense_date: date | None
    date: date | None = None
    disposition: str = "CONVICTED"
    level: str = "F"
    county: str = "SACRAMENTO"
    step: str = "court"
    case: str | None = None
    sentence: list[str] = field(default_factory=list)
    conv_offense: str | None = None
    comment: str | None = None
    extra_counts: list[dict[str, Any]] = field(default_factory=list)


def _ymd(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def _level_word(level: str) -> str:
    return {"F": "FELONY", "M": "MISDEMEANOR", "I": "INFRACTION"}.get(level, "")


def rows_for(
    subject_id: str,
    dob: date | None,
    events: list[Event],
    name: str = "DOE,JANE Q",
    deceased_on: date | None = None,
    deceased_county: str = "SACRAMENTO",
) -> list[list[str]]:
    """The DOJ rows of one person."""
    rows: list[list[str]] = []

    def row(cycle: int, step: int, count: int, **values: str) -> list[str]:
        base = dict.fromkeys(DOJ_COLUMNS, PLACEHOLDER)
        base.update(
            SUBJECT_ID=subject_id,
            CII_NUMBER=f"A{subject_id}",
            PRI_NAME=name,
            PRI_DOB=_ymd(dob),
            CNT_ORDER=f"{cycle:03d}{step:03d}{count:03d}000",
            COMMENT_TEXT="",
            OFN="",
            DISP_DESCR="",
            SENT_LENGTH="",
            SENT_TIME_CODE="",
        )
        base.update(values)
        return [base[c] for c in DOJ_COLUMNS]

    for i, ev in enumerate(events, start=1):
        cyc = _ymd(ev.offense_date)
        counts = [
            {
                "offense": ev.offense,
                "level": ev.level,
                "disposition": ev.disposition,
                "conv_offense": ev.conv_offense,
                "comment": ev.comment,
                "sentence": ev.sentence,
            },
            *ev.extra_counts,
        ]
        if ev.step == "registration":
            rows.append(
                row(
                    i,
                    1,
                    1,
                    CYC_DATE=cyc,
                    STP_EVENT_DATE=_ymd(ev.date or ev.offense_date),
                    STP_TYPE_DESCR="REGISTRATION",
                    STP_ORI_CNTY_NAME=ev.county,
                    OFFENSE_DESCR=ev.offense,
                )
            )
            continue
        for n, c in enumerate(counts, start=1):
            rows.append(
                row(
                    i,
                    1,
                    n,
                    CYC_DATE=cyc,
                    STP_EVENT_DATE=cyc,
                    STP_TYPE_DESCR="ARREST/DETAINED/CITED",
                    STP_ORI_CNTY_NAME=ev.county,
                    OFFENSE_DESCR=c["offense"],
                    OFFENSE_TOC=c.get("level", "F"),
                )
            )
        if ev.step != "court":
            continue
        for n, c in enumerate(counts, start=1):
            parts = c.get("sentence") or [""]
            for part in parts:
                length, unit = (part[:-1], part[-1]) if part else ("", "")
                rows.append(
                    row(
                        i,
                        2,
                        n,
                        CYC_DATE=cyc,
                        STP_EVENT_DATE=_ymd(ev.date or ev.offense_date),
                        STP_TYPE_DESCR="COURT ACTION",
                        STP_ORI_CNTY_NAME=ev.county,
                        OFN=ev.case or f"CASE{subject_id}{i:02d}",
                        OFFENSE_DESCR=c["offense"],
                        OFFENSE_TOC=c.get("level", "F"),
                        CONV_OFFENSE_DESCR=c.get("conv_offense") or PLACEHOLDER,
                        COMMENT_TEXT=c.get("comment") or "",
                        DISP_DESCR=c.get("disposition", "CONVICTED"),
                        CONV_STAT_DESCR=_level_word(c.get("level", "F")),
                        SENT_LENGTH=length,
                        SENT_TIME_CODE=unit,
                    )
                )
    if deceased_on:
        rows.append(
            row(
                len(events) + 1,
                1,
                1,
                CYC_DATE=_ymd(deceased_on),
                STP_EVENT_DATE=_ymd(deceased_on),
                STP_TYPE_DESCR="DECEASED",
                STP_ORI_CNTY_NAME=deceased_county,
                OFFENSE_DESCR="DECEASED",
            )
        )
    return rows


def write_doj(path: Path, people: list[list[list[str]]], header: bool = True) -> Path:
    """Write people's rows as a DOJ bulk file (RFC 4180 quoting where needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(DOJ_COLUMNS)
    for rows in people:
        writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def count_id(cycle: int, count: int = 1, step: int = 2) -> str:
    """The CNT_ORDER of the court count of a cycle in a built file."""
    return f"{cycle:03d}{step:03d}{count:03d}000"
