"""Round trips: synthetic DOJ records printed as RAP sheets (text, PDF, scan) and read back get
the same decisions as the DOJ-file path."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from clearance.engine import decide
from clearance.policy.schema import statute_policy
from clearance.records.chunks import ReadError
from clearance.records.doj import read_doj
from clearance.records.rapsheet import read_rapsheets
from clearance.synth import write_synthetic
from clearance.synth_sources import add_noise, rasterise_pdf, render_rapsheets, write_pdf

AS_OF = date(2026, 11, 21)
COLUMNS = ["decision", "new_level", "remedy", "reasons", "code_section", "conviction_date"]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    folder = tmp_path_factory.mktemp("roundtrip")
    doj = folder / "synthetic.dat"
    write_synthetic(doj, rows=6000, seed=11, malformed_share=0)
    return doj, render_rapsheets(doj, folder / "sheets")


def _decisions(records, cii: pl.DataFrame | None = None) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    table = decide(records, statute_policy(), AS_OF, "SACRAMENTO").table
    keyed = table.join(records.subjects.select("subject_id", "cii_number"), on="subject_id")
    return keyed.select(
        "cii_number",
        "count_id",
        "offense_date",
        *[pl.col(c).cast(pl.String) if c != "reasons" else pl.col(c).list.join(";")
          for c in COLUMNS],
    )  # fmt: skip


def test_every_person_read_from_a_sheet_is_decided_as_from_the_doj_file(
    synthetic: tuple[Path, list[Path]],
) -> None:
    doj, sheets = synthetic
    from_doj = _decisions(read_doj([doj]))
    from_sheets = _decisions(read_rapsheets(sheets))
    assert from_doj.height > 300
    joined = from_doj.join(from_sheets, on=["cii_number", "count_id"], how="full", suffix="_rap")
    # Every conviction is found both ways.
    assert (
        joined.filter(pl.col("cii_number").is_null() | pl.col("cii_number_rap").is_null())[
            "count_id"
        ].to_list()
        == []
    )
    # A RAP sheet has no cycle date of its own: its arrest's date stands for it. Where the DOJ
    # file leaves the cycle date unknown the sheet knows more, so those are not compared.
    compared = joined.filter(pl.col("offense_date").is_not_null())
    for column in COLUMNS:
        differ = compared.filter(pl.col(column).ne_missing(pl.col(f"{column}_rap")))
        assert differ.height == 0, (column, differ.head(3).to_dicts())


def test_sheets_account_for_every_step(synthetic: tuple[Path, list[Path]]) -> None:
    doj, sheets = synthetic
    records = read_rapsheets(sheets)
    steps = read_doj([doj]).counts.select("subject_id", "event_id").unique().height
    assert records.rows_loaded == steps
    assert records.rows_quarantined == 0
    assert records.rows_read == records.rows_loaded + records.rows_quarantined


def test_noisy_sheets_read_the_same(synthetic: tuple[Path, list[Path]], tmp_path: Path) -> None:
    _, sheets = synthetic
    noisy = []
    for index, sheet in enumerate(sheets[:150]):
        path = tmp_path / sheet.name
        path.write_text(add_noise(sheet.read_text(), seed=index))
        noisy.append(path)
    clean = read_rapsheets(sheets[:150]).counts.drop("source_file")
    read = read_rapsheets(noisy)
    assert (
        read.counts.drop("source_file")
        .drop("source_line", "source_lines")
        .equals(clean.drop("source_line", "source_lines"))
    )
    assert read.notes.filter(pl.col("kind") == "ocr_corrected").height > 20


def _longest(sheets: list[Path]) -> Path:
    return max(sheets[:200], key=lambda p: len(p.read_text().splitlines()))


def test_a_text_pdf_reads_like_its_text(synthetic: tuple[Path, list[Path]], tmp_path: Path) -> None:
    _, sheets = synthetic
    sheet = _longest(sheets)
    pdf = tmp_path / "sheet.pdf"
    write_pdf(sheet.read_text(), pdf)
    columns = ["count_id", "event_date", "county", "code_section", "disposition", "level",
               "sentence_end", "court_case_number"]  # fmt: skip
    assert (
        read_rapsheets([pdf])
        .counts.select(columns)
        .equals(read_rapsheets([sheet]).counts.select(columns))
    )


def test_a_scan_is_read_through_ocr(synthetic: tuple[Path, list[Path]], tmp_path: Path) -> None:
    assert shutil.which("tesseract"), "Tesseract is a system package of the Makefile"
    _, sheets = synthetic
    sheet = next(p for p in sheets if 40 < len(p.read_text().splitlines()) < 90)
    pdf, scan = tmp_path / "sheet.pdf", tmp_path / "scan.pdf"
    write_pdf(sheet.read_text(), pdf)
    rasterise_pdf(pdf, scan, dpi=200)
    columns = ["count_id", "event_date", "county", "code_section", "disposition", "level"]
    read = read_rapsheets([scan])
    assert (
        read.subjects["cii_number"].to_list()
        == read_rapsheets([sheet]).subjects["cii_number"].to_list()
    )
    assert read.counts.select(columns).equals(read_rapsheets([sheet]).counts.select(columns))


def test_a_scan_without_ocr_installed_says_what_to_install(
    synthetic: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sheets = synthetic
    pdf, scan = tmp_path / "sheet.pdf", tmp_path / "scan.pdf"
    write_pdf(sheets[0].read_text(), pdf)
    rasterise_pdf(pdf, scan, dpi=100)
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract, no pdftoppm on this PATH
    with pytest.raises(ReadError, match=r"needs OCR: tesseract and pdftoppm not installed"):
        read_rapsheets([scan])
