"""`clearance db|users|audit|runs`: the store's commands, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from store_helpers import PASSWORD, SampleRun
from typer.testing import CliRunner

from clearance.cli import app


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CLEARANCE_DATABASE_URL", db_url)
    return CliRunner()


def test_whole_flow(cli: CliRunner, db_url: str, sample_run: SampleRun, tmp_path: Path) -> None:
    result = cli.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output

    result = cli.invoke(
        app, ["users", "add", "Alice", "--role", "attorney", "--password-stdin"],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    result = cli.invoke(app, ["users", "add", "alice", "--role", "judge", "--password-stdin"],
                        input=PASSWORD + "\n")  # fmt: skip
    assert result.exit_code == 2 and "role" in result.output
    result = cli.invoke(app, ["users", "list"])
    assert result.exit_code == 0 and "alice" in result.output and "attorney" in result.output
    result = cli.invoke(app, ["users", "disable", "alice"])
    assert result.exit_code == 0, result.output
    assert "disabled" in cli.invoke(app, ["users", "list"]).output
    assert cli.invoke(app, ["users", "disable", "nobody"]).exit_code == 2

    args = ["runs", "store", str(sample_run.run_dir), "--input", str(sample_run.inputs[0])]
    result = cli.invoke(app, [*args, "--by", "tester"])
    assert result.exit_code == 0, result.output
    assert "stored run 1" in result.output and "SACRAMENTO" in result.output
    result = cli.invoke(app, ["runs", "store", str(sample_run.run_dir), "--input", str(tmp_path)])
    assert result.exit_code == 2 and "error" in result.output
    result = cli.invoke(app, ["runs", "list"])
    assert result.exit_code == 0 and "statute" in result.output
    result = cli.invoke(app, ["runs", "export", "1", "--out", str(tmp_path / "reviewed")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reviewed" / "convictions.csv").is_file()

    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output

    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
    engine.dispose()
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "entry 2 was changed" in result.output


def test_sqlite_in_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLEARANCE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "clearance.db").is_file()
    result = CliRunner().invoke(app, ["audit", "verify", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0 and "0 entries" in result.output


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CLEARANCE_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"
    )
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 2
    assert "cannot use the database" in result.output and "secret" not in result.output
    assert "Traceback" not in result.output
