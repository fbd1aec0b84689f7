"""The results.csv writer's two paths are one contract: the same bytes for the same rows.

The fast path (one replace of the line endings, then the few lines that need their own
handling patched) serves chunks of mostly plain rows; the general path (vectorised insertion
over the bytes) serves chunks with many CR bytes, blank lines, lines left out, trailing commas
or quoted line breaks. Each handles every kind of line. Both are checked here against a plain
line-by-line statement of what results.csv holds, on the sample's own chunks and on generated
ones.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.outputs.tables import _insert_columns, _Lines, _replace_line_ends
from clearance.records.chunks import Chunk
from clearance.records.doj import PLAN_DROP, PLAN_JOIN

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "peer-generated-sacramento-20k.dat.gz"
EMPTY = ",,,,"


def expected(
    lines: list[bytes], eols: list[bytes], plan: list[int], decided: dict[int, str]
) -> bytes:
    """results.csv's bytes for some lines, said line by line: a row ends in its columns and LF
    (its CR and the plan's cut gone), a dropped line is gone, a joined line stays whole and
    its row's columns go on the row's last line."""
    out = b""
    carried: str | None = None
    for i, (line, eol, code) in enumerate(zip(lines, eols, plan, strict=True)):
        mine = decided.get(i, carried)
        if code == PLAN_DROP:
            carried = None
            continue
        if code == PLAN_JOIN:
            out += line + eol
            carried = mine
            continue
        body = line[: len(line) - code] if code else line
        out += body + (mine if mine is not None else EMPTY).encode() + b"\n"
        carried = None
    return out


def both(data: bytes, plan: np.ndarray, decided: dict[int, str], first_line: int = 2) -> bytes:
    chunk = Chunk(data=data, first_line=first_line, consumed=len(data))
    here = pl.DataFrame(
        {
            "source_line": [first_line + i for i in sorted(decided)],
            "suffix": [decided[i] for i in sorted(decided)],
        },
        schema={"source_line": pl.Int64, "suffix": pl.String},
    )
    pieces, rows = _insert_columns(chunk, here, EMPTY, plan)
    general = b"".join(bytes(p) for p in pieces)
    assert rows == int((plan >= 0).sum())
    pieces, rows = _replace_line_ends(chunk, here, EMPTY, plan)
    assert b"".join(bytes(p) for p in pieces) == general
    assert rows == int((plan >= 0).sum())
    if not plan.any():
        pieces, rows = _replace_line_ends(chunk, here, EMPTY)
        assert b"".join(bytes(p) for p in pieces) == general
    return general


def test_the_sample_chunk_gives_the_same_bytes_on_both_paths() -> None:
    lines = gzip.decompress(SAMPLE.read_bytes()).split(b"\n")[1:-1]
    data = b"\n".join(lines) + b"\n"
    plan = np.zeros(len(lines), dtype=np.int16)
    decided = {i: f",dismiss,,11361.8(f),rule_{i}" for i in range(0, len(lines), 7)}
    out = both(data, plan, decided)
    assert out == expected(lines, [b"\n"] * len(lines), [0] * len(lines), decided)
    # Without its last newline, the last row still ends in one.
    assert both(data[:-1], plan, decided) == out


_LINE = st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            _LINE,
            st.sampled_from([b"\n", b"\r\n"]),
            st.sampled_from([0, 0, 0, 1, 3, PLAN_DROP, PLAN_JOIN]),
            st.none() | st.sampled_from([",dismiss,,11361.8(f),a;b", ",reduce,misdemeanor,,x"]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.booleans(),
)
def test_general_path_is_the_line_by_line_statement(
    rows: list[tuple[bytes, bytes, int, str | None]], final_eol: bool
) -> None:
    lines = [line + b"," * (code if code > 0 else 0) for line, _, code, _ in rows]
    eols = [eol for _, eol, _, _ in rows]
    plan = [code for _, _, code, _ in rows]
    if plan[-1] == PLAN_JOIN:
        plan[-1] = 0
    decided = {i: d for i, (_, _, code, d) in enumerate(rows) if d is not None and code != -1}
    # A decision is known by a row's first line.
    decided = {i: d for i, d in decided.items() if i == 0 or plan[i - 1] != PLAN_JOIN}
    data = b"".join(line + eol for line, eol in zip(lines, eols, strict=True))
    if not final_eol and lines[-1]:
        data = data[: -len(eols[-1])]
        eols[-1] = b""
    out = both(data, np.array(plan, dtype=np.int16), decided)
    kept_eols = [e if p == PLAN_JOIN else b"" for e, p in zip(eols, plan, strict=True)]
    assert out == expected(lines, kept_eols, plan, decided)


def test_a_crlf_chunk_with_lines_set_aside_takes_the_fast_path_with_the_same_bytes() -> None:
    """A file exported with CR LF endings, with a blank line set aside, a trailing comma cut
    and a quoted line break: the fast path replaces the CR LF endings and patches those lines
    alone; results.csv holds what the line-by-line statement says."""
    lines = gzip.decompress(SAMPLE.read_bytes()).split(b"\n")[1:401]
    plan = [0] * len(lines)
    lines[10], plan[10] = b"", PLAN_DROP
    lines[20], plan[20] = lines[20] + b",", 1
    plan[30] = PLAN_JOIN
    data = b"".join(line + b"\r\n" for line in lines)
    decided = {i: f",dismiss,,11361.8(f),rule_{i}" for i in range(0, len(lines), 9) if i != 10}
    decided.pop(31, None)
    codes = np.array(plan, dtype=np.int16)
    chunk = Chunk(data=data, first_line=2, consumed=len(data))
    none = pl.DataFrame(schema={"source_line": pl.Int64, "suffix": pl.String})
    special = _Lines(chunk, codes).special(none)
    assert special.tolist() == [10, 20, 30]
    out = both(data, codes, decided)
    eols = [b"\r\n" if p == PLAN_JOIN else b"" for p in plan]
    assert out == expected(lines, eols, plan, decided)
