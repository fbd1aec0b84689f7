"""One person read from a run folder (`person_record`, what the person page and `clearance
explain` read): with the person index and without it, on the same run.

Given a run folder (`clearance run ... --out DIR`), it times `person_record` for `--people`
SUBJECT_IDs drawn at random (seeded) in four layouts of the same record, each in a copy under
bench/out/person/:
- `scan, large row groups`: the record as runs wrote it before the index (Polars' default row
  groups of 512 x 512 rows), read by a filtered scan;
- `scan, small row groups`: row groups of `RECORD_ROW_GROUP` rows, no index: the scan prunes
  by statistics only when people are stored in SUBJECT_ID order (as the synthetic file is);
- `scan, people in bucket order`: the same, people in the order of a hash of their SUBJECT_ID
  (as a run in buckets writes them): the statistics no longer help;
- `index, people in bucket order`: that last layout with the person index.
Prints a Markdown table (p50 / p95 / max ms per layout) and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from clearance.outputs.explain import person_record
from clearance.outputs.person_index import RECORD_ROW_GROUP, TABLES, write_person_index
from clearance.outputs.run import RECORD_DIR

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "person"


def _copy(
    run_dir: Path, name: str, rewrite: Callable[[pl.DataFrame], pl.DataFrame], **options: int
) -> Path:
    """A run folder holding only the record, rewritten in another layout."""
    target = OUT / name
    shutil.rmtree(target, ignore_errors=True)
    (target / RECORD_DIR).mkdir(parents=True)
    for table in TABLES:
        frame = rewrite(pl.read_parquet(run_dir / RECORD_DIR / f"{table}.parquet"))
        frame.write_parquet(target / RECORD_DIR / f"{table}.parquet", compression="lz4", **options)
    return target


def _time(run_dir: Path, people: list[str]) -> tuple[list[float], float]:
    """Wall seconds of each person, and processor seconds per person (every thread: a scan
    keeps both cores busy, which a server answering other pages meanwhile pays for)."""
    seconds = []
    processor = time.process_time()
    for subject_id in people:
        started = time.perf_counter()
        person_record(run_dir, subject_id)
        seconds.append(time.perf_counter() - started)
    return seconds, (time.process_time() - processor) / len(people)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    subjects = pl.read_parquet(
        args.run_dir / RECORD_DIR / "subjects.parquet", columns=["subject_id"]
    )
    people = random.Random(args.seed).sample(subjects["subject_id"].to_list(), args.people)

    def same(frame: pl.DataFrame) -> pl.DataFrame:
        return frame

    def buckets(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.sort(pl.col("subject_id").hash(7), maintain_order=True)

    layouts = {
        "scan, large row groups": _copy(args.run_dir, "large", same),
        "scan, small row groups": _copy(
            args.run_dir, "small", same, row_group_size=RECORD_ROW_GROUP
        ),
        "scan, people in bucket order": _copy(
            args.run_dir, "buckets", buckets, row_group_size=RECORD_ROW_GROUP
        ),
    }
    indexed = _copy(args.run_dir, "indexed", buckets, row_group_size=RECORD_ROW_GROUP)
    write_person_index(indexed / RECORD_DIR)
    layouts["index, people in bucket order"] = indexed
    rows = (
        pl.scan_parquet(args.run_dir / RECORD_DIR / "counts.parquet")
        .select(pl.len())
        .collect()
        .item()
    )
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{len(people)} people, counts table of {rows:,} rows; load average before {load}")
    print("| layout | p50 ms | p95 ms | max ms | processor ms per person |")
    print("|---|---:|---:|---:|---:|")
    for name, folder in layouts.items():
        _time(folder, people[:3])  # first reads of the files
        seconds, processor = _time(folder, people)
        ms = sorted(s * 1000 for s in seconds)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        print(
            f"| {name} | {statistics.median(ms):,.1f} | {p95:,.1f} | {ms[-1]:,.1f} "
            f"| {processor * 1000:,.1f} |"
        )
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average after {load}")


if __name__ == "__main__":
    main()
