"""Saved policies keep every version: saving adds one, never overwrites one.

A run stores the exact text it used, but an office also has to answer "which version of our
policy was that, who wrote it and when, and what changed since?". Each save of a policy named
`name` writes `<data>/policies/versions/<name>/<NNNN>.yaml` (the text, byte for byte) and
`<NNNN>.json` (who saved it, when, its SHA-256), both created exclusively so a version is
written once; then `<data>/policies/<name>.yaml`, the current text the run form offers, is
replaced in one rename. Two saves at once are serialised by a lock on the policy's folder, so
they get two numbers and neither is lost.

A policy saved before versions were kept has its text recorded as version 1 ("before
versions were kept", dated by the file) the first time it is saved again.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clearance.store.runs import text_sha256

#: Who saved a version that existed before versions were kept.
BEFORE_VERSIONS = "(before versions were kept)"
#: Lines of context around each change in a diff.
CONTEXT = 3


@dataclass(frozen=True)
class PolicyVersion:
    """One saved version of a policy (its text is read on demand: `text_of`)."""

    name: str
    number: int
    saved_by: str
    saved_at: datetime
    sha256: str
    path: Path

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class DiffRow:
    """One line of a diff: 'same', 'removed', 'added', or 'gap' (lines left out between
    changes); the line numbers in the older and newer text (None where it has none)."""

    kind: str
    old: int | None
    new: int | None
    text: str


def versions_dir(policies_dir: Path, name: str) -> Path:
    """Where the versions of the saved policy `name` live."""
    return policies_dir / "versions" / name


def _meta_path(folder: Path, number: int) -> Path:
    return folder / f"{number:04d}.json"


def _read_version(folder: Path, name: str, number: int) -> PolicyVersion | None:
    text_path = folder / f"{number:04d}.yaml"
    try:
        meta = json.loads(_meta_path(folder, number).read_text(encoding="utf-8"))
        saved_at = datetime.fromisoformat(str(meta["saved_at"]))
        return PolicyVersion(
            name, number, str(meta["saved_by"]), saved_at, str(meta["sha256"]), text_path
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def list_versions(policies_dir: Path, name: str) -> list[PolicyVersion]:
    """Every version of a saved policy, newest first (empty for a preset or no history)."""
    folder = versions_dir(policies_dir, name)
    if not folder.is_dir():
        return []
    numbers = sorted(
        (int(p.stem) for p in folder.glob("[0-9][0-9][0-9][0-9].json") if p.stem.isdigit()),
        reverse=True,
    )
    found = (_read_version(folder, name, n) for n in numbers)
    return [version for version in found if version is not None]


def get_version(policies_dir: Path, name: str, number: int) -> PolicyVersion | None:
    """Version `number` of the saved policy `name`, or None."""
    if not 0 < number < 10_000:
        return None
    return _read_version(versions_dir(policies_dir, name), name, number)


def version_with_text(policies_dir: Path, name: str, sha256: str) -> PolicyVersion | None:
    """The latest version whose text has this SHA-256 (a run's `policy_sha256`), or None."""
    return next((v for v in list_versions(policies_dir, name) if v.sha256 == sha256), None)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write_version(folder: Path, number: int, text: str, saved_by: str, saved_at: datetime) -> None:
    """Write a version's text and its record, each created exclusively (never replaced)."""
    with (folder / f"{number:04d}.yaml").open("x", encoding="utf-8", newline="") as handle:
        handle.write(text)
    meta = {"saved_by": saved_by, "saved_at": saved_at.isoformat(), "sha256": text_sha256(text)}
    with _meta_path(folder, number).open("x", encoding="utf-8") as handle:
        handle.write(json.dumps(meta, sort_keys=True) + "\n")


def add_version(policies_dir: Path, name: str, text: str, saved_by: str) -> PolicyVersion:
    """Record `text` as the next version of `name` and make it the current text.

    Saving the text of the latest version again adds nothing and returns that version.
    """
    folder = versions_dir(policies_dir, name)
    current = policies_dir / f"{name}.yaml"
    with _locked(folder):
        versions = list_versions(policies_dir, name)
        if not versions and current.is_file():
            earlier = current.read_text(encoding="utf-8")
            stamp = datetime.fromtimestamp(current.stat().st_mtime, UTC)
            _write_version(folder, 1, earlier, BEFORE_VERSIONS, stamp)
            versions = list_versions(policies_dir, name)
        if versions and versions[0].sha256 == text_sha256(text):
            latest = versions[0]
        else:
            number = versions[0].number + 1 if versions else 1
            _write_version(folder, number, text, saved_by, datetime.now(UTC))
            found = get_version(policies_dir, name, number)
            assert found is not None
            latest = found
        temporary = policies_dir / f".{name}.yaml.new"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, current)
    return latest


def diff_rows(older: str, newer: str, context: int = CONTEXT) -> list[DiffRow]:
    """The changes from `older` to `newer`, line by line, with `context` unchanged lines around
    each change and a 'gap' row where unchanged lines are left out."""
    before, after = older.splitlines(), newer.splitlines()
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    rows: list[DiffRow] = []
    for group in matcher.get_grouped_opcodes(context):
        if rows:
            rows.append(DiffRow("gap", None, None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    DiffRow("same", i + 1, j + 1, before[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            rows += [DiffRow("removed", i + 1, None, before[i]) for i in range(i1, i2)]
            rows += [DiffRow("added", None, j + 1, after[j]) for j in range(j1, j2)]
    return rows
