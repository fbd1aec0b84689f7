"""A run larger than memory: the input read into buckets of people on disk, each decided on
its own, the outputs written as one run writes them (the same bytes).

Peak memory is then one bucket's records while the buckets are decided (what each contributes
to the outputs waits on disk), then what the outputs are made of (the determinations, and the
decided people's identity and record figures), never the whole record. The buckets are Arrow
files in a folder beside the outputs, each removed once read, the folder when the run ends.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from clearance import heap
from clearance.outputs.run import RunFiles
from clearance.policy.schema import Policy
from clearance.records.doj import FileStats
from clearance.scale.pieces import PieceWriter, decide_piece
from clearance.scale.reading import write_buckets


@dataclass(frozen=True)
class BucketRun:
    """A run made in buckets: its files, and the input's accounting."""

    written: RunFiles
    files: list[FileStats]
    buckets: int
    disk_bytes: int


def run_in_buckets(
    paths: Sequence[Path],
    out_dir: Path,
    policy: Policy,
    as_of: date,
    county: str,
    policy_text: str,
    buckets: int,
    with_what_ifs: bool = True,
    on_bucket: Callable[[int, int], None] | None = None,
) -> BucketRun:
    """Read `paths` into `buckets` buckets, decide each, write the run to `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".clearance-buckets-", dir=out_dir.parent))
    try:
        bucketed = write_buckets(paths, work, buckets)
        disk = sum(p.stat().st_size for p in work.iterdir())
        # What the outputs are made of waits on disk while the buckets are decided.
        writer = PieceWriter(out_dir, spill=work / "kept")
        for done, bucket in enumerate(sorted(bucketed.filled), 1):
            records = bucketed.records(bucket)
            writer.add(decide_piece(records, policy, as_of, county, with_what_ifs))
            del records
            heap.release()
            if on_bucket is not None:
                on_bucket(done, len(bucketed.filled))
        written = writer.finish(
            policy,
            as_of,
            county,
            bucketed.files,
            bucketed.quarantine,
            list(dict.fromkeys(paths)),
            policy_text,
            with_what_ifs,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BucketRun(written=written, files=bucketed.files, buckets=buckets, disk_bytes=disk)
