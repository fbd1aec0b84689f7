"""Read a run folder back for the filings: the decided convictions, the summary, the policy and
who files.

Filings are read from the run folder rather than recomputed so that what a judge signs lists
exactly the decisions the office reviewed (and byte-identical runs give identical filings).
Errors are `FilingsError` with one line the user can act on; they never quote a name, a date
of birth or an identifier from the data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from clearance.engine import all_rules
from clearance.law.rule import Rule
from clearance.outputs.run import RECORD_DIR
from clearance.policy import rules as policy_rules
from clearance.policy.loader import PolicyError, policy_from_tool_options, policy_from_yaml_text
from clearance.policy.schema import Policy


class FilingsError(Exception):
    """A run folder or filing detail the user has to fix; the message is the one line shown."""


class IncompleteRun(FilingsError):
    """A run folder that lacks a file every filing needs (its message says which, where, and
    the command that writes them: advice for the command line; the workspace says it in its
    own words)."""


#: The filing details (flat keys) and the command-line option of each (`clearance filings`);
#: `clearance run --filings` takes the same as `--filing KEY=VALUE`.
FILING_OPTIONS: dict[str, str] = {
    "office": "--office",
    "signer": "--signer",
    "bar_number": "--bar-number",
    "office_address": "--office-address",
    "phone": "--phone",
    "email": "--email",
    "court_name": "--court-name",
    "court_address": "--court-address",
    "policy_authority_serving": "--policy-authority-serving",
    "policy_authority_completed": "--policy-authority-completed",
}
#: The details every filing needs (the authority is needed only when the run has dismissals
#: beyond the statute, and is checked against the data).
REQUIRED_FIELDS = (
    "office", "signer", "bar_number", "office_address", "phone", "email", "court_name",
    "court_address",
)  # fmt: skip
#: The allowed values of each authority choice.
AUTHORITY_VALUES = {
    "policy_authority_serving": ("pc1385", "statute"),
    "policy_authority_completed": ("pc1203.4", "statute"),
}


def option_hint(keys: list[str], style: str = "options") -> str:
    """How to give filing details: on the command line, or (style "form") in the web form."""
    if style == "form":
        return "fill in " + ", ".join(key.replace("_", " ") for key in keys) + " in the form"
    if style == "pairs":
        return " ".join(f"--filing {key}=TEXT" for key in keys)
    return ", ".join(f"{FILING_OPTIONS[key]} TEXT" for key in keys)


@dataclass(frozen=True)
class FilingInfo:
    """Who files and where: the caption and signature block of every pleading, and the
    authority the policy names for its dismissals beyond the statute."""

    office: str
    signer: str
    bar_number: str
    office_address: str
    phone: str
    email: str
    court_name: str
    court_address: str
    policy_authority_serving: str | None = None
    policy_authority_completed: str | None = None


def policy_filing_values(policy: Policy) -> dict[str, str]:
    """The policy's filing block as flat keys (FILING_OPTIONS), blank where not set: what a
    form starts from."""
    block = policy.filing
    values = {key: str(getattr(block, key) or "") for key in REQUIRED_FIELDS}
    values["policy_authority_serving"] = block.policy_authority.serving or ""
    values["policy_authority_completed"] = block.policy_authority.completed or ""
    return values


def parse_filing_pairs(pairs: list[str] | None) -> dict[str, str | None]:
    """`--filing KEY=VALUE` options -> overrides; a one-line error on a bad one."""
    overrides: dict[str, str | None] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in FILING_OPTIONS:
            raise FilingsError(
                f"--filing {pair.split('=', 1)[0]!r}: use KEY=VALUE with KEY one of "
                f"{', '.join(FILING_OPTIONS)}"
            )
        overrides[key] = value
    return overrides


def resolve_filing(
    policy: Policy, overrides: Mapping[str, str | None] | None = None, style: str = "options"
) -> FilingInfo:
    """The policy's filing block with the non-empty overrides on top; every required field.

    A missing field stops before any document is written, with one line naming every missing
    field and both ways to give it, so an office never files a motion without a signer or
    the address, telephone and email rule 2.111 asks for.
    """
    block = policy.filing
    given: dict[str, object] = {key: getattr(block, key) for key in REQUIRED_FIELDS}
    given["policy_authority_serving"] = block.policy_authority.serving
    given["policy_authority_completed"] = block.policy_authority.completed
    for key, value in (overrides or {}).items():
        if key not in FILING_OPTIONS:
            raise ValueError(f"unknown filing field {key!r}")
        if value is not None and value.strip():
            given[key] = value
    values = {key: " ".join(str(given.get(key) or "").split()) for key in FILING_OPTIONS}
    missing = [key for key in REQUIRED_FIELDS if not values[key]]
    if missing:
        pronoun = "them" if len(missing) > 1 else "it"
        if style == "form":
            raise FilingsError(f"filing details missing: {option_hint(missing, style)}")
        raise FilingsError(
            f"filing details missing: {', '.join(missing)}; set {pronoun} in the `filing:` "
            f"block of the policy and re-run, or pass {option_hint(missing, style)}"
        )
    for key, allowed in AUTHORITY_VALUES.items():
        if values[key] and values[key] not in allowed:
            raise FilingsError(
                f"{key} {values[key]!r} is not one of: {', '.join(allowed)} (see docs/filings.md)"
            )
    return FilingInfo(
        **{key: values[key] for key in REQUIRED_FIELDS},
        policy_authority_serving=values["policy_authority_serving"] or None,
        policy_authority_completed=values["policy_authority_completed"] or None,
    )


@dataclass(frozen=True)
class RunData:
    """Everything the filings read from one run folder."""

    run_dir: Path
    #: convictions.parquet plus `kind`, `serving` and `sentence_end` from the determinations.
    convictions: pl.DataFrame
    summary: dict[str, Any]
    policy: Policy
    as_of: date
    county: str

    @property
    def county_title(self) -> str:
        """'San Joaquin' from 'SAN JOAQUIN'."""
        return self.county.title()


def _policy_of_run(text: str) -> Policy:
    """The policy a run stored (a YAML policy, or the configurable tool's JSON options)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise FilingsError(f"the run's policy is not valid JSON (line {exc.lineno})") from None
        return policy_from_tool_options(data, "policy.json")
    return policy_from_yaml_text(text, "policy.yaml")


def load_run(run_dir: Path) -> RunData:
    """Read a run folder written by `clearance run`; a one-line error when it is not one."""
    needed = (
        run_dir / "convictions.parquet",
        run_dir / "summary.json",
        run_dir / RECORD_DIR / "policy.yaml",
        run_dir / RECORD_DIR / "determinations.parquet",
    )
    absent = [p.relative_to(run_dir).as_posix() for p in needed if not p.is_file()]
    if absent:
        raise IncompleteRun(
            f"{run_dir} is not a complete run folder (missing {', '.join(absent)}): run "
            f"`clearance run FILES --county ... --as-of ... --out {run_dir}` first"
        )
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise FilingsError(f"{run_dir}/summary.json cannot be read as JSON") from None
    try:
        policy = _policy_of_run((run_dir / RECORD_DIR / "policy.yaml").read_text(encoding="utf-8"))
    except PolicyError as exc:
        raise FilingsError(f"the run's policy (record/policy.yaml) is not valid: {exc}") from None
    convictions = pl.read_parquet(run_dir / "convictions.parquet")
    extra = pl.read_parquet(
        run_dir / RECORD_DIR / "determinations.parquet",
        columns=["subject_id", "count_id", "kind", "serving", "sentence_end"],
    )
    convictions = convictions.join(
        extra, on=["subject_id", "count_id"], how="left", maintain_order="left"
    )
    try:
        as_of = date.fromisoformat(str(summary["as_of"]))
        county = str(summary["county"])
    except (KeyError, ValueError):
        raise FilingsError(f"{run_dir}/summary.json has no valid as_of and county") from None
    return RunData(
        run_dir=run_dir,
        convictions=convictions,
        summary=summary,
        policy=policy,
        as_of=as_of,
        county=county,
    )


#: The review status of each count, written into record/ by the review workspace's reviewed
#: copy of a run (`clearance.store.runs.export_reviewed_run`): subject_id, count_id,
#: review_status (pending, accepted, overridden). A plain run folder has none.
REVIEWS_FILE = "reviews.parquet"


@dataclass(frozen=True)
class ReviewScope:
    """Which decisions of a reviewed copy the filings carry.

    A decision no attorney has reviewed ("pending") is the engine's word only; it is held out
    of every filing unless the attorney explicitly includes the pending ones, and the filings
    then say how many are unreviewed (the report and manifest.json).
    """

    reviewed: int
    pending: int
    include_pending: bool

    @property
    def held(self) -> int:
        return 0 if self.include_pending else self.pending

    @property
    def included(self) -> int:
        return self.pending if self.include_pending else 0

    def manifest(self) -> dict[str, Any]:
        return {
            "reviewed_convictions": self.reviewed,
            "pending_convictions": self.pending,
            "pending_included": self.include_pending,
            "filed_from": (
                "reviewed and unreviewed (pending) decisions"
                if self.include_pending and self.pending
                else "reviewed decisions only"
            ),
        }


def review_scope(run: RunData, include_pending: bool) -> tuple[pl.DataFrame, ReviewScope | None]:
    """The convictions the filings are made from, and the review scope (None for a plain
    run folder, whose decisions are all filed: it was never put up for review)."""
    path = run.run_dir / RECORD_DIR / REVIEWS_FILE
    if not path.is_file():
        return run.convictions, None
    reviews = pl.read_parquet(path, columns=["subject_id", "count_id", "review_status"])
    joined = run.convictions.join(
        reviews, on=["subject_id", "count_id"], how="left", maintain_order="left"
    )
    is_pending = pl.col("review_status").fill_null("pending") == "pending"
    pending = joined.filter(is_pending).height
    scope = ReviewScope(joined.height - pending, pending, include_pending)
    kept = joined if include_pending else joined.filter(~is_pending)
    return kept.drop("review_status"), scope


def rules_used(policy: Policy, as_of: date) -> tuple[Rule, ...]:
    """Every rule a run under `policy` evaluates, as the engine builds them, statute first.

    `engine.all_rules` gives them for every flow (the clearance flow's precedence, the
    configurable tool's steps, a county's own steps, each with the statute's rules).
    Related-charge rules apply when the policy lists related charges. Each rule appears once.
    """
    rules = all_rules(policy, as_of)
    if policy.related_charges.dismiss or policy.related_charges.review:
        rules = rules + policy_rules.related_rules(policy)
    seen: dict[str, Rule] = {}
    for rule in rules:
        seen.setdefault(rule.id, rule)
    return tuple(seen.values())


def slug(text: str) -> str:
    """A file-name-safe slug: 'SAN JOAQUIN' -> 'san-joaquin'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "court"
