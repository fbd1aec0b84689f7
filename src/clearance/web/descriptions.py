"""One line per downloadable file, saying what it holds and whom it is for.

A run folder holds a dozen tables and, once filings are built, dozens of documents whose names
an office cannot be expected to decode (`exhibit-b-sacramento-dismiss-seal.pdf`). The downloads
page shows each file's line beside it. Lines are matched on the path inside the run folder,
first match wins; the folder matters (`reviewed/convictions.csv` is not `convictions.csv`).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

#: (pattern on the relative path, description), tried in order.
_LINES: tuple[tuple[str, str], ...] = (
    (
        r"convictions\.csv",
        "Every cannabis conviction of the county with the engine's decision, "
        "its reasons and explanation, before review.",
    ),
    (
        r"results\.csv",
        "Every row of the DOJ file unchanged, with the decision columns added: "
        "data for programs, holding every identifier (SSN, driver's licence, FBI number).",
    ),
    (
        r"people\.csv",
        "One row per person: convictions and felonies before and after relief, "
        "and whether any conviction is left.",
    ),
    (
        r"summary\.json",
        "The run's figures for programs: counts by decision, section, reason and "
        "decade, and the what-if policies.",
    ),
    (
        r"quarantine\.csv",
        "Rows of the input that could not be read, with their file, line and "
        "reason (nothing is dropped silently).",
    ),
    (r"run\.json", "Every file of the folder with its size and SHA-256, to check it is whole."),
    (r"sources\.csv", "Where each person's record came from, source by source."),
    (r"matches\.csv", "People matched across sources, and how."),
    (r"shared-convictions\.csv", "Convictions found in more than one source."),
    (
        r"reviewed/convictions\.csv",
        "Every cannabis conviction with the reviews applied: the "
        "decision filed (accepted or overridden), who reviewed it and the note.",
    ),
    (
        r"reviewed/results\.csv",
        "Every row of the DOJ file with the reviewed decisions: data for "
        "programs, holding every identifier.",
    ),
    (r"reviewed/people\.csv", "One row per person after the reviewed decisions."),
    (r"reviewed/summary\.json", "The figures of the reviewed decisions, for programs."),
    (r"reviewed/quarantine\.csv", "The input rows that could not be read (as in the run)."),
    (r"reviewed/.*", "Part of the run's tables with the reviews applied."),
    (
        r"filings/motion-.*\.pdf",
        "Bulk motion to the court with its public Exhibit A (PDF, to file).",
    ),
    (
        r"filings/motion-.*\.docx",
        "Bulk motion with its public Exhibit A (Word, to edit before filing).",
    ),
    (r"filings/order-.*\.pdf", "Proposed order for the judge to sign, with Exhibit A (PDF)."),
    (r"filings/order-.*\.docx", "Proposed order for the judge to sign (Word, to edit)."),
    (
        r"filings/notice-.*\.pdf",
        "Notice to the court of relief under the statute, with Exhibit A (PDF).",
    ),
    (r"filings/notice-.*\.docx", "Notice to the court (Word, to edit)."),
    (
        r"filings/exhibit-b-.*",
        "Exhibit B: names, dates of birth and identifiers of the people "
        "listed; confidential, filed under seal.",
    ),
    (r"filings/challenge-.*\.pdf", "Notice of the convictions the People challenge (PDF)."),
    (r"filings/challenge-.*\.docx", "Notice of the convictions the People challenge (Word)."),
    (
        r"filings/review-.*\.(csv|pdf)",
        "Convictions left for a person to review, by office (confidential).",
    ),
    (
        r"filings/needs-case-number-.*",
        "Convictions the court cannot find without a case number (confidential).",
    ),
    (r"filings/not-filed-.*", "Convictions in no filing, with the reason (confidential)."),
    (
        r"filings/court-update-.*\.csv",
        "The court's update file: one line per conviction to "
        "change in the case system (confidential).",
    ),
    (
        r"filings/report\.html",
        "Impact report: figures, charts and method, for the public (web page).",
    ),
    (r"filings/report\.pdf", "Impact report: figures, charts and method, for the public (PDF)."),
    (
        r"filings/review\.xlsx",
        "Review workbook: every conviction with its decision, one sheet "
        "per decision (confidential).",
    ),
    (
        r"filings/manifest\.json",
        "What the filings hold: every file with its kind, court and counts, for programs.",
    ),
    (
        r"filings/filing-details\.json",
        "The filing details these filings were built with (office, signer, court).",
    ),
    (r"filings/packets?/.*", "A person's petition packet (confidential)."),
    (
        r"reconcile/.*",
        "The check of this run's relief against a newer state file or the court's answer.",
    ),
)
_COMPILED = tuple((re.compile(pattern + r"\Z"), line) for pattern, line in _LINES)

#: By suffix, for a file no pattern names.
_BY_SUFFIX = {
    ".csv": "A table (CSV).",
    ".pdf": "A document (PDF).",
    ".docx": "A document to edit (Word).",
    ".xlsx": "A workbook (Excel).",
    ".json": "Data for programs (JSON).",
    ".html": "A web page.",
}


def describe(relative: str) -> str:
    """The line shown beside a run file on the downloads page."""
    for pattern, line in _COMPILED:
        if pattern.match(relative):
            return line
    return _BY_SUFFIX.get(PurePosixPath(relative).suffix.lower(), "A file of the run.")
