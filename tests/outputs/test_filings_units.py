"""The pieces under the filings: relief groups, grounds, wrapping, layout, markup, filing info,
and byte-identical output."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from docx import Document
from openpyxl import load_workbook

from clearance.law.rule import Rule
from clearance.outputs.filings.data import FilingsError, load_run, resolve_filing
from clearance.outputs.filings.docx_writer import render_docx
from clearance.outputs.filings.exhibit import (
    DISMISS,
    REDESIGNATE,
    RESENTENCE,
    challenge_grounds,
    relief_exhibit,
    relief_group,
)
from clearance.outputs.filings.model import esc, plain, runs
from clearance.outputs.filings.motion import motion_document
from clearance.outputs.filings.pdf import layout_exhibit, render_pdf, wrap_text
from clearance.outputs.filings.workbook import write_workbook
from clearance.policy.schema import Filing, statute_policy


def frame(**columns: list[object]) -> pl.DataFrame:
    return pl.DataFrame(columns)


def rule(rule_id: str, outcome: str) -> Rule:
    return Rule(
        id=rule_id,
        citation="HS 0",
        text=rule_id,
        facts=(),
        outcome=outcome,  # type: ignore[arg-type]
        when=lambda: pl.lit(True),
    )


def test_relief_group_follows_decision_and_remedy() -> None:
    rows = frame(
        decision=["dismiss", "reduce", "reduce", "dismiss", "not_eligible", "review"],
        remedy=["11361.8(f)", "11361.8(f)", "11361.8(b)", "11361.8(b)", None, "11361.8(f)"],
    )
    groups = rows.select(relief_group())[:, 0].to_list()
    assert groups == [DISMISS.key, REDESIGNATE.key, RESENTENCE.key, RESENTENCE.key, None, None]


def test_challenge_grounds_keep_only_the_rules_that_bar_relief() -> None:
    rules = (rule("now_misdemeanor", "reduce_misdemeanor"), rule("after", "not_eligible"))
    rows = frame(
        reasons=["now_misdemeanor;after", "now_misdemeanor", "a;b"],
        explanation=["Reduced (HS 1) | Too late (HS 2): 2020-01-01", "Reduced (HS 1)", "only one"],
    )
    grounds = challenge_grounds(rows, rules).to_list()
    assert grounds == ["Too late (HS 2): 2020-01-01", "Reduced (HS 1)", "only one"]


def test_wrap_text_keeps_every_character() -> None:
    for text in ("short", "a much longer piece of text that has to wrap " * 3, "X" * 80):
        lines = wrap_text(text, 60.0)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(line for line in lines)


def test_layout_puts_every_row_on_exactly_one_page(run_dir: Path) -> None:
    run = load_run(run_dir)
    relieved = run.convictions.filter(pl.col("decision").is_in(["dismiss", "reduce"]))
    big = pl.concat([relieved] * 12).with_columns(
        pl.lit("dismiss").alias("decision"), pl.lit("11361.8(f)").alias("remedy")
    )
    exhibit = relief_exhibit(big, DISMISS, run.county)
    layout = layout_exhibit(exhibit)
    numbers = [row.number for page in layout.pages for row in page]
    assert numbers == list(range(1, exhibit.frame.height + 1))
    assert len(layout.pages) > 10


def test_markup_escapes_data_and_keeps_emphasis() -> None:
    markup = f"<b>Name:</b> {esc('O&apos;NEIL & <SON>')}"
    assert plain(markup) == "Name: O&apos;NEIL & <SON>"
    assert runs(markup)[0] == ("Name:", True, False)


def test_resolve_filing_uses_policy_then_overrides() -> None:
    policy = statute_policy().model_copy(
        update={"filing": Filing(office="Office", signer="Policy Signer", bar_number="1")}
    )
    with pytest.raises(FilingsError) as caught:
        resolve_filing(policy)
    assert "court_name, court_address" in str(caught.value)
    info = resolve_filing(
        policy,
        {"signer": "Override", "court_name": "Court", "court_address": "Street", "office": " "},
    )
    assert info.signer == "Override" and info.office == "Office" and info.bar_number == "1"


def test_documents_are_byte_identical_when_written_twice(run_dir: Path, tmp_path: Path) -> None:
    from filings_fixtures import FILING

    run = load_run(run_dir)
    filing = resolve_filing(run.policy, FILING)
    exhibit = relief_exhibit(run.convictions, REDESIGNATE, run.county)
    document = motion_document(run, filing, REDESIGNATE, exhibit)
    outputs = []
    for attempt in ("a", "b"):
        folder = tmp_path / attempt
        folder.mkdir()
        render_pdf([document], folder / "m.pdf")
        render_docx(document, folder / "m.docx", run.as_of)
        write_workbook(run.convictions, folder / "r.xlsx", date(2019, 1, 1))
        outputs.append([(folder / n).read_bytes() for n in ("m.pdf", "m.docx", "r.xlsx")])
    assert outputs[0] == outputs[1]
    # Dates inside the packages are the run's, not the time of writing.
    assert load_workbook(tmp_path / "a" / "r.xlsx").properties.modified.date() == date(2019, 1, 1)
    assert Document(str(tmp_path / "a" / "m.docx")).core_properties.modified.date() == run.as_of


def test_report_without_what_ifs_or_quarantine_and_twice_the_same(
    run_dir: Path, tmp_path: Path
) -> None:
    from dataclasses import replace

    from clearance.outputs.filings.charts import stacked_decisions
    from clearance.outputs.filings.data import rules_used
    from clearance.outputs.filings.report import build_report, render_html, render_report_pdf

    run = load_run(run_dir)
    summary = {k: v for k, v in run.summary.items() if k != "what_if"}
    summary["input"] = {**summary["input"], "quarantined_by_reason": {}}
    model = build_report(replace(run, summary=summary), rules_used(run.policy, run.as_of))
    written = []
    for attempt in ("a", "b"):
        render_html(model, tmp_path / f"{attempt}.html")
        render_report_pdf(model, tmp_path / f"{attempt}.pdf")
        written.append([(tmp_path / f"{attempt}.{ext}").read_bytes() for ext in ("html", "pdf")])
    assert written[0] == written[1]
    # A chart drawn again from the same figures is the same, in both formats.
    again = stacked_decisions(
        "by_decade",
        "Decisions by decade of conviction",
        list(summary["by_decade"]),
        summary["by_decade"],
    )
    first = next(c for s in model.sections for c in s.charts if c.name == "by_decade")
    assert (again.svg, again.png) == (first.svg, first.png)
    html = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "--no-what-if" in html
    assert "No row was quarantined" in html
