"""BulkFile: the bytes on disk are exactly the bytes given, whatever their sizes, whether the
file system takes direct I/O or not."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from clearance.outputs import bulkfile
from clearance.outputs.bulkfile import ALIGN, BulkFile


def _pieces(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    sizes = [0, 1, ALIGN - 1, ALIGN, ALIGN + 1, 3 * ALIGN, 5, 70_000, 2, 9 * ALIGN + 17]
    sizes += [rng.randrange(0, 3 * ALIGN) for _ in range(200)]
    return [bytes(rng.getrandbits(8) for _ in range(n)) for n in sizes]


def _takes_direct_io(folder: Path) -> bool:
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    try:
        fd = os.open(folder / "probe", os.O_WRONLY | os.O_CREAT | flag, 0o644)
    except OSError:
        return False
    os.close(fd)
    return True


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "buffered"])
@pytest.mark.parametrize("batch", [1, 7])
def test_bytes_on_disk_are_the_bytes_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool, batch: int
) -> None:
    if not direct:
        monkeypatch.setattr(bulkfile, "_O_DIRECT", 0)
    pieces = _pieces(seed=batch)
    path = tmp_path / "out.csv"
    with BulkFile(path, buffer_bytes=2 * ALIGN) as out:
        assert out.direct == (direct and _takes_direct_io(tmp_path))
        for start in range(0, len(pieces), batch):
            group = [p for p in pieces[start : start + batch] if p] or [b""]
            out.write(group)
    assert path.read_bytes() == b"".join(pieces)


def test_a_file_of_whole_blocks_and_an_empty_file(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    with BulkFile(whole, buffer_bytes=ALIGN) as out:
        out.write([b"x" * (4 * ALIGN)])
    assert whole.read_bytes() == b"x" * (4 * ALIGN)
    empty = tmp_path / "empty"
    with BulkFile(empty):
        pass
    assert empty.read_bytes() == b""


def test_an_existing_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_bytes(b"old content that is longer than the new one" * 1000)
    with BulkFile(path) as out:
        out.write([b"new"])
    assert path.read_bytes() == b"new"


def test_buffer_size_must_be_whole_blocks(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="multiple"):
        BulkFile(tmp_path / "x", buffer_bytes=ALIGN + 1)
