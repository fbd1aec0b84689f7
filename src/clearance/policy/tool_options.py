"""The eligibility options of the statewide configurable tool, kept exactly as the office set them.

Offices that ran the statewide configurable tool (prop64.md section 6) saved their choices as a
JSON "eligibility options" file. A `Policy` with `flow="configurable_tool"` carries those options
here so that the engine can reproduce the tool's first-holding-step flow with the same numbers,
including per-subsection lists ("11357(a)") that `Policy.sections` cannot hold without losing
detail. The ranges are the tool's own: it refused files outside them, and so do we.

This module must not import `clearance.policy.schema`, which imports it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

#: The sections the tool's lists may name (the same four as `schema.POLICY_SECTIONS`; repeated
#: here because the schema imports this module).
TOOL_SECTIONS = ("11357", "11358", "11359", "11360")

#: Inclusive ranges the tool accepted; 0 always means "off".
AGE_THRESHOLD_RANGE = (40, 65)
YEARS_THRESHOLD_RANGE = (1, 15)

# "11357", "11357(a)", "11360(a)(2)", "HS 11360", "H&S 11359", "11358 HS": an optional Health and
# Safety Code prefix or suffix, the section, then any number of parenthesised subsection levels.
_CODE = r"(?:HS|HSC|H\s*&\s*S(?:\s*C)?)"
_ENTRY = re.compile(
    rf"^\s*(?:{_CODE}\s*)?(?P<section>[0-9]+(?:\.[0-9]+)?)"
    r"(?P<sub>(?:\s*\(\s*[0-9A-Z]{1,4}\s*\))*)"
    rf"\s*(?:{_CODE}\s*)?$",
    re.IGNORECASE,
)


def normalize_entry(entry: str) -> str:
    """The canonical form of one dismiss/reduce entry: `11357`, `11357(a)`, `11360(a)(2)`.

    Subsections are lower-cased and the code letters dropped, the same spelling the offense
    parser gives (`section` + `subsection`), so the engine compares strings, never substrings:
    matching by substring is how the tool took HS 11357.5 (synthetic cannabinoids) for cannabis.
    Raises ValueError for anything that is not HS 11357-11360.
    """
    match = _ENTRY.match(entry)
    if match is None or match["section"] not in TOOL_SECTIONS:
        raise ValueError(
            "not one of HS 11357, 11358, 11359, 11360 (optionally with a subsection such as "
            "'11357(a)' or a prefix such as 'HS 11360')"
        )
    sub = re.sub(r"\s+", "", match["sub"]).lower()
    return f"{match['section']}{sub}"


def split_entry(entry: str) -> tuple[str, str]:
    """(section, subsection) of a canonical entry: `11357(a)` -> (`11357`, `(a)`)."""
    canonical = normalize_entry(entry)
    section = canonical.split("(", 1)[0]
    return section, canonical[len(section) :]


def _section_name(value: Any) -> Any:
    """An unquoted YAML number (`- 11357`) is still a section name, not a mistake."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


#: One dismiss/reduce entry, canonical after validation (errors carry the entry's index).
Entry = Annotated[str, BeforeValidator(_section_name), AfterValidator(normalize_entry)]


def _check_range(value: int, low: int, high: int) -> int:
    """The tool's own bounds; it refused a file outside them, so a run here must too."""
    if value != 0 and not low <= value <= high:
        raise ValueError(f"must be 0 (off) or between {low} and {high}")
    return value


class ToolOptions(BaseModel):
    """The tool's options file, flattened; defaults are what the tool read for an absent key.

    The tool decoded its JSON into zero values (empty list, false, 0), so a key left out of the
    file means "off" there and here. Types are strict: a quoted "50" or a 1 for true is a
    mistake in a hand-edited file, not something to guess about.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    dismiss: list[Entry] = Field(
        default_factory=list,
        description="baselineEligibility.dismiss: sections or subsections whose felonies are "
        "dismissed (canonical spelling, file order, duplicates dropped).",
    )
    reduce: list[Entry] = Field(
        default_factory=list,
        description="baselineEligibility.reduce: sections or subsections whose felonies are "
        "reduced when no dismissal step holds.",
    )
    subject_under_21_at_conviction: bool = Field(
        False,
        description="additionalRelief.subjectUnder21AtConviction: dismiss when the 21st "
        "birthday is after the conviction date.",
    )
    subject_age_threshold: int = Field(
        0,
        description="additionalRelief.subjectAgeThreshold: dismiss when the person has reached "
        "this age on the as-of date; 0 (off) or 40-65.",
    )
    years_since_conviction_threshold: int = Field(
        0,
        description="additionalRelief.yearsSinceConvictionThreshold: dismiss a conviction at "
        "least this many years old; 0 (off) or 1-15.",
    )
    years_crime_free_threshold: int = Field(
        0,
        description="additionalRelief.yearsCrimeFreeThreshold: dismiss when the person has no "
        "conviction of any offense in this many years; 0 (off) or 1-15.",
    )
    subject_has_only_prop64_charges: bool = Field(
        False,
        description="additionalRelief.subjectHasOnlyProp64Charges: dismiss when every "
        "conviction of the person is HS 11357-11360.",
    )
    subject_is_deceased: bool = Field(
        False,
        description="additionalRelief.subjectIsDeceased: dismiss when the record has a "
        "DECEASED event.",
    )

    @field_validator("dismiss", "reduce")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        """`11357(A)` and `11357(a)` are one entry once canonical; keep the first."""
        return list(dict.fromkeys(value))

    @field_validator("subject_age_threshold")
    @classmethod
    def _age(cls, value: int) -> int:
        return _check_range(value, *AGE_THRESHOLD_RANGE)

    @field_validator("years_since_conviction_threshold", "years_crime_free_threshold")
    @classmethod
    def _years(cls, value: int) -> int:
        return _check_range(value, *YEARS_THRESHOLD_RANGE)
