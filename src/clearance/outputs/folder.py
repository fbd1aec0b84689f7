"""Output folders that are whole or untouched: built aside, swapped in, listed in `run.json`.

An office files what a run wrote. A folder that mixes an old `summary.json` with a new
`convictions.csv`, or holds a table cut short at a row boundary, is worse than no folder at all,
because nothing in it looks wrong. So a command that writes a folder:

1. checks the target before reading anything (`stage`): not a file, creatable, writable, and
   either new, empty, or a folder clearance wrote (never someone's documents folder, which the
   swap would replace);
2. takes a lock beside the target, so two runs into one folder do not interleave;
3. writes everything into a hidden folder beside the target (same file system, so the final
   move is a rename);
4. lists every file with its size and SHA-256 in `run.json` (`write_manifest`), and flushes
   every file and folder of it to the disk (`sync_tree`), so that a power cut after the swap
   cannot leave the new folder's names pointing at files whose bytes never reached the disk;
5. exchanges the two folders in one atomic rename (`renameat2(RENAME_EXCHANGE)` on Linux; two
   renames elsewhere, with the old folder put back by the next run if a crash fell between them)
   and only then removes the old one.

A failure or an interruption at any point before step 5 leaves the previous folder exactly as it
was; a kill at any point leaves either the old folder or the complete new one. `verify_folder`
checks a folder against its `run.json`, so anyone can tell a folder is whole.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.exits import CommandError, Exit, raise_if_interrupted, signals_held

#: The manifest of a folder written by clearance.
MANIFEST = "run.json"
#: Version of the manifest's layout.
MANIFEST_VERSION = 1
#: Files a folder written by clearance before manifests existed may hold; such a folder may be
#: replaced by a new run.
_KNOWN_OUTPUTS = (
    "summary.json",
    "counts.parquet",
    "subjects.parquet",
    "convictions.csv",
    "manifest.json",
    "federal-summary.json",
    # A reconciliation's or the letters' folder written before they were built whole.
    "reconcile.json",
    "letters.json",
)


def _hidden(target: Path, role: str) -> Path:
    return target.parent / f".{target.name}.{role}"


@dataclass
class Staging:
    """A folder being built beside `target`."""

    target: Path
    #: The hidden folder the outputs are written into.
    path: Path
    #: Whether `target` held a previous folder when the command started.
    had_previous: bool
    #: A hidden folder beside the target for copies of piped inputs (made when needed).
    spool: Path
    #: Set once the folder is in place of the target.
    committed: bool = False

    @property
    def unchanged(self) -> str:
        """What a failure leaves behind, in words."""
        if self.had_previous:
            return f"the previous outputs in {self.target} are unchanged"
        return f"nothing was written to {self.target}"


def check_target(target: Path) -> bool:
    """Refuse an output folder that cannot be one, before anything is read; True when it
    exists (and so holds a previous folder or is empty)."""
    if target.exists() and not target.is_dir():
        raise CommandError(f"{target}: is a file, not a folder (--out needs a folder)",
                           Exit.NOT_A_FOLDER)  # fmt: skip
    # The nearest existing ancestor must be a folder we may create in.
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise CommandError(f"{target}: {parent} is a file, not a folder", Exit.NOT_A_FOLDER)
    # The folder is built beside the target, so its parent must take new entries too.
    _writable(target, parent)
    if not target.exists():
        return False
    _writable(target, target)
    names = [p.name for p in target.iterdir() if not p.name.startswith(".")]
    if names and MANIFEST not in names and not any(n in names for n in _KNOWN_OUTPUTS):
        raise CommandError(
            f"{target}: holds other files and is not a clearance output folder; a run replaces "
            "its whole folder, so choose a new or empty folder",
            Exit.NOT_A_FOLDER,
        )
    return True


def _writable(target: Path, folder: Path) -> None:
    """Refuse `target` (named in the message) when `folder` cannot take new entries."""
    if not os.access(folder, os.W_OK | os.X_OK):
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
        kind = "read-only file system" if read_only else "permission denied"
        raise CommandError(f"{target}: not writable ({kind})", Exit.NOT_WRITABLE)


def check_output_file(path: Path) -> None:
    """Refuse a file to write beside the folder (such as --timings) before anything is read:
    not a folder, in a folder that exists and may be written."""
    if path.is_dir():
        raise CommandError(f"{path}: is a folder, not a file", Exit.NOT_A_FILE)
    parent = path.parent
    if not parent.exists():
        raise CommandError(f"{path}: the folder {parent} does not exist", Exit.NOT_FOUND)
    if not parent.is_dir():
        raise CommandError(f"{path}: {parent} is a file, not a folder", Exit.NOT_A_FOLDER)
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CommandError(f"{path}: not writable", Exit.NOT_WRITABLE)


@contextmanager
def folder_lock(target: Path) -> Iterator[None]:
    """One writer of a folder at a time: a second is refused at once. The lock file beside the
    folder is removed when released (and re-checked after locking, so a file removed in the
    meantime is never trusted)."""
    lock_path = _hidden(target, "lock")
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise CommandError(
                f"{target}: another run is writing this folder; try again when it has finished",
                Exit.BUSY,
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with suppress(FileNotFoundError):
            os.unlink(lock_path)
        os.close(fd)


def _recover(target: Path) -> None:
    """Undo what a killed command left beside the target: a half-built folder is removed; an
    old folder moved aside by a swap that was cut between its two renames is put back."""
    previous = _hidden(target, "previous")
    if previous.is_dir():
        if target.exists():
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.replace(previous, target)
    shutil.rmtree(_hidden(target, "building"), ignore_errors=True)
    shutil.rmtree(_hidden(target, "spool"), ignore_errors=True)


@contextmanager
def stage(target: Path) -> Iterator[Staging]:
    """Check `target`, lock it and yield a hidden folder beside it to write into. The caller
    calls `commit` when every file is complete; on any exit without it the folder is removed
    and the target is left as it was."""
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(target):
        _recover(target)
        had_previous = check_target(target)
        building = _hidden(target, "building")
        building.mkdir()
        spool = _hidden(target, "spool")
        try:
            yield Staging(target=target, path=building, had_previous=had_previous, spool=spool)
        finally:
            # Present only when the command did not commit (or the old folder after a swap).
            with signals_held():
                shutil.rmtree(building, ignore_errors=True)
                shutil.rmtree(spool, ignore_errors=True)


def commit(staging: Staging, command: str) -> dict[str, Any]:
    """List the staged files in `run.json` and put the folder in place of the target in one
    step. Returns the manifest."""
    manifest = write_manifest(staging.path, command)
    sync_tree(staging.path)
    with signals_held():
        raise_if_interrupted()
        swap_in(staging.path, staging.target)
        staging.committed = True
    # The swap itself is an entry of the parent folder: flushed too, so it survives a crash.
    _sync(staging.target.parent, directory=True)
    return manifest


def _sync(path: Path, directory: bool = False) -> None:
    """Flush one file's (or one folder's entries') bytes to the disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_tree(folder: Path) -> int:
    """Flush every file under `folder` to the disk, then every folder (deepest first, the
    folder itself last), before the folder is put in place: a rename is only as durable as
    the bytes it names. Returns how many files and folders were flushed."""
    folders: list[Path] = []
    synced = 0
    for root, _, files in os.walk(folder):
        here = Path(root)
        folders.append(here)
        for name in files:
            _sync(here / name)
            synced += 1
    for here in reversed(folders):
        _sync(here, directory=True)
        synced += 1
    return synced


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False where it is not available."""
    if not sys.platform.startswith("linux"):
        return False
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    number = ctypes.get_errno()
    if number in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(number, os.strerror(number), str(b))


def swap_in(built: Path, target: Path) -> None:
    """Put the complete folder `built` where `target` is; the old target is removed after.
    `built` and `target` are on one file system (siblings)."""
    if not target.exists():
        os.replace(built, target)
        return
    if _exchange(built, target):
        # `built` now holds the old folder.
        shutil.rmtree(built, ignore_errors=True)
        return
    previous = _hidden(target, "previous")
    shutil.rmtree(previous, ignore_errors=True)
    os.replace(target, previous)
    os.replace(built, target)
    shutil.rmtree(previous, ignore_errors=True)


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def listed_files(folder: Path) -> list[str]:
    """Every file under `folder` (relative, `/`-separated, sorted), without the manifest and
    hidden working files such as locks."""
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and relative.as_posix() != MANIFEST:
            found.append(relative.as_posix())
    return sorted(found)


def file_entries(folder: Path, names: list[str]) -> list[dict[str, Any]]:
    """Size and SHA-256 of each file (hashed on two threads: hashlib releases the GIL)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        digests = list(pool.map(lambda name: _digest(folder / name), names))
    return [
        {"path": name, "bytes": (folder / name).stat().st_size, "sha256": digest}
        for name, digest in zip(names, digests, strict=True)
    ]


def write_manifest(folder: Path, command: str) -> dict[str, Any]:
    """Write `run.json`: every file of the folder with its size and SHA-256. Nothing in it
    depends on when or where the command ran, so two identical runs give identical manifests."""
    files = file_entries(folder, listed_files(folder))
    return _write_manifest_data(folder, command, files)


def _write_manifest_data(folder: Path, command: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    from clearance import __version__

    manifest: dict[str, Any] = {
        "clearance": __version__,
        "command": command,
        "manifest_version": MANIFEST_VERSION,
        "files": files,
        "total_files": len(files),
        "total_bytes": sum(int(f["bytes"]) for f in files),
    }
    temporary = folder / f".{MANIFEST}.new"
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, folder / MANIFEST)
    return manifest


def refresh_manifest(folder: Path, under: str) -> bool:
    """After a later command rewrote the subfolder `under` of a listed folder (the filings of a
    run), list that subfolder's files anew and keep the other entries. False when the folder
    has no manifest."""
    try:
        manifest = read_manifest(folder)
    except CommandError:
        return False
    prefix = under.rstrip("/") + "/"
    kept = [f for f in manifest["files"] if not str(f["path"]).startswith(prefix)]
    fresh = [name for name in listed_files(folder) if name.startswith(prefix)]
    files = sorted(kept + file_entries(folder, fresh), key=lambda f: str(f["path"]))
    _write_manifest_data(folder, str(manifest["command"]), files)
    return True


def list_in_run(run_dir: Path, written: Path) -> bool:
    """After a later command wrote a whole folder (filings, a reconciliation, letters) as a
    direct subfolder of a run's folder, list its files in the run's `run.json`, so `verify`
    still finds the run whole. False when `written` is elsewhere or the run has no manifest."""
    if written.resolve().parent != run_dir.resolve():
        return False
    return refresh_manifest(run_dir, written.name)


@contextmanager
def whole_folder(target: Path, command: str) -> Iterator[Path]:
    """Build a folder aside and put it in place of `target` in one step when the block ends
    without an error (`stage` and `commit`); yields the folder to write into."""
    with stage(target) as staging:
        yield staging.path
        commit(staging, command)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of `folder`; a `CommandError` when it is missing or unreadable."""
    if not folder.exists():
        raise CommandError(f"{folder}: no such folder", Exit.NOT_FOUND)
    if not folder.is_dir():
        raise CommandError(f"{folder}: is a file, not a folder", Exit.NOT_A_FOLDER)
    path = folder / MANIFEST
    if not path.is_file():
        raise CommandError(
            f"{folder}: no {MANIFEST}, so not a folder written whole by clearance run or ingest",
            Exit.NOT_WHOLE,
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = manifest["files"]
        if not isinstance(files, list) or not all(
            isinstance(f, dict) and {"path", "bytes", "sha256"} <= f.keys() for f in files
        ):
            raise ValueError("files")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise CommandError(f"{folder}: {MANIFEST} is damaged", Exit.NOT_WHOLE) from None
    if not isinstance(manifest, dict):
        raise CommandError(f"{folder}: {MANIFEST} is damaged", Exit.NOT_WHOLE)
    return manifest


@dataclass(frozen=True)
class Verified:
    """What `verify_folder` found."""

    files: int
    bytes: int
    missing: list[str]
    changed: list[str]
    extra: list[str]

    @property
    def whole(self) -> bool:
        return not (self.missing or self.changed or self.extra)


def verify_folder(folder: Path) -> Verified:
    """Check every file listed in `run.json`: present, same size, same SHA-256; and no file
    beside them that the manifest does not list."""
    manifest = read_manifest(folder)
    listed = {str(f["path"]): f for f in manifest["files"]}
    present = set(listed_files(folder))
    missing = sorted(name for name in listed if name not in present)
    extra = sorted(name for name in present if name not in listed)
    to_check = sorted(name for name in listed if name in present)
    changed = [
        entry["path"]
        for entry in file_entries(folder, to_check)
        if (entry["bytes"], entry["sha256"])
        != (listed[entry["path"]]["bytes"], listed[entry["path"]]["sha256"])
    ]
    return Verified(
        files=len(listed),
        bytes=sum(int(f["bytes"]) for f in listed.values()),
        missing=missing,
        changed=changed,
        extra=extra,
    )
