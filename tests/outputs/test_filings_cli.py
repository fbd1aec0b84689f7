"""`clearance filings` from the shell: filing details, overrides, packets, one-line errors."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import typer
from filings_fixtures import FILING, build_run
from filings_helpers import pdf_pages
from typer.testing import CliRunner

from clearance.outputs.filings import FilingsError, write_filings
from clearance.outputs.filings.cli import register

OPTIONS = {
    "office": "--office",
    "signer": "--signer",
    "bar_number": "--bar-number",
    "court_name": "--court-name",
    "court_address": "--court-address",
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
    for field in ("office", "signer", "bar_number", "court_address"):
        assert field in message and OPTIONS[field] in message
    assert "court_name" not in message
    assert "filing:" in message
    assert not (bare_run / "filings").exists()


def test_cli_error_is_one_line_and_exit_2(bare_run: Path, app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["filings", "--run", str(bare_run), "--signer", "A. B."])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: filing details missing")
    assert "signer" not in lines[0].split("missing:")[1].split(";")[0]


def test_cli_options_override_the_policy_and_write_packets(
    bare_run: Path, app: typer.Typer, tmp_path: Path
) -> None:
    out = tmp_path / "filings"
    args = ["filings", "--run", str(bare_run), "--out", str(out), "--per-person", "--no-docx"]
    args += ["--office", "Public Defender of Sacramento County", "--signer", "Sam Advocate"]
    args += ["--bar-number", "654321", "--court-address", "720 Ninth Street"]
    args += ["--court-name", "Superior Court of California, County of Sacramento (test)"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    motion = "\n".join(pdf_pages(out / "motion-sacramento-dismiss-seal.pdf"))
    assert "Sam Advocate" in motion and "654321" in motion
    assert "(TEST)" in motion
    assert not list(out.glob("*.docx"))
    frame = pl.read_parquet(bare_run / "convictions.parquet")
    relieved = frame.filter(pl.col("decision").is_in(["dismiss", "reduce"]))
    packets = sorted(p.stem for p in (out / "packets").glob("*.pdf"))
    assert packets == sorted(relieved["subject_id"].unique().to_list())
    for value in personal_values(bare_run):
        assert value not in result.output


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
