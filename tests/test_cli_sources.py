"""The command line for other sources: `clearance check` on a RAP sheet, and `clearance synth`
writing RAP sheets and court exports."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner, Result

from clearance.cli import app
from clearance.records.court_export import load_mapping, read_court_export

ROOT = Path(__file__).resolve().parents[1]
SHEETS = ROOT / "tests" / "records" / "rapsheets"
SAMPLE = ROOT / "examples" / "peer-generated-sacramento-20k.dat.gz"
WIDE = {"COLUMNS": "1000"}

SHEET = """CII/A55555555
DOB/19800101    SEX/F
NAM/01 CHECKED, ONE R
* * * *
ARR/DET/CITE:         NAM:01
20100110  CAPD SAN FRANCISCO
CNT:01
  11359 HS-POSSESS MARIJUANA FOR SALE
- - - -
COURT:                NAM:01
20100301  CASC SAN FRANCISCO

CNT:01     #2010-SF-88
  11359 HS-POSSESS MARIJUANA FOR SALE
*DISPO:CONVICTED
   CONV STATUS:FELONY
   SEN: 003 YEARS PROBATION
* * * *
ARR/DET/CITE:         NAM:01
20120720  CASO SAN DIEGO
CNT:01
  11357(B) HS-POSS MARIJ 28.5 GRAMS OR LESS
- - - -
COURT:                NAM:01
20120801  CASC SAN DIEGO

CNT:01     #SD12-5
  11357(B) HS-POSS MARIJ 28.5 GRAMS OR LESS
*DISPO:CONVICTED
   CONV STATUS:MISDEMEANOR
* * * END OF MESSAGE * * *
"""


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE, prog_name="clearance")


def test_check_prints_the_decisions_and_writes_a_packet_per_county(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.txt"
    sheet.write_text(SHEET)
    out = tmp_path / "out"
    result = invoke("check", sheet, "--out", out, "--as-of", "2026-11-21")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "CHECKED,ONE R" in text
    assert "San Diego County" in text and "San Francisco County" in text
    assert "case 2010-SF-88, count 1: HS 11359, felony, convicted 2010-03-01" in text
    assert "-> REDUCE to misdemeanor (HS 11361.8(f))" in text
    assert "case SD12-5, count 1: HS 11357(b), misdemeanor" in text
    assert "-> DISMISS AND SEAL (HS 11361.8(f))" in text
    for county in ("san-diego", "san-francisco"):
        folder = out / county
        packets = list(folder.glob("petition-*.pdf"))
        assert len(packets) == 1 and packets[0].read_bytes().startswith(b"%PDF-")
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["sources"]["rap_sheets"]["events"] == 4
        convictions = pl.read_csv(folder / "convictions.csv")
        assert convictions.height == 1


def test_check_reports_what_it_could_not_read(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("check", SHEETS / "ocr-noise.txt", "--out", out, "--as-of", "2026-11-21")
    assert result.exit_code == 0, result.output
    assert "read with care" in " ".join(result.stdout.split())
    notes = pl.read_csv(next(out.rglob("reading-notes.csv")))
    assert "unreadable" in notes["kind"].to_list()


def test_check_refuses_what_is_not_one_rap_sheet(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("a letter, not a record\n")
    result = invoke("check", other, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: not a RAP sheet")
    second = tmp_path / "second.txt"
    second.write_text(SHEET.replace("A55555555", "A66666666").replace("ONE R", "TWO S"))
    first = tmp_path / "first.txt"
    first.write_text(SHEET)
    result = invoke("check", first, second, "--out", tmp_path / "out2")
    assert result.exit_code == 2
    assert "hold 2 people" in result.stderr
    assert "CHECKED" not in result.stderr  # no name in an error line
    missing = invoke("check", tmp_path / "nope.txt", "--out", tmp_path / "o")
    assert missing.exit_code == 3 and "nope.txt: no such file" in missing.stderr
    assert not (tmp_path / "o").exists()


def test_check_writes_its_folder_whole_or_not_at_all(tmp_path: Path) -> None:
    """The folder is listed in run.json (verify passes); a later check that fails leaves it as
    it was and says so."""
    sheet = tmp_path / "sheet.txt"
    sheet.write_text(SHEET)
    out = tmp_path / "out"
    result = invoke("check", sheet, "--out", out, "--as-of", "2026-11-21")
    assert result.exit_code == 0, result.output
    assert f"petition packet: {out / 'san-diego'}/petition-" in " ".join(result.stdout.split())
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["command"] == "check"
    listed = {f["path"] for f in manifest["files"]}
    assert {"san-diego/convictions.csv", "san-francisco/summary.json"} <= listed
    assert invoke("verify", out).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    other = tmp_path / "notes.txt"
    other.write_text("a letter, not a record\n")
    failed = invoke("check", other, "--out", out, "--as-of", "2026-11-21")
    assert failed.exit_code == 2
    assert f"the previous outputs in {out} are unchanged" in failed.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "out", "sheet.txt"]


def test_synth_writes_rap_sheets_and_pdfs(tmp_path: Path) -> None:
    folder = tmp_path / "sheets"
    result = invoke("synth", "--format", "rapsheet", "--rows", "2000", "--people", "3",
                    "--out", folder, "--pdf")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(list(folder.glob("*.txt"))) == 3
    assert len(list(folder.glob("*.pdf"))) == 3


def test_synth_writes_a_court_export_with_its_mapping(tmp_path: Path) -> None:
    export = tmp_path / "court.xlsx"
    result = invoke("synth", "--format", "court-export", "--from", SAMPLE, "--out", export,
                    "--county", "Sacramento", "--people", "12")  # fmt: skip
    assert result.exit_code == 0, result.output
    mapping = tmp_path / "court-mapping.yaml"
    assert mapping.is_file()
    records = read_court_export(export, load_mapping(mapping))
    assert records.rows_loaded > 12
    assert records.counts["county"].unique().to_list() == ["SACRAMENTO"]


def test_the_shipped_mapping_is_the_documented_example() -> None:
    packaged = ROOT / "src" / "clearance" / "records" / "court-export-mapping.yaml"
    assert packaged.read_text() == (ROOT / "examples" / "court-export-mapping.yaml").read_text()


def test_run_merges_the_doj_file_and_a_court_export(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = invoke(
        "run", SAMPLE, ROOT / "examples" / "court-export.csv",
        "--mapping", ROOT / "examples" / "court-export-mapping.yaml",
        "--county", "Sacramento", "--as-of", "2026-11-21", "--out", out, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    sources = summary["sources"]
    only = sources["found_only_in_court_records"]
    assert only["convictions"] == sum(only["by_decision"].values()) > 0
    assert sources["doubtful_matches"] > 0
    assert summary["input"]["accounting_holds"]
    convictions = pl.read_csv(out / "convictions.csv", infer_schema=False)
    court_only = convictions.filter(pl.col("source").str.starts_with("court-export.csv:"))
    assert court_only.height == only["convictions"]
    both = convictions.filter(pl.col("source").str.contains("; court-export.csv:", literal=True))
    assert both.height == sources["convictions_in_two_sources"] > 0
    matches = pl.read_csv(out / "matches.csv")
    assert set(matches["rule"]) == {"cii", "name_dob", "doubtful", "new"}
    # results.csv holds the DOJ file's rows only: a court row is no DOJ row.
    with (out / "results.csv").open() as handle:
        assert (
            sum(1 for _ in handle)
            == summary["input"]["files"][0]["rows_read"]
            + 1
            - (summary["input"]["files"][0]["blank_lines"])
        )


def test_a_court_export_without_its_mapping_is_one_clear_error(tmp_path: Path) -> None:
    result = invoke("run", ROOT / "examples" / "court-export.csv", "--county", "Sacramento",
                    "--as-of", "2026-11-21", "--out", tmp_path / "o")  # fmt: skip
    assert result.exit_code == 2
    assert "needs --mapping FILE.yaml" in result.stderr


def test_run_and_ingest_read_a_rap_sheet(tmp_path: Path) -> None:
    result = invoke("run", SHEETS / "every-event.txt", "--county", "Sacramento", "--as-of",
                    "2026-11-21", "--out", tmp_path / "run", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    quarantine = pl.read_csv(tmp_path / "run" / "quarantine.csv")
    assert quarantine.height == 2
    events = pl.read_csv(tmp_path / "run" / "events.csv")
    assert events.height == 19
    result = invoke("ingest", SHEETS / "every-event.txt", "--out", tmp_path / "ingest", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ingest" / "events.csv").is_file()
    assert pl.read_parquet(tmp_path / "ingest" / "counts.parquet").height == 25
