"""The court update file, the review workbook, the impact report and the manifest."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
from filings_helpers import keys_of, pdf_pages
from openpyxl import load_workbook

from clearance.outputs.filings import FilingsResult, court_update
from clearance.outputs.filings.court_update import COURT_UPDATE_COLUMNS
from clearance.outputs.filings.data import load_run, rules_used
from clearance.outputs.filings.groups import ORDER_GROUPS
from clearance.outputs.filings.workbook import ATTORNEY_CHOICES, SHEETS, WORKBOOK_COLUMNS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "court-update-file.md"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_court_update_file_lists_the_order_rows(
    filings: FilingsResult, convictions: pl.DataFrame
) -> None:
    path = filings.out_dir / "court-update-sacramento.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == COURT_UPDATE_COLUMNS
    assert not any("11590" in column for column in header)
    rows = read_csv(path)
    relieved = convictions.filter(pl.col("decision").is_in(["dismiss", "reduce"]))
    assert set(Counter((r["cii_number"], r["count_id"]) for r in rows)) <= set(keys_of(relieved))
    assert {r["order_date"] for r in rows} == {"2019-03-01"}
    groups = {r["relief_group"] for r in rows}
    assert {"dismiss-seal", "redesignate"} <= groups <= {g.key for g in ORDER_GROUPS}
    for row in rows:
        assert row["court_case_number"], "a row without a case number is in no order"
        assert row["order_file"] == f"order-sacramento-{row['relief_group']}"
        assert (filings.out_dir / f"{row['order_file']}.pdf").exists()
        assert row["new_level_or_disposition"] in {
            "DISMISSED_AND_SEALED",
            "DISMISSED",
            "MISDEMEANOR",
            "INFRACTION",
        }
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["dob"])
        assert (row["sealed"] == "yes") == (row["relief_group"] == "dismiss-seal")
        if row["relief_group"] == "recall-resentence":
            assert row["authority"] == "HS 11361.8(a)-(d)"
        if row["relief_group"] == "policy-dismiss-pc1385":
            assert row["authority"].startswith("PC 1385")
            assert row["new_level_or_disposition"] == "DISMISSED"
    # Exhibit row numbers run 1..n within each order.
    for group in {r["relief_group"] for r in rows}:
        numbers = [int(r["exhibit_row"]) for r in rows if r["relief_group"] == group]
        assert numbers == list(range(1, len(numbers) + 1))


def test_court_update_columns_are_documented() -> None:
    docstring = court_update.__doc__ or ""
    text = DOCS.read_text(encoding="utf-8")
    for column in COURT_UPDATE_COLUMNS:
        assert column in docstring, column
        assert f"`{column}`" in text, column


def test_review_workbook_holds_every_conviction_by_decision(
    filings: FilingsResult, convictions: pl.DataFrame
) -> None:
    workbook = load_workbook(filings.out_dir / "review.xlsx")
    assert workbook.sheetnames == list(SHEETS.values())
    choice_letter = chr(ord("A") + WORKBOOK_COLUMNS.index("attorney_decision"))
    dob_index = WORKBOOK_COLUMNS.index("dob")
    for decision, title in SHEETS.items():
        sheet = workbook[title]
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == WORKBOOK_COLUMNS
        expected = convictions.filter(pl.col("decision") == decision)
        assert [(r[0], r[6]) for r in rows[1:]] == list(
            expected.select("subject_id", "count_id").iter_rows()
        )
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:T{len(rows)}"
        validations = sheet.data_validations.dataValidation
        assert len(validations) == 1
        assert validations[0].type == "list"
        assert validations[0].formula1 == '"' + ",".join(ATTORNEY_CHOICES) + '"'
        assert str(validations[0].sqref).startswith(f"{choice_letter}2:")
        for row_number, values in enumerate(rows[1:], start=2):
            if values[dob_index] is not None:
                assert isinstance(values[dob_index], dt.datetime)
                assert sheet.cell(row_number, dob_index + 1).number_format == "yyyy-mm-dd"
        if expected.height:
            first = expected.row(0, named=True)
            assert rows[1][dob_index].date() == first["dob"]


class _Figures(HTMLParser):
    """Collects the text of every element with a data-figure attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[tuple[str, str]] = []
        self._open: str | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("data-figure"):
            self._open = values["data-figure"]
        for name in ("src", "href"):
            link = values.get(name) or ""
            if link and not link.startswith("#"):
                self.external.append(link)

    def handle_data(self, data: str) -> None:
        if self._open is not None and data.strip():
            self.figures.append((self._open, data.strip()))
            self._open = None


def lookup(summary: dict[str, Any], path: str) -> Any:
    value: Any = summary
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def test_report_figures_equal_the_summary(filings: FilingsResult, run_dir: Path) -> None:
    run = load_run(run_dir)
    html = (filings.out_dir / "report.html").read_text(encoding="utf-8")
    parser = _Figures()
    parser.feed(html)
    assert not parser.external, "the report must not load other files"
    figures = dict(parser.figures)
    assert len(parser.figures) > 60
    for path, text in parser.figures:
        assert int(text.replace(",", "")) == lookup(run.summary, path), path
    summary = run.summary
    wanted = [f"by_decision.{d}" for d in summary["by_decision"]]
    wanted += [f"people_impact.{k}" for k in summary["people_impact"]]
    wanted += [f"by_reason.{k}" for k in summary["by_reason"]]
    wanted += [f"input.{k}" for k in ("rows_read", "rows_loaded", "rows_quarantined")]
    wanted += [
        f"input.quarantined_by_reason.{k}" for k in summary["input"]["quarantined_by_reason"]
    ]
    for section, counts in summary["by_section"].items():
        wanted += [f"by_section.{section}.{d}" for d in counts]
    for decade, counts in summary["by_decade"].items():
        wanted += [f"by_decade.{decade}.{d}" for d in counts]
    for key, block in summary["what_if"].items():
        wanted += [f"what_if.{key}.by_decision.{d}" for d in block["by_decision"]]
        wanted += [f"what_if.{key}.people_impact.{k}" for k in block["people_impact"]]
    missing = [w for w in wanted if w not in figures]
    assert not missing
    assert html.count("<svg") >= 5


def test_report_methodology_lists_every_rule_with_its_citation(
    filings: FilingsResult, run_dir: Path
) -> None:
    run = load_run(run_dir)
    rules = rules_used(run.policy, run.as_of)
    html = (filings.out_dir / "report.html").read_text(encoding="utf-8")
    methodology = html[html.index('id="methodology"') :]
    for rule in rules:
        assert f"<td>{rule.id}</td>" in methodology, rule.id
    listed = {rule.id for rule in rules}
    assert set(run.summary["by_reason"]) <= listed
    pdf = "\n".join(pdf_pages(filings.out_dir / "report.pdf"))
    assert "Methodology" in pdf
    assert f"{run.summary['convictions']:,}" in pdf
    assert "HS 11361.8" in pdf


def test_manifest_lists_every_file_written(filings: FilingsResult) -> None:
    names = {entry["file"] for entry in filings.manifest["files"]}
    for name in filings.files:
        assert (filings.out_dir / name).exists(), name
        if name != "manifest.json":
            assert name in names
    assert "packets/" in names
    access = {entry["file"]: entry["access"] for entry in filings.manifest["files"]}
    assert set(access.values()) == {"public", "confidential", "per-case"}
    for name, kind in access.items():
        if name.startswith(("exhibit-b-", "court-update-", "review-", "needs-case-")):
            assert kind == "confidential", name
        if name.startswith(("motion-", "order-", "notice-", "challenge-", "report.")):
            assert kind == "public", name
    on_disk = {
        p.relative_to(filings.out_dir).as_posix()
        for p in filings.out_dir.iterdir()
        if p.is_file() and p.name != "manifest.json"
    }
    assert on_disk == {n for n in names if not n.endswith("/")}
