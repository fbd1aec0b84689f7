"""The canonical tables every module speaks: subjects, counts and quarantine.

The names are a contract (see DESIGN.md, "Canonical record"): the engine, the outputs, the
store and the web app all read these columns, so a reader of any new input format only has to
produce them. Dates are real `Date` values or null when the source did not say: a date is never
invented.
"""

from __future__ import annotations

import polars as pl

from clearance.records.offenses import OFFENSE_SCHEMA

#: The 95 columns of the DOJ bulk file, in order (0-based positions are list indices).
DOJ_COLUMNS: tuple[str, ...] = (
    "RECORD_ID", "SUBJECT_STATUS", "SUBJECT_ID", "REQ_SEG_SEP", "REQ_CII_NUMBER",
    "REQ_NAME", "REQ_GENDER", "REQ_DOB", "REQ_CDL", "REQ_SSN",
    "PII_SEG_SEP", "CII_NUMBER", "PRI_NAME", "GENDER", "PRI_DOB",
    "PRI_SSN", "PRI_CDL", "PRI_IDN", "PRI_INN", "FBI_NUMBER",
    "PDR_SEG_SEP", "RACE_CODE", "RACE_DESCR", "EYE_COLOR_CODE", "EYE_COLOR_DESCR",
    "HAIR_COLOR_CODE", "HAIR_COLOR_DESCR", "HEIGHT", "WEIGHT", "SINGLE_SOURCE",
    "MULTI_SOURCE", "POB_CODE", "POB_NAME", "POB_TYPE", "CITIZENSHIP_LIST",
    "CYC_SEG_SEP", "CYC_ORDER", "CYC_DATE", "STP_SEG_SEP", "STP_ORDER",
    "STP_EVENT_DATE", "STP_TYPE_CODE", "STP_TYPE_DESCR", "STP_ORI_TYPE", "STP_ORI_TYPE_DESCR",
    "STP_ORI_CODE", "STP_ORI_DESCR", "STP_ORI_CNTY_CODE", "STP_ORI_CNTY_NAME", "CNT_SEG_SEP",
    "CNT_ORDER", "DISP_DATE", "OFN", "OFFENSE_CODE", "OFFENSE_DESCR",
    "OFFENSE_TOC", "OFFENSE_QUAL_LST", "DISP_OFFENSE_CODE", "DISP_OFFENSE_DESCR",
    "DISP_OFFENSE_TOC", "DISP_OFFENSE_QUAL_LST", "CONV_OFFENSE_ORDER", "CONV_OFFENSE_CODE",
    "CONV_OFFENSE_DESCR", "CONV_OFFENSE_TOC", "CONV_OFFENSE_QUAL_LST", "FE_NUM_ORDER",
    "FE_NUM_ARR_AGY", "FE_NUM_BNCH_WARR", "FE_NUM_CITE", "FE_NUM_DOCKET", "FE_NUM_INCIDENT",
    "FE_NUM_BOOKING", "FE_NUM_NUMBER", "FE_NUM_REMAND", "FE_NUM_OOS_INN", "FE_NUM_CRT_CASE",
    "FE_NUM_WARRANT", "DISP_ORDER", "DISP_CODE", "DISP_DESCR", "CONV_STAT_CODE",
    "CONV_STAT_DESCR", "SENT_SEG_SEP", "SENT_ORDER", "SENT_LOC_CODE", "SENT_LOC_DESCR",
    "SENT_LENGTH", "SENT_TIME_CODE", "SENT_TIME_DESCR", "CYC_AGE", "CII_TYPE",
    "CII_TYPE_ALPHA", "COMMENT_TEXT", "END_OF_REC",
)  # fmt: skip
DOJ_FIELD_COUNT = len(DOJ_COLUMNS)
assert DOJ_FIELD_COUNT == 95

#: One row per person, merged across every input file by SUBJECT_ID.
SUBJECTS_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "cii_number": pl.String(),
    "name": pl.String(),
    "dob": pl.Date(),
    "sex": pl.String(),
    "deceased": pl.Boolean(),
    "pc290_registrant": pl.Boolean(),
}

#: Normalised step types (STP_TYPE_DESCR).
STEP_TYPES = ("arrest", "court", "registration", "deceased", "probation", "custody", "other")
#: Normalised dispositions (DISP_DESCR); null when the row carries none (arrest steps).
DISPOSITIONS = ("convicted", "dismissed", "acquitted", "set_aside", "other")
#: Normalised levels (CONV_STAT_DESCR, else the offense's type of charge).
LEVELS = ("felony", "misdemeanor", "infraction", "unknown")

#: The closed sets above as Enum types: one byte a count instead of a string.
STEP_TYPE = pl.Enum(STEP_TYPES)
DISPOSITION = pl.Enum(DISPOSITIONS)
LEVEL = pl.Enum(LEVELS)


def _compact(dtype: pl.DataType) -> pl.DataType:
    """Text that repeats across counts (offense texts, sections, counties, file names) is held
    as Categorical: four bytes a count, the text once. A statewide file has ~10M counts, and as
    strings these columns alone would need gigabytes."""
    return pl.Categorical() if dtype == pl.String() else dtype


#: One row per count at a step. Sentence parts (repeated CNT_ORDER rows) are folded into one
#: count; `source_line` is the first of them and `source_rows` how many rows it folds.
#: Categorical and Enum columns compare with plain strings (`county == "SACRAMENTO"`); a join or
#: a string function needs them cast to String first (see `as_strings`).
COUNTS_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "count_id": pl.String(),
    "cycle_id": pl.Categorical(),
    "event_id": pl.Categorical(),
    "step_type": STEP_TYPE,
    "event_date": pl.Date(),
    "offense_date": pl.Date(),
    "cycle_age": pl.Int32(),
    "county": pl.Categorical(),
    "court_case_number": pl.String(),
    "offense_raw": pl.Categorical(),
    # The parsed offense: the columns `offenses.parse_offenses` returns, text as Categorical.
    **{name: _compact(dtype) for name, dtype in OFFENSE_SCHEMA.items()},
    "disposition": DISPOSITION,
    "level": LEVEL,
    "sentence_days": pl.Int32(),
    "sentence_end": pl.Date(),
    #: the end when prison terms are served one after the other (added up), for the policy
    #: switch `judgment.consecutive_prison_terms`; `sentence_end` otherwise
    "sentence_end_consecutive": pl.Date(),
    #: the end with every part added up, as the pilot counties' tools read it (their flows)
    "sentence_end_added": pl.Date(),
    "source_file": pl.Categorical(),
    "source_line": pl.Int64(),
    "source_rows": pl.Int32(),
    #: every line the count was read from (its sentence parts), for results.csv
    "source_lines": pl.List(pl.Int64()),
}


def as_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its Categorical and Enum columns as String: for the small tables (a
    county's cannabis convictions, a run's determinations) that are joined with others and
    written out, where plain text is simpler than saving bytes."""
    coded = [c for c, t in frame.schema.items() if isinstance(t, pl.Categorical | pl.Enum)]
    return frame.with_columns(pl.col(coded).cast(pl.String)) if coded else frame


#: Rows set aside, with where they came from and why. `raw` is the line as read.
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_line": pl.Int64(),
    "reason": pl.String(),
    "raw": pl.String(),
}

#: Quarantine reasons (the text before any detail).
REASON_FIELD_COUNT = "wrong number of fields"
REASON_NO_SUBJECT = "no SUBJECT_ID"
REASON_BAD_CNT_ORDER = "CNT_ORDER is not 12 digits"
REASON_BAD_DATE = "unparseable STP_EVENT_DATE"
REASON_UNBALANCED_QUOTES = "unbalanced quotes"
REASON_REPEATED_HEADER = "repeated header"
REASON_NUL = "NUL byte in the line"
REASON_TOO_LONG = "line longer than"
REASON_BAD_CYCLE_DATE = "unparseable CYC_DATE"
REASON_BAD_DOB = "unparseable PRI_DOB"
REASON_DUPLICATE = "exact duplicate of line"
REASON_CR = "carriage return inside an unquoted field"


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty table with the given schema, so that no-data paths keep their column types."""
    return pl.DataFrame(schema=schema)
