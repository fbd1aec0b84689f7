"""The review workbook (`review.xlsx`): one sheet per decision for the attorneys who check them.

Attorneys review in a spreadsheet: each sheet has a frozen header row, filters on every column,
dates stored as dates (so they sort and filter as dates), an `attorney_decision` column with a
dropdown of the allowed answers, and a `notes` column. The rows are those of convictions.parquet,
in SUBJECT_ID and count order, so a reviewed workbook can be matched back by
(subject_id, count_id).

openpyxl's write-only mode streams rows to the file, so a Los Angeles-sized run fits in memory;
the package is rewritten with fixed timestamps so the same run gives the same bytes. Text is
always written as text: a cell that starts like a formula (`=HYPERLINK(...)` as a name) is a
text cell with Excel's quote prefix, never a live formula.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from clearance.outputs.cells import FORMULA_STARTS, starts_like_formula
from clearance.outputs.filings.docx_writer import normalize_zip

#: One sheet per decision, in this order.
SHEETS: dict[str, str] = {
    "dismiss": "dismiss",
    "reduce": "reduce",
    "not_eligible": "not_eligible",
    "review": "review",
}
#: The answers offered in the attorney_decision dropdown.
ATTORNEY_CHOICES = ("agree", "dismiss", "reduce", "not_eligible", "review")
#: Columns of every sheet, in order (the convictions table with the two review columns).
WORKBOOK_COLUMNS = (
    "subject_id", "name", "dob", "cii_number", "county", "court_case_number", "count_id",
    "offense_date", "conviction_date", "age_at_offense", "code_section", "offense_level",
    "decision", "new_level", "remedy", "attorney_decision", "notes", "reasons", "explanation",
    "source",
)  # fmt: skip
REVIEW_COLUMNS = ("attorney_decision", "notes")
DATE_COLUMNS = frozenset({"dob", "offense_date", "conviction_date"})
WIDTHS: dict[str, float] = {
    "subject_id": 12, "name": 24, "dob": 11, "cii_number": 12, "county": 12,
    "court_case_number": 15, "count_id": 14, "offense_date": 11, "conviction_date": 11,
    "age_at_offense": 8, "code_section": 14, "offense_level": 11, "decision": 12,
    "new_level": 11, "remedy": 11, "attorney_decision": 16, "notes": 30, "reasons": 40,
    "explanation": 80, "source": 30,
}  # fmt: skip
DATE_FORMAT = "yyyy-mm-dd"


def _header(sheet: Any) -> list[WriteOnlyCell]:
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="D6DBE5")
    review_fill = PatternFill("solid", fgColor="FFF2CC")
    cells = []
    for name in WORKBOOK_COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cell.fill = review_fill if name in REVIEW_COLUMNS else fill
        cell.alignment = Alignment(vertical="top")
        cells.append(cell)
    return cells


def _text_cell(sheet: Any, value: str) -> WriteOnlyCell:
    """A cell that holds `value` as text, never as a formula, even when edited in Excel."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def write_workbook(convictions: pl.DataFrame, path: Path, as_of: date) -> dict[str, int]:
    """Write review.xlsx; returns the rows written per sheet."""
    workbook = Workbook(write_only=True)
    stamp = datetime(as_of.year, as_of.month, as_of.day)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.properties.creator = "clearance"
    workbook.properties.title = "Proposition 64 review workbook"
    frame = convictions.with_columns(
        pl.lit(None, dtype=pl.String).alias("attorney_decision"),
        pl.lit(None, dtype=pl.String).alias("notes"),
    ).select(WORKBOOK_COLUMNS)
    date_index = [i for i, c in enumerate(WORKBOOK_COLUMNS) if c in DATE_COLUMNS]
    text_columns = [c for c in WORKBOOK_COLUMNS if frame.schema[c] == pl.String]
    text_index = [WORKBOOK_COLUMNS.index(c) for c in text_columns]
    choice_column = get_column_letter(WORKBOOK_COLUMNS.index("attorney_decision") + 1)
    last_column = get_column_letter(len(WORKBOOK_COLUMNS))
    written: dict[str, int] = {}
    for decision, title in SHEETS.items():
        rows = frame.filter(pl.col("decision") == decision)
        sheet = workbook.create_sheet(title)
        sheet.freeze_panes = "A2"
        for index, name in enumerate(WORKBOOK_COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(name, 12)
        last_row = rows.height + 1
        sheet.auto_filter.ref = f"A1:{last_column}{last_row}"
        choices = DataValidation(
            type="list",
            formula1='"' + ",".join(ATTORNEY_CHOICES) + '"',
            allow_blank=True,
            showDropDown=False,
            showErrorMessage=True,
            errorTitle="attorney_decision",
            error="Choose one of: " + ", ".join(ATTORNEY_CHOICES),
            promptTitle="attorney_decision",
            prompt="agree with the decision, or the decision the attorney makes instead",
            showInputMessage=True,
        )
        choices.add(f"{choice_column}2:{choice_column}{max(last_row, 2)}")
        sheet.data_validations.append(choices)
        sheet.append(_header(sheet))
        # Rows with a cell that starts like a formula are found in one vectorised pass.
        risky = rows.select(
            pl.any_horizontal([starts_like_formula(c) for c in text_columns])
            if text_columns
            else pl.lit(False)
        ).to_series()
        for values, has_formula_text in zip(rows.iter_rows(), risky, strict=True):
            row: list[object] = list(values)
            for i in date_index:
                if row[i] is not None:
                    cell = WriteOnlyCell(sheet, value=row[i])
                    cell.number_format = DATE_FORMAT
                    row[i] = cell
            if has_formula_text:
                for i in text_index:
                    if isinstance(row[i], str) and str(row[i]).startswith(FORMULA_STARTS):
                        row[i] = _text_cell(sheet, str(row[i]))
            sheet.append(row)
        written[decision] = rows.height
    workbook.save(str(path))
    normalize_zip(path, modified=as_of)
    return written
