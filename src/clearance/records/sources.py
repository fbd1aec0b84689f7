"""Read inputs of any kind (DOJ bulk files, RAP sheets, court exports) into one set of records.

`clearance run` and `ingest` take files of several kinds at once: the county's DOJ file, the
court's own case list, a person's RAP sheet. Each file's kind is found from its content (or
given with `--format`), each kind is read by its reader into the canonical tables, and the
kinds are merged person by person (`records.merge`): the DOJ file first, then court exports,
then RAP sheets. What the merge did (people matched, doubtful matches, convictions found in two
sources) travels with the records, for the run folder and the summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from clearance.records import schema
from clearance.records.canonical import SourceRecords
from clearance.records.chunks import MAX_LINE_BYTES, ReadError, distinct_files
from clearance.records.doj import ProgressCallback, Records, read_doj, repeated_warnings
from clearance.records.merge import MATCH_SCHEMA, SHARED_SCHEMA, merge_sources

#: Input kinds, in the order they are merged.
FORMATS = ("doj", "court", "rapsheet")
FORMAT_NAMES = {"doj": "DOJ bulk file", "court": "court case export", "rapsheet": "RAP sheet"}


@dataclass
class SourcesRead:
    """Records of every input, and what merging them did."""

    records: Records
    #: Path (as given) -> kind, for every input.
    kinds: dict[str, str]
    matches: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=MATCH_SCHEMA))
    shared: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SHARED_SCHEMA))

    def files_of(self, kind: str) -> list[str]:
        return [path for path, k in self.kinds.items() if k == kind]

    @property
    def doj_inputs(self) -> list[Path]:
        """The DOJ files: results.csv copies their rows (the other kinds have no such rows)."""
        return [Path(p) for p in self.files_of("doj")]


def detect_format(path: Path) -> str:
    """The kind of an input from its content: a PDF or a text with RAP-sheet events is a RAP
    sheet; a workbook, or a CSV whose header is not the DOJ's 95 columns, a court export; a
    95-field CSV a DOJ file."""
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    with path.open("rb") as handle:
        head = handle.read(65_536)
    if head[:2] == b"\x1f\x8b":
        # A gzip file is a DOJ delivery; a damaged one is the DOJ reader's to refuse.
        return "doj"
    if head[:5] == b"%PDF-":
        return "rapsheet"
    if head[:4] == b"PK\x03\x04":
        return "court"
    text = head.decode("utf-8", errors="replace")
    from clearance.records.rapsheet import looks_like_rapsheet

    if looks_like_rapsheet(text):
        return "rapsheet"
    first = next((line for line in text.splitlines() if line.strip()), "")
    fields = _fields(first)
    if fields in (schema.DOJ_FIELD_COUNT, schema.DOJ_FIELD_COUNT + 1) or first.startswith(
        "RECORD_ID"
    ):
        return "doj"
    if fields >= 3:
        return "court"
    return "doj"


def _first_fields(path: Path) -> int:
    with path.open("rb") as handle:
        text = handle.read(65_536).decode("utf-8", errors="replace")
    return _fields(next((line for line in text.splitlines() if line.strip()), ""))


def _fields(line: str) -> int:
    import csv

    try:
        return len(next(csv.reader([line])))
    except (StopIteration, csv.Error):
        return 0


def read_sources(
    paths: Sequence[Path],
    fmt: str | None = None,
    mapping: Path | None = None,
    progress: ProgressCallback | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> SourcesRead:
    """Read every input by its kind and merge them (see the module docstring). `fmt` forces
    one kind for all; a court export needs `mapping`; a DOJ line longer than `max_line_bytes`
    is quarantined."""
    if fmt is not None and fmt not in FORMATS:
        raise ReadError(f"unknown --format {fmt!r}: use one of {', '.join(FORMATS)}")
    # A file given twice (two spellings, a link) is read once, with a warning.
    distinct, repeats = distinct_files(paths)
    kinds = {str(p): (fmt or detect_format(p)) for p in distinct}
    if set(kinds.values()) == {"doj"}:
        read = SourcesRead(read_doj(distinct, progress, max_line_bytes), kinds)
    else:
        read = _attached(_read_all(kinds, mapping, progress, max_line_bytes))
    read.records.warnings[:0] = repeated_warnings(repeats)
    return read


def _read_all(
    kinds: dict[str, str],
    mapping: Path | None,
    progress: ProgressCallback | None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> SourcesRead:
    parts: list[tuple[str, Records]] = []
    for kind in FORMATS:
        files = [Path(p) for p, k in kinds.items() if k == kind]
        if not files:
            continue
        parts.append((kind, _read_kind(kind, files, mapping, progress, max_line_bytes)))
    base = parts[0][1]
    if len(parts) == 1:
        return SourcesRead(base, kinds)
    merged, matches, shared = merge_sources(base, parts[1:])
    return SourcesRead(merged, kinds, matches, shared)


def _attached(read: SourcesRead) -> SourcesRead:
    """The records carry what the reading did, so a pipeline that passes records along (read,
    decide, write) can still write it out (`sources_of`)."""
    if isinstance(read.records, SourceRecords):
        read.records.read = read
    return read


def sources_of(records: Records) -> SourcesRead | None:
    """What reading `records` from sources other than DOJ files did; None for DOJ files."""
    read = getattr(records, "read", None)
    return read if isinstance(read, SourcesRead) else None


def _read_kind(
    kind: str,
    files: list[Path],
    mapping: Path | None,
    progress: ProgressCallback | None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Records:
    if kind == "doj":
        return read_doj(files, progress, max_line_bytes)
    if kind == "rapsheet":
        from clearance.records.rapsheet import read_rapsheets

        return read_rapsheets(files)
    from clearance.records.court_export import MappingError, load_mapping, read_court_export

    if mapping is None:
        first = files[0]
        shape = ""
        if first.suffix.lower() not in (".xlsx", ".xlsm"):
            shape = (
                f"not a DOJ bulk file (rows have {_first_fields(first)} fields, the DOJ layout "
                f"has {schema.DOJ_FIELD_COUNT}); "
            )
        raise ReadError(
            f"{first}: {shape}a court case export needs --mapping FILE.yaml saying which column "
            "holds what (see examples/court-export-mapping.yaml)"
        )
    try:
        chosen = load_mapping(mapping)
    except MappingError as exc:
        raise ReadError(str(exc)) from None
    return read_court_export(list(files), chosen)
