"""The decisions as a Parquet dataset partitioned by county, as a Spark cluster reads them.

A state data office keeps its tables on a cluster (HDFS, S3) as datasets split into
`county=<name>/` folders (Hive-style partitions): a query about one county then reads only its
folder, and every county's run lands beside the others in one dataset. `--engine spark` writes
its convictions so, besides `convictions.parquet`: `convictions-by-county/county=<name>/
part-0.parquet`, the county taken from the folder name when read back (Spark's
`spark.read.parquet`, Polars' `scan_parquet(..., hive_partitioning=True)`, PyArrow datasets).
A county name with characters a path cannot hold is URI-escaped in its folder name (a space is
`%20`), as these readers expect. Rows keep the order of `convictions.parquet`, and the files are
written once, with fixed names, so that the same run gives the same bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq

#: The dataset's folder in a run's output folder.
BY_COUNTY = "convictions-by-county"
#: The partition column.
PARTITION = "county"


def write_by_county(out_dir: Path) -> str:
    """Write `out_dir/convictions.parquet` again as a dataset partitioned by county; returns
    the dataset's folder name (relative to `out_dir`)."""
    table = pq.read_table(out_dir / "convictions.parquet")
    target = out_dir / BY_COUNTY
    shutil.rmtree(target, ignore_errors=True)
    ds.write_dataset(
        table,
        target,
        format="parquet",
        partitioning=[PARTITION],
        partitioning_flavor="hive",
        basename_template="part-{i}.parquet",
        preserve_order=True,
        use_threads=False,
        existing_data_behavior="error",
    )
    return BY_COUNTY
