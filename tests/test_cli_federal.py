"""`clearance federal` and `clearance synth --format federal`, as a clinic runs them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner, Result

from clearance.cli import app
from clearance.law.federal import DECISIONS
from clearance.outputs.federal import CSV_COLUMNS

WIDE = {"COLUMNS": "1000"}
RAPSHEETS = Path(__file__).parent / "records" / "rapsheets"


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE, prog_name="clearance")


def test_synth_then_screen_accounts_for_every_row(tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    made = invoke(
        "synth",
        "--format",
        "federal",
        "--people",
        "120",
        "--malformed",
        "0.05",
        "--seed",
        "3",
        "--out",
        cases,
    )
    assert made.exit_code == 0, made.output
    again = tmp_path / "again.csv"
    invoke(
        "synth",
        "--format",
        "federal",
        "--people",
        "120",
        "--malformed",
        "0.05",
        "--seed",
        "3",
        "--out",
        again,
    )
    assert cases.read_bytes() == again.read_bytes()
    out = tmp_path / "out"
    result = invoke("federal", cases, "--out", out)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "federal-summary.json").read_text(encoding="utf-8"))
    with cases.open(encoding="utf-8") as handle:
        data_rows = sum(1 for _ in handle) - 1
    assert summary["input"]["rows_read"] == data_rows
    assert (
        summary["input"]["rows_read"]
        == summary["input"]["loaded"] + summary["input"]["quarantined"]
    )
    assert summary["input"]["quarantined"] > 0
    with (out / "federal.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == summary["counts"] == summary["input"]["loaded"]
    assert sum(v["counts"] for v in summary["by_decision"].values()) == len(rows)
    assert {r["decision"] for r in rows} == set(DECISIONS)
    for row in rows:
        assert row["reasons"], row
        assert (row["form"] != "") == row["decision"].startswith("covered")
    quarantined = list(csv.DictReader((out / "federal-quarantine.csv").open(encoding="utf-8")))
    assert len(quarantined) == summary["input"]["quarantined"]
    assert all(q["reason"] and q["source_line"] for q in quarantined)
    not_covered = summary["not_covered"]
    assert sum(not_covered["by_sentence"].values()) == not_covered["counts"]
    assert sum(not_covered["by_statute"].values()) == not_covered["counts"]
    # The folder is whole: every file listed in run.json, packets included.
    listed = {f["path"] for f in json.loads((out / "run.json").read_text())["files"]}
    assert {"federal.csv", "federal-summary.json", "federal-quarantine.csv"} <= listed
    assert any(name.startswith("packets/") for name in listed)
    assert invoke("verify", out).exit_code == 0
    assert "covered_2022" in result.output


def test_rap_sheet_federal_entry_is_screened(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("federal", RAPSHEETS / "every-event.txt", "--out", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "federal.csv").open(encoding="utf-8")))
    assert [(r["statute"], r["decision"], r["reasons"]) for r in rows] == [
        ("21 USC 841(a)(1)", "not_covered", "fed_not_covered_distribution_841")
    ]


def test_bad_inputs_end_in_one_line_without_data(tmp_path: Path) -> None:
    missing = invoke("federal", tmp_path / "nope.csv", "--out", tmp_path / "o")
    assert missing.exit_code == 3
    assert "no such file" in missing.output and "Traceback" not in missing.output
    partial = tmp_path / "partial.csv"
    partial.write_text("person_id,name\nP1,SECRET PERSON\n", encoding="utf-8")
    refused = invoke("federal", partial, "--out", tmp_path / "o")
    assert refused.exit_code == 2
    assert "lacks statute" in refused.output
    assert "SECRET" not in refused.output
    switch = invoke("federal", partial, "--unplaced", "maybe", "--out", tmp_path / "o")
    assert switch.exit_code == 2 and "both_forms" in switch.output
    assert not (tmp_path / "o").exists()


def test_a_failed_screen_leaves_the_previous_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("federal", RAPSHEETS / "every-event.txt", "--out", out).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    partial = tmp_path / "partial.csv"
    partial.write_text("person_id,name\nP1,SECRET PERSON\n", encoding="utf-8")
    refused = invoke("federal", partial, "--out", out)
    assert refused.exit_code == 2
    assert f"the previous outputs in {out} are unchanged" in refused.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_state_run_reports_federal_entries_and_points_to_the_screen(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = invoke(
        "run", RAPSHEETS / "every-event.txt", "--county", "sacramento", "--as-of",
        "2026-01-01", "--out", out, "--no-what-if",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 federal entry of 1 person" in result.output
    assert "clearance federal" in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["federal_entries"]["counts"] == 1
    assert summary["federal_entries"]["by_statute"] == {"21 USC 841(a)(1)": 1}
    assert summary["federal_entries"]["screen_with"].startswith("clearance federal")


def test_rules_lists_every_federal_rule_with_its_citation() -> None:
    from clearance.law.federal import FEDERAL_RULES

    result = invoke("rules", "--federal")
    assert result.exit_code == 0, result.output
    for rule in FEDERAL_RULES:
        assert rule.id in result.output
    assert "Proclamation 10688 of Dec. 22, 2023" in result.output


def test_each_covered_count_names_its_packet_and_other_date_forms_are_read(
    tmp_path: Path,
) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "person_id,name,dob,citizenship,court,docket,statute,offense_date,disposition,"
        "disposition_date,sentence\n"
        "A/1,X,19700101,,C.D. Cal.,1,21 USC 844,2010/01/02,convicted,01/05/2010,\n"
        "A_1,Y,1970-01-01,,C.D. Cal.,2,21 USC 844,20100102,convicted,,\n"
        "B,Z,1970-01-01,,C.D. Cal.,3,21 USC 841,2010-01-02,convicted,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = invoke("federal", cases, "--out", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "federal.csv").open(encoding="utf-8")))
    assert [r["offense_date"] for r in rows] == ["2010-01-02"] * 3
    assert rows[0]["disposition_date"] == "2010-01-05"
    assert [r["packet"] for r in rows] == ["packets/A_1.pdf", "packets/A_1_1.pdf", ""]
    for row in rows[:2]:
        assert (out / row["packet"]).is_file()
        assert (out / row["packet"].replace(".pdf", ".docx")).is_file()
