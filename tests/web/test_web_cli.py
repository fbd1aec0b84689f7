"""`clearance serve` is registered and listens on localhost unless told otherwise."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner
from web_site import make_site

from clearance.cli import app
from clearance.web.slots import DEFAULT_JOBS


def test_serve_defaults_to_localhost() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "127.0.0.1" in result.output
    assert "--data" in result.output and "--port" in result.output


def test_jobs_option_bounds_runs_and_builds_together(tmp_path: Path, template: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert "--jobs" in result.output and "runs and filings builds together" in result.output
    refused = CliRunner().invoke(app, ["serve", "--jobs", "0"])
    assert refused.exit_code == 2
    web = make_site(tmp_path / "data", template, jobs=3).app
    assert web.state.jobs.slots is web.state.builds.slots
    assert web.state.slots.size == 3
    assert make_site(tmp_path / "other", template).app.state.slots.size == DEFAULT_JOBS
