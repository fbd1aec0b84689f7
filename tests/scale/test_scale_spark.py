"""`--engine spark`: Spark reads, repartitions by SUBJECT_ID and runs the same Polars engine on
each partition; the run's files are the bytes of the local engine's.

Few tests, one Spark session (conftest): Spark starts a JVM and the machine's cores are shared.
The longer comparison (1M rows) is in the benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
from conftest import AS_OF, RUN_FILES, SAMPLE
from typer.testing import CliRunner, Result

from clearance.cli import app


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def run(path: Path, out: Path, *extra: str) -> Result:
    result = invoke("run", path, "--county", "sacramento", "--as-of", AS_OF, "--out", out, "-q",
                    *extra)  # fmt: skip
    assert result.exit_code == 0, result.output
    return result


def assert_same_files(a: Path, b: Path) -> None:
    for name in RUN_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_sample_on_spark_equals_local(spark: Any, tmp_path: Path) -> None:
    run(SAMPLE, tmp_path / "local")
    run(SAMPLE, tmp_path / "spark", "--engine", "spark")
    assert_same_files(tmp_path / "local", tmp_path / "spark")


def test_synthetic_100k_on_spark_equals_local(
    spark: Any, synthetic_100k: Path, tmp_path: Path
) -> None:
    run(synthetic_100k, tmp_path / "local", "--policy", "san-francisco-2018")
    run(synthetic_100k, tmp_path / "spark", "--policy", "san-francisco-2018", "--engine", "spark")
    assert_same_files(tmp_path / "local", tmp_path / "spark")


def test_spark_options_that_do_not_go_together(tmp_path: Path) -> None:
    result = invoke("run", SAMPLE, "--county", "all", "--as-of", AS_OF, "--out", tmp_path,
                    "--engine", "spark")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --engine spark decides one county per run")
    result = invoke("run", SAMPLE, "--county", "sacramento", "--as-of", AS_OF, "--out",
                    tmp_path, "--master", "local[2]")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --master goes with --engine spark")


def test_repository_is_narrowed_and_split_into_county_files(spark: Any, tmp_path: Path) -> None:
    """DOJ's own step: a whole repository (most people without any cannabis record) decided on
    Spark like the local engine, and cut into the per-county files DOJ sends each District
    Attorney; a county's file, run alone, gives the county's decisions."""
    repository = tmp_path / "repository.dat"
    result = invoke("synth", "--out", repository, "--rows", "25000", "--county", "all",
                    "--repository", "--seed", "4")  # fmt: skip
    assert result.exit_code == 0, result.output
    county_files = tmp_path / "county-files"
    for out, extra in (("local", ()), ("spark", ("--engine", "spark", "--write-county-files",
                                                 str(county_files)))):  # fmt: skip
        result = invoke("run", repository, "--county", "alameda", "--as-of", AS_OF, "--out",
                        tmp_path / out, "-q", *extra)  # fmt: skip
        assert result.exit_code == 0, result.output
    assert_same_files(tmp_path / "local", tmp_path / "spark")
    summary = json.loads((tmp_path / "spark" / "summary.json").read_text(encoding="utf-8"))
    files = {p.name for p in county_files.iterdir()}
    assert "alameda.dat" in files and len(files) > 3
    # The county's file: only the people the run can decide there (under the statute, those
    # with a cannabis conviction or a conviction beside a cannabis charge), all their history.
    alameda = county_files / "alameda.dat"
    people = pl.read_csv(alameda, infer_schema=False)["SUBJECT_ID"].unique()
    assert 0 < people.len() < summary["input"]["people"] / 3
    result = invoke("run", alameda, "--county", "alameda", "--as-of", AS_OF, "--out",
                    tmp_path / "from-county-file", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("convictions.csv", "people.csv"):
        mine = pl.read_csv(tmp_path / "from-county-file" / name, infer_schema=False)
        state = pl.read_csv(tmp_path / "spark" / name, infer_schema=False)
        if name == "convictions.csv":
            # The rows point to their own file and line.
            mine, state = mine.drop("source"), state.drop("source")
        assert mine.equals(state), name


def test_spark_writes_convictions_partitioned_by_county(spark: Any, tmp_path: Path) -> None:
    """Besides the local engine's files, Spark's run holds its convictions as a Parquet dataset
    in `county=<name>/` folders, which Spark reads back as the same rows, the county from the
    folder name (a space in it escaped as a path needs)."""
    path = tmp_path / "san-joaquin.dat"
    result = invoke("synth", "--out", path, "--rows", "6000", "--county", "San Joaquin",
                    "--seed", "9")  # fmt: skip
    assert result.exit_code == 0, result.output
    for out, extra in (("local", ()), ("spark", ("--engine", "spark"))):
        result = invoke("run", path, "--county", "san joaquin", "--as-of", AS_OF, "--out",
                        tmp_path / out, *extra)  # fmt: skip
        assert result.exit_code == 0, result.output
    assert "convictions-by-county/" in " ".join(result.output.split())
    assert_same_files(tmp_path / "local", tmp_path / "spark")
    assert not (tmp_path / "local" / "convictions-by-county").exists()
    root = tmp_path / "spark" / "convictions-by-county"
    assert [p.relative_to(root).as_posix() for p in sorted(root.rglob("*.parquet"))] == [
        "county=SAN%20JOAQUIN/part-0.parquet"
    ]
    whole = pl.read_parquet(tmp_path / "spark" / "convictions.parquet")
    assert whole.height > 0
    back = spark.read.parquet(str(root))
    assert back.columns[-1] == "county"
    rows = {(r["subject_id"], r["count_id"], r["decision"], r["county"]) for r in back.collect()}
    assert rows == set(whole.select("subject_id", "count_id", "decision", "county").iter_rows())
    # Read as a Hive-partitioned dataset, it is convictions.parquet row for row.
    hive = pl.read_parquet(root, hive_partitioning=True).select(whole.columns)
    assert hive.equals(whole.with_columns(pl.col("county").cast(pl.String)))
    # The run's manifest covers the dataset.
    assert invoke("verify", tmp_path / "spark").exit_code == 0
    manifest = json.loads((tmp_path / "spark" / "run.json").read_text(encoding="utf-8"))
    assert "county=SAN%20JOAQUIN" in json.dumps(manifest)
