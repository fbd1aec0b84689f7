"""Repository mode on Spark under each county's own flow: the same files as the local engine,
and county files that each give, run alone, the statewide run's result for their county.

The county flows read the record their own way (patterns anywhere in the offense text, letter
case as written, any conviction of any offense in any county) and San Joaquin's and Contra
Costa's decide related charges of people with no cannabis conviction at all: the repository
(`flow_edges`) holds such people, and Spark's run narrows it before deciding. One Spark
session for the test session (conftest); one Spark run per flow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import AS_OF, RUN_FILES
from flow_edges import COUNTY, write_repository
from typer.testing import CliRunner, Result

from clearance.cli import app

FLOWS = ("san-joaquin-2019", "contra-costa-2019", "los-angeles-2020", "sacramento-2019",
         "san-francisco-2018")  # fmt: skip


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def run(path: Path, county: str, out: Path, *extra: str | Path) -> Result:
    return invoke("run", path, "--county", county, "--as-of", AS_OF, "--out", out, "-q", *extra)


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_repository(tmp_path_factory.mktemp("repository") / "repository.dat")


def _summary(path: Path) -> dict[str, Any]:
    """A run's summary without its input's accounting (a county file is another input)."""
    summary = json.loads(path.read_text(encoding="utf-8"))
    summary.pop("input")
    return dict(summary)


@pytest.mark.parametrize("preset", FLOWS)
def test_repository_on_spark_equals_local_under_a_county_flow(
    spark: Any, repository: Path, preset: str, tmp_path: Path
) -> None:
    policy = ("--policy", preset)
    local, on_spark, files = tmp_path / "local", tmp_path / "spark", tmp_path / "county-files"
    result = run(repository, COUNTY, local, *policy)
    assert result.exit_code == 0, result.output
    result = run(repository, COUNTY, on_spark, *policy, "--engine", "spark",
                 "--write-county-files", files)  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in RUN_FILES:
        assert (local / name).read_bytes() == (on_spark / name).read_bytes(), name

    # Each county file, run alone, is the statewide run's folder for its county (whose runs
    # decide the same people: the file holds all of their history).
    statewide = tmp_path / "statewide"
    result = run(repository, "all", statewide, *policy)
    assert result.exit_code == 0, result.output
    folders = sorted(p.name for p in (statewide / "counties").iterdir())
    assert sorted(p.stem for p in files.iterdir()) == folders
    assert COUNTY.lower().replace(" ", "-") in folders and len(folders) > 3
    for folder in folders:
        alone = tmp_path / "alone" / folder
        result = run(files / f"{folder}.dat", folder, alone, *policy)
        assert result.exit_code == 0, (folder, result.output)
        state = statewide / "counties" / folder
        mine = pl.read_csv(alone / "convictions.csv", infer_schema=False)
        theirs = pl.read_csv(state / "convictions.csv", infer_schema=False)
        # The rows point to their own file and line.
        assert mine.drop("source").equals(theirs.drop("source")), folder
        assert (alone / "people.csv").read_bytes() == (state / "people.csv").read_bytes(), folder
        assert _summary(alone / "summary.json") == _summary(state / "summary.json"), folder
