"""The append-only audit log: every change to runs, reviews and users, chained by hash.

Each entry's hash is sha256(prev_hash + canonical JSON of the entry), the entry being its id,
time, actor, action, target and details. Editing any field of any entry breaks its hash;
deleting or reordering entries breaks the chain (ids are 1, 2, 3 ... with no gaps, and each
entry names its predecessor's hash); deleting entries from the end is caught by the head row,
which holds the number of entries and the last hash. `verify` checks all of it.

What the chain cannot stop is someone with write access rewriting the whole log and the head
consistently; `clearance audit verify` prints the head hash so an office can write it down
(or send it elsewhere) and compare later.

Details are for pointing at rows, never for copying data: keys that would carry a name, a date
of birth, an identifier (a person's SUBJECT_ID included: a count is named by its determination
id, the store's own row number) or a password are refused, so the log can be shown to anyone who
may see the audit trail.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clearance.store.models import AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64

#: Detail keys refused anywhere in `details` (compared lower case, '-' as '_').
FORBIDDEN_KEYS = frozenset(
    {
        "name", "first_name", "last_name", "full_name", "pri_name", "dob", "date_of_birth",
        "pri_dob", "birth_date", "cii", "cii_number", "ssn", "fbi_number", "address",
        "password", "password_hash", "note", "review_note", "raw", "offense_raw",
        "subject_id", "subject_ids",
    }
)  # fmt: skip


class AuditError(ValueError):
    """Details that the audit log must not hold."""


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking the whole chain."""

    ok: bool
    checked: int
    first_bad_id: int | None
    problem: str | None
    head_hash: str = GENESIS


def canonical(value: Any) -> str:
    """JSON with sorted keys and no spaces: one text per value, so its hash is stable."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _check_details(value: Any, path: str = "details") -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, str):
                raise AuditError(f"{path}: keys must be text")
            if key.lower().replace("-", "_") in FORBIDDEN_KEYS:
                raise AuditError(f"{path}.{key}: personal data does not go in the audit log")
            _check_details(inner, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, inner in enumerate(value):
            _check_details(inner, f"{path}[{i}]")
    elif not (value is None or isinstance(value, str | int | float | bool)):
        raise AuditError(f"{path}: {type(value).__name__} is not JSON")


def _time_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    prev_hash: str,
    entry_id: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    details_json: str,
) -> str:
    """sha256(prev_hash + canonical JSON of the entry), hex."""
    body = canonical(
        {
            "id": entry_id,
            "at": _time_text(at),
            "actor": actor,
            "action": action,
            "target": target,
            "details": json.loads(details_json),
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(
    session: Session, actor: str, action: str, target: str, details: dict[str, Any]
) -> AuditEntry:
    """Add an entry at the end of the chain, in the caller's transaction (flushed, not committed).

    The head row is updated first: that takes the write lock before the last hash is read, so
    concurrent writers queue instead of forking the chain. The caller commits, so the audited
    change and its entry land together.
    """
    _check_details(details)
    details_json = canonical(details)
    moved = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(entries=AuditHead.entries + 1)
        .returning(AuditHead.entries)
    ).scalar_one_or_none()
    if moved is None:
        raise RuntimeError("the audit head row is missing: run `clearance db upgrade`")
    entry_id = int(moved)
    if entry_id == 1:
        prev = GENESIS
    else:
        found = session.execute(
            select(AuditEntry.hash).where(AuditEntry.id == entry_id - 1)
        ).scalar_one_or_none()
        if found is None:
            raise RuntimeError("the audit log is broken: run `clearance audit verify`")
        prev = found
    at = utcnow()
    digest = entry_hash(prev, entry_id, at, actor, action, target, details_json)
    entry = AuditEntry(
        id=entry_id,
        at=at,
        actor=actor,
        action=action,
        target=target,
        details_json=details_json,
        prev_hash=prev,
        hash=digest,
    )
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=digest))
    session.flush()
    return entry


def verify(session: Session, batch: int = 5_000) -> VerifyResult:
    """Walk the whole log in id order and report the first entry that does not hold."""
    head = session.get(AuditHead, 1, populate_existing=True)
    if head is None:
        return VerifyResult(False, 0, None, "the audit head row is missing")
    expected_prev = GENESIS
    expected_id = 1
    checked = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(
                AuditEntry.id,
                AuditEntry.at,
                AuditEntry.actor,
                AuditEntry.action,
                AuditEntry.target,
                AuditEntry.details_json,
                AuditEntry.prev_hash,
                AuditEntry.hash,
            )
            .where(AuditEntry.id > last_id)
            .order_by(AuditEntry.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        for entry_id, at, actor, action, target, details_json, prev_hash, digest in rows:
            if entry_id != expected_id:
                return VerifyResult(
                    False,
                    checked,
                    entry_id,
                    f"entry {expected_id} is missing (next entry is {entry_id})",
                    head.last_hash,
                )
            if prev_hash != expected_prev:
                return VerifyResult(
                    False,
                    checked,
                    entry_id,
                    f"entry {entry_id} does not follow entry {entry_id - 1} "
                    "(deleted, inserted or reordered)",
                    head.last_hash,
                )
            try:
                recomputed = entry_hash(
                    prev_hash, entry_id, at, actor, action, target, details_json
                )
                is_canonical = canonical(json.loads(details_json)) == details_json
            except (ValueError, TypeError):
                recomputed, is_canonical = "", False
            if recomputed != digest or not is_canonical:
                return VerifyResult(
                    False, checked, entry_id, f"entry {entry_id} was changed", head.last_hash
                )
            expected_prev = digest
            expected_id += 1
            checked += 1
            last_id = entry_id
    if head.entries != checked:
        return VerifyResult(
            False,
            checked,
            min(head.entries, checked) + 1,
            f"the log should have {head.entries} entries and has {checked} "
            "(entries deleted from the end, or the head changed)",
            head.last_hash,
        )
    if head.last_hash != expected_prev:
        return VerifyResult(
            False,
            checked,
            checked or None,
            "the last entry is not the one recorded in the head",
            head.last_hash,
        )
    return VerifyResult(True, checked, None, None, head.last_hash)


def entries(session: Session, page: int = 1, per_page: int = 50) -> tuple[list[AuditEntry], int]:
    """One page of the log, newest first, and the number of entries."""
    page = max(1, page)
    per_page = min(max(1, per_page), 1_000)
    total = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    rows = (
        session.execute(
            select(AuditEntry)
            .order_by(AuditEntry.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        .scalars()
        .all()
    )
    return list(rows), int(total)
