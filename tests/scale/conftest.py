"""Shared fixtures of the scale tests: synthetic inputs made once, and one Spark session for
the whole test session (Spark starts a JVM; the machine's two cores are shared)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clearance.synth import write_synthetic

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "peer-generated-sacramento-20k.dat.gz"
AS_OF = "2026-11-21"
#: The files every way of running must write byte for byte alike.
RUN_FILES = (
    "convictions.csv",
    "convictions.parquet",
    "results.csv",
    "people.csv",
    "summary.json",
    "quarantine.csv",
    "record/determinations.parquet",
    "record/policy.yaml",
)


@pytest.fixture(scope="session")
def synthetic_100k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 rows in Sacramento, with malformed rows and Latin-1 names."""
    path = tmp_path_factory.mktemp("synth") / "sacramento-100k.dat.gz"
    write_synthetic(path, rows=100_000, seed=11, malformed_share=0.003, encoding="latin-1")
    return path


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session on two cores for every Spark test."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("clearance-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
