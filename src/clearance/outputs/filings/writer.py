"""`write_filings`: every document of a run, written to one folder with a manifest.

What is written (per court; a run covers one county, whose Superior Court is the court). Files
marked *public* carry counts, case numbers and grounds only; *confidential* ones identify
people and are never filed in the public record:

- ``motion-<court>-<group>.pdf|.docx`` and ``order-<court>-<group>.pdf|.docx`` (public) for each
  relief group with rows (`groups.py`: dismiss-seal, redesignate, recall-resentence, and the
  policy's own groups), each with Exhibit A; ``notice-<court>-<group>.pdf|.docx`` for the
  notices of non-opposition; ``exhibit-b-<court>-<group>.pdf`` (confidential, lodged
  conditionally under seal) for each;
- ``challenge-<court>.pdf|.docx`` (public), with its request for hearing, declaration and proof
  of service, and ``exhibit-b-<court>-challenge.pdf`` (confidential);
- ``review-<court>-district-attorney.csv|.pdf`` and, where the policy refers convictions to
  them, ``review-<court>-city-attorney.csv|.pdf`` (confidential): what remains in review,
  with the HS 11361.9 deadline;
- ``needs-case-number-<court>.csv|.pdf`` (confidential): counts held out of every order for
  want of a court case number (fill in the CSV and give it back with `--case-numbers`);
- ``not-filed-<court>.csv`` (confidential): relieved counts no authority covers, with why;
- ``court-update-<court>.csv`` (confidential, for the court's system): one row per count an
  order relieves;
- ``report.html``, ``report.pdf`` (public, figures only); ``review.xlsx`` (confidential);
- ``packets/<SUBJECT_ID>.pdf`` with `per_person` or `subject`;
- ``manifest.json``: each file with what it holds and whether it is public.

A build is atomic and one at a time: everything is written to a hidden folder beside the
target and swapped in only when complete, so a failed build leaves the previous filings as they
were; a lock file beside the folder refuses a second build of the same folder while one runs
(the review workspace builds filings too). Filing details and authorities are checked before
anything is written.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl

from clearance.outputs.filings.data import (
    FilingInfo,
    FilingsError,
    load_run,
    option_hint,
    resolve_filing,
    review_scope,
    rules_used,
)
from clearance.outputs.filings.groups import Authority, classify

#: Folder of the per-person packets inside the filings folder.
PACKETS_DIR = "packets"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FilingsResult:
    """What `write_filings` wrote."""

    out_dir: Path
    #: Files written, relative to `out_dir`, in the order written (packets not listed).
    files: tuple[str, ...]
    #: Per filing file stem: convictions listed.
    rows: dict[str, int]
    packets: int
    manifest: dict[str, Any]


@contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """One build of a filings folder at a time: a second is refused at once, not queued."""
    from clearance.exits import CommandError
    from clearance.outputs.folder import folder_lock

    with ExitStack() as stack:
        try:
            stack.enter_context(folder_lock(out))
        except CommandError:
            raise FilingsError(
                "another build of these filings is in progress: try again when it has finished"
            ) from None
        yield


def _swap(built: Path, out: Path) -> None:
    """Put the complete new folder in place of the old one in one step (`folder.swap_in`)."""
    from clearance.exits import signals_held
    from clearance.outputs.folder import swap_in

    with signals_held():
        swap_in(built, out)


def check_authority(classified: pl.DataFrame, info: FilingInfo, style: str) -> None:
    """Dismissals beyond the statute need the authority the policy names: refuse without."""
    missing = classified.filter(pl.col("authority_missing").is_not_null())
    if missing.height == 0:
        return
    by_status = missing.group_by("authority_missing").len().sort("authority_missing")
    parts = []
    keys = []
    for status, n in by_status.iter_rows():
        people = "people still serving" if status == "serving" else "completed sentences"
        parts.append(f"{n:,} of {people}")
        keys.append(f"policy_authority_{status}")
    choices = "; ".join(
        f"{key}: {' or '.join(('pc1385' if key.endswith('serving') else 'pc1203.4', 'statute'))}"
        for key in keys
    )
    if style == "form":
        fields = " or ".join(key.replace("_", " ") for key in keys)
        raise FilingsError(
            f"the policy dismisses {missing.height:,} conviction"
            f"{'s' if missing.height != 1 else ''} beyond the statute ({', '.join(parts)}) and "
            f"names no authority for {'them' if missing.height != 1 else 'it'}: choose one in "
            f"the form's {fields} field ({choices})"
        )
    raise FilingsError(
        f"the policy dismisses {missing.height:,} conviction{'s' if missing.height != 1 else ''} "
        f"beyond the statute ({', '.join(parts)}) and names no authority for "
        f"{'them' if missing.height != 1 else 'it'}: set `filing: policy_authority:` in the "
        f"policy ({choices}; see docs/filings.md), or pass {option_hint(keys, style)}"
    )


def write_filings(
    run_dir: Path,
    out_dir: Path | None = None,
    *,
    filing: Mapping[str, str | None] | None = None,
    per_person: bool = False,
    subject: str | None = None,
    order_date: date | None = None,
    docx: bool = True,
    progress: Progress | None = None,
    packets: str = "people",
    counsel: Any = None,
    case_numbers: Path | None = None,
    public_safety: Path | None = None,
    style: str = "options",
    include_pending: bool = False,
) -> FilingsResult:
    """Write the filings of the run in `run_dir` to `out_dir` (default `run_dir/filings`).

    `filing` overrides the policy's filing block (flat keys, see `data.FILING_OPTIONS`; None or
    blank keeps the policy's value). `order_date` fills the court update file's order date.
    `packets` is who files the per-person packets ("people" or "petitioner", with `counsel`).
    `case_numbers` is a CSV of court case numbers for counts the record lacks; `public_safety`
    a CSV of counts the office challenges on that ground. Raises `FilingsError` (one line, no
    personal data) for a folder that is not a run, missing filing details or authority, a bad
    supplied file, a `subject` with nothing to file, or a build already running.

    A reviewed copy of a run (it has record/reviews.parquet) is filed from its reviewed
    decisions only: counts still pending review are held out of every filing unless
    `include_pending`, and the report and manifest say which was done (`ReviewScope`).
    """
    from clearance.outputs.filings.marks import (
        hold_without_case,
        mark_public_safety,
        read_case_numbers,
        read_public_safety,
        supply_case_numbers,
    )
    from clearance.outputs.filings.packet import packet_subjects

    if packets not in ("people", "petitioner"):
        raise FilingsError(f"packets {packets!r}: use people or petitioner")
    run = load_run(run_dir)
    info = resolve_filing(run.policy, filing, style)
    rules = rules_used(run.policy, run.as_of)
    filed, scope = review_scope(run, include_pending)
    convictions = filed.with_columns(pl.col("kind").fill_null("cannabis"))
    if case_numbers is not None:
        convictions = supply_case_numbers(convictions, read_case_numbers(case_numbers, convictions))
    authority = Authority(info.policy_authority_serving, info.policy_authority_completed)
    classified = classify(convictions, rules, authority)
    check_authority(classified, info, style)
    marks = read_public_safety(public_safety) if public_safety is not None else None
    classified = mark_public_safety(
        classified, marks, public_safety.name if public_safety is not None else ""
    )
    classified = hold_without_case(classified)
    kind: Literal["people", "petitioner"] = "people" if packets == "people" else "petitioner"
    people = packet_subjects(classified, kind) if (per_person or subject is not None) else []
    if subject is not None:
        if subject not in set(people):
            raise FilingsError(
                "no conviction of that SUBJECT_ID is in a filing of this run: there is no "
                "packet to write (see `clearance explain`)"
            )
        people = [subject]
    out = out_dir if out_dir is not None else run_dir / "filings"
    out.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(out):
        building = out.parent / f".{out.name}.building"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        try:
            from clearance.outputs.filings.build import write_all

            result = write_all(
                run,
                info,
                rules,
                classified,
                building,
                order_date=order_date,
                docx=docx,
                progress=progress,
                people=people,
                packets=kind,
                counsel=counsel,
                review=scope,
            )
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        _swap(building, out)
    return replace(result, out_dir=out)
