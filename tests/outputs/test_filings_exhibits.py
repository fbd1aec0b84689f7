"""The motions, orders and challenge notice list exactly the right convictions, once each.

The PDFs are read back with pypdf (as a clerk's tools would), the DOCX with python-docx, and a
page of every kind of PDF is rasterised with pdftoppm to prove it is a document a viewer opens.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from filings_helpers import exhibit_keys, exhibit_lines, keys_of, pdf_pages
from pypdf import PdfReader

from clearance.outputs.filings import FilingsResult
from clearance.outputs.filings.data import load_run
from clearance.outputs.filings.docx_writer import read_exhibit_rows
from clearance.outputs.filings.exhibit import GROUPS, NO_CASE, relief_exhibit

GROUP_FILTERS = {
    "dismiss-seal": (pl.col("decision") == "dismiss") & (pl.col("remedy") != "11361.8(b)"),
    "redesignate": (pl.col("decision") == "reduce") & (pl.col("remedy") != "11361.8(b)"),
    "recall-resentence": pl.col("decision").is_in(["dismiss", "reduce"])
    & (pl.col("remedy") == "11361.8(b)"),
}


def test_the_run_has_every_kind_of_filing(convictions: pl.DataFrame) -> None:
    """The fixture exercises every group, challenges, reviews and missing case numbers."""
    for name, condition in GROUP_FILTERS.items():
        assert convictions.filter(condition).height > 0, name
    decisions = set(convictions["decision"])
    assert {"dismiss", "reduce", "not_eligible", "review"} <= decisions
    assert convictions["court_case_number"].null_count() > 0
    assert convictions.select("cii_number", "count_id").is_duplicated().sum() == 0


@pytest.mark.parametrize("kind", ["motion", "order"])
def test_every_relieved_count_is_in_exactly_one_exhibit(
    filings: FilingsResult, convictions: pl.DataFrame, kind: str
) -> None:
    relieved = convictions.filter(pl.col("decision").is_in(["dismiss", "reduce"]))
    found: Counter[tuple[str, str]] = Counter()
    for group, condition in GROUP_FILTERS.items():
        path = filings.out_dir / f"{kind}-sacramento-{group}.pdf"
        keys = exhibit_keys(path)
        assert keys == keys_of(convictions.filter(condition)), group
        found += keys
    assert found == keys_of(relieved)
    assert max(found.values()) == 1


def test_challenge_notice_lists_every_not_eligible_count_once(
    filings: FilingsResult, convictions: pl.DataFrame
) -> None:
    path = filings.out_dir / "challenge-sacramento.pdf"
    challenged = convictions.filter(pl.col("decision") == "not_eligible")
    assert exhibit_keys(path) == keys_of(challenged)
    text = "\n".join(pdf_pages(path))
    assert "PUBLIC DEFENDER" in text
    assert "challenge" in text
    assert re.search(r"remain(s)? under review", text)


def test_convictions_under_review_are_in_no_filing(
    filings: FilingsResult, convictions: pl.DataFrame
) -> None:
    review = set(keys_of(convictions.filter(pl.col("decision") == "review")))
    assert review
    for path in filings.out_dir.glob("*.pdf"):
        assert not review & set(exhibit_keys(path)), path.name


def test_exhibit_pages_repeat_the_header_and_number_pages(filings: FilingsResult) -> None:
    path = filings.out_dir / "motion-sacramento-dismiss-seal.pdf"
    reader = PdfReader(path)
    pages = [page.extract_text() or "" for page in reader.pages]
    total = len(pages)
    exhibit_pages = [i for i, text in enumerate(pages) if "Rows " in text]
    assert len(exhibit_pages) >= 2
    for index in exhibit_pages:
        text = pages[index]
        assert "Court case no." in text and "Level after" in text
        width, height = reader.pages[index].mediabox[2:]
        assert float(width) > float(height)  # exhibits are landscape
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text


def natural(case: str) -> list[tuple[int, int | str]]:
    """A case number's natural sort key: digit runs as numbers."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.findall(r"\d+|\D+", case)]


def test_exhibit_rows_are_sorted_by_case_number(
    filings: FilingsResult, convictions: pl.DataFrame
) -> None:
    lines = exhibit_lines(filings.out_dir / "motion-sacramento-dismiss-seal.pdf")
    known = convictions["court_case_number"].drop_nulls().unique().to_list()
    assert any(" " in case for case in known)  # "02 529078-A": the case is not one word
    cases = []
    for line in lines:
        if not line.startswith(NO_CASE):
            cases.append(max((c for c in known if line.startswith(c + " ")), key=len))
    assert cases == sorted(cases, key=natural)
    without = [i for i, line in enumerate(lines) if line.startswith(NO_CASE)]
    assert without and without == list(range(len(lines) - len(without), len(lines)))


def test_motion_and_order_carry_the_legal_content(filings: FilingsResult) -> None:
    motion = " ".join(
        " ".join(pdf_pages(filings.out_dir / "motion-sacramento-dismiss-seal.pdf")).split()
    )
    for needle in (
        "Jane Q. Prosecutor",
        "123456",
        "SUPERIOR COURT OF CALIFORNIA, COUNTY OF SACRAMENTO",
        "720 Ninth Street",
        "11361.8",
        "11361.9",
        "do not challenge",
        "11590",
        "sealed",
        "EXHIBIT A",
    ):
        assert needle in motion, needle
    # Dismissals beyond the statute (the policy's, related charges) rest on PC 1385.
    assert "(office policy)" in motion and "(related charge)" in motion
    assert "Penal Code section 1385" in motion
    order = " ".join(
        " ".join(pdf_pages(filings.out_dir / "order-sacramento-dismiss-seal.pdf")).split()
    )
    assert "THE COURT FINDS" in order and "IT IS ORDERED" in order
    assert "legally invalid" in order and "Penal Code section 1385" in order
    assert "Judge of the Superior Court" in order
    recall = "\n".join(pdf_pages(filings.out_dir / "motion-sacramento-recall-resentence.pdf"))
    assert "currently serving" in recall and "public safety" in recall
    redesignate = "\n".join(pdf_pages(filings.out_dir / "order-sacramento-redesignate.pdf"))
    assert "for all purposes" in redesignate


def test_docx_hold_the_same_rows_as_the_pdf(
    filings: FilingsResult, run_dir: Path, convictions: pl.DataFrame
) -> None:
    run = load_run(run_dir)
    for group in GROUPS:
        expected = relief_exhibit(run.convictions, group, run.county).rows()
        for kind in ("motion", "order"):
            rows = read_exhibit_rows(filings.out_dir / f"{kind}-sacramento-{group.key}.docx")
            assert rows == expected, (kind, group.key)
            pdf = exhibit_keys(filings.out_dir / f"{kind}-sacramento-{group.key}.pdf")
            assert Counter((row[3], row[4]) for row in rows) == pdf
    challenge = read_exhibit_rows(filings.out_dir / "challenge-sacramento.docx")
    assert Counter((r[3], r[4]) for r in challenge) == keys_of(
        convictions.filter(pl.col("decision") == "not_eligible")
    )


def test_packet_holds_petition_and_order_for_each_case(
    filings: FilingsResult, convictions: pl.DataFrame, packet_subject: str
) -> None:
    assert filings.packets == 1
    path = filings.out_dir / "packets" / f"{packet_subject}.pdf"
    text = "\n".join(pdf_pages(path))
    mine = convictions.filter(
        (pl.col("subject_id") == packet_subject) & pl.col("decision").is_in(["dismiss", "reduce"])
    )
    name = str(mine["name"][0])
    assert name in text
    assert "CR-400" in text and "CR-403" in text
    for count in mine["count_id"]:
        assert count in text
    cases = mine["court_case_number"].fill_null(NO_CASE).unique().to_list()
    for case in cases:
        assert f"Case No.: {case}" in text
    assert text.count("PETITION/APPLICATION FOR RELIEF") >= len(cases)
    assert "[X]" in text and "11590" in text


def test_a_page_of_every_pdf_renders(filings: FilingsResult, tmp_path: Path) -> None:
    out = filings.out_dir
    chosen = [
        (out / "motion-sacramento-dismiss-seal.pdf", 1),
        (out / "order-sacramento-redesignate.pdf", 1),
        (out / "challenge-sacramento.pdf", len(PdfReader(out / "challenge-sacramento.pdf").pages)),
        (out / "motion-sacramento-recall-resentence.pdf", 1),
        (out / "report.pdf", 1),
        (next((out / "packets").glob("*.pdf")), 1),
    ]
    for index, (pdf, page) in enumerate(chosen):
        prefix = tmp_path / f"page{index}"
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "30",
                "-png",
                "-f",
                str(page),
                "-l",
                str(page),
                str(pdf),
                str(prefix),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        images = list(tmp_path.glob(f"page{index}*.png"))
        assert len(images) == 1, pdf.name
        assert images[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert images[0].stat().st_size > 1000
