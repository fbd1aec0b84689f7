"""Property tests of the whole `clearance run`: reader, engine and writers, as a user runs it.

The reader's own property test (records/test_doj_properties.py) accounts for every line; a
run can still fail after reading (deciding, writing results.csv), so here Hypothesis damages
real-looking county files (synthetic histories, then lines dropped, duplicated, cut, padded
with spaces, ended with CRLF, followed by blank lines; fields dropped, added, swapped, emptied
or garbled, stray quotes, a CR inside a quoted field, random bytes; header or not; Latin-1 or
UTF-8; plain or gzip) and runs the command on each. For every file:

- the run never crashes: exit 0, or 2 with one line when the file as a whole is refused;
  never a fault (exit 1) and never a traceback;
- rows read = loaded + quarantined;
- every CSV the run writes is rectangular (each row has its header's number of fields);
- two runs give byte-identical folders (run.json included) and `clearance verify` passes;
- and, on a real process, a run interrupted at a random moment (killed, or Ctrl-C) leaves
  either the previous folder exactly or the complete new one, which verifies.

`make test` runs a bounded number of examples; `CLEARANCE_PROPERTY_EXAMPLES=500 pytest
tests/test_run_properties.py` runs longer.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from clearance.cli import app
from clearance.outputs.folder import verify_folder
from clearance.synth import write_synthetic
from run_helpers import clearance, leftovers, run_args, snapshot, start

#: Examples of the in-process property in `make test`; the environment variable runs more.
EXAMPLES = int(os.environ.get("CLEARANCE_PROPERTY_EXAMPLES", "12"))
#: The interruption property starts real processes (about a second each to start).
KILL_EXAMPLES = max(3, EXAMPLES // 4)

#: Damage done to one line.
DAMAGES = (
    "keep", "keep", "keep", "drop_line", "duplicate", "cut", "drop_field", "add_field",
    "swap_fields", "garble_field", "empty_field", "stray_quote", "random_bytes", "blank",
    "padded", "crlf", "cr_inside",
)  # fmt: skip
#: Text of garbled fields: separators, quotes, accents, tabs. A bare CR inside an unquoted
#: field is left out: the reader keeps it inside the row, results.csv copies the row as it is,
#: and a CSV reader then sees two short rows (issue 12 item 6, for the results writer).
GARBLE = st.text(alphabet='AZaz09 ,"-/.()#:ÑÉéü\t', max_size=10)
#: Random bytes: anything but line ends (see GARBLE) or NUL (a NUL refuses the whole file,
#: tested apart).
RANDOM_BYTES = st.binary(min_size=1, max_size=6).map(
    lambda b: bytes(c for c in b if c not in b"\r\n\x00") or b"?"
)


@functools.lru_cache(maxsize=8)
def base_lines(seed: int) -> tuple[bytes, tuple[bytes, ...]]:
    """The header and data lines of a small synthetic county file (a few dozen people)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "base.dat"
        write_synthetic(path, rows=160, county="SACRAMENTO", seed=seed, malformed_share=0.0)
        header, *lines = path.read_bytes().splitlines()
    return header, tuple(lines)


@st.composite
def damaged_line(draw: st.DrawFn, line: bytes) -> list[bytes]:
    """What one line becomes (none, one or two lines)."""
    damage = draw(st.sampled_from(DAMAGES))
    fields = line.split(b",")
    if damage == "drop_line":
        return []
    if damage == "duplicate":
        return [line, line]
    if damage == "blank":
        return [line, draw(st.sampled_from([b"", b" ", b"\t", b"  \r"]))]
    if damage == "padded":
        return [draw(st.sampled_from([b" ", b"\t", b"  "])) + line]
    if damage == "crlf":
        return [line + b"\r"]
    if damage == "cut":
        return [line[: draw(st.integers(1, max(1, len(line) - 1)))]]
    at = draw(st.integers(0, len(fields) - 1))
    if damage == "drop_field":
        del fields[at]
    elif damage == "add_field":
        fields.insert(at, draw(GARBLE).encode())
    elif damage == "swap_fields":
        other = draw(st.integers(0, len(fields) - 1))
        fields[at], fields[other] = fields[other], fields[at]
    elif damage == "garble_field":
        fields[at] = draw(GARBLE).encode()
    elif damage == "empty_field":
        fields[at] = b""
    elif damage == "stray_quote":
        fields[at] = b'"' + fields[at]
    elif damage == "random_bytes":
        fields[at] = fields[at] + draw(RANDOM_BYTES)
    elif damage == "cr_inside":
        fields[at] = b'"' + fields[at].strip(b'"') + b'\r"'
    return [b",".join(fields)]


@dataclass(frozen=True)
class CountyFile:
    data: bytes
    name: str
    data_lines: int


@st.composite
def county_files(draw: st.DrawFn) -> CountyFile:
    header, lines = base_lines(draw(st.integers(0, 5)))
    start_at = draw(st.integers(0, len(lines) - 1))
    count = draw(st.integers(1, 120))
    chosen = lines[start_at : start_at + count]
    out: list[bytes] = []
    for line in chosen:
        out.extend(draw(damaged_line(line)))
    if draw(st.booleans()):
        out = [header, *out]
    if not out:
        out = [chosen[0]]
    text = b"\n".join(out) + (b"\n" if draw(st.booleans()) else b"")
    if draw(st.booleans()) and _latin1_safe(text):
        # The same file in Latin-1, as older systems write it.
        text = text.decode("utf-8").encode("latin-1")
    data_lines = len(out) - (1 if out and out[0] == header else 0)
    if draw(st.booleans()):
        return CountyFile(gzip.compress(text, mtime=0), "county.dat.gz", data_lines)
    return CountyFile(text, "county.dat", data_lines)


def _latin1_safe(text: bytes) -> bool:
    try:
        text.decode("utf-8").encode("latin-1")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return False
    return True


def _run_in_process(source: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, [str(a) for a in run_args([source], out, "--no-what-if")], env={"COLUMNS": "1000"}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    return result.exit_code, result.stderr


def assert_rectangular(folder: Path) -> None:
    """Every CSV of the folder: each row has its header's number of fields."""
    for path in sorted(folder.rglob("*.csv")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        widths = {len(row) for row in rows}
        assert widths == {len(rows[0])}, (path.name, sorted(widths))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(county_files())
def test_every_file_runs_whole_and_the_same_twice(county_file: CountyFile) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / county_file.name
        source.write_bytes(county_file.data)
        first, second = Path(folder) / "first", Path(folder) / "second"
        code, stderr = _run_in_process(source, first)
        if code == 2:
            # The file as a whole is refused (e.g. no row of the DOJ layout): one line.
            lines = stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), stderr
            assert "internal error" not in stderr
            assert not first.exists() and leftovers(first) == []
            return
        assert code == 0, stderr
        summary = json.loads((first / "summary.json").read_text())["input"]
        assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"]
        assert summary["rows_read"] + summary["files"][0]["blank_lines"] <= county_file.data_lines
        assert_rectangular(first)
        assert verify_folder(first).whole
        again, _ = _run_in_process(source, second)
        assert again == 0
        assert snapshot(first) == snapshot(second)
        assert leftovers(first) == [] and leftovers(second) == []


@dataclass(frozen=True)
class Before:
    """A finished run (the folder a new run replaces) and what the new run writes."""

    folder: Path
    old: dict[str, str]
    new: dict[str, str]
    new_input: Path


@pytest.fixture(scope="module")
def before_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Before]:
    """Per seed, an old run's folder and the snapshot of the new run, made once."""
    made: dict[int, Before] = {}
    for seed in range(2):
        base = tmp_path_factory.mktemp(f"before-{seed}")
        old_input, new_input = base / "old.dat", base / "new.dat"
        write_synthetic(old_input, rows=1500, county="SACRAMENTO", seed=100 + seed)
        write_synthetic(new_input, rows=6000, county="SACRAMENTO", seed=200 + seed)
        folder, reference = base / "old", base / "reference"
        for source, target in ((old_input, folder), (new_input, reference)):
            result = clearance(*run_args([source], target))
            assert result.returncode == 0, result.stderr.decode()
        made[seed] = Before(folder, snapshot(folder), snapshot(reference), new_input)
    return made


@settings(
    max_examples=KILL_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 1),
    delay=st.floats(0.0, 4.0),
    how=st.sampled_from([signal.SIGKILL, signal.SIGINT, signal.SIGTERM]),
)
def test_a_run_stopped_at_any_moment_leaves_the_old_folder_or_the_new_one(
    before_runs: dict[int, Before], seed: int, delay: float, how: int
) -> None:
    before = before_runs[seed]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        shutil.copytree(before.folder, out)
        process = start(*run_args([before.new_input], out))
        time.sleep(delay)
        process.send_signal(how)
        _, stderr = process.communicate(timeout=600)
        text = stderr.decode()
        assert "Traceback" not in text
        now = snapshot(out)
        assert now in (before.old, before.new), (process.returncode, text)
        assert verify_folder(out).whole
        if process.returncode == 0:
            assert now == before.new
        elif how != signal.SIGKILL and process.returncode < 0:
            # Killed by the signal itself, which a shell reports as 130 or 143 too: it came
            # before Python had installed the handler (nothing was begun, the old folder
            # stands) or after the run was complete, while the interpreter shut down (Python
            # restores the default handlers then; the new folder stands, whole).
            assert process.returncode == -how
            assert now == before.old or now == before.new
        elif how != signal.SIGKILL:
            assert process.returncode in (130, 143), text
            assert now == before.old or "were complete" in text, text
        if how != signal.SIGKILL:
            assert leftovers(out) == []
