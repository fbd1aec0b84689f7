"""The pilot counties' own decision flows (2018-2020), reproduced step by step.

Sacramento, San Joaquin, Contra Costa and Los Angeles decided their Proposition 64 convictions
with the flows published in the pilot's public code (codeforamerica/gogen_pilots,
`data/*_eligibility_flow.go`); San Francisco's bulk run read the same DOJ file with the checks of
`processor/eligiblity_info.go`. Each flow is a decision tree: the first test that settles a
count decides it. A preset that follows one (`Policy.flow`) must give the county's numbers, so
the trees are kept as they were written, including what they did not check (priors in
Sacramento, the offense date everywhere) and how they read the record:

- the offense is the text before the first '-' of the offense description (`11357(B) HS`), and
  the tests on it are the code's own: patterns found anywhere in the text, prefixes compared
  letter for letter (upper and lower case differ);
- a conviction is any count whose disposition starts with CONVICTED, in any county; a person's
  "convictions on record" counts them all, of any offense;
- years are 365.25 days ("more than 10 years since the most recent conviction" is more than
  3,652.5 days), and ages are such years since the date of birth on the run's as-of date.

Every step is a rule with its county's citation and one plain sentence that keeps the county's
own label ("Maybe Eligible - Flag for Review", "To be reviewed by City Attorneys"); every step
that holds is listed in the reasons, and the decision is the first one's (`decide_by_steps`, the
same machinery as the statewide configurable tool's flow). Counts the flow did not cover keep
the statute's decision with a note; where the statute alone decides otherwise the count carries
`warning_statute_differs`. What a preset changes from its county's flow is a named deviation in
its header comment.

The flows read the engine's facts of each count (level, dates, sentence end, date of birth,
deceased) and add the facts the county code computed over the whole record (`source_facts`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from clearance.frames import by_value
from clearance.law.prop64 import EFFECTIVE_DATE
from clearance.law.rule import Outcome, Rule, fmt_date
from clearance.policy.schema import COUNTY_FLOWS, Policy
from clearance.records.doj import Records
from clearance.records.offenses import is_cannabis
from clearance.records.schema import as_strings
from clearance.tool_flow import Evaluate, decide_by_steps, first_holding, held

# --------------------------------------------------------------------------------------------
# How the county code read an offense

#: `matchers.IsProp64Charge`: one of the four section numbers anywhere in the offense text.
PROP64 = r"(11357|11358|11359|11360)"
#: `matchers.IsRelatedCharge` (San Joaquin, Contra Costa): upper and lower case as written, so
#: a DOJ text `647(F) PC` is not matched by `647\(f\)`, and `148(A) PC` is not `148\s*PC`.
RELATED = (
    r"(647\(f\)\s*PC|602\s*PC|466\s*PC|148\.9\s*PC|148\s*PC|11364\s*HS|11550\s*HS|4140\s*BP"
    r"|4149\s*BP|4060\s*BP|40508\s*VC|1320[^\d\.][^\.]*PC)"
)
_GANG = r"186\.22\(B\)\(4\)"
_ENHANCEABLE = r"((136\.1)|(215)|(213\(A\)\(1\)\(A\))|(246)|(519)|(12022\.55))"
#: `data/helpers.go` superstrikesPatterns (Los Angeles), found anywhere in the offense text.
LA_SUPER_STRIKES = (
    r"37 PC", r"128 PC", _ENHANCEABLE + r".*" + _GANG + r" PC",
    _GANG + r".*" + _ENHANCEABLE + r" PC", r"187 PC", r"188 PC", r"189(\.[15])? PC",
    r"190(\.\d{1,2})?(\(.*\))? PC", r"191(\.5)? PC", r"205 PC", r"207 PC", r"209(\.5)? PC",
    r"217\.1 PC", r"218 PC", r"219 PC", r"220 PC", r"245\(D\)\(3\) PC", r"261(\(.*\))? PC",
    r"262(\(.*\))? PC", r"264\.1 PC", r"269 PC", r"273AB(\(.*\))? PC",
    r"286((\(C\)\([123]\)(\([ABC]\))?)|(\(D\)\([123]\)))? PC", r"287 PC",
    r"288((\(A\))|(\(B\)\([12]\)))? PC", r"288A((\(D\))|(\(C\)\(1\))|(\(C\)\(2\)\([ABC]\)))? PC",
    r"288\.5(\(A\))? PC", r"289((\(J\))|(\(A\)\(1\)\([ABC]\))|(\(A\)\(2\)\(C\)))? PC",
    r"451\.5 PC", r"653F PC", r"667\.(61|7|71) PC", r"4500 PC",
    r"11418((\(A\)\(1\))|(\(B\)\([12]\))) PC", r"12308 PC", r"12310 PC", r"18745 PC",
    r"18755 PC", r"1672\(A\) MV",
)  # fmt: skip
#: `data/helpers.go` pc290Patterns (Los Angeles).
LA_PC290 = (
    r"236\.1\([BC]\)(.*) PC", r"243\.4(.*) PC", r"261 PC", r"261(\(|\.|[a-zA-Z])+(.*) PC",
    r"262\(A\)(\(1\))? PC", r"264\.1(\((.*))? PC", r"266 PC", r"266C PC", r"266H\(B\)(.*) PC",
    r"266I\(B\)(.*) PC", r"266J PC", r"267 PC", r"269 PC", r"269(\(|\.|[a-zA-Z])+(.*) PC",
    r"272 PC", r"285 PC", r"287 PC", r"286([^\.]*) PC", r"288 PC", r"288A(.*) PC",
    r"288\.[23457](.*) PC", r"289([^\.]*) PC", r"311\.1(.*) PC", r"311\.2\([BCD]\) PC",
    r"311\.([34]|10|11)(.*) PC", r"314\([12]\) PC", r"451\.5 PC", r"647\.6(.*) PC",
    r"647A(.*) PC", r"653F\([BC]\) PC",
)  # fmt: skip
#: San Francisco's `superstrikesPatterns` (data/doj_history.go): the whole text, equal.
SF_SUPER_STRIKES = (
    "187 PC", "191.5 PC", "187-664 PC", "191.5-664 PC", "209 PC", "220 PC", "245(D)(3) PC",
    "261(A)(2) PC", "261(A)(6) PC", "262(A)(2) PC", "262(A)(4) PC", "264.1 PC", "269 PC",
    "286(C)(1) PC", "286(C)(2)(A) PC", "286(C)(2)(B) PC", "286(C)(2)(C) PC", "286(C)(3) PC",
    "286(D)(1) PC", "286(D)(2) PC", "286(D)(3) PC", "288(A) PC", "288(B)(1) PC",
    "288(B)(2) PC", "288A(C)(1) PC", "288A(C)(2)(A) PC", "288A(C)(2)(B) PC",
    "288A(C)(2)(C) PC", "288A(D) PC", "288.5(A) PC", "289(A)(1)(A) PC", "289(A)(1)(B) PC",
    "289(A)(1)(C) PC", "289(A)(2)(C) PC", "289(J) PC", "653F PC", "11418(A)(1) PC",
)  # fmt: skip
#: San Francisco's `pc290Patterns` (data/doj_history.go).
SF_PC290 = (
    r"290(.*) PC", r"236\.1\([BC]\)(.*) PC", r"243\.4(.*) PC", r"261(.*) PC",
    r"262\(A\)\(1\) PC", r"264\.1(.*) PC", r"266 PC", r"266C PC", r"266H\(B\)(.*) PC",
    r"266I\(B\)(.*) PC", r"266J(.*) PC", r"267 PC", r"269(.*) PC", r"285 PC",
    r"286([^\.]*) PC", r"288([^\.]*) PC", r"288A(.*) PC", r"288\.[23457](.*) PC",
    r"289([^\.]*) PC", r"311\.1(.*) PC", r"311\.2\([BCD]\) PC", r"311\.([34]|10|11)(.*) PC",
    r"314(.*) PC", r"647\.6(.*) PC", r"647A(.*) PC", r"653F\(C\) PC",
)  # fmt: skip

#: The offense as the county code read it: the text before the first '-' (`11357(B) HS`).
SECTION = (
    pl.col("offense_raw").cast(pl.String).fill_null("").str.extract(r"^([^-]*)", 1).fill_null("")
)


def _any_of(patterns: tuple[str, ...], text: pl.Expr) -> pl.Expr:
    return pl.any_horizontal([text.str.contains(p) for p in patterns])


def _days_since(column: str, as_of: date) -> pl.Expr:
    return (pl.lit(as_of) - pl.col(column)).dt.total_days()


def _more_years_than(column: str, as_of: date, years: int) -> pl.Expr:
    """More than `years` years of 365.25 days since the date (exact in whole days)."""
    return (4 * _days_since(column, as_of) > 1461 * years).fill_null(False)


def add_years(day: date, years: int) -> date:
    """Go's AddDate(years, 0, 0): 29 February of a common year becomes 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, month=3, day=1)


# --------------------------------------------------------------------------------------------
# The steps

#: The counties' own labels (`EligibilityDetermination`).
DISMISSAL = "Eligible for Dismissal"
REDUCTION = "Eligible for Reduction"
NOT_ELIGIBLE = "Not eligible"
MAYBE = "Maybe Eligible - Flag for Review"
HAND = "Hand Review"
CITY = "To be reviewed by City Attorneys"


@dataclass(frozen=True)
class Step:
    """One leaf of a county's tree: the test that leads to it and what the county's code said."""

    suffix: str
    outcome: Outcome
    label: str
    reason: str
    text: str
    where: str
    when: Callable[[], pl.Expr]
    facts: tuple[str, ...]
    detail: Callable[[], pl.Expr] | None = None


@dataclass(frozen=True)
class CountyFlowSpec:
    """A county's flow: whose it is, where it is written, which counts it decides, its steps."""

    prefix: str
    county: str
    source: str
    in_scope: Callable[[], pl.Expr]
    steps: Callable[[date], tuple[Step, ...]]
    #: Deviations this preset adds to the county's flow (named, listed in its header).
    deviations: Callable[[date], tuple[Rule, ...]] = lambda _as_of: ()

    def rules(self, as_of: date) -> tuple[Rule, ...]:
        made = [
            Rule(
                id=f"{self.prefix}_{s.suffix}",
                citation=f"{self.source}, {s.where}",
                text=f'{s.text}: "{s.label}" ({s.reason})',
                facts=s.facts,
                outcome=s.outcome,
                when=s.when,
                detail=s.detail,
                source="policy",
            )
            for s in self.steps(as_of)
        ]
        return (*self.deviations(as_of), *made)

    def outside(self) -> Rule:
        return Rule(
            id="county_flow_outside",
            citation=self.source,
            text=f"{self.county}'s flow did not decide this count (its offense text is not one "
            "the flow read as HS 11357-11360): the statute alone decides it",
            facts=("offense_raw",),
            outcome="note",
            when=lambda: ~self.in_scope().fill_null(False),
            source="policy",
        )


def _col(name: str) -> pl.Expr:
    return pl.col(name)


def _after_2016() -> pl.Expr:
    """The flows' date test: the conviction date (not the offense date) on or after 2016-11-09;
    a missing date counts as before it, as Go's zero date did."""
    return (_col("conviction_date") >= EFFECTIVE_DATE).fill_null(False)


def _felony() -> pl.Expr:
    return _col("level") == "felony"


def _prefix(*texts: str) -> pl.Expr:
    return pl.any_horizontal([_col("cf_section").str.starts_with(t) for t in texts])


def _section_detail() -> pl.Expr:
    return pl.format('offense read as "{}"', _col("cf_section"))


def _last_detail() -> pl.Expr:
    return pl.format(
        "{} convictions on record, the most recent {}",
        _col("cf_convictions"),
        fmt_date("cf_last_conviction"),
    )


def _sentence_detail() -> pl.Expr:
    return pl.format("sentence ends {}", fmt_date("sentence_end"))


def _sentence_done(as_of: date) -> pl.Expr:
    """`SentenceEndDate.Before(comparisonTime)`; no date is the zero date, long before."""
    return (_col("sentence_end") < as_of).fill_null(True)


def _recent_steps(years: int, otherwise: tuple[str, Outcome], as_of: date) -> tuple[Step, ...]:
    """The branch on the convictions on record: more than one (then the years since the most
    recent), or only this one (then whether its sentence is complete)."""
    several = _col("cf_convictions") > 1
    quiet = _more_years_than("cf_last_conviction", as_of, years)
    done = _sentence_done(as_of)
    label, verb = otherwise
    days = {10: "3,652.5", 5: "1,826.25"}[years]
    return (
        Step(
            f"no_conviction_{years}y", "dismiss", DISMISSAL,
            f"No convictions in past {years} years",
            f"More than one conviction on record (any offense, any county) and more than "
            f"{years} years ({days} days) since the most recent one",
            f"HasConvictionsInPast{years}Years", lambda: several & quiet,
            ("cf_convictions", "cf_last_conviction"), _last_detail,
        ),
        Step(
            f"conviction_{years}y", verb, label, f"Has convictions in past {years} years",
            f"More than one conviction on record and the most recent within {years} years "
            f"({days} days)",
            f"HasConvictionsInPast{years}Years", lambda: several & ~quiet,
            ("cf_convictions", "cf_last_conviction"), _last_detail,
        ),
        Step(
            "sentence_completed", "dismiss", DISMISSAL, "Sentence Completed",
            "This is the only conviction on record and its sentence ended before the as-of date",
            "CurrentlyServingSentence", lambda: ~several & done,
            ("cf_convictions", "sentence_end"), _sentence_detail,
        ),
        Step(
            "sentence_not_completed", verb, label, "Sentence not Completed",
            "This is the only conviction on record and its sentence had not ended before the "
            "as-of date",
            "CurrentlyServingSentence", lambda: ~several & ~done,
            ("cf_convictions", "sentence_end"), _sentence_detail,
        ),
    )  # fmt: skip


_AFTER_TEXT = "Convicted on or after 2016-11-09 (the conviction date, not the offense date)"


def _sacramento(as_of: date) -> tuple[Step, ...]:
    return (
        Step(
            "after_2016", "not_eligible", NOT_ELIGIBLE, "Occurred after 11/09/2016",
            _AFTER_TEXT, "ConvictionBeforeNovNine2016", _after_2016, ("conviction_date",),
        ),
        Step(
            "not_felony", "dismiss", DISMISSAL, "Misdemeanor or Infraction",
            "The conviction is not a felony", "ConvictionIsNotFelony",
            lambda: ~_felony(), ("level",),
        ),
        Step(
            "hs11357b", "dismiss", DISMISSAL, "HS 11357(b)",
            "The offense is written 11357(b) (lower-case b, compared as the flow wrote it)",
            "Is11357b", lambda: _prefix("11357(b)"), ("offense_raw",), _section_detail,
        ),
        *_recent_steps(10, (REDUCTION, "reduce_misdemeanor"), as_of),
    )  # fmt: skip


def _five_year(as_of: date) -> tuple[Step, ...]:
    """San Joaquin and Contra Costa: Sacramento's tree with 5 years, "Maybe Eligible - Flag for
    Review" instead of a reduction, HS 11357 dismissed whatever its subdivision, and related
    charges decided first."""
    related = _col("cf_related")
    in_cycle = _col("cf_prop64_cycle")
    bp4060 = _col("cf_section") == "4060 BP"

    def cannabis(test: Callable[[], pl.Expr]) -> Callable[[], pl.Expr]:
        """A cannabis step: it does not hold for a related charge."""
        return lambda: ~related & test()

    return (
        Step(
            "after_2016", "not_eligible", NOT_ELIGIBLE, "Occurred after 11/09/2016",
            _AFTER_TEXT, "ConvictionBeforeNovNine2016", _after_2016, ("conviction_date",),
        ),
        Step(
            "related_bp4060", "review", MAYBE, "4060 BP",
            "A related charge written exactly 4060 BP, in an arrest cycle with a HS 11357-11360 "
            "charge (of any disposition)",
            "isBP4060Charge", lambda: related & in_cycle & bp4060,
            ("offense_raw", "cycle_id"), _section_detail,
        ),
        Step(
            "related_dismiss", "dismiss", DISMISSAL, "the related charge's code section",
            "A related charge (PC 647(f), 602, 466, 148, 148.9, 1320; HS 11364, 11550; BP 4140, "
            "4149; VC 40508, as the flow's pattern reads them) in an arrest cycle with a "
            "HS 11357-11360 charge (of any disposition)",
            "isBP4060Charge", lambda: related & in_cycle & ~bp4060,
            ("offense_raw", "cycle_id"), _section_detail,
        ),
        Step(
            "related_no_cannabis", "review", MAYBE, "No Related Prop64 Charges",
            "A related charge with no HS 11357-11360 charge in its arrest cycle",
            "hasProp64ChargeInCycle", lambda: related & ~in_cycle,
            ("offense_raw", "cycle_id"), _section_detail,
        ),
        Step(
            "not_felony", "dismiss", DISMISSAL, "Misdemeanor or Infraction",
            "The conviction is not a felony", "ConvictionIsNotFelony",
            cannabis(lambda: ~_felony()), ("level",),
        ),
        Step(
            "hs11357", "dismiss", DISMISSAL, "11357 HS",
            "The offense is written 11357 (any subdivision)", "Is11357",
            cannabis(lambda: _prefix("11357")), ("offense_raw",), _section_detail,
        ),
        *(replace(s, when=cannabis(s.when)) for s in _recent_steps(5, (MAYBE, "review"), as_of)),
    )  # fmt: skip


def _los_angeles(as_of: date) -> tuple[Step, ...]:
    """Los Angeles' tree, with its run options at their defaults: 50 years of age, 10 years
    without a conviction (the tool's --individual-age and --years-conviction-free)."""
    age, free = 50, 10
    section_11357 = _col("cf_section").str.extract(PROP64, 1) == "11357"
    subdivision_ab = _prefix("11357(A)", "11357(B)")
    days_old = _days_since("dob", as_of)
    # No date of birth: Go's zero date, about 2,000 years ago (its durations stop at 292 years).
    old = _col("dob").is_null() | (4 * days_old >= 1461 * age)
    young = _col("dob").is_not_null() & (4 * days_old <= 1461 * 21)
    cutoff = add_years(as_of, -free)
    quiet = _col("cf_last_conviction").is_null() | (_col("cf_last_conviction") <= cutoff)
    done = _col("cf_sentences_done")
    only = _col("cf_prop64_convictions") == _col("cf_convictions")
    steps = (
        Step(
            "not_felony", "review", CITY, "Misdemeanor or Infraction",
            "The conviction is not a felony: the city attorney that prosecuted it reviews it",
            "ConvictionIsMisdemeanorOrInfraction", lambda: ~_felony(), ("level",),
        ),
        Step(
            "after_2016", "not_eligible", NOT_ELIGIBLE, "Occurred after 11/09/2016",
            _AFTER_TEXT, "ConvictionBeforeNovNine2016", _after_2016, ("conviction_date",),
        ),
        Step(
            "hs11357_ab", "dismiss", DISMISSAL, "11357(a) or 11357(b)",
            "An HS 11357 conviction written 11357(A) or 11357(B)", "ConvictionIs11357",
            lambda: section_11357 & subdivision_ab, ("offense_raw",), _section_detail,
        ),
        Step(
            "hs11357_other", "review", HAND, "Other 11357",
            "Any other HS 11357 conviction, including one recorded without a subdivision",
            "ConvictionIs11357", lambda: section_11357 & ~subdivision_ab, ("offense_raw",),
            _section_detail,
        ),
        Step(
            "super_strike", "not_eligible", NOT_ELIGIBLE, "PC 667(e)(2)(c)(iv)",
            "The person has a super strike conviction anywhere in the record (before or after "
            "this one, any county)", "HasSuperstrikes", lambda: _col("cf_super_strike"),
            ("cf_super_strike",),
        ),
        Step(
            "pc290", "not_eligible", NOT_ELIGIBLE, "PC 290",
            "The person has a PC 290 registration or a conviction of a registrable offense "
            "anywhere in the record", "HasPC290",
            lambda: _col("cf_pc290") | _col("cf_pc290_registration"),
            ("cf_pc290", "cf_pc290_registration"),
        ),
        Step(
            "two_priors", "not_eligible", NOT_ELIGIBLE, "Two priors",
            "Two or more HS 11357-11360 convictions of the same section (the first five "
            "characters of the offense text), disposed of before this conviction's date",
            "TwoPriors", lambda: _col("cf_two_priors"), ("cf_two_priors", "conviction_date"),
        ),
        Step(
            "age_50", "dismiss", DISMISSAL, "50 years or older",
            f"At least {age} years of 365.25 days old on the as-of date (an unknown date of "
            "birth counts as older)", "OlderThanGivenAge", lambda: old, ("dob",),
        ),
        Step(
            "age_21", "dismiss", DISMISSAL, "21 years or younger",
            "At most 21 years of 365.25 days old on the as-of date (the run's date, not the "
            "conviction's)", "YoungerThanTwentyOne", lambda: young, ("dob",),
        ),
        Step(
            "only_cannabis_complete", "dismiss", DISMISSAL,
            "Only has 11357-60 charges and completed sentence",
            "Every conviction on record is HS 11357-11360 and no sentence ends after the as-of "
            "date", "Prop64OnlyWithCompletedSentences", lambda: only & done,
            ("cf_prop64_convictions", "cf_convictions", "cf_sentences_done"),
        ),
        Step(
            "no_conviction_10y", "dismiss", DISMISSAL, f"No convictions in past {free} years",
            f"No conviction of any offense, in any county, after {cutoff.isoformat()} ({free} "
            "years before the as-of date)", "NoConvictionsInGivenTimePeriod", lambda: quiet,
            ("cf_last_conviction",), _last_detail,
        ),
        Step(
            "serving", "review", HAND, "Currently serving sentence",
            "A sentence of any conviction on record ends after the as-of date",
            "ServingSentence", lambda: ~done, ("cf_sentences_done",),
        ),
        Step(
            "deceased", "dismiss", DISMISSAL, "Deceased", "The record has a DECEASED event",
            "IsDeceased", lambda: _col("deceased"), ("deceased",),
        ),
    )  # fmt: skip
    return (
        *steps,
        Step(
            "no_criteria",
            "review",
            HAND,
            "????, later No applicable eligibility criteria",
            "No other step holds",
            "IsDeceased",
            lambda: ~pl.any_horizontal([s.when().fill_null(False) for s in steps]),
            (),
        ),
    )


def _san_francisco(as_of: date) -> tuple[Step, ...]:
    """San Francisco's checks of a DOJ conviction with no court weight record: a felony other
    than HS 11357 is ineligible for a PC 290 registration or offense, a super strike, or three
    convictions of the code section; a felony HS 11359 or 11360 with no weight known (over 1 lb
    excluded only where known) needs review; the rest is eligible, a misdemeanor dismissed and
    sealed, a felony recalled and resentenced as a misdemeanor."""

    def history() -> pl.Expr:
        """The convictions whose record the checks read: felonies other than HS 11357."""
        return _felony() & ~_prefix("11357")

    return (
        Step(
            "pc290_registration", "not_eligible", "ineligible", "PC290Registration",
            "A felony other than HS 11357, and the person has a PC 290 registration",
            "checkDOJHistory", lambda: history() & _col("cf_pc290_registration"),
            ("level", "cf_pc290_registration"),
        ),
        Step(
            "pc290_offense", "not_eligible", "ineligible", "PC290Charges",
            "A felony other than HS 11357, and the person has a conviction of a registrable "
            "offense anywhere in the record", "checkDOJHistory",
            lambda: history() & _col("cf_pc290"), ("level", "cf_pc290"),
        ),
        Step(
            "super_strike", "not_eligible", "ineligible", "Superstrikes",
            "A felony other than HS 11357, and the person has a super strike conviction "
            "anywhere in the record", "checkDOJHistory",
            lambda: history() & _col("cf_super_strike"), ("level", "cf_super_strike"),
        ),
        Step(
            "three_convictions", "not_eligible", "ineligible", "TwoPriors",
            "A felony other than HS 11357 whose offense text, without its spaces, is that of "
            "convictions in three different arrest cycles", "ThreeConvictionsSameCode",
            lambda: history() & _col("cf_three_same"), ("level", "cf_three_same"),
        ),
        Step(
            "weight_unknown", "review", "needs review", "Over1Lb: no match",
            "A felony HS 11359 or 11360: whether it was over one pound is not known from the "
            "DOJ file", "checkWeight",
            lambda: _felony() & ~_prefix("11357", "11358"), ("level", "offense_raw"),
        ),
        Step(
            "misdemeanor", "dismiss", "eligible", "misdemeanor: dismissed and sealed",
            "Not a felony", "computeFinalEligibility", lambda: ~_felony(), ("level",),
        ),
        Step(
            "felony", "reduce_misdemeanor", "eligible", "felony: recalled and resentenced",
            "A felony with none of the above", "computeFinalEligibility", _felony, ("level",),
        ),
    )  # fmt: skip


def _sf_deviations(as_of: date) -> tuple[Rule, ...]:
    offense_day = pl.coalesce(_col("offense_date"), _col("conviction_date"))
    return (
        Rule(
            id="san_francisco_deviation_after_2016",
            citation="HS 11361.8(a), (e); a safeguard this preset adds to San Francisco's "
            "checks, which had no date test",
            text="The offense (the arrest cycle's date, else the conviction's) is on or after "
            "2016-11-09, after Proposition 64: not eligible",
            facts=("offense_date", "conviction_date"),
            outcome="not_eligible",
            when=lambda: (offense_day >= EFFECTIVE_DATE).fill_null(False),
            detail=lambda: pl.format("offense {}", fmt_date("offense_date")),
            source="policy",
        ),
    )


def _prop64() -> pl.Expr:
    return _col("cf_section").str.contains(PROP64)


_SOURCE = "codeforamerica/gogen_pilots"
FLOWS: dict[str, CountyFlowSpec] = {
    "sacramento_2019": CountyFlowSpec(
        "sacramento", "Sacramento",
        f"Sacramento County District Attorney, April 2019; {_SOURCE} "
        "data/sacramento_eligibility_flow.go",
        _prop64, _sacramento,
    ),
    "san_joaquin_2019": CountyFlowSpec(
        "san_joaquin", "San Joaquin",
        f"San Joaquin County District Attorney, 2019-20; {_SOURCE} "
        "data/san_joaquin_eligibility_flow.go",
        lambda: _prop64() | _col("cf_related"), _five_year,
    ),
    "contra_costa_2019": CountyFlowSpec(
        "contra_costa", "Contra Costa",
        f"Contra Costa County District Attorney, 2019-20; {_SOURCE} "
        "data/contra_costa_eligibility_flow.go",
        lambda: _prop64() | _col("cf_related"), _five_year,
    ),
    "los_angeles_2020": CountyFlowSpec(
        "los_angeles", "Los Angeles",
        f"Los Angeles County District Attorney, February 2020; {_SOURCE} "
        "data/los_angeles_eligibility_flow.go",
        _prop64, _los_angeles,
    ),
    "san_francisco_2018": CountyFlowSpec(
        "san_francisco", "San Francisco",
        f"San Francisco District Attorney, 2018-19; {_SOURCE} processor/eligiblity_info.go",
        lambda: _prefix("11357", "11358", "11359", "11360"), _san_francisco, _sf_deviations,
    ),
}  # fmt: skip
assert set(FLOWS) == set(COUNTY_FLOWS)

#: San Francisco's possible plea bargains (its record-sheet flow, codeforamerica/autoclearance
#: app/classifiers/plea_bargain_classifier.rb, and the announcement).
PLEA_BARGAIN = Rule(
    id="san_francisco_possible_plea_bargain",
    citation="San Francisco District Attorney, 2018-19; codeforamerica/autoclearance "
    "app/classifiers/plea_bargain_classifier.rb",
    text="A PC 32, HS 11364 or HS 11366 conviction in an arrest cycle with a HS 11357-11360 "
    "count may be a plea bargain: reviewed",
    facts=("code", "section", "cycle_id"),
    outcome="review",
    when=lambda: pl.lit(True),
    source="policy",
)


def is_county_flow(policy: Policy) -> bool:
    return policy.flow in FLOWS


def flow_rules(policy: Policy, as_of: date, statute_rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """Every rule a run of the county's flow lists, in the order of its reasons."""
    spec = FLOWS[policy.flow]
    from clearance.policy.rules import statute_differs_rule

    extra = (PLEA_BARGAIN,) if policy.flow == "san_francisco_2018" else ()
    return (*statute_rules, *spec.rules(as_of), spec.outside(), statute_differs_rule(), *extra)


def evaluate_county(
    facts: pl.DataFrame, policy: Policy, as_of: date, evaluate: Evaluate, explained: bool = True
) -> tuple[pl.DataFrame, tuple[Rule, ...]]:
    """Decide with the county's steps (facts with `source_facts`); counts the flow did not
    cover keep the statute's decision."""
    spec = FLOWS[policy.flow]
    return decide_by_steps(
        facts,
        spec.rules(as_of),
        spec.in_scope(),
        as_of,
        evaluate,
        explained,
        notes=(spec.outside(),),
    )


# --------------------------------------------------------------------------------------------
# What the county code computed over the whole record


def _of(counts: pl.DataFrame, people: pl.Series) -> pl.Series:
    """Which counts belong to the people decided."""
    return counts.select(pl.col("subject_id").is_in(people.implode())).to_series()


def source_facts(
    records: Records, facts: pl.DataFrame, policy: Policy, as_of: date
) -> pl.DataFrame:
    """The facts with what the county's flow read of the whole record (`cf_*` columns)."""
    counts = records.counts
    people = facts["subject_id"].unique()
    sf = policy.flow == "san_francisco_2018"
    strikes = SECTION.is_in(list(SF_SUPER_STRIKES)) if sf else _any_of(LA_SUPER_STRIKES, SECTION)
    pc290 = _any_of(SF_PC290 if sf else LA_PC290, SECTION)
    # The convictions (disposition CONVICTED, any county, any offense) of the people decided;
    # the patterns are matched once per distinct offense text.
    convicted = (counts["disposition"] == "convicted").fill_null(False) & _of(counts, people)
    columns = ["subject_id", "offense_raw", "event_date", "offense_date", "sentence_end"]
    convs = by_value(
        counts.select(columns).filter(convicted),
        ["offense_raw"],
        cf_section=SECTION,
        _prop64=SECTION.str.contains(PROP64),
        _strike=strikes,
        _pc290=pc290,
    )
    person = convs.group_by("subject_id").agg(
        pl.len().cast(pl.Int32).alias("cf_convictions"),
        _col("event_date").max().alias("cf_last_conviction"),
        _col("_prop64").sum().cast(pl.Int32).alias("cf_prop64_convictions"),
        (~(_col("sentence_end") > as_of).fill_null(False).any()).alias("cf_sentences_done"),
        _col("_strike").any().alias("cf_super_strike"),
        _col("_pc290").any().alias("cf_pc290"),
    )
    registration = (counts["step_type"] == "registration").fill_null(False) & _of(counts, people)
    registered = (
        by_value(
            counts.select("subject_id", "offense_raw").filter(registration),
            ["offense_raw"],
            _290=SECTION.str.starts_with("290"),
        )
        .filter("_290")
        .select("subject_id")
        .unique()
        .with_columns(pl.lit(True).alias("cf_pc290_registration"))
    )
    flags = ("cf_sentences_done", "cf_super_strike", "cf_pc290", "cf_pc290_registration")
    facts = (
        by_value(facts, ["offense_raw"], cf_section=SECTION)
        .join(person, on="subject_id", how="left", maintain_order="left")
        .join(registered, on="subject_id", how="left", maintain_order="left")
        .join(
            _prop64_cycles(counts, people),
            on=["subject_id", "cycle_id"],
            how="left",
            maintain_order="left",
        )
        .with_columns(
            _col("cf_convictions").fill_null(0),
            _col("cf_prop64_convictions").fill_null(0),
            *[_col(c).fill_null(c == "cf_sentences_done") for c in flags],
            _col("cf_prop64_cycle").fill_null(False),
            _col("cf_section").str.contains(RELATED).alias("cf_related"),
        )
    )
    facts = _with_two_priors(facts, convs)
    return _with_three_same(facts, convs)


def _prop64_cycles(counts: pl.DataFrame, people: pl.Series) -> pl.DataFrame:
    """The arrest cycles with a HS 11357-11360 charge of any disposition, at any step."""
    rows = counts.select("subject_id", "cycle_id", "offense_raw").filter(_of(counts, people))
    rows = by_value(rows, ["offense_raw"], _prop64=SECTION.str.contains(PROP64))
    return as_strings(
        rows.filter("_prop64").select("subject_id", "cycle_id").unique()
    ).with_columns(pl.lit(True).alias("cf_prop64_cycle"))


def _with_two_priors(facts: pl.DataFrame, convs: pl.DataFrame) -> pl.DataFrame:
    """Los Angeles' `hasTwoPriors`: HS 11357-11360 convictions disposed of before this one
    (a missing date counts as the earliest) whose offense text starts with this one's first
    five characters; two or more."""
    priors = convs.filter("_prop64").select(
        "subject_id", _col("event_date").alias("_p_date"), _col("cf_section").alias("_p_section")
    )
    counted = (
        facts.select("subject_id", "count_id", "conviction_date", "cf_section")
        .join(priors, on="subject_id", how="inner")
        .filter(
            (
                (_col("_p_date") < _col("conviction_date"))
                | (_col("_p_date").is_null() & _col("conviction_date").is_not_null())
            ).fill_null(False)
            & _col("_p_section").str.starts_with(_col("cf_section").str.slice(0, 5))
        )
        .group_by("subject_id", "count_id")
        .agg((pl.len() >= 2).alias("cf_two_priors"))
    )
    return facts.join(
        counted, on=["subject_id", "count_id"], how="left", maintain_order="left"
    ).with_columns(_col("cf_two_priors").fill_null(False))


def _with_three_same(facts: pl.DataFrame, convs: pl.DataFrame) -> pl.DataFrame:
    """San Francisco's `ThreeConvictionsSameCode`: convictions whose offense text without its
    spaces equals this one's text as written, in more than two arrest cycles (by cycle date).
    A text with a space never equals one without: such counts never have three."""
    same = convs.select(
        "subject_id",
        _col("cf_section").str.replace_all(" ", "", literal=True).alias("cf_section"),
        _col("offense_date").alias("_cycle_date"),
    )
    counted = (
        facts.select("subject_id", "count_id", "cf_section")
        .join(same, on=["subject_id", "cf_section"], how="inner")
        .group_by("subject_id", "count_id")
        .agg((_col("_cycle_date").n_unique() > 2).alias("cf_three_same"))
    )
    return facts.join(
        counted, on=["subject_id", "count_id"], how="left", maintain_order="left"
    ).with_columns(_col("cf_three_same").fill_null(False))


# --------------------------------------------------------------------------------------------
# Convictions besides the cannabis ones that a county's flow decided


#: The flows that decide every conviction in the county whose offense text `RELATED` matches,
#: whoever it belongs to (a person need not have any cannabis record: `related`).
RELATED_BY_TEXT = ("san_joaquin_2019", "contra_costa_2019")


def related(
    records: Records,
    decided: pl.DataFrame,
    policy: Policy,
    counties: tuple[str, ...],
    as_of: date,
) -> pl.DataFrame:
    """San Joaquin and Contra Costa decided every related-charge conviction in the county with
    their flow's first steps; San Francisco reviewed possible plea bargains. Returns them as
    determinations (`kind` related); none for the other flows. `counties` are the counties
    decided (one, or every county: each county's related charges are its own)."""
    from clearance.engine import DETERMINATION_COLUMNS, REMEDY_COMPLETED, REMEDY_SERVING

    flow = policy.flow
    counts = records.counts
    empty = decided.clear()
    if flow not in (*RELATED_BY_TEXT, "san_francisco_2018"):
        return empty
    in_county = (
        (counts["disposition"] == "convicted") & counts["county"].is_in(list(counties))
    ).fill_null(False)
    found = by_value(
        counts.select("subject_id", "count_id", "offense_raw", "code", "section").filter(in_county)
        .with_row_index("_row"),
        ["offense_raw"],
        cf_section=SECTION,
    )  # fmt: skip
    rows = in_county.arg_true()
    if flow == "san_francisco_2018":
        listed = ((_col("code") == "PC") & (_col("section") == "32")) | (
            (_col("code") == "HS") & _col("section").is_in(["11364", "11366"])
        )
    else:
        listed = _col("cf_section").str.contains(RELATED)
    found = as_strings(found.filter(listed.fill_null(False))).join(
        decided.select("subject_id", "count_id"), on=["subject_id", "count_id"], how="anti"
    )
    if found.height == 0:
        return empty
    people = found["subject_id"].unique()
    frame = as_strings(counts[rows.gather(found["_row"])]).with_columns(
        found["cf_section"], pl.lit(True).alias("cf_related"),
        _col("event_date").alias("conviction_date"),
        # Read by the cannabis steps, which do not hold for a related charge.
        pl.lit(None, dtype=pl.Int32).alias("cf_convictions"),
        pl.lit(None, dtype=pl.Date).alias("cf_last_conviction"),
        (_col("sentence_end") > as_of).fill_null(False).alias("serving"),
    )  # fmt: skip
    if flow == "san_francisco_2018":
        cycles = _cannabis_cycles(counts, people)
        frame = frame.join(cycles, on=["subject_id", "cycle_id"], how="semi")
        steps: tuple[Rule, ...] = (PLEA_BARGAIN,)
    else:
        frame = frame.join(
            _prop64_cycles(counts, people), on=["subject_id", "cycle_id"], how="left"
        ).with_columns(_col("cf_prop64_cycle").fill_null(False))
        steps = FLOWS[flow].rules(as_of)
    if frame.height == 0:
        return empty

    def flag(rule: Rule) -> str:
        return f"t__{rule.id}"

    frame = frame.with_columns([s.when().fill_null(False).alias(flag(s)) for s in steps])
    ids, texts = held(frame, steps, lambda s: pl.col(flag(s)))
    frame = frame.with_columns(
        first_holding(steps, flag).alias("decision"), ids.alias("reasons"), texts.alias("_text")
    )
    relieved = _col("decision").is_in(["dismiss", "reduce", "review"])
    return frame.select(
        "subject_id",
        "count_id",
        "cycle_id",
        "event_id",
        pl.lit("related").alias("kind"),
        "county",
        "court_case_number",
        "offense_raw",
        "code_section",
        "section",
        "subsection",
        "offense_date",
        "conviction_date",
        pl.lit(None, dtype=pl.Int32).alias("age"),
        "level",
        "decision",
        pl.lit(None, dtype=pl.String).alias("new_level"),
        pl.when(relieved)
        .then(pl.when("serving").then(pl.lit(REMEDY_SERVING)).otherwise(pl.lit(REMEDY_COMPLETED)))
        .otherwise(None)
        .alias("remedy"),
        "reasons",
        pl.col("_text").alias("explanation"),
        "serving",
        "sentence_end",
        "source_file",
        "source_line",
    ).select(DETERMINATION_COLUMNS)


def _cannabis_cycles(counts: pl.DataFrame, people: pl.Series) -> pl.DataFrame:
    """Arrest cycles with a HS 11357-11360 count (the plea-bargain test reads the parsed
    offense, as the record-sheet flow did)."""
    cannabis = counts.select(is_cannabis(pl.col("code"), pl.col("section"))).to_series()
    keep = cannabis & _of(counts, people)
    return as_strings(counts.select("subject_id", "cycle_id").filter(keep).unique())
