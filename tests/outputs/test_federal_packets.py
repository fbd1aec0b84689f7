"""Certificate-application packets: the right form for the dates, the record's facts pre-filled,
the person's blanks left blank, a cover letter in plain words; PDF and DOCX say the same."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader
from typer.testing import CliRunner

from clearance.cli import app
from clearance.outputs.federal_packets import FORMS, OPA_EMAIL, citation_text, display_name
from clearance.records.federal import CASE_LIST_COLUMNS

TITLE_2022 = FORMS["2022"][0]
TITLE_2023 = FORMS["2023"][0]

ROWS = [
    # 2022 only: possession before the first cutoff; citizenship unknown.
    ("A1", "RIVERA, ANA", "1971-02-03", "", "C.D. Cal.", "2:09-cr-00111", "21 U.S.C. § 844(a)",
     "2009-04-05", "convicted", "2009-09-10", "time served"),
    # 2023 only: a CFR rule; a citizen.
    ("B2", "NGUYEN, BAO", "1985-06-07", "citizen", "D. Ariz.", "3:19-po-00222",
     "36 C.F.R. § 2.35(b)(2)", "2019-07-08", "charged", "", ""),
    # Both: possession before 2022 and an attempt; plus a trafficking count not covered.
    ("C3", "OKAFOR, CHI", "1979-01-01", "lpr", "S.D. Cal.", "3:15-cr-00333", "21 USC 844",
     "2015-01-02", "convicted", "2015-03-04", ""),
    ("C3", "OKAFOR, CHI", "1979-01-01", "lpr", "S.D. Cal.", "3:21-cr-00444", "846/844",
     "2021-05-06", "convicted", "2021-08-09", ""),
    ("C3", "OKAFOR, CHI", "1979-01-01", "lpr", "S.D. Cal.", "3:23-cr-00555", "21 USC 841(a)(1)",
     "2023-02-02", "convicted", "2023-06-06", "60 months"),
    # Nothing covered: no packet.
    ("D4", "SMITH, DEE", "1970-01-01", "citizen", "E.D. Cal.", "1:10-cr-00666", "21:841",
     "2010-01-01", "convicted", "2010-05-05", "120 months"),
]  # fmt: skip
DESCRIPTIONS = {3: "attempted possession of marijuana"}


@pytest.fixture(scope="module")
def packets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("federal-packets")
    path = root / "cases.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*CASE_LIST_COLUMNS, "description"])
        for i, row in enumerate(ROWS):
            writer.writerow([*row, DESCRIPTIONS.get(i, "")])
    out = root / "out"
    result = CliRunner().invoke(
        app, ["federal", str(path), "--out", str(out), "--as-of", "2026-11-21"]
    )
    assert result.exit_code == 0, result.output
    return out / "packets"


def pdf_text(path: Path) -> str:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return re.sub(r"\s+", " ", text)


def docx_text(path: Path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return re.sub(r"\s+", " ", " ".join(parts))


def test_one_packet_per_covered_person_in_pdf_and_docx(packets: Path) -> None:
    assert sorted(p.name for p in packets.iterdir()) == [
        "A1.docx", "A1.pdf", "B2.docx", "B2.pdf", "C3.docx", "C3.pdf",
    ]  # fmt: skip


@pytest.mark.parametrize("reader", [pdf_text, docx_text], ids=["pdf", "docx"])
def test_the_2022_form_for_possession_before_the_first_cutoff(
    packets: Path, reader: object
) -> None:
    text = reader(packets / ("A1.pdf" if reader is pdf_text else "A1.docx"))  # type: ignore[operator]
    assert TITLE_2022 in text
    assert TITLE_2023 not in text
    for prefilled in ("ANA RIVERA", "1971-02-03", "C.D. Cal.", "2:09-cr-00111",
                      "21 U.S.C. § 844(a)", "2009-09-10", "Conviction"):  # fmt: skip
        assert prefilled in text, prefilled
    # Blanks the person must fill: address, email, place of birth, status and its proof.
    status = "Citizenship or lawful permanent resident status on October 6, 2022"
    for field in ("Mailing address", "Email address", "Place of birth", status):
        assert re.search(re.escape(field) + r" _+ \(you fill in\)", text), field
    # The cover letter, in plain words.
    assert "Dear ANA RIVERA," in text
    assert "does not erase, expunge or seal" in text
    assert "Our records do not show your status" in text
    assert OPA_EMAIL in text
    assert "December 1, 2026" not in text and "November 21, 2026" in text


def test_the_2023_form_for_a_cfr_charge_with_the_status_prefilled(packets: Path) -> None:
    text = pdf_text(packets / "B2.pdf")
    assert TITLE_2023 in text and TITLE_2022 not in text
    assert "36 C.F.R. § 2.35(b)(2)" in text
    assert "Charge" in text and "2019-07-08" in text  # a charge is dated by its offense
    assert "U.S. citizen (from the record; attach proof)" in text
    assert "December 22, 2023" in text


def test_both_forms_each_with_its_own_counts(packets: Path) -> None:
    text = pdf_text(packets / "C3.pdf")
    first, second = text.index(TITLE_2022), text.index(TITLE_2023)
    assert first < second
    part_2022, part_2023 = text[first:second], text[second:]
    assert "3:15-cr-00333" in part_2022 and "3:21-cr-00444" not in part_2022
    assert "3:21-cr-00444" in part_2023 and "21 U.S.C. § 846/844" in part_2023
    # The not-covered trafficking count is never on a form, but the letter mentions it.
    assert "3:23-cr-00555" not in text
    assert "1 other federal count that the pardon does not cover" in text
    assert "Lawful permanent resident (from the record; attach proof)" in text


def test_packets_are_the_same_bytes_each_time(packets: Path, tmp_path: Path) -> None:
    source = packets.parent.parent / "cases.csv"
    again = tmp_path / "again"
    result = CliRunner().invoke(
        app, ["federal", str(source), "--out", str(again), "--as-of", "2026-11-21"]
    )
    assert result.exit_code == 0, result.output
    for path in packets.iterdir():
        assert (again / "packets" / path.name).read_bytes() == path.read_bytes(), path.name


def test_names_and_citations_as_a_reader_writes_them() -> None:
    assert display_name("SAMPLE,PAT Q") == "PAT Q SAMPLE"
    assert display_name("PAT SAMPLE") == "PAT SAMPLE"
    assert citation_text("DC 48-904.01(d)(1)") == "D.C. Code § 48-904.01(d)(1)"
    assert citation_text("21 USC 846/844") == "21 U.S.C. § 846/844"
    assert citation_text("43 CFR 8365.1-4(b)(2)") == "43 C.F.R. § 8365.1-4(b)(2)"
