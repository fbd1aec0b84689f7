"""The pieces under the filings: relief groups from the rules, grounds, wrapping, pleading
layout, markup, filing details, supplied files, atomic builds, byte-identical output."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from docx import Document
from openpyxl import load_workbook

from clearance.engine import REMEDY_COMPLETED, REMEDY_SERVING
from clearance.law.prop64 import STATUTE_RULES
from clearance.law.rule import Rule
from clearance.outputs.filings import write_filings
from clearance.outputs.filings.data import (
    FilingsError,
    load_run,
    parse_filing_pairs,
    resolve_filing,
    rules_used,
)
from clearance.outputs.filings.docx_writer import render_docx
from clearance.outputs.filings.exhibit import (
    PRIOR_GROUND,
    challenge_grounds,
    group_rows,
    public_grounds,
    public_relief_exhibit,
)
from clearance.outputs.filings.groups import (
    DISMISS_SEAL,
    POLICY_1203,
    POLICY_1385,
    RECALL,
    REDESIGNATE,
    RELATED_1203,
    Authority,
    classify,
)
from clearance.outputs.filings.layout import (
    SLOTS,
    PleadingPage,
    layout_document,
    layout_exhibit,
    wrap_text,
)
from clearance.outputs.filings.marks import (
    mark_public_safety,
    read_case_numbers,
    read_public_safety,
)
from clearance.outputs.filings.model import Block, esc, plain, runs
from clearance.outputs.filings.motion import motion_document, pleading
from clearance.outputs.filings.pdf import render_pdf, write_laid_out
from clearance.outputs.filings.workbook import write_workbook
from clearance.outputs.filings.writer import build_lock
from clearance.policy.schema import Filing, statute_policy
from clearance.records.case_numbers import carry_case_numbers


def statute_rule(outcome: str) -> Rule:
    """The first statute rule with that outcome (the groups read outcomes, never ids)."""
    return next(r for r in STATUTE_RULES if r.outcome == outcome and r.source == "statute")


POLICY_DISMISS = Rule(
    id="policy_test_dismiss",
    citation="Test County policy",
    text="The office dismisses these",
    facts=(),
    outcome="dismiss",
    when=lambda: pl.lit(True),
    source="policy",
)
CITY = Rule(
    id="policy_test_city",
    citation="Test County policy",
    text="Misdemeanors are referred to the city attorney that prosecuted them",
    facts=(),
    outcome="review",
    when=lambda: pl.lit(True),
    source="policy",
)
RULES = (*STATUTE_RULES, POLICY_DISMISS, CITY)


def rows(*specs: tuple[str, str | None, str, bool, str]) -> pl.DataFrame:
    """(decision, new_level, reasons, serving, kind) -> conviction rows."""
    return pl.DataFrame(
        {
            "subject_id": [f"S{i}" for i in range(len(specs))],
            "count_id": [f"{i:03d}002001000" for i in range(len(specs))],
            "decision": [s[0] for s in specs],
            "new_level": [s[1] for s in specs],
            "reasons": [s[2] for s in specs],
            "serving": [s[3] for s in specs],
            "remedy": [REMEDY_SERVING if s[3] else REMEDY_COMPLETED for s in specs],
            "kind": [s[4] for s in specs],
            "court_case_number": ["C1"] * len(specs),
            "county": ["SACRAMENTO"] * len(specs),
        },
        schema_overrides={"new_level": pl.String},
    )


def test_groups_follow_the_authority_of_the_rules_that_fired() -> None:
    lawful = statute_rule("dismiss").id
    lesser = statute_rule("reduce_misdemeanor").id
    bar = statute_rule("not_eligible").id
    frame = rows(
        ("dismiss", None, lawful, False, "cannabis"),  # statute dismissal, completed
        ("dismiss", None, lawful, True, "cannabis"),  # statute dismissal, still serving
        ("reduce", "misdemeanor", lesser, False, "cannabis"),  # statute reduction, completed
        ("dismiss", None, f"{lesser};{POLICY_DISMISS.id}", False, "cannabis"),  # policy, done
        ("dismiss", None, f"{lesser};{POLICY_DISMISS.id}", True, "cannabis"),  # policy, serving
        ("dismiss", None, POLICY_DISMISS.id, False, "cannabis"),  # policy, nothing statutory
        ("dismiss", None, "policy_related_charge_dismiss", False, "related"),
        ("not_eligible", None, bar, False, "cannabis"),
        ("review", None, CITY.id, False, "cannabis"),
        ("review", None, "accessory_review", False, "accessory"),
    )
    out = classify(frame, RULES, Authority("pc1385", "pc1203.4"))
    assert out["order_group"].to_list() == [
        DISMISS_SEAL.key,
        RECALL.key,
        REDESIGNATE.key,
        REDESIGNATE.key,
        POLICY_1385.key,
        None,
        None,
        None,
        None,
        None,
    ]
    assert out["notice_group"].to_list() == [
        None,
        None,
        None,
        POLICY_1203.key,
        None,
        POLICY_1203.key,
        RELATED_1203.key,
        None,
        None,
        None,
    ]
    assert out["statute_level"].to_list()[:4] == [
        "dismiss",
        "dismiss",
        "misdemeanor",
        "misdemeanor",
    ]
    assert out["office"].to_list()[-2:] == ["city_attorney", "district_attorney"]
    assert out["authority_missing"].null_count() == out.height
    # The statute's relief alone: the policy's own dismissals are not filed, and say why.
    alone = classify(frame, RULES, Authority("statute", "statute"))
    assert alone["order_group"].to_list()[3:5] == [REDESIGNATE.key, RECALL.key]
    assert alone["notice_group"].null_count() == alone.height
    reasons = alone["unfiled_reason"].to_list()
    assert reasons[5] and "dismissal by office policy" in reasons[5]
    assert reasons[6] and "related charge" in reasons[6]
    assert reasons[:5] == [None] * 5
    # Nothing named: every dismissal beyond the statute is flagged, by sentence status.
    none = classify(frame, RULES, Authority(None, None))
    assert none["authority_missing"].to_list()[3:7] == [
        "completed",
        "serving",
        "completed",
        "completed",
    ]


def test_a_reduction_is_filed_at_the_statutes_level_or_not_at_all() -> None:
    lawful = statute_rule("dismiss").id
    infraction = statute_rule("reduce_infraction").id
    frame = rows(
        ("reduce", "misdemeanor", lawful, False, "cannabis"),
        ("reduce", "misdemeanor", infraction, False, "cannabis"),
        ("reduce", "misdemeanor", "", False, "cannabis"),
    )
    out = classify(frame, RULES, Authority("pc1385", "pc1203.4"))
    assert out["order_group"].to_list() == [None, REDESIGNATE.key, None]
    reasons = out["unfiled_reason"].to_list()
    assert "statute dismisses" in reasons[0]
    assert reasons[1] is None  # filed at the statute's level, the difference stated
    assert out["level_differs"].to_list() == [False, True, False]
    assert out["statute_level"][1] == "infraction"
    assert "no relief under the statute" in reasons[2]


def test_public_grounds_name_the_rule_never_the_record() -> None:
    prior = statute_rule("prior")
    bar = statute_rule("not_eligible")
    frame = pl.DataFrame(
        {
            "reasons": [f"{prior.id}", f"{bar.id};{prior.id}", ""],
            "explanation": [f"{prior.sentence()}: PC 288 1990-01-01, case 9", "x", ""],
        }
    )
    grounds = public_grounds(frame, STATUTE_RULES).to_list()
    assert grounds[0] == PRIOR_GROUND
    assert grounds[1] == f"Ineligible: {bar.text} ({bar.citation}); {PRIOR_GROUND}"
    assert "Exhibit B" in grounds[2]
    assert all("PC 288" not in g and "1990" not in g for g in grounds)


def test_challenge_grounds_keep_only_the_rules_that_bar_relief() -> None:
    def rule(rule_id: str, text: str, cite: str, outcome: str, source: str = "statute") -> Rule:
        return Rule(rule_id, cite, text, (), outcome, lambda: pl.lit(True), source=source)  # type: ignore[arg-type]

    rules = (
        rule("now_misdemeanor", "Reduced", "HS 1", "reduce_misdemeanor"),
        rule("after", "Too late", "HS 2", "not_eligible"),
        rule(
            "office_bar",
            "The office keeps it",
            "A very long policy source",
            "not_eligible",
            "policy",
        ),
    )
    frame = pl.DataFrame(
        {
            "reasons": ["now_misdemeanor;after", "office_bar", "a;b"],
            "explanation": [
                "Reduced (HS 1) | Too late (HS 2): 2020-01-01",
                "The office keeps it (A very long policy source): prior 1999",
                "only one",
            ],
        }
    )
    grounds = challenge_grounds(frame, rules).to_list()
    assert grounds == [
        "Too late: 2020-01-01 (HS 2)",
        "The office keeps it: prior 1999 (office policy)",
        "only one",
    ]


def test_case_numbers_are_carried_within_a_court_step_only() -> None:
    counts = pl.DataFrame(
        {
            "subject_id": ["A", "A", "A", "A", "A", "B", "B", "B", "C"],
            "event_id": [
                "001002",
                "001002",
                "001002",
                "001003",
                "002002",
                "001002",
                "001002",
                "001002",
                "001002",
            ],
            "court_case_number": ["X1", None, None, None, None, "Y1", "Y2", None, None],
            "step_type": ["court"] * 9,
        }
    ).with_columns(pl.col("event_id").cast(pl.Categorical))
    carried = carry_case_numbers(counts)["court_case_number"].to_list()
    # A's step 001002 shares X1; another step or cycle does not; B's step has two numbers: left
    # as recorded; C has none.
    assert carried == ["X1", "X1", "X1", None, None, "Y1", "Y2", None, None]
    # An arrest step's counts are left as they are.
    arrest = counts.with_columns(pl.lit("arrest").alias("step_type"))
    assert carry_case_numbers(arrest).equals(arrest)
    unchanged = counts.filter(pl.col("court_case_number").is_not_null())
    assert carry_case_numbers(unchanged).equals(unchanged)


def test_wrap_text_keeps_every_character() -> None:
    for text in ("short", "a much longer piece of text that has to wrap " * 3, "X" * 80):
        lines = wrap_text(text, 60.0)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(line for line in lines)


def test_exhibit_layout_puts_every_row_on_exactly_one_page(run_dir: Path) -> None:
    run = load_run(run_dir)
    classified = classify(
        run.convictions, rules_used(run.policy, run.as_of), Authority("pc1385", "pc1203.4")
    )
    one = group_rows(classified, DISMISS_SEAL.key, run.county)
    big = pl.concat([one] * 12).with_columns(
        pl.int_range(1, pl.len() + 1).cast(pl.String).alias("row")
    )
    exhibit = public_relief_exhibit(big, "test", recall=False)
    layout = layout_exhibit(exhibit)
    numbers = [row.number for page in layout.pages for row in page]
    assert numbers == list(range(1, exhibit.frame.height + 1))
    assert len(layout.pages) > 10


def test_pleading_layout_keeps_every_line_on_the_grid() -> None:
    from filings_fixtures import FILING

    filing = resolve_filing(statute_policy(), FILING)
    words = " ".join(f"word{i}" for i in range(400))
    blocks = [Block("heading", "A HEADING"), Block("para", words), Block("item", words, label="1.")]
    blocks += [Block("signature", label="Dated: ____", lines=("Signer",))] * 3
    document = pleading(
        filing, title="TITLE", short_title="Short", blocks=blocks, exhibit=None, keywords=()
    )
    laid = layout_document(document)
    seen: list[str] = []
    for page in laid.pages:
        assert isinstance(page, PleadingPage)
        for fragment in page.fragments:
            assert fragment.slot >= 0 and fragment.slot + fragment.slots <= SLOTS
            if hasattr(fragment, "lines"):
                seen += ["".join(t for t, _, _ in line) for line in fragment.lines]  # type: ignore[union-attr]
    text = " ".join(seen)
    assert text.count("word399") == 2 and text.count("Signer") == 3
    # A signature block is never split across pages.
    for page in laid.pages:
        assert isinstance(page, PleadingPage)
        texts = [
            "".join(t for t, _, _ in line)
            for f in page.fragments
            for line in getattr(f, "lines", ())
        ]
        if "Signer" in texts:
            assert any(t.startswith("___") for t in texts)


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
    message = str(caught.value)
    assert "office_address, phone, email, court_name, court_address" in message
    assert "--office-address TEXT" in message
    with pytest.raises(FilingsError) as caught:
        resolve_filing(policy, style="pairs")
    assert "--filing office_address=TEXT" in str(caught.value)
    given = {
        "signer": "Override",
        "court_name": "Court",
        "court_address": "Street",
        "office": " ",
        "office_address": "1 Main",
        "phone": "555",
        "email": "a@b.c",
    }
    info = resolve_filing(policy, given)
    assert info.signer == "Override" and info.office == "Office" and info.bar_number == "1"
    assert info.policy_authority_serving is None
    with pytest.raises(FilingsError, match="pc1385, statute"):
        resolve_filing(policy, {**given, "policy_authority_serving": "pc1203.4"})


def test_filing_pairs() -> None:
    assert parse_filing_pairs(["office=A = B", "bar-number=1"]) == {
        "office": "A = B",
        "bar_number": "1",
    }
    for bad in ("office", "nonsense=1"):
        with pytest.raises(FilingsError, match="KEY=VALUE"):
            parse_filing_pairs([bad])


def test_supplied_case_numbers_are_checked(tmp_path: Path) -> None:
    convictions = pl.DataFrame(
        {"subject_id": ["A", "A"], "count_id": ["1", "2"], "court_case_number": ["X", None]}
    )
    path = tmp_path / "numbers.csv"
    path.write_text("subject_id,count_id,court_case_number\nA,2,Y 9\nA,1,X\n", encoding="utf-8")
    assert read_case_numbers(path, convictions)["supplied_case"].to_list() == ["Y 9", "X"]
    for body, error in (
        ("subject_id,count_id\nA,2\n", "needs the columns"),
        ("subject_id,count_id,court_case_number\nZ,2,Y\n", "line 2"),
        ("subject_id,count_id,court_case_number\nA,1,OTHER\n", "different court case number"),
        ("subject_id,count_id,court_case_number\nA,2,Y\nA,2,Y\n", "twice"),
    ):
        path.write_text(body, encoding="utf-8")
        with pytest.raises(FilingsError, match=error) as caught:
            read_case_numbers(path, convictions)
        assert "Z," not in str(caught.value) and "OTHER" not in str(caught.value)


def test_public_safety_only_for_people_still_serving(tmp_path: Path) -> None:
    lesser = statute_rule("reduce_misdemeanor").id
    frame = rows(
        ("reduce", "misdemeanor", lesser, True, "cannabis"),
        ("reduce", "misdemeanor", lesser, False, "cannabis"),
    )
    classified = classify(frame, RULES, Authority("pc1385", "pc1203.4"))
    path = tmp_path / "safety.csv"
    path.write_text("subject_id,count_id,note\nS0,000002001000,record reviewed\n", encoding="utf-8")
    marked = mark_public_safety(classified, read_public_safety(path), path.name)
    assert marked["public_safety"].to_list() == [True, False]
    assert marked["order_group"].to_list() == [None, REDESIGNATE.key]
    path.write_text("subject_id,count_id\nS1,001002001000\n", encoding="utf-8")
    with pytest.raises(FilingsError, match="still serving"):
        mark_public_safety(classified, read_public_safety(path), path.name)


def test_a_failed_build_leaves_the_previous_filings(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "filings"
    first = write_filings(run_dir, out, docx=False)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def interrupt(message: str) -> None:
        if message.startswith("writing challenge"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_filings(run_dir, out, docx=False, progress=interrupt)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before and set(first.files) <= set(after)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".filings.b")] == []


def test_one_build_at_a_time(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "filings"
    with build_lock(out), pytest.raises(FilingsError, match="in progress"):
        write_filings(run_dir, out, docx=False)
    assert not out.exists()
    write_filings(run_dir, out, docx=False)  # the lock is free again
    assert (out / "manifest.json").exists()


def test_missing_authority_is_refused_before_anything_is_written(
    run_dir: Path, tmp_path: Path
) -> None:
    from filings_fixtures import FILING

    policy_run = tmp_path / "run"
    import shutil

    shutil.copytree(run_dir, policy_run, ignore=shutil.ignore_patterns("filings"))
    record = policy_run / "record" / "policy.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("serving: pc1385", "serving: null"), encoding="utf-8")
    with pytest.raises(FilingsError) as caught:
        write_filings(policy_run, tmp_path / "out", filing=FILING)
    message = str(caught.value)
    assert "names no authority" in message and "policy_authority_serving" in message
    assert "--policy-authority-serving" in message and "pc1385 or statute" in message
    assert not (tmp_path / "out").exists()
    done = write_filings(
        policy_run, tmp_path / "out", docx=False, filing={"policy_authority_serving": "statute"}
    )
    assert done.manifest["policy_authority"]["serving"] == "statute"


def test_documents_are_byte_identical_when_written_twice(run_dir: Path, tmp_path: Path) -> None:
    from filings_fixtures import FILING

    run = load_run(run_dir)
    filing = resolve_filing(run.policy, FILING)
    classified = classify(
        run.convictions, rules_used(run.policy, run.as_of), Authority("pc1385", "pc1203.4")
    )
    exhibit = public_relief_exhibit(
        group_rows(classified, REDESIGNATE.key, run.county), "Redesignation", recall=False
    )
    document = motion_document(run, filing, REDESIGNATE, exhibit, [], [])
    outputs = []
    for attempt in ("a", "b"):
        folder = tmp_path / attempt
        folder.mkdir()
        laid = layout_document(document)
        write_laid_out([laid], folder / "m.pdf")
        render_pdf([document], folder / "n.pdf")
        render_docx(laid, folder / "m.docx", run.as_of)
        write_workbook(run.convictions, folder / "r.xlsx", date(2019, 1, 1))
        outputs.append([(folder / n).read_bytes() for n in ("m.pdf", "n.pdf", "m.docx", "r.xlsx")])
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == outputs[0][1]
    # Dates inside the packages are the run's, not the time of writing.
    assert load_workbook(tmp_path / "a" / "r.xlsx").properties.modified.date() == date(2019, 1, 1)
    assert Document(str(tmp_path / "a" / "m.docx")).core_properties.modified.date() == run.as_of


def test_report_without_what_ifs_or_quarantine_and_twice_the_same(
    run_dir: Path, tmp_path: Path
) -> None:
    from dataclasses import replace

    from clearance.outputs.filings.charts import stacked_decisions
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


def test_names_in_any_script_print(run_dir: Path, tmp_path: Path) -> None:
    """Names outside Latin-1 print as themselves (embedded DejaVu), not as black squares."""
    import shutil

    from pypdf import PdfReader

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("filings"))
    frame = pl.read_parquet(copy / "convictions.parquet")
    subject = frame.filter(
        (pl.col("decision") == "dismiss") & pl.col("court_case_number").is_not_null()
    )["subject_id"][0]
    name = "NGUYỄN,ŁUKASZ ΣΩ ИВАН"
    frame.with_columns(
        pl.when(pl.col("subject_id") == subject).then(pl.lit(name)).otherwise("name").alias("name")
    ).write_parquet(copy / "convictions.parquet")
    from filings_fixtures import FILING

    result = write_filings(copy, tmp_path / "out", filing=FILING, subject=subject, docx=False)
    for path in (
        result.out_dir / "exhibit-b-sacramento-dismiss-seal.pdf",
        result.out_dir / "packets" / f"{subject}.pdf",
    ):
        reader = PdfReader(path)
        text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
        assert name in text, path.name
        fonts = {
            str(font["/BaseFont"])
            for page in reader.pages
            for font in page["/Resources"]["/Font"].values()
        }
        assert fonts and all("DejaVu" in f for f in fonts), fonts
