"""Receiving a DOJ bulk file: streamed to the data folder, size-limited, checked before a run.

A county file is hundreds of MB to a few GB, so the multipart body is parsed as it arrives and
the file part is written to disk chunk by chunk; nothing holds the whole file in memory or in a
temporary folder outside the data folder. The CSRF token must arrive before the file (the form
lists it first), so a forged request stores not one byte.

Before any run is created the file goes through the reader's own checks (`read_doj` on the
file's first megabyte): a PDF, a spreadsheet, or a CSV with another layout is refused with the
reader's one-line message and the upload folder is deleted, so a refused file leaves nothing.
"""

from __future__ import annotations

import re
import shutil
import uuid
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from fastapi import HTTPException, Request
from python_multipart.multipart import MultipartParser, parse_options_header

from clearance.records.chunks import ReadError, open_binary
from clearance.records.doj import read_doj
from clearance.web.files import human_size

#: Default largest upload: a big county's extract is a few GB uncompressed.
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024**3
#: Largest plain form field (county, policy name, date, token).
MAX_FIELD_BYTES = 16 * 1024
#: How much of the file the format check reads.
PROBE_BYTES = 1024 * 1024
#: Longest line an upload may have (bytes): a DOJ row is a few hundred bytes; a longer line is
#: damage or an attack (a file of one endless line would have to be held whole to be read).
MAX_LINE_BYTES = 1024 * 1024
#: Default most bytes an upload may hold once decompressed (a gzip file can expand a
#: thousandfold: a 1 MB upload can hold GBs).
DEFAULT_MAX_DECOMPRESSED_BYTES = 16 * 1024**3
#: Bytes read at a time by the read-through check.
SCAN_BLOCK = 4 * 1024 * 1024
#: Allowed upload names: what the reader accepts.
SUFFIXES = (".dat", ".csv", ".txt", ".dat.gz", ".csv.gz", ".txt.gz", ".gz")

#: Checks a CSRF token sent in the form against the session's.
TokenCheck = Callable[[str | None], bool]


def _too_large(limit: int) -> str:
    return f"The file is larger than the upload limit ({human_size(limit)}); nothing was stored."


class UploadRefused(Exception):
    """An upload that is not stored; the message says why, in words a user can act on."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


class CsrfMissing(UploadRefused):
    """The file arrived before a valid CSRF token."""

    def __init__(self) -> None:
        super().__init__("missing CSRF token", status_code=403)


@dataclass
class Upload:
    """The fields of an upload form and where its one file was written."""

    fields: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None
    path: Path | None = None
    filename: str = ""
    size: int = 0

    def discard(self) -> None:
        """Delete everything this upload wrote."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
            self.path = None


def safe_filename(name: str) -> str:
    """The upload's own name reduced to a plain file name (no folders, no odd characters)."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "upload"
    return base[-120:]


class _Receiver:
    """python-multipart callbacks that write the file part to disk and keep small fields."""

    def __init__(self, upload: Upload, uploads_dir: Path, limit: int, token_ok: TokenCheck) -> None:
        self.upload = upload
        self.uploads_dir = uploads_dir
        self.limit = limit
        self.token_ok = token_ok
        self.header_name = b""
        self.header_value = b""
        self.headers: dict[bytes, bytes] = {}
        self.field_name: str | None = None
        self.field_value = bytearray()
        self.file: BinaryIO | None = None
        self.files_seen = 0

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value_part,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.headers = {}
        self.field_name = None
        self.field_value = bytearray()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def header_value_part(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        self.headers[self.header_name.lower()] = self.header_value
        self.header_name = b""
        self.header_value = b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            self.field_name = name
            return
        self.files_seen += 1
        if self.files_seen > 1:
            raise UploadRefused("Upload one DOJ file at a time.")
        if not self.token_ok(self.upload.fields.get("csrf_token")):
            raise CsrfMissing
        original = filename.decode("utf-8", "replace")
        if not original:
            raise UploadRefused("Choose a DOJ bulk file to upload.")
        clean = safe_filename(original)
        if not clean.lower().endswith(SUFFIXES):
            raise UploadRefused(
                f"{clean}: a DOJ bulk file ends in .dat or .csv (or .gz of either); "
                "nothing was stored."
            )
        folder = self.uploads_dir / uuid.uuid4().hex
        folder.mkdir(parents=True)
        self.upload.folder = folder
        self.upload.filename = clean
        self.upload.path = folder / clean
        self.file = self.upload.path.open("wb")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.file is not None:
            self.upload.size += end - start
            if self.upload.size > self.limit:
                raise UploadRefused(_too_large(self.limit), status_code=413)
            self.file.write(data[start:end])
        elif self.field_name is not None:
            self.field_value += data[start:end]
            if len(self.field_value) > MAX_FIELD_BYTES:
                raise UploadRefused("A form field is too long.")

    def part_end(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        elif self.field_name is not None:
            self.upload.fields[self.field_name] = self.field_value.decode("utf-8", "replace")
            self.field_name = None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


async def receive_upload(
    content_type: str,
    content_length: str | None,
    body: AsyncIterator[bytes],
    uploads_dir: Path,
    limit: int,
    token_ok: TokenCheck,
) -> Upload:
    """Parse a multipart upload as it streams in; on any refusal nothing is left on disk."""
    declared = int(content_length) if content_length and content_length.isdigit() else 0
    if declared > limit + MAX_FIELD_BYTES * 8:
        raise UploadRefused(_too_large(limit), status_code=413)
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        if not token_ok(None):
            raise CsrfMissing
        raise UploadRefused("Send the file with the upload form.")
    upload = Upload()
    receiver = _Receiver(upload, uploads_dir, limit, token_ok)
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except UploadRefused:
        receiver.close()
        upload.discard()
        raise
    except Exception:
        receiver.close()
        upload.discard()
        raise UploadRefused(
            "The upload was interrupted or malformed; nothing was stored."
        ) from None
    receiver.close()
    if upload.path is None:
        if not token_ok(upload.fields.get("csrf_token")):
            raise CsrfMissing
        raise UploadRefused("Choose a DOJ bulk file to upload.")
    return upload


async def receive_form_upload(request: Request) -> Upload:
    """The upload form posted in `request`, streamed into the uploads folder under the app's
    size limit.

    The body is a file of up to a few GB and is read once, as it streams, so the CSRF token is
    checked on the way (the X-CSRF-Token header, or the form's token field, which comes before
    the file) rather than by `verify_csrf`. A missing or wrong token: HTTPException 403; any
    other refusal: UploadRefused, with nothing left on disk.
    """
    from clearance.web.security import token_matches

    config = request.app.state.config
    header_token = request.headers.get("X-CSRF-Token")

    def token_ok(sent: str | None) -> bool:
        return token_matches(request, header_token if header_token is not None else sent)

    try:
        return await receive_upload(
            request.headers.get("content-type", ""),
            request.headers.get("content-length"),
            request.stream(),
            config.uploads_dir,
            config.max_upload_bytes,
            token_ok,
        )
    except UploadRefused as exc:
        if exc.status_code == 403:
            raise HTTPException(status_code=403, detail="Missing or wrong CSRF token.") from None
        raise


def scan_upload(
    path: Path,
    display_name: str,
    max_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
    max_line: int = MAX_LINE_BYTES,
) -> int:
    """Read the whole upload through (decompressed when gzip) without holding more than one
    block: refuse it when it decompresses to more than `max_bytes`, has a line longer than
    `max_line`, or cannot be read to the end. Returns the decompressed size.

    The format check reads only the first megabyte; this is what keeps a small gzip file that
    expands to gigabytes, or one endless line, from ever reaching a run.
    """
    import numpy as np

    total = 0
    line = 0  # bytes of the current line so far
    lines = 0
    try:
        stream, raw = open_binary(path)
        with raw, stream:
            while True:
                block = stream.read(SCAN_BLOCK)
                if not block:
                    break
                total += len(block)
                if total > max_bytes:
                    raise UploadRefused(
                        f"{display_name}: decompresses to more than the limit of "
                        f"{human_size(max_bytes)}; nothing was stored.",
                        status_code=413,
                    )
                ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
                if ends.size:
                    longest = max(line + int(ends[0]), int(np.diff(ends).max(initial=1)) - 1)
                    line = len(block) - int(ends[-1]) - 1
                    lines += int(ends.size)
                else:
                    longest = 0
                    line += len(block)
                if max(longest, line) > max_line:
                    raise UploadRefused(
                        f"{display_name}: a line near line {lines + 1:,} is longer than "
                        f"{human_size(max_line)}, which no DOJ row is; the file is damaged. "
                        "Nothing was stored."
                    )
    except (OSError, EOFError, zlib.error, ReadError):
        raise UploadRefused(
            f"{display_name}: cannot be read to the end (a damaged or incomplete file); "
            "nothing was stored."
        ) from None
    return total


def check_doj_file(path: Path, display_name: str) -> list[str]:
    """Refuse a file that is not a DOJ bulk file, with the reader's own checks and message;
    returns the counties of the court events in what was read (for the county check).

    The reader is run on the first megabyte (whole lines, decompressed when gzip) written next
    to the upload, so a multi-GB file is judged in milliseconds by exactly the rules a run uses.
    """
    from clearance.engine import counties

    probe_dir = path.parent / ".probe"
    probe_dir.mkdir(exist_ok=True)
    probe = probe_dir / display_name.removesuffix(".gz")
    try:
        try:
            stream, raw = open_binary(path)
            with raw, stream:
                head = stream.read(PROBE_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise ReadError(f"{probe}: cannot be read ({type(exc).__name__})") from None
        if len(head) == PROBE_BYTES and b"\n" in head:
            head = head[: head.rfind(b"\n") + 1]
        probe.write_bytes(head)
        records = read_doj([probe])
        if records.rows_loaded == 0:
            raise ReadError(f"{probe}: no row of the DOJ layout was found")
        return counties(records)
    except ReadError as exc:
        message = str(exc).replace(str(probe), display_name)
        raise UploadRefused(f"Not a DOJ bulk file: {message}. Nothing was stored.") from None
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
