""" "Download all": a run's files as one ZIP, written while it is sent.

A run folder can hold GBs (results.csv alone is the size of the DOJ file), so the ZIP is never
built on disk or in memory: `zip_stream` yields its bytes as each file is read, one block at a
time (ZIP64 entries with data descriptors, which need no seeking back). The files are the ones
the downloads page lists for the user (internal working files and, for roles that may not see
full records, results.csv are left out), and a `run.json` last: every file of the ZIP with its
size and SHA-256, in the layout `clearance verify` checks, so an unzipped copy can be checked
whole like a run folder written by the command line.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clearance.outputs.folder import MANIFEST, MANIFEST_VERSION
from clearance.web.files import RunFile

#: Bytes read from a file at a time.
BLOCK = 1024 * 1024
#: Files already compressed: stored as they are (deflating them again costs CPU for nothing).
STORED_SUFFIXES = (".pdf", ".xlsx", ".docx", ".zip", ".gz", ".png", ".jpg", ".parquet")


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream that keeps what was written until it is taken."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        """Everything written since the last take."""
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def zip_stream(
    run_dir: Path, files: list[RunFile], folder: str, run_info: dict[str, Any]
) -> Iterator[bytes]:
    """The ZIP of `files` (paths relative to `run_dir`) under the top folder `folder`, then a
    run.json listing them; yields the bytes as they are made.

    A file that disappeared since the listing (filings rebuilt meanwhile) is left out, and so
    out of run.json too: the manifest always says exactly what the ZIP holds.
    """
    sink = _Sink()
    entries: list[dict[str, Any]] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for item in files:
            if item.relative == MANIFEST:
                continue  # replaced by the ZIP's own run.json, which lists what it holds
            try:
                handle = (run_dir / item.relative).open("rb")
            except OSError:
                continue
            stored = item.relative.lower().endswith(STORED_SUFFIXES)
            info = zipfile.ZipInfo(f"{folder}/{item.relative}")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            digest = hashlib.sha256()
            size = 0
            with handle, archive.open(info, "w", force_zip64=True) as member:
                while block := handle.read(BLOCK):
                    digest.update(block)
                    size += len(block)
                    member.write(block)
                    if data := sink.take():
                        yield data
            entries.append({"path": item.relative, "bytes": size, "sha256": digest.hexdigest()})
            if data := sink.take():
                yield data
        manifest = manifest_of(entries, run_info)
        info = zipfile.ZipInfo(f"{folder}/{MANIFEST}")
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        archive.writestr(info, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    if data := sink.take():
        yield data


def manifest_of(entries: list[dict[str, Any]], run_info: dict[str, Any]) -> dict[str, Any]:
    """run.json of a ZIP: the layout of `clearance.outputs.folder` plus what the run was."""
    from clearance import __version__

    files = sorted(entries, key=lambda entry: str(entry["path"]))
    return {
        "clearance": __version__,
        "command": "download all",
        "manifest_version": MANIFEST_VERSION,
        "run": run_info,
        "files": files,
        "total_files": len(files),
        "total_bytes": sum(int(entry["bytes"]) for entry in files),
    }
