"""Age a DOJ bulk file: apply a run's relief to a copy, with known shares left undone.

Tests and the demo need a realistic "newer" DOJ file to reconcile against (`clearance
reconcile`): the same file after the orders, in which most relieved convictions show their
relief and a chosen share does not. `age_file` writes that copy:

- **reflected**: the relief asked (`outputs/reconcile.relieved_convictions`, the relief the
  filings ask) is written into the count's rows: a dismissal as DISP_DESCR `DISMISSED/SEALED
  PER 11361.8 HS`, a redesignation as CONV_STAT_DESCR `MISDEMEANOR` or `INFRACTION`, a
  dismissal on petition as `CONV SET ASIDE & DISM PER 1203.4 PC`;
- **pending**: the rows are left as they were (`unchanged` share);
- **contradicting**: changed otherwise: set aside under PC 1203.4 where the statute's relief
  was asked, or (where a set-aside is what was asked) recorded at another level;
- **gone**: the count's rows are left out, as a sealed record may leave later extracts.

Which conviction gets which fate is drawn by a seeded permutation of the relieved convictions
in (SUBJECT_ID, CNT_ORDER) order: the same run, file, shares and seed give the same bytes. The
share of each class is exact: round(n x share) convictions each (halves up), reflected the
rest. A key file beside the output (`<out>.aging.csv`) lists each conviction's fate, so a test
can check a reconciliation row by row.

Lines are rewritten only where a relieved count is; every other byte of the file is copied.
The rows of a count are found through the run's record (`record/counts.parquet`, the source
lines of each count), so the input must be the file the run read.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from clearance.outputs.filings.data import FilingsError, load_run
from clearance.outputs.reconcile import ReconcileError, relieved_convictions
from clearance.outputs.run import RECORD_DIR

FATES = ("pending", "contradicting", "gone", "reflected")
DISMISSED_TEXT = "DISMISSED/SEALED PER 11361.8 HS"
SET_ASIDE_TEXT = "CONV SET ASIDE & DISM PER 1203.4 PC"
_DISP_DESCR = 80
_CONV_STAT_DESCR = 82
_LEVELS = ("felony", "misdemeanor", "infraction")


@dataclass(frozen=True)
class Aged:
    """What `age_file` wrote."""

    out_file: Path
    key_file: Path
    fates: dict[str, int]
    #: Relieved convictions read from another input of the run (not in this copy).
    elsewhere: int


def _share(n: int, share: float) -> int:
    return int(np.floor(n * share + 0.5))


def assign_fates(
    relieved: pl.DataFrame, unchanged: float, contradicting: float, gone: float, seed: int
) -> pl.DataFrame:
    """One fate per relieved conviction, drawn by a seeded permutation (see the module)."""
    if min(unchanged, contradicting, gone) < 0 or unchanged + contradicting + gone > 1:
        raise ReconcileError("the shares must be between 0 and 1 and add up to at most 1")
    ordered = relieved.sort(["subject_id", "count_id"])
    n = ordered.height
    sizes = [_share(n, unchanged), _share(n, contradicting), _share(n, gone)]
    if sum(sizes) > n:
        sizes[2] = n - sizes[0] - sizes[1]
    order = np.random.default_rng(seed).permutation(n)
    fate = np.empty(n, dtype=object)
    start = 0
    for name, size in zip(FATES[:3], sizes, strict=True):
        fate[order[start : start + size]] = name
        start += size
    fate[order[start:]] = "reflected"
    return ordered.with_columns(pl.Series("fate", fate.tolist(), dtype=pl.String))


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError):
            raise ReconcileError(f"{path.name}: a damaged gzip file") from None
    return data


def _rewrite(
    line: bytes, fate: str, asked: str, set_aside_ok: bool, old_level: str, was_set_aside: bool
) -> bytes:
    """One row with the fate written in (the line without its line ending)."""
    end = b"\r" if line.endswith(b"\r") else b""
    text = line[: len(line) - len(end)].decode("latin-1")
    fields = next(csv.reader([text]))
    if len(fields) < 95:
        return line
    if fate == "reflected":
        if asked == "dismissed":
            fields[_DISP_DESCR] = DISMISSED_TEXT
        elif asked == "set_aside":
            # Already set aside: only a dismissal shows the relief went further.
            fields[_DISP_DESCR] = DISMISSED_TEXT if was_set_aside else SET_ASIDE_TEXT
        else:
            fields[_CONV_STAT_DESCR] = asked.upper()
    elif fate == "contradicting":
        if set_aside_ok or asked == "set_aside" or was_set_aside:
            other = next(lv for lv in _LEVELS if lv not in (old_level, asked))
            fields[_CONV_STAT_DESCR] = other.upper()
        else:
            fields[_DISP_DESCR] = SET_ASIDE_TEXT
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue().encode("latin-1") + end


def age_file(
    run_dir: Path,
    source: Path,
    out_file: Path,
    *,
    unchanged: float,
    contradicting: float = 0.0,
    gone: float = 0.0,
    seed: int = 0,
) -> Aged:
    """Write the aged copy of `source` (the DOJ file the run read) to `out_file`."""
    if not source.is_file():
        raise ReconcileError(f"{source}: no such file")
    try:
        run = load_run(run_dir)
    except FilingsError as exc:
        raise ReconcileError(str(exc)) from None
    counts_path = run_dir / RECORD_DIR / "counts.parquet"
    if not counts_path.is_file():
        raise ReconcileError(f"{run_dir} has no {RECORD_DIR}/counts.parquet: not a run folder")
    relieved = relieved_convictions(run)
    lines = pl.read_parquet(
        counts_path, columns=["subject_id", "count_id", "source_file", "source_lines"]
    ).with_columns(pl.col("source_file").cast(pl.String))
    relieved = relieved.join(lines, on=["subject_id", "count_id"], how="left")
    # The record keeps each file as the run was given it (a path): the file name decides.
    here = relieved.filter(pl.col("source_file").str.replace(r"^.*[/\\]", "") == source.name)
    elsewhere = relieved.height - here.height
    if here.height == 0:
        raise ReconcileError(
            f"{source.name}: no relieved conviction of the run was read from this file "
            "(give the DOJ file the run read)"
        )
    fated = assign_fates(here, unchanged, contradicting, gone, seed)
    plan = fated.select(
        "fate",
        "asked",
        "set_aside_ok",
        pl.col("offense_level").fill_null("unknown"),
        "was_set_aside",
        pl.col("source_lines"),
    ).explode("source_lines")
    rows = _read_bytes(source).split(b"\n")
    drop: set[int] = set()
    for fate, asked, ok, level, was, line_no in plan.iter_rows():
        index = int(line_no) - 1
        if fate == "gone":
            drop.add(index)
        elif fate != "pending" and 0 <= index < len(rows):
            rows[index] = _rewrite(rows[index], fate, asked, bool(ok), level, bool(was))
    kept = [row for i, row in enumerate(rows) if i not in drop] if drop else rows
    data = b"\n".join(kept)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    if out_file.name.endswith(".gz"):
        with (
            out_file.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped,
        ):
            zipped.write(data)
    else:
        out_file.write_bytes(data)
    key_file = out_file.with_name(out_file.name + ".aging.csv")
    fated.select("subject_id", "count_id", "court_case_number", "asked", "fate").write_csv(key_file)
    fates = {name: fated.filter(pl.col("fate") == name).height for name in FATES}
    return Aged(out_file=out_file, key_file=key_file, fates=fates, elsewhere=elsewhere)
