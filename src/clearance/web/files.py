"""The files of a run folder: listing them, and serving one without leaving the folder.

A download names a file relative to the run folder. The name is refused outright when it is
absolute, has a `..` part, a backslash or a NUL; what remains is resolved (following symlinks)
and must still be a regular file inside the resolved run folder, so a symlink that points out
of the folder is refused as well.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from clearance.web.descriptions import describe

#: Shown first on the downloads page, in this order; everything else follows by name.
PRIMARY = (
    "convictions.csv",
    "results.csv",
    "people.csv",
    "summary.json",
    "quarantine.csv",
)


@dataclass(frozen=True)
class RunFile:
    """One downloadable file: its path relative to the run folder, and its size."""

    relative: str
    size: int

    @property
    def folder(self) -> str:
        """The subfolder it is in ('' for the run folder itself)."""
        parent = PurePosixPath(self.relative).parent
        return "" if str(parent) == "." else str(parent)

    @property
    def download_name(self) -> str:
        """The name the file is saved under (see `download_name`)."""
        return download_name(self.relative)

    @property
    def description(self) -> str:
        """One line saying what the file holds (see `describe`)."""
        return describe(self.relative)


#: Folders of working files that the downloads page does not list (the canonical tables read
#: back by the store and the filings; a download by name still works for roles that may).
INTERNAL_DIRS = ("record",)
#: Working files by suffix: Parquet copies of the tables (read back by the store and the
#: filings, not by people) and lock files. Hidden files and folders (a build in progress,
#: `.filings-build.lock`) are never served at all.
INTERNAL_SUFFIXES = (".parquet", ".lock", ".tmp")
#: Files that carry every column of the DOJ file (SSN, driver's licence, FBI number): only
#: roles that may see full records download them.
FULL_RECORD_FILES = ("results.csv",)


def is_full_record(relative: str) -> bool:
    """Whether a run file holds full DOJ records (results.csv and its reviewed copy)."""
    return PurePosixPath(relative).name in FULL_RECORD_FILES


def is_internal(relative: str) -> bool:
    """Whether a run file is a working file the downloads page and the ZIP leave out."""
    pure = PurePosixPath(relative)
    return any(
        part in INTERNAL_DIRS or part.startswith(".") for part in pure.parts
    ) or pure.name.lower().endswith(INTERNAL_SUFFIXES)


def download_name(relative: str) -> str:
    """The file name a download is saved under: its folders joined to its name with '-', so
    `reviewed/convictions.csv` is saved as `reviewed-convictions.csv`, never as a second
    `convictions.csv` beside the run's own."""
    return "-".join(PurePosixPath(relative).parts)


def list_files(run_dir: Path) -> list[RunFile]:
    """Every regular file under the run folder that `resolve_download` would serve, but the
    internal working folders."""
    if not run_dir.is_dir():
        return []
    found: list[RunFile] = []
    for path in run_dir.rglob("*"):
        relative = path.relative_to(run_dir).as_posix()
        if is_internal(relative):
            continue
        target = resolve_download(run_dir, relative)
        if target is not None:
            found.append(RunFile(relative, target.stat().st_size))

    def order(item: RunFile) -> tuple[int, str, int, str]:
        depth = item.relative.count("/")
        rank = PRIMARY.index(item.relative) if item.relative in PRIMARY else len(PRIMARY)
        return (depth, item.folder, rank, item.relative)

    return sorted(found, key=order)


def resolve_download(run_dir: Path, relative: str) -> Path | None:
    """The file `relative` names inside `run_dir`, or None when the name tries to leave it."""
    if not relative or "\\" in relative or "\x00" in relative:
        return None
    pure = PurePosixPath(relative)
    if pure.is_absolute() or any(part in ("..", ".", "") for part in relative.split("/")):
        return None
    if any(part.startswith(".") for part in pure.parts):
        return None
    try:
        root = run_dir.resolve(strict=True)
        target = (root / pure).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target


def human_size(size: int) -> str:
    """1234567 -> '1.2 MB'."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GB"


def replace_folder(built: Path, target: Path) -> None:
    """Put the complete folder `built` where `target` is, in two renames (same file system).

    The old folder is moved aside first and deleted only once the new one is in place, so at
    every moment `target` is either the whole old set or the whole new one.
    """
    if not target.exists():
        os.replace(built, target)
        return
    old = target.parent / f".{target.name}.previous"
    shutil.rmtree(old, ignore_errors=True)
    os.replace(target, old)
    os.replace(built, target)
    shutil.rmtree(old, ignore_errors=True)
