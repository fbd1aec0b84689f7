"""`clearance filings` and `clearance run --filings` from the shell: filing details, presets,
packets by who files them, supplied case numbers and public-safety marks, one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
import typer
from filings_fixtures import AUTHORITY, FILING, build_run
from filings_helpers import exhibit_b_rows, pdf_pages, pdf_text, read_csv
from typer.testing import CliRunner

from clearance.outputs.filings import FilingsError, write_filings
from clearance.outputs.filings.cli import register
from clearance.outputs.filings.data import FILING_OPTIONS
from clearance.outputs.folder import verify_folder
from clearance.synth import write_synthetic

PRESET_COUNTIES = {
    "statute": "SACRAMENTO",
    "sacramento-2019": "SACRAMENTO",
    "san-francisco-2018": "SAN FRANCISCO",
    "los-angeles-2020": "LOS ANGELES",
    "san-joaquin-2019": "SAN JOAQUIN",
    "contra-costa-2019": "CONTRA COSTA",
}


@pytest.fixture(scope="module")
def bare_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run whose policy names only the court (as the shipped presets do)."""
    return build_run(
        tmp_path_factory.mktemp("bare-run"),
        rows=400,
        seed=2,
        filing={"court_name": FILING["court_name"]},
    )


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)

    @application.command()
    def other() -> None:  # a second command keeps `filings` a subcommand
        """Placeholder."""

    return application


def options(**extra: str) -> list[str]:
    """The filing details as `clearance filings` options."""
    values = {
        **FILING,
        "policy_authority_serving": AUTHORITY["serving"],
        "policy_authority_completed": AUTHORITY["completed"],
        **extra,
    }
    args: list[str] = []
    for key, value in values.items():
        args += [FILING_OPTIONS[key], value]
    return args


def personal_values(run_dir: Path) -> list[str]:
    frame = pl.read_parquet(run_dir / "convictions.parquet")
    values = [*frame["name"].drop_nulls().to_list(), *frame["cii_number"].drop_nulls().to_list()]
    values += [d.isoformat() for d in frame["dob"].drop_nulls().to_list()]
    return [v for v in values if len(v) >= 6]


def test_missing_filing_details_are_named_with_how_to_give_them(bare_run: Path) -> None:
    with pytest.raises(FilingsError) as caught:
        write_filings(bare_run, bare_run / "filings")
    message = str(caught.value)
    assert "\n" not in message
    for field in (
        "office",
        "signer",
        "bar_number",
        "office_address",
        "phone",
        "email",
        "court_address",
    ):
        assert field in message and FILING_OPTIONS[field] in message
    assert "court_name" not in message
    assert "filing:" in message
    assert not (bare_run / "filings").exists()


def test_cli_error_is_one_line_and_exit_2(bare_run: Path, app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["filings", "--run", str(bare_run), "--signer", "A. B."])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: filing details missing")
    assert "signer" not in lines[0].split("missing:")[1].split(";")[0]


def test_cli_options_override_the_policy_and_write_the_peoples_packets(
    bare_run: Path, app: typer.Typer, tmp_path: Path
) -> None:
    out = tmp_path / "filings"
    args = ["filings", "--run", str(bare_run), "--out", str(out), "--per-person", "--no-docx"]
    args += options(
        signer="Sam Prosecutor",
        bar_number="654321",
        court_name="Superior Court of California, County of Sacramento (test)",
    )
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    motion = pdf_text(out / "motion-sacramento-dismiss-seal.pdf")
    assert "Sam Prosecutor" in motion and "654321" in motion and "(TEST)" in motion
    assert not list(out.glob("*.docx"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"][-1]["filed_by"] == "people"
    packets = sorted((out / "packets").glob("*.pdf"))
    assert packets
    for packet in packets[:10]:
        text = pdf_text(packet)
        assert "Attorney for the People" in text and "Petitioner" not in text
    for value in personal_values(bare_run):
        assert value not in result.output


@pytest.mark.parametrize("counsel", [False, True])
def test_petitioner_packets_are_signed_by_the_person_or_their_counsel(
    bare_run: Path, app: typer.Typer, tmp_path: Path, counsel: bool
) -> None:
    out = tmp_path / "filings"
    args = [
        "filings",
        "--run",
        str(bare_run),
        "--out",
        str(out),
        "--per-person",
        "--no-docx",
        "--packets",
        "petitioner",
        *options(),
    ]
    if counsel:
        args += [
            "--counsel-name",
            "Lee Legal Aid",
            "--counsel-bar-number",
            "777777",
            "--counsel-office",
            "Community Legal Aid",
            "--counsel-phone",
            "555-0199",
        ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    packets = sorted((out / "packets").glob("*.pdf"))
    assert packets
    frame = pl.read_parquet(bare_run / "convictions.parquet")
    names = dict(zip(frame["subject_id"], frame["name"], strict=True))
    for packet in packets[:10]:
        text = pdf_text(packet)
        assert "CR-400" in text and "CR-403" in text
        assert FILING["signer"] not in text and "Attorney for the People" not in text
        assert FILING["office"] not in text
        if counsel:
            assert "Lee Legal Aid (State Bar No. 777777)" in text
            assert "Attorney for Petitioner" in text or "Attorney for Applicant" in text
        else:
            assert "self-represented" in text and names[packet.stem] in text
        assert "under penalty of perjury" in text


def test_counsel_needs_a_bar_number_and_petitioner_packets(
    bare_run: Path, app: typer.Typer
) -> None:
    result = CliRunner().invoke(
        app, ["filings", "--run", str(bare_run), "--packets", "petitioner", "--counsel-name", "X"]
    )
    assert result.exit_code == 2 and "--counsel-bar-number" in result.output
    result = CliRunner().invoke(
        app, ["filings", "--run", str(bare_run), "--counsel-name", "X", "--counsel-bar-number", "1"]
    )
    assert result.exit_code == 2 and "--packets petitioner" in result.output


def test_subject_without_relief_is_refused_without_naming_it(
    run_dir: Path, convictions: pl.DataFrame, tmp_path: Path
) -> None:
    relieved = set(
        convictions.filter(pl.col("decision").is_in(["dismiss", "reduce"]))["subject_id"]
    )
    others = sorted(set(convictions["subject_id"]) - relieved)
    assert others
    for subject in (others[0], "no-such-person"):
        with pytest.raises(FilingsError) as caught:
            write_filings(run_dir, tmp_path / "out", subject=subject, filing=FILING)
        assert subject not in str(caught.value)


def test_supplied_case_numbers_put_held_counts_into_their_orders(
    run_dir: Path, app: typer.Typer, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    result = CliRunner().invoke(
        app, ["filings", "--run", str(run_dir), "--out", str(first), "--no-docx", "-q"]
    )
    assert result.exit_code == 0, result.output
    held = first / "needs-case-number-sacramento.csv"
    rows = read_csv(held)
    assert rows and all(not r["court_case_number"] for r in rows)
    clerk = pdf_text(first / "needs-case-number-sacramento.pdf")
    assert "--case-numbers" in clerk and "CONFIDENTIAL" in clerk
    filled = tmp_path / "filled.csv"
    with filled.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for number, row in enumerate(rows):
            writer.writerow({**row, "court_case_number": f"ZZ-{number:04d}"})
    second = tmp_path / "second"
    result = CliRunner().invoke(
        app,
        [
            "filings",
            "--run",
            str(run_dir),
            "--out",
            str(second),
            "--no-docx",
            "-q",
            "--case-numbers",
            str(filled),
        ],
    )
    assert result.exit_code == 0, result.output
    assert not (second / "needs-case-number-sacramento.csv").exists()
    update = read_csv(second / "court-update-sacramento.csv")
    supplied = {r["count_id"] for r in update if r["court_case_number"].startswith("ZZ-")}
    ordered = [
        r
        for r in rows
        if r["filing"]
        in {"dismiss-seal", "redesignate", "recall-resentence", "policy-dismiss-pc1385"}
    ]
    assert supplied == {r["count_id"] for r in ordered}
    # A file that names a count the run does not have is refused, naming only the line.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "subject_id,count_id,court_case_number\nnobody,000000000000,X\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        app,
        [
            "filings",
            "--run",
            str(run_dir),
            "--out",
            str(tmp_path / "x"),
            "--case-numbers",
            str(bad),
        ],
    )
    assert result.exit_code == 2 and "line 2" in result.output and "nobody" not in result.output


def test_public_safety_marks_move_a_recall_to_the_challenge(
    run_dir: Path, app: typer.Typer, tmp_path: Path
) -> None:
    from clearance.outputs.filings.data import load_run, rules_used
    from clearance.outputs.filings.groups import Authority, classify
    from clearance.outputs.filings.marks import SERVING_GROUPS

    run = load_run(run_dir)
    classified = classify(
        run.convictions, rules_used(run.policy, run.as_of), Authority("pc1385", "pc1203.4")
    ).filter(
        pl.col("order_group").is_in(list(SERVING_GROUPS))
        & pl.col("court_case_number").is_not_null()
    )
    assert classified.height, "the fixture has a person still serving to mark"
    subject, count, cii, group = classified.select(
        "subject_id", "count_id", pl.col("cii_number").fill_null("unknown"), "order_group"
    ).row(0)
    marks = tmp_path / "safety.csv"
    marks.write_text(
        f"subject_id,count_id,note\n{subject},{count},violent record since\n", encoding="utf-8"
    )
    out = tmp_path / "marked"
    result = CliRunner().invoke(
        app,
        [
            "filings",
            "--run",
            str(run_dir),
            "--out",
            str(out),
            "--no-docx",
            "-q",
            "--public-safety",
            str(marks),
        ],
    )
    assert result.exit_code == 0, result.output
    still = out / f"exhibit-b-sacramento-{group}.pdf"
    if still.exists():  # the group may have had this one row only
        assert (cii, count) not in exhibit_b_rows(still).values()
    assert (cii, count) in exhibit_b_rows(out / "exhibit-b-sacramento-challenge.pdf").values()
    notice = pdf_text(out / "challenge-sacramento.pdf")
    assert "Unreasonable risk of danger to public safety" in notice
    assert "violent record since" not in notice
    assert "violent record since" in pdf_text(out / "exhibit-b-sacramento-challenge.pdf")


def test_not_a_run_folder(tmp_path: Path, app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["filings", "--run", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a complete run folder" in result.output


def test_bad_order_date(run_dir: Path, app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["filings", "--run", str(run_dir), "--order-date", "3/1/19"])
    assert result.exit_code == 2
    assert "--order-date" in result.output


def test_clearance_command_has_filings() -> None:
    from clearance.cli import app as clearance_app

    names = {command.name for command in clearance_app.registered_commands}
    assert "filings" in names


def run_args(source: Path, preset: str, out: Path) -> list[str]:
    county = PRESET_COUNTIES[preset]
    return [
        "run",
        str(source),
        "--county",
        county,
        "--policy",
        preset,
        "--as-of",
        "2024-01-01",
        "--out",
        str(out),
        "--filings",
        "--no-what-if",
        "--quiet",
    ]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("preset-sources")
    made = {}
    for county in sorted(set(PRESET_COUNTIES.values())):
        path = folder / f"{county.lower().replace(' ', '-')}.dat"
        write_synthetic(path, rows=2500, county=county, seed=11)
        made[county] = path
    return made


def test_run_filings_without_details_names_them(sources: dict[str, Path], tmp_path: Path) -> None:
    from clearance.cli import app as clearance_app

    result = CliRunner().invoke(
        clearance_app, run_args(sources["SACRAMENTO"], "sacramento-2019", tmp_path / "out")
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    for field in ("office", "signer", "bar_number", "office_address", "phone", "email"):
        assert f"--filing {field}=TEXT" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("preset", sorted(PRESET_COUNTIES))
def test_every_shipped_preset_runs_with_filings(
    sources: dict[str, Path], tmp_path: Path, preset: str
) -> None:
    from clearance.cli import app as clearance_app

    county = PRESET_COUNTIES[preset]
    out = tmp_path / "out"
    details = {
        **FILING,
        "court_name": f"Superior Court of California, County of {county.title()}",
        "policy_authority_serving": "pc1385",
        "policy_authority_completed": "pc1203.4",
    }
    args = run_args(sources[county], preset, out)
    for key, value in details.items():
        args += ["--filing", f"{key}={value}"]
    result = CliRunner().invoke(clearance_app, args)
    assert result.exit_code == 0, result.output
    folder = out / "filings"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    slug = county.lower().replace(" ", "-")
    assert (folder / f"challenge-{slug}.pdf").exists()
    assert (folder / f"review-{slug}-district-attorney.csv").exists()
    if preset == "los-angeles-2020":
        assert (folder / f"review-{slug}-city-attorney.pdf").exists()
        assert manifest["review_convictions"]["city_attorney"] > 0
    frame = pl.read_parquet(out / "convictions.parquet")
    values = [
        v
        for v in frame["name"].drop_nulls().to_list() + frame["cii_number"].drop_nulls().to_list()
        if len(v) >= 6
    ]
    values += [d.isoformat() for d in frame["dob"].drop_nulls().to_list()]
    for entry in manifest["files"]:
        if entry["access"] == "public" and entry["file"].endswith(".pdf"):
            text = pdf_text(folder / entry["file"])
            assert not [v for v in values if v in text], entry["file"]
            assert "Attorney for Petitioner" not in text
    update = read_csv(folder / f"court-update-{slug}.csv")
    assert all(r["court_case_number"] for r in update)
    # The filings were written before the run's folder was put in place: run.json lists them.
    listed = {f["path"] for f in json.loads((out / "run.json").read_text())["files"]}
    assert {f"filings/{entry['file']}" for entry in manifest["files"]} <= listed
    assert verify_folder(out).whole
    for page in pdf_pages(folder / f"challenge-{slug}.pdf")[:1]:
        assert "28" in page.split()


def test_filings_of_a_run_folder_are_added_to_its_run_json(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    """`clearance filings --run DIR` after the run: the folder still verifies whole, with the
    new filings listed and the run's other files as they were."""
    from clearance.cli import app as clearance_app

    out = tmp_path / "out"
    args = run_args(sources["SACRAMENTO"], "statute", out)
    args.remove("--filings")
    first = CliRunner().invoke(clearance_app, args)
    assert first.exit_code == 0, first.output
    before = json.loads((out / "run.json").read_text())["files"]
    result = CliRunner().invoke(
        clearance_app, ["filings", "--run", str(out), "--no-docx", "--quiet", *options()]
    )
    assert result.exit_code == 0, result.output
    after = json.loads((out / "run.json").read_text())["files"]
    assert [f for f in after if not f["path"].startswith("filings/")] == before
    written = {p.relative_to(out).as_posix() for p in (out / "filings").rglob("*") if p.is_file()}
    assert {f["path"] for f in after if f["path"].startswith("filings/")} == written
    assert verify_folder(out).whole
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
