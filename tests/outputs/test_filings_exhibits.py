"""The filing set lists exactly the right convictions, once each, in the right group, and its
public papers identify no one.

The PDFs are read back with pypdf (as a clerk's tools would), the DOCX with python-docx and with
LibreOffice, the CSVs with the csv module.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from filings_fixtures import FILING
from filings_helpers import (
    docx_to_pdf,
    exhibit_a_rows,
    exhibit_b_rows,
    keys_of,
    page_words,
    pdf_pages,
    pdf_text,
    read_csv,
    render_png,
)
from pypdf import PdfReader

from clearance.outputs.filings import FilingsResult
from clearance.outputs.filings.data import load_run, resolve_filing, rules_used
from clearance.outputs.filings.docx_writer import read_exhibit_rows
from clearance.outputs.filings.exhibit import PRIOR_GROUND, group_rows, public_relief_exhibit
from clearance.outputs.filings.groups import (
    GROUPS,
    NOTICE_GROUPS,
    ORDER_GROUPS,
    POLICY_1385,
    RELATED_1385,
    Authority,
    ReliefGroup,
    classify,
)
from clearance.outputs.filings.layout import layout_document
from clearance.outputs.filings.motion import motion_document, order_document, policy_criteria
from clearance.outputs.filings.pdf import write_laid_out

COURT = "sacramento"


def manifest(filings: FilingsResult) -> dict[str, object]:
    return json.loads((filings.out_dir / "manifest.json").read_text(encoding="utf-8"))


def entries(filings: FilingsResult) -> list[dict[str, object]]:
    return [e for e in manifest(filings)["files"] if isinstance(e, dict)]  # type: ignore[union-attr]


def relieved(convictions: pl.DataFrame) -> pl.DataFrame:
    return convictions.filter(pl.col("decision").is_in(["dismiss", "reduce"]))


def by_subject_count(
    convictions: pl.DataFrame, rows: list[dict[str, str]]
) -> Counter[tuple[str, str]]:
    """(CII, count) of CSV rows keyed by subject_id and count_id."""
    cii = dict(
        zip(convictions["subject_id"], convictions["cii_number"].fill_null("unknown"), strict=True)
    )
    return Counter((cii[r["subject_id"]], r["count_id"]) for r in rows)


def test_the_run_has_every_kind_of_filing(filings: FilingsResult) -> None:
    """The fixture exercises the statute's groups, the policy's own groups, challenges,
    review and counts held for a case number."""
    groups = {e.get("group") for e in entries(filings)}
    for key in (
        "dismiss-seal",
        "redesignate",
        "recall-resentence",
        "policy-no-opposition-pc1203.4",
        "related-no-opposition-pc1203.4",
    ):
        assert key in groups, key
    data = manifest(filings)
    assert data["held_for_case_number"] > 0  # type: ignore[operator]
    assert data["review_convictions"]["district_attorney"] > 0  # type: ignore[index]
    assert data["challenged_convictions"] > 0  # type: ignore[operator]


def test_every_relieved_count_is_accounted_for_exactly_once(
    filings: FilingsResult, convictions: pl.DataFrame
) -> None:
    """In one order, or in a notice alone, or held for a case number, or listed as not filed:
    never in two orders, never lost."""
    out = filings.out_dir
    ordered: Counter[tuple[str, str]] = Counter()
    for group in ORDER_GROUPS:
        path = out / f"exhibit-b-{COURT}-{group.key}.pdf"
        if path.exists():
            ordered += Counter(exhibit_b_rows(path).values())
    noticed: Counter[tuple[str, str]] = Counter()
    for group in NOTICE_GROUPS:
        path = out / f"exhibit-b-{COURT}-{group.key}.pdf"
        if path.exists():
            noticed += Counter(exhibit_b_rows(path).values())
    held = by_subject_count(convictions, read_csv(out / f"needs-case-number-{COURT}.csv"))
    not_filed_path = out / f"not-filed-{COURT}.csv"
    not_filed = (
        by_subject_count(convictions, read_csv(not_filed_path))
        if not_filed_path.exists()
        else Counter()
    )
    assert max(ordered.values()) == 1 and max(noticed.values()) == 1
    assert not set(ordered) & set(held) and not set(noticed) & set(held)
    assert not set(not_filed) & (set(ordered) | set(noticed) | set(held))
    everything = set(ordered) | set(noticed) | set(held) | set(not_filed)
    assert everything == set(keys_of(relieved(convictions)))
    # The court update file lists exactly what the orders list.
    update = read_csv(out / f"court-update-{COURT}.csv")
    assert Counter((r["cii_number"] or "unknown", r["count_id"]) for r in update) == ordered


def test_public_rows_and_sealed_rows_share_their_numbers(filings: FilingsResult) -> None:
    """Exhibit A row n (case, count) is Exhibit B row n, in the motion and in the order."""
    out = filings.out_dir
    for group in GROUPS:
        sealed = out / f"exhibit-b-{COURT}-{group.key}.pdf"
        if not sealed.exists():
            continue
        b_text = pdf_pages(sealed)
        b_rows = exhibit_b_rows(sealed)
        kinds = ("motion", "order") if group.document == "motion" else ("notice",)
        for kind in kinds:
            a_rows = exhibit_a_rows(out / f"{kind}-{COURT}-{group.key}.pdf")
            assert sorted(a_rows) == sorted(b_rows) == list(range(1, len(b_rows) + 1)), kind
            for number, (case, count) in a_rows.items():
                _, doj_count = b_rows[number]
                assert int(doj_count[6:9]) == int(count)
                assert any(f"{number} {case} " in page for page in b_text), (number, case)


def personal_values(convictions: pl.DataFrame) -> list[str]:
    """Names, dates of birth and CII numbers of everyone in the run."""
    values = convictions["name"].drop_nulls().unique().to_list()
    values += convictions["cii_number"].drop_nulls().unique().to_list()
    values += [d.isoformat() for d in convictions["dob"].drop_nulls().unique().to_list()]
    return [v for v in values if len(v) >= 6]


def test_public_filings_name_no_one(filings: FilingsResult, convictions: pl.DataFrame) -> None:
    """Every public motion, order, notice and report: no name, date of birth or CII number."""
    values = personal_values(convictions)
    assert len(values) > 100
    public = [e["file"] for e in entries(filings) if e["access"] == "public"]
    assert any(str(f).endswith(".docx") for f in public)
    checked = 0
    for name in public:
        path = filings.out_dir / str(name)
        if path.suffix == ".pdf":
            text = pdf_text(path)
        elif path.suffix == ".docx":
            text = " ".join(" ".join(row) for row in read_exhibit_rows(path))
            text += path.read_bytes().decode("latin-1")
        else:
            text = path.read_text(encoding="utf-8")
        for value in values:
            assert value not in text, (name, "personal data in a public filing")
        checked += 1
    assert checked >= 15
    # And the sealed exhibits do carry them, so the check can see them.
    sealed = pdf_text(filings.out_dir / f"exhibit-b-{COURT}-dismiss-seal.pdf")
    assert sum(value in sealed for value in values) > 20


def test_no_paper_mentions_hs_11590(filings: FilingsResult) -> None:
    for path in filings.out_dir.rglob("*"):
        if path.suffix == ".pdf":
            assert "11590" not in pdf_text(path), path.name
        elif path.suffix in (".csv", ".html", ".json"):
            assert "11590" not in path.read_text(encoding="utf-8"), path.name


def test_challenge_notice_is_complete(filings: FilingsResult, convictions: pl.DataFrame) -> None:
    out = filings.out_dir
    sealed = exhibit_b_rows(out / f"exhibit-b-{COURT}-challenge.pdf")
    challenged = convictions.filter(pl.col("decision") == "not_eligible")
    assert Counter(sealed.values()) == keys_of(challenged)
    text = pdf_text(out / f"challenge-{COURT}.pdf")
    for needle in (
        "PUBLIC DEFENDER",
        "REQUEST FOR HEARING",
        "clear and convincing evidence",
        "DECLARATION OF JANE Q. PROSECUTOR",
        "under penalty of perjury",
        "PROOF OF SERVICE",
        "Public Defender of Sacramento County",
        "Date:",
        "Penal Code section 1170.18",
        "remain under review",
        "July 1, 2020",
    ):
        assert needle in text, needle
    # A prior conviction is a ground publicly; what it was is only in the sealed exhibit.
    assert PRIOR_GROUND in text
    details = challenged.filter(pl.col("reasons").str.contains("prior_"))["explanation"]
    assert details.len()
    for explanation in details.to_list():
        for line in explanation.split(" | "):
            if ": " in line:
                assert line.split(": ", 1)[1] not in text
    pages = PdfReader(out / f"challenge-{COURT}.pdf").pages
    assert "PROOF OF SERVICE" in (pages[-1].extract_text() or "")


def test_review_lists_exist_per_office_with_the_deadline(
    filings: FilingsResult, convictions: pl.DataFrame
) -> None:
    out = filings.out_dir
    rows = read_csv(out / f"review-{COURT}-district-attorney.csv")
    in_review = convictions.filter(pl.col("decision") == "review")
    assert by_subject_count(convictions, rows) == keys_of(in_review)
    assert {r["office"] for r in rows} == {"district_attorney"}
    text = pdf_text(out / f"review-{COURT}-district-attorney.pdf")
    assert "July 1, 2020" in text and "11361.9" in text and "CONFIDENTIAL" in text
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "What remains" in report and "In review: District Attorney" in report
    assert "July 1, 2020" in report


def text_of(filings: FilingsResult, name: str) -> str:
    return pdf_text(filings.out_dir / name)


def test_each_group_states_its_own_authority_only(filings: FilingsResult) -> None:
    seal_motion = text_of(filings, f"motion-{COURT}-dismiss-seal.pdf")
    seal_order = text_of(filings, f"order-{COURT}-dismiss-seal.pdf")
    for text in (seal_motion, seal_order):
        assert "legally invalid" in text and "subdivision (f)" in text
        assert "1385" not in text and "1203.4" not in text
    assert "deemed not to have occurred" in seal_order
    assert "completed the sentence" in seal_order
    assert "March 1, 2023" in seal_order and "Assembly Bill 1706" in seal_order
    assert "Exhibit B shall be filed under seal" in seal_order
    redesignate = text_of(filings, f"order-{COURT}-redesignate.pdf")
    assert "for all purposes" in redesignate
    assert "sealed because it is legally invalid" not in redesignate
    recall_motion = text_of(filings, f"motion-{COURT}-recall-resentence.pdf")
    recall_order = text_of(filings, f"order-{COURT}-recall-resentence.pdf")
    for text in (recall_motion, recall_order):
        assert "credit" in text and "supervision" in text.lower()
        assert "longer than the original sentence" in text or "exceeds the original" in text
        assert "Custody or release" in text and "released from custody" in text
        # The policy's own source may say "sealed"; the relief never does.
        assert "sealed because it is legally invalid" not in text
        assert "seal the court's records" not in text
        assert "Date: ____" in text
    assert "request a hearing" in recall_motion
    assert "has not served longer than the new term" in recall_order
    notice = text_of(filings, f"notice-{COURT}-policy-no-opposition-pc1203.4.pdf")
    for needle in ("1203.4", "1203.4a", "1203.41", "1203.42", "Chavez", "does not seal"):
        assert needle in notice, needle
    assert not (filings.out_dir / f"order-{COURT}-policy-no-opposition-pc1203.4.pdf").exists()
    related = text_of(filings, f"notice-{COURT}-related-no-opposition-pc1203.4.pdf")
    assert "same arrest cycle" in related


def test_first_page_is_pleading_paper_with_the_attorney_block(filings: FilingsResult) -> None:
    path = filings.out_dir / f"motion-{COURT}-dismiss-seal.pdf"
    first = pdf_pages(path)[0]
    numbers = [int(t) for t in first.split() if t.isdigit() and int(t) <= 28]
    assert set(range(1, 29)) <= set(numbers)
    text = " ".join(first.split())
    for needle in (
        "Jane Q. Prosecutor",
        "123456",
        "901 G Street",
        "(916) 555-0142",
        "jane.prosecutor@example.org",
        "Attorney for Plaintiff",
        "SUPERIOR COURT OF CALIFORNIA, COUNTY OF SACRAMENTO",
    ):
        assert needle in text, needle
    total = len(PdfReader(path).pages)
    for number, page in enumerate(pdf_pages(path), start=1):
        assert f"Page {number} of {total}" in page


def test_docx_exhibits_hold_the_pdf_rows(filings: FilingsResult) -> None:
    for group in GROUPS:
        kinds = ("motion", "order") if group.document == "motion" else ("notice",)
        for kind in kinds:
            docx = filings.out_dir / f"{kind}-{COURT}-{group.key}.docx"
            if not docx.exists():
                continue
            rows = read_exhibit_rows(docx)
            pdf = exhibit_a_rows(filings.out_dir / f"{kind}-{COURT}-{group.key}.pdf")
            assert {int(r[0]): (r[1], r[2]) for r in rows} == pdf, docx.name


def test_docx_renders_page_for_page_like_the_pdf(filings: FilingsResult, tmp_path: Path) -> None:
    """LibreOffice lays the DOCX out: same page count, same words on every page."""
    names = [
        f"motion-{COURT}-dismiss-seal",
        f"order-{COURT}-recall-resentence",
        f"notice-{COURT}-policy-no-opposition-pc1203.4",
        f"challenge-{COURT}",
    ]
    rendered = docx_to_pdf([filings.out_dir / f"{n}.docx" for n in names], tmp_path)
    for name, converted in zip(names, rendered, strict=True):
        ours = page_words(filings.out_dir / f"{name}.pdf")
        theirs = page_words(converted)
        assert len(theirs) == len(ours), name
        for number, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
            assert a == b, (name, number, (a - b), (b - a))
        # Both are pictures a clerk can read: the first page rasterises to a real image.
        for pdf, tag in ((filings.out_dir / f"{name}.pdf", "ours"), (converted, "lo")):
            png = render_png(pdf, 1, tmp_path / f"{name}-{tag}")
            assert png.stat().st_size > 5000


def test_packet_is_the_peoples_notice_and_order(
    filings: FilingsResult, convictions: pl.DataFrame, packet_subject: str
) -> None:
    assert filings.packets == 1
    text = pdf_text(filings.out_dir / "packets" / f"{packet_subject}.pdf")
    mine = convictions.filter(pl.col("subject_id") == packet_subject)
    assert str(mine["name"][0]) in text
    assert "Attorney for the People" in text and "Attorney for Plaintiff" in text
    assert "Petitioner" not in text.replace("Plaintiff", "")
    for value in mine["cii_number"].drop_nulls().to_list() + [
        d.isoformat() for d in mine["dob"].drop_nulls().to_list()
    ]:
        assert value not in text
    cases = (
        mine.filter(pl.col("decision").is_in(["dismiss", "reduce"]))["court_case_number"]
        .drop_nulls()
        .unique()
        .to_list()
    )
    for case in cases:
        assert f"Case No.: {case}" in text
    assert "[PROPOSED] ORDER" in text and "Judge of the Superior Court" in text


@pytest.mark.parametrize(
    "name",
    ["report.pdf", f"exhibit-b-{COURT}-challenge.pdf", f"review-{COURT}-district-attorney.pdf"],
)
def test_other_pdfs_render(filings: FilingsResult, tmp_path: Path, name: str) -> None:
    png = render_png(filings.out_dir / name, 1, tmp_path / "page")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000


@pytest.mark.parametrize("group", [POLICY_1385, RELATED_1385])
def test_pc1385_papers_rest_on_pc1385_alone(
    run_dir: Path, tmp_path: Path, group: ReliefGroup
) -> None:
    """Dismissals beyond the statute while a sentence runs: the motion and order on PC 1385,
    built from the run's own policy dismissals (whatever their sentence status in this data)."""
    run = load_run(run_dir)
    rules = rules_used(run.policy, run.as_of)
    classified = classify(run.convictions, rules, Authority("pc1385", "pc1203.4"))
    chosen = classified.filter(
        (pl.col("related") & (pl.col("decision") == "dismiss"))
        if group.kind == "related"
        else pl.col("policy_dismissal")
    ).with_columns(
        pl.lit(group.key).alias("order_group"), pl.lit(None, dtype=pl.String).alias("notice_group")
    )
    assert chosen.height
    rows = group_rows(chosen, group.key, run.county)
    info = resolve_filing(run.policy, FILING)
    exhibit = public_relief_exhibit(rows, group.title, recall=True)
    criteria = policy_criteria(rows, rules)
    assert criteria
    for name, document in (
        ("motion", motion_document(run, info, group, exhibit, criteria, [])),
        ("order", order_document(run, info, group, exhibit)),
    ):
        path = tmp_path / f"{name}.pdf"
        write_laid_out([layout_document(document)], path)
        text = pdf_text(path)
        assert "Penal Code section 1385" in text
        assert "People v. Chavez (2018) 4 Cal.5th 771" in text
        assert "sealed because it is legally invalid" not in text
        assert "seal the court's records" not in text
        assert "Date: ____" in text and "released from custody" in text
        assert "1203.4" not in text
        if name == "motion":
            assert "do not ask that these records be sealed" in text
            assert all(c.split(" (")[0] in text for c in criteria)
        else:
            assert "reasons stated in the People's motion" in text
