"""County policy: what an office chose on top of the statute, as a checked document.

A policy never changes what the statute says a conviction is now; it says what the office asks
the court for. Every field has a default that reproduces the statute alone, so a policy file only
names what it changes. The judgment calls of the law (where courts have not settled the point)
are named switches here, with the default documented beside each one.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from clearance.policy.tool_options import ToolOptions

#: The cannabis sections a policy can set a baseline for.
POLICY_SECTIONS = ("11357", "11358", "11359", "11360")
#: A baseline key: one of those sections, optionally with subdivisions, e.g. `11357(b)`.
SECTION_KEY = re.compile(r"^(11357|11358|11359|11360)(\([a-z0-9]+\))*$")

SectionBaseline = Literal["statute", "dismiss", "reduce", "review"]

#: The pilot counties' own flows a policy can follow (`clearance.county_flows`).
CountyFlow = Literal[
    "sacramento_2019",
    "san_joaquin_2019",
    "contra_costa_2019",
    "los_angeles_2020",
    "san_francisco_2018",
]
COUNTY_FLOWS: tuple[str, ...] = get_args(CountyFlow)


def _statute_sections() -> dict[str, SectionBaseline]:
    return {section: "statute" for section in POLICY_SECTIONS}


class _Strict(BaseModel):
    """Unknown keys are errors: a typo in a policy must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Judgment(_Strict):
    """Points where the law is unsettled (prop64.md, "(judgment)"). Defaults are documented."""

    priors_before_offense_only: bool = Field(
        True,
        description="A super strike or PC 290 record counts only when dated before the cannabis "
        "offense (same-day events are not priors). Off: any occurrence anywhere in the record "
        "counts, as some earlier tools did. 'Two or more prior convictions' of the same section "
        "are always convictions before the offense. Default on: the statute says 'prior'.",
    )
    old_convictions_count_as_priors: bool | Literal["review"] = Field(
        "review",
        description="'Two or more prior convictions' (HS 11358(d)(2), 11359(c)(2), "
        "11360(a)(3)(B)) are convictions under the subdivision that now carries the "
        "misdemeanor (11358(c), 11359(b), 11360(a)(2)). Whether old (pre-2016) felony "
        "convictions of the section, or records without a subdivision, count is unsettled. "
        "review (default): two or more such priors send the count to review "
        "(two_priors_unsettled), since the statute presumes eligibility and the prosecution "
        "must prove otherwise (HS 11361.8(b), (f)). true: they count. false: they never count. "
        "Old HS 11360(b) give-aways and HS 11357 records never count (HS 11361.5, 11361.7).",
    )
    cultivation_presumed_lawful: bool = Field(
        True,
        description="HS 11358 by a person 21+ is presumed six plants or fewer (now lawful, HS "
        "11362.1) and dismissed. Off: reduced to a misdemeanor as if over six plants.",
    )
    accessory_pc32_review: bool = Field(
        True,
        description="PC 32 accessory in an arrest cycle with a HS 11357-11360 charge may be "
        "eligible (People v. Boatwright, 2019, whose reasoning covers every such predicate): "
        "send to review. Off: not in scope.",
    )
    consecutive_prison_terms: bool = Field(
        False,
        description="A count's prison terms were served one after the other: the sentence ends "
        "when they have all been served, added up. Default off: the parts of a sentence run "
        "together and it ends when its longest part ends (jail as a condition of probation is "
        "not added to the probation); parole, PRCS and mandatory supervision run after the "
        "custody either way (prop64.md section 2). It decides whether the person is still "
        "serving, so the remedy (HS 11361.8(b) or (f)).",
    )


class Priors(_Strict):
    """What a disqualifying prior (super strike, PC 290, two priors) does to a reduction."""

    effect: Literal["not_eligible", "review", "warn"] = Field(
        "not_eligible",
        description="not_eligible: the statute keeps the felony (default). review: an attorney "
        "decides. warn: the count keeps its decision and carries a warning reason (the statewide "
        "configurable tool only reported priors).",
    )
    applies_to: Literal["reductions", "all"] = Field(
        "reductions",
        description="reductions: the statute's felony exceptions bar only a felony reduction "
        "(HS 11358(d), 11359(c), 11360(a)(3)); conduct that is now lawful is dismissed whatever "
        "the record (default). all: the office also withholds dismissals.",
    )


class Misdemeanors(_Strict):
    """How misdemeanor and infraction convictions are treated."""

    treatment: Literal["follow_sections", "dismiss", "city_attorney"] = "follow_sections"
    since: date | None = Field(
        None, description="Only convictions on or after this date get the treatment."
    )


class AdditionalDismissal(_Strict):
    """Criteria that turn an eligible reduction (or review) into a dismissal. Off when null."""

    age_at_least: int | None = Field(None, ge=1, le=120, description="Age on the as-of date.")
    under_21_at_offense: bool = False
    under_21_at_conviction: bool = False
    years_since_conviction: int | None = Field(None, ge=1, le=100)
    crime_free_years: int | None = Field(
        None, ge=1, le=100, description="No conviction of any offense, in any county, in N years."
    )
    only_cannabis_sentences_complete: bool = False
    only_cannabis: bool = False
    single_conviction_sentence_complete: bool = False
    deceased: bool = False


class RelatedCharges(_Strict):
    """Convictions in the same arrest cycle as a relieved cannabis conviction."""

    dismiss: list[str] = Field(default_factory=list, description="e.g. 'PC 647(f)', 'HS 11364'.")
    review: list[str] = Field(default_factory=list)

    @field_validator("dismiss", "review")
    @classmethod
    def _codes(cls, values: list[str]) -> list[str]:
        for value in values:
            parts = value.split()
            if len(parts) != 2 or not parts[0].isalpha() or not parts[1][:1].isdigit():
                raise ValueError(f"{value!r} is not 'CODE SECTION' such as 'PC 647(f)'")
        return values


class PolicyAuthority(_Strict):
    """The authority for dismissals the policy asks beyond the statute (and for related
    charges), per sentence status; null: not named, and the filings refuse such dismissals.
    What each choice files is in docs/filings.md."""

    serving: Literal["pc1385", "statute"] | None = Field(
        None,
        description="Sentence not complete. pc1385: recall (HS 11361.8(b)) and dismissal in "
        "furtherance of justice (PC 1385), which the court can grant while it keeps jurisdiction "
        "over the sentence. statute: ask only the statute's relief.",
    )
    completed: Literal["pc1203.4", "statute"] | None = Field(
        None,
        description="Sentence complete: PC 1385 no longer applies (People v. Chavez (2018) 4 "
        "Cal.5th 771). pc1203.4: the statute's relief, and a notice that the People do not "
        "oppose dismissal on the person's petition (PC 1203.4, 1203.4a, 1203.41, 1203.42). "
        "statute: ask only the statute's relief.",
    )


class Filing(_Strict):
    """Who files, where, and on what authority: the caption (California Rules of Court, rule
    2.111), the signature blocks, and the authority of dismissals by policy."""

    office: str | None = None
    signer: str | None = None
    bar_number: str | None = None
    office_address: str | None = Field(None, description="The office's mailing address.")
    phone: str | None = None
    email: str | None = None
    court_name: str | None = None
    court_address: str | None = None
    policy_authority: PolicyAuthority = Field(default_factory=PolicyAuthority)


class Policy(_Strict):
    """A county's policy. The default instance is the statute alone."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    source: str = Field(description="Where the policy comes from (announcement, memo, date).")
    flow: Literal["clearance", "configurable_tool", CountyFlow] = Field(
        "clearance",
        description="clearance: every rule evaluated, written precedence. configurable_tool: the "
        "first-holding-step flow of the statewide configurable tool (prop64.md section 6), kept "
        "so an office that used it sees the same numbers; statute disagreements become warnings. "
        "A county flow (sacramento_2019, san_joaquin_2019, contra_costa_2019, los_angeles_2020, "
        "san_francisco_2018): that pilot county's own flow, step by step "
        "(`clearance.county_flows`), with the same warnings.",
    )
    sections: dict[str, SectionBaseline] = Field(default_factory=_statute_sections)
    misdemeanors: Misdemeanors = Field(default_factory=Misdemeanors)
    priors: Priors = Field(default_factory=Priors)
    judgment: Judgment = Field(default_factory=Judgment)
    additional_dismissal: AdditionalDismissal = Field(default_factory=AdditionalDismissal)
    related_charges: RelatedCharges = Field(default_factory=RelatedCharges)
    still_serving: Literal["statute", "review"] = Field(
        "statute",
        description="statute: people still serving get the same decision under HS 11361.8(b). "
        "review: an attorney looks at each (public-safety ground).",
    )
    remaining: Literal["reduce", "review"] = Field(
        "reduce", description="What an eligible felony that is not dismissed becomes."
    )
    lawful_conduct: Literal["dismiss", "challenge_with_prior", "challenge_when_reduced"] = Field(
        "dismiss",
        description="Conduct the statute now makes lawful (HS 11362.1) is dismissed and sealed "
        "(HS 11361.8(f)) whatever the section's baseline or the priors: priors only keep a "
        "reduction a felony (default). An office that keeps such a conviction challenges it, "
        "on a named ground that goes to the challenge notice: challenge_with_prior (a super "
        "strike, PC 290(c) offense or two priors on record; also what priors.applies_to all "
        "does), challenge_when_reduced (the section's baseline is reduce).",
    )
    filing: Filing = Field(default_factory=Filing)
    tool_options: ToolOptions | None = Field(
        default=None,
        description="The statewide configurable tool's eligibility options as its file set "
        "them (canonical spelling, per-subsection entries kept); used by the configurable_tool "
        "flow. The fields above hold the nearest equivalent for display.",
    )

    @field_validator(
        "sections",
        "misdemeanors",
        "priors",
        "additional_dismissal",
        "related_charges",
        "still_serving",
        "remaining",
        "lawful_conduct",
        "tool_options",
    )
    @classmethod
    def _clearance_only(cls, value: object, info: ValidationInfo) -> object:
        """A county flow decides with the county's own steps: a setting of the clearance flow
        would be silently ignored, so it is an error (the judgment switches and the filing
        still apply: the statute's reading and the court documents use them)."""
        flow = info.data.get("flow")
        if flow not in COUNTY_FLOWS or info.field_name is None:
            return value
        if info.field_name == "sections":
            unchanged = all(v == "statute" for v in value.values())  # type: ignore[attr-defined]
        else:
            default = cls.model_fields[info.field_name].get_default(call_default_factory=True)
            unchanged = value == default
        if not unchanged:
            raise ValueError(
                f"has no effect with flow {flow}, which decides with the county's own steps "
                "(clearance.county_flows); remove it"
            )
        return value

    @field_validator("sections")
    @classmethod
    def _known_sections(cls, value: dict[str, SectionBaseline]) -> dict[str, SectionBaseline]:
        """Keys are a section (`11357`) or a section with its subdivision (`11357(b)`); the most
        specific key that matches a conviction sets its baseline."""
        normalized: dict[str, SectionBaseline] = {}
        for key, baseline in value.items():
            canonical = key.replace(" ", "").lower()
            if not SECTION_KEY.match(canonical):
                raise ValueError(
                    f"unknown section {key!r}: use {', '.join(POLICY_SECTIONS)}, optionally with "
                    "a subdivision such as '11357(b)'"
                )
            normalized[canonical] = baseline
        return {**dict.fromkeys(POLICY_SECTIONS, "statute"), **normalized}


def statute_policy() -> Policy:
    """The law alone: the default policy."""
    return Policy(
        name="statute",
        title="The statute alone (HS 11361.8)",
        source="Health and Safety Code 11361.8 (Proposition 64, 2016) and 11361.9 (added by "
        "AB 1793, 2018)",
    )
