"""The options of `clearance run` for the ways of running in this package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local (this machine; inputs larger than --memory-limit are decided in buckets "
        "of people on disk) or spark (Apache Spark; see --master).",
    ),
]
MasterOpt = Annotated[
    str | None,
    typer.Option(
        "--master",
        help="--engine spark: the Spark master (local[2], spark://host:7077, yarn); by "
        "default spark-submit's, else local[*].",
    ),
]
MemoryLimitOpt = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help="Memory the run may use (e.g. 3G); a larger input is split by person into "
        "buckets on disk. Default: half of this machine's memory.",
    ),
]
CountyFilesOpt = Annotated[
    Path | None,
    typer.Option(
        "--write-county-files",
        help="--engine spark: also write, per county, the DOJ-layout file of the people the "
        "run can decide there, all of their history (what DOJ sends each District Attorney), "
        "to this folder.",
    ),
]
