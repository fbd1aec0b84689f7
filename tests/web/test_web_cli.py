"""`clearance serve` is registered and listens on localhost unless told otherwise."""

from __future__ import annotations

from typer.testing import CliRunner

from clearance.cli import app


def test_serve_defaults_to_localhost() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "127.0.0.1" in result.output
    assert "--data" in result.output and "--port" in result.output
