"""Proposition 64 relief (HS 11361.8) as rules over the facts of one cannabis conviction.

Each rule names the statute it comes from and says, in one sentence, what the law now makes of
the conduct. The rules read the fact columns the engine prepares for every cannabis conviction
(see `FACTS`); they never look at raw text and never at the date the program runs.

Presumptions follow the statute: eligibility is presumed and the prosecution must prove
otherwise (HS 11361.8(b), (f)), so a fact the record does not carry (the amount, the number of
plants, a sale to a minor) never defeats relief, and an unknown age is taken as adult (the
conduct most often lawful). What the data cannot settle is sent to review by name.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from clearance.law.rule import Rule, fmt_date

#: Proposition 64 took effect the day after the election: conduct before this date is covered.
EFFECTIVE_DATE = date(2016, 11, 9)

#: The fact columns the engine provides for each cannabis conviction, and what they mean.
FACTS: dict[str, str] = {
    "kind": "cannabis (HS 11357-11360, attempts included), conspiracy (PC 182), accessory "
    "(PC 32), prison (PC 4573.6) or former (a pre-1973 section)",
    "section": "the (target) section, e.g. 11359",
    "subsection": "the subsection as recorded, lower case, e.g. (b)(2)",
    "sub": "the first level of the subsection; for HS 11360 without one, (a) when the "
    "conviction was a felony and (b) otherwise (the old misdemeanor subdivision)",
    "attempt": "PC 664 attempt of the section",
    "level": "level of the conviction: felony, misdemeanor, infraction or unknown",
    "age": "age on the offense date (date of birth and cycle date, else the cycle age); null "
    "when unknown",
    "conviction_date": "date of the court step with the conviction",
    "offense_date": "date of the arrest cycle (the DOJ file's date of the offense)",
    "age_impossible": "the date of birth is after the offense, or the age is past any lifetime "
    "(a recording error)",
    "date_after_as_of": "the offense or the conviction is dated after the run's as-of date",
    "set_aside": "the conviction was later set aside and dismissed under PC 1203.4",
    "serving": "the sentence (from the conviction date, its longest part; supervision after "
    "custody) ends after the as-of date",
    "sentence_end": "the end of the sentence",
    "priors_apply": "the count's relief is a reduction of a felony (or the policy applies "
    "priors to every count): the statute's felony exceptions are read",
    "prior_*": "disqualifying records dated before the offense (policy switch), with detail",
    "prior_same_section": "prior convictions of the section under its misdemeanor subdivision "
    "(old ones too when old_convictions_count_as_priors is true)",
    "prior_two_unsettled": "two or more priors of the section only when old ones count, and "
    "old_convictions_count_as_priors is review",
    "cultivation_presumed_lawful": "policy judgment switch (HS 11358 presumed six plants)",
}


def _sec(section: str) -> pl.Expr:
    return (pl.col("kind") == "cannabis") & (pl.col("section") == section)


def _sub_in(*subs: str) -> pl.Expr:
    return pl.col("sub").is_in(list(subs)).fill_null(False)


def _adult(years: int) -> pl.Expr:
    """Age at least `years`, an unknown age counting as adult (the law presumes eligibility)."""
    return pl.col("age").is_null() | (pl.col("age") >= years)


def _between(low: int, high: int) -> pl.Expr:
    return pl.col("age").is_not_null() & (pl.col("age") >= low) & (pl.col("age") < high)


def _age_detail() -> pl.Expr:
    return pl.format("age {} at the offense", pl.col("age").cast(pl.String).fill_null("unknown"))


# --------------------------------------------------------------------------------------------
# What each section is now (one relief rule fires per cannabis count)

RELIEF_RULES: tuple[Rule, ...] = (
    Rule(
        id="hs11357_possession_now_lawful",
        citation="HS 11361.8(a), (e); HS 11362.1(a)(1)-(2)",
        text="Possessing up to 28.5 grams of cannabis or 8 grams of concentrated cannabis is "
        "now lawful for a person 21 or older; the amount is presumed within the limit",
        facts=("section", "subsection", "age"),
        outcome="dismiss",
        when=lambda: _sec("11357") & ~_sub_in("(c)", "(d)") & _adult(21),
        detail=_age_detail,
    ),
    Rule(
        id="hs11357_over_limit_now_misdemeanor",
        citation="HS 11357(b)(2); HS 11361.8(e)",
        text="Possessing more than 28.5 grams is now a misdemeanor for a person 18 or older",
        facts=("section", "subsection", "age", "level"),
        outcome="reduce_misdemeanor",
        when=lambda: _sec("11357") & _sub_in("(c)") & _adult(18),
        detail=_age_detail,
    ),
    Rule(
        id="hs11357_school_now_misdemeanor",
        citation="HS 11357(c); HS 11361.8(e)",
        text="Possessing cannabis on school grounds is now a misdemeanor for a person 18 or older",
        facts=("section", "subsection", "age", "level"),
        outcome="reduce_misdemeanor",
        when=lambda: _sec("11357") & _sub_in("(d)") & _adult(18),
        detail=_age_detail,
    ),
    Rule(
        id="hs11357_youth_now_infraction",
        citation="HS 11357(a)(2); HS 11361.8(e)",
        text="Possessing up to 28.5 grams is now an infraction for a person 18 to 20",
        facts=("section", "subsection", "age", "level"),
        outcome="reduce_infraction",
        when=lambda: _sec("11357") & ~_sub_in("(c)", "(d)") & _between(18, 21),
        detail=_age_detail,
    ),
    Rule(
        id="hs11358_cultivation_now_lawful",
        citation="HS 11361.8(a), (e); HS 11362.1(a)(3)",
        text="Growing up to six plants is now lawful for a person 21 or older; the number of "
        "plants is presumed within the limit",
        facts=("section", "subsection", "age", "cultivation_presumed_lawful"),
        outcome="dismiss",
        when=lambda: (
            _sec("11358")
            & ~_sub_in("(c)", "(d)")
            & _adult(21)
            & pl.col("cultivation_presumed_lawful")
        ),
        detail=_age_detail,
    ),
    Rule(
        id="hs11358_cultivation_now_misdemeanor",
        citation="HS 11358(c); HS 11361.8(e)",
        text="Growing more than six plants is now a misdemeanor for a person 18 or older",
        facts=("section", "subsection", "age", "level", "cultivation_presumed_lawful"),
        outcome="reduce_misdemeanor",
        when=lambda: (
            _sec("11358")
            & (
                (_sub_in("(c)") & _adult(18))
                | (~_sub_in("(c)", "(d)") & _adult(21) & ~pl.col("cultivation_presumed_lawful"))
            )
        ),
        detail=_age_detail,
    ),
    Rule(
        id="hs11358_youth_now_infraction",
        citation="HS 11358(b); HS 11361.8(e)",
        text="Growing up to six plants is now an infraction for a person 18 to 20",
        facts=("section", "subsection", "age", "level"),
        outcome="reduce_infraction",
        when=lambda: _sec("11358") & ~_sub_in("(c)", "(d)") & _between(18, 21),
        detail=_age_detail,
    ),
    Rule(
        id="hs11359_now_misdemeanor",
        citation="HS 11359(b); HS 11361.8(e)",
        text="Possessing cannabis for sale is now a misdemeanor for a person 18 or older",
        facts=("section", "age", "level"),
        outcome="reduce_misdemeanor",
        when=lambda: _sec("11359") & _adult(18),
        detail=_age_detail,
    ),
    Rule(
        id="hs11360_sale_now_misdemeanor",
        citation="HS 11360(a)(2); HS 11361.8(e)",
        text="Selling cannabis (any amount), or transporting, importing or giving away more "
        "than 28.5 grams, is now a misdemeanor for a person 18 or older",
        facts=("section", "sub", "age", "level"),
        outcome="reduce_misdemeanor",
        when=lambda: _sec("11360") & _sub_in("(a)") & _adult(18),
        detail=_age_detail,
    ),
    Rule(
        id="hs11360_giving_now_lawful",
        citation="HS 11361.8(a), (e); HS 11362.1(a)(1)",
        text="Transporting or giving away up to 28.5 grams is now lawful for a person 21 or older",
        facts=("section", "sub", "age"),
        outcome="dismiss",
        when=lambda: _sec("11360") & _sub_in("(b)") & _adult(21),
        detail=_age_detail,
    ),
    Rule(
        id="hs11360_youth_now_infraction",
        citation="HS 11360(b); HS 11361.8(e)",
        text="Transporting or giving away up to 28.5 grams is now an infraction for a person "
        "18 to 20",
        facts=("section", "sub", "age", "level"),
        outcome="reduce_infraction",
        when=lambda: _sec("11360") & _sub_in("(b)") & _between(18, 21),
        detail=_age_detail,
    ),
    Rule(
        id="under_18_now_infraction",
        citation="HS 11357(a)(1), (b)(1), (d); HS 11358(a); HS 11359(a); HS 11360(a)(1); "
        "HS 11361.8(e)",
        text="Every one of these offenses is now an infraction for a person under 18",
        facts=("section", "age", "level"),
        outcome="reduce_infraction",
        when=lambda: (
            (pl.col("kind") == "cannabis") & pl.col("age").is_not_null() & (pl.col("age") < 18)
        ),
        detail=_age_detail,
    ),
)

# --------------------------------------------------------------------------------------------
# Bars and questions that do not depend on the policy

#: Subdivisions created in 2016 for facts the old offense did not require: a record coded with
#: one of them is not a pre-2016 conviction the statute reaches.
EXCLUDED_SUBSECTIONS: dict[str, tuple[str, ...]] = {
    "11358": ("(d)(3)", "(d)(4)"),
    "11359": ("(c)(3)", "(d)"),
    "11360": ("(a)(3)(c)", "(a)(3)(d)"),
}


def _excluded() -> pl.Expr:
    conditions = [
        _sec(section) & pl.any_horizontal(pl.col("subsection").str.starts_with(s) for s in subs)
        for section, subs in EXCLUDED_SUBSECTIONS.items()
    ]
    return pl.any_horizontal(conditions).fill_null(False)


def _offense_after() -> pl.Expr:
    """The offense is dated on or after the effective date (null when the date is unknown)."""
    return pl.col("offense_date") >= EFFECTIVE_DATE


def _offense_from_conviction() -> pl.Expr:
    """The offense date is unknown but the conviction came before the effective date, so the
    offense did too."""
    before = (pl.col("conviction_date") < EFFECTIVE_DATE).fill_null(False)
    return pl.col("offense_date").is_null() & before


def _offense_unknown() -> pl.Expr:
    """Neither the offense date nor a conviction before the effective date tells when the
    conduct took place."""
    return pl.col("offense_date").is_null() & ~_offense_from_conviction()


def _same_as_old_11360a() -> pl.Expr:
    """HS 11360(a)(1) and (a)(2) only split old 11360(a) (sale, transport, giving away) by the
    age, which the engine reads from the date of birth: a pre-2016 record so coded means what
    old 11360(a) meant."""
    sub = pl.col("subsection").fill_null("")
    return (pl.col("section") == "11360") & (
        sub.str.starts_with("(a)(1)") | sub.str.starts_with("(a)(2)")
    )


def _dates_detail() -> pl.Expr:
    return pl.format(
        "offense {}, convicted {}", fmt_date("offense_date"), fmt_date("conviction_date")
    )


#: Records that cannot be true: they go to review, never into an order (prop64.md section 4).
RECORD_RULES: tuple[Rule, ...] = (
    Rule(
        id="age_under_14",
        citation="PC 26 (children under 14); HS 11361.8(b), (f)",
        text="The record gives an age under 14 at the offense; a child under 14 is presumed "
        "incapable of a crime (PC 26) and the date of birth may be wrong; an attorney decides",
        facts=("age",),
        outcome="review",
        when=lambda: (
            (pl.col("kind") == "cannabis") & pl.col("age").is_not_null() & (pl.col("age") < 14)
        ),
        detail=_age_detail,
    ),
    Rule(
        id="age_impossible",
        citation="HS 11361.8(b), (f); PC 26",
        text="The recorded date of birth gives an impossible age at the offense (born after "
        "it, or past any lifetime): the record cannot be true; an attorney decides",
        facts=("dob", "offense_date"),
        outcome="review",
        when=lambda: pl.col("age_impossible") & (pl.col("kind") == "cannabis"),
        detail=lambda: pl.format("born {}, offense {}", fmt_date("dob"), fmt_date("offense_date")),
    ),
    Rule(
        id="date_after_as_of",
        citation="HS 11361.8(a), (e)",
        text="The offense or the conviction is dated after the as-of date of the run: the "
        "record cannot be true on that date; an attorney decides",
        facts=("offense_date", "conviction_date"),
        outcome="review",
        when=lambda: pl.col("date_after_as_of"),
        detail=_dates_detail,
    ),
    Rule(
        id="conviction_before_offense",
        citation="HS 11361.8(a), (e)",
        text="The conviction is dated before the offense: one of the dates is wrong; an "
        "attorney decides",
        facts=("offense_date", "conviction_date"),
        outcome="review",
        when=lambda: (pl.col("conviction_date") < pl.col("offense_date")).fill_null(False),
        detail=_dates_detail,
    ),
)


BAR_RULES: tuple[Rule, ...] = (
    Rule(
        # The id is kept from the first reading, which dated the conduct by the conviction;
        # the bar reads the offense date, as the statute does.
        id="convicted_after_prop64",
        citation='HS 11361.8(a), (e) ("had that act been in effect at the time of the '
        'offense"); Proposition 64 effective 2016-11-09',
        text="Relief reaches conduct before 2016-11-09; this offense is dated on or after that "
        "day, under the new law",
        facts=("offense_date",),
        outcome="not_eligible",
        when=lambda: _offense_after().fill_null(False),
        detail=_dates_detail,
    ),
    Rule(
        id="offense_date_unknown",
        citation="HS 11361.8(a), (e)",
        text="The offense date is unknown and the conviction date does not show that the "
        "conduct came before 2016-11-09; an attorney decides",
        facts=("offense_date", "conviction_date"),
        outcome="review",
        when=_offense_unknown,
        detail=lambda: pl.format("convicted {}", fmt_date("conviction_date")),
    ),
    Rule(
        id="pre2016_new_paragraph",
        citation="HS 11357-11360 as in force before 2016-11-09; HS 11361.8(a), (e)",
        text="Conduct before 2016-11-09 recorded with a paragraph that its section has only "
        "from Proposition 64 on and that changes what the old subdivision meant (the old "
        "subdivisions had none; e.g. 11357(b)(2), over 28.5 grams, against old 11357(b), 28.5 "
        "grams or less): a coding question the record cannot settle; an attorney decides",
        facts=("section", "subsection", "offense_date", "conviction_date"),
        outcome="review",
        when=lambda: (
            (pl.col("kind") == "cannabis")
            & pl.col("subsection").str.contains(r"^\([a-z0-9]+\)\(").fill_null(False)
            & ~_same_as_old_11360a()
            & (
                (pl.col("offense_date") < EFFECTIVE_DATE).fill_null(False)
                | _offense_from_conviction()
            )
        ),
        detail=lambda: pl.format(
            "HS {}{}, offense {}", pl.col("section"), pl.col("subsection"), fmt_date("offense_date")
        ),
    ),
    Rule(
        id="excluded_subsection",
        citation="HS 11358(d)(3)-(4); HS 11359(c)(3), (d); HS 11360(a)(3)(C)-(D)",
        text="The conviction is recorded under a subdivision created in 2016 for facts under "
        "which the offense may still be punished as a felony (sale to or hiring of a minor, "
        "import or export, environmental harm): not conduct before 2016-11-09 that the "
        "statute reaches",
        facts=("section", "subsection"),
        outcome="not_eligible",
        when=_excluded,
        detail=lambda: pl.format("HS {}{}", pl.col("section"), pl.col("subsection")),
    ),
    Rule(
        id="conspiracy_not_eligible",
        citation="People v. Medina (2018) 24 Cal.App.5th 61; PC 182",
        text="Conspiracy to commit a cannabis offense is not an offense Proposition 64 changed",
        facts=("kind",),
        outcome="not_eligible",
        when=lambda: pl.col("kind") == "conspiracy",
    ),
    Rule(
        id="prison_possession_not_eligible",
        citation="People v. Raybon (2021) 11 Cal.5th 1056; PC 4573.6",
        text="Possessing cannabis in a prison or jail remains a crime Proposition 64 did not "
        "change",
        facts=("kind",),
        outcome="not_eligible",
        when=lambda: pl.col("kind") == "prison",
    ),
    Rule(
        id="accessory_review",
        citation="People v. Boatwright (2019) 36 Cal.App.5th 848; PC 32 (judgment)",
        text="Accessory (PC 32) in an arrest cycle with a HS 11357-11360 charge: relief may "
        "reach it as it reaches the offense it followed; an attorney decides",
        facts=("kind",),
        outcome="review",
        when=lambda: pl.col("kind") == "accessory",
    ),
    Rule(
        id="former_section_review",
        citation="HS 11361.8; former HS 11530-11540 (before 1973) (unsettled)",
        text="A conviction under a former cannabis section from before 1973: whether HS "
        "11361.8 reaches it is unsettled; an attorney decides",
        facts=("kind", "section"),
        outcome="review",
        when=lambda: pl.col("kind") == "former",
        detail=lambda: pl.format("former HS {}", pl.col("section")),
    ),
)

# --------------------------------------------------------------------------------------------
# Disqualifying priors: with them the offense "may be punished" as a felony (a wobbler, HS
# 11358(d), 11359(c), 11360(a)(3)), so the statute does not make it a misdemeanor; they bear
# on reductions only, never on conduct that is now lawful (HS 11362.1).

_PRIOR_CITE = "HS 11358(d)(1), 11359(c)(1), 11360(a)(3)(A)"
_TWO_CITE = "HS 11358(d)(2), 11359(c)(2), 11360(a)(3)(B)"

#: The subdivision that now carries each section's misdemeanor: "two or more prior convictions"
#: are convictions under it (HS 11358(d)(2), 11359(c)(2), 11360(a)(3)(B)).
MISDEMEANOR_SUBDIVISIONS: dict[str, str] = {"11358": "(c)", "11359": "(b)", "11360": "(a)(2)"}

PRIOR_RULES: tuple[Rule, ...] = (
    Rule(
        id="prior_super_strike",
        citation=f"{_PRIOR_CITE}; PC 667(e)(2)(C)(iv)",
        text="With a prior conviction for a 'super strike' the offense may still be punished "
        "as a felony: no reduction",
        facts=("priors_apply", "prior_super_strike"),
        outcome="prior",
        when=lambda: pl.col("priors_apply") & pl.col("prior_super_strike"),
        detail=lambda: pl.col("prior_super_strike_detail"),
    ),
    Rule(
        id="prior_pc290_offense",
        citation=f"{_PRIOR_CITE}; PC 290(c)",
        text="With a prior conviction for an offense requiring sex-offender registration (PC "
        "290(c)) the offense may still be punished as a felony: no reduction",
        facts=("priors_apply", "prior_pc290"),
        outcome="prior",
        when=lambda: pl.col("priors_apply") & pl.col("prior_pc290"),
        detail=lambda: pl.col("prior_pc290_detail"),
    ),
    Rule(
        id="possible_pc290_offense",
        citation=f"{_PRIOR_CITE}; PC 290(c); PC 290.006, 290.008",
        text="A sex-offender registration event before the offense, and no conviction for a "
        "PC 290(c) offense in the record: registration can also come from PC 290.006, 290.008 "
        "or another state, so it is not the prior the statute names; an attorney decides",
        facts=("priors_apply", "prior_registration", "prior_pc290"),
        outcome="review",
        when=lambda: pl.col("priors_apply") & pl.col("prior_registration") & ~pl.col("prior_pc290"),
        detail=lambda: pl.col("prior_registration_detail"),
    ),
    Rule(
        id="two_priors_same_section",
        citation=_TWO_CITE,
        text="With two or more prior convictions under the subdivision that now carries the "
        "misdemeanor (HS 11358(c), 11359(b), 11360(a)(2)) the offense may still be punished "
        "as a felony: no reduction (old felony convictions of the section count only where the "
        "policy says old_convictions_count_as_priors: true)",
        facts=("priors_apply", "prior_same_section"),
        outcome="prior",
        when=lambda: pl.col("priors_apply") & (pl.col("prior_same_section") >= 2),
        detail=lambda: pl.col("prior_same_section_detail"),
    ),
    Rule(
        id="two_priors_unsettled",
        citation=f"{_TWO_CITE}; HS 11361.8(b), (f) (judgment: old_convictions_count_as_priors)",
        text="Two or more prior convictions of the section only when old (pre-2016) felony "
        "convictions, or records without a subdivision, are counted as priors under the "
        "misdemeanor subdivision: unsettled law; an attorney decides",
        facts=("priors_apply", "prior_two_unsettled"),
        outcome="review",
        when=lambda: pl.col("priors_apply") & pl.col("prior_two_unsettled"),
        detail=lambda: pl.col("prior_two_unsettled_detail"),
    ),
    Rule(
        id="possible_super_strike",
        citation=f"{_PRIOR_CITE}; PC 667(e)(2)(C)(iv)",
        text="A prior conviction under a section that is a 'super strike' only in some forms "
        "(PC 207, 209 and 220 with the intent to commit a sex offense; PC 245 only as "
        "245(d)(3)), recorded without what settles it; an attorney decides",
        facts=("priors_apply", "possible_super_strike"),
        outcome="review",
        when=lambda: (
            pl.col("priors_apply") & pl.col("possible_super_strike") & ~pl.col("prior_super_strike")
        ),
        detail=lambda: pl.col("possible_super_strike_detail"),
    ),
    Rule(
        id="prior_date_unknown",
        citation=_PRIOR_CITE,
        text="A disqualifying record whose date is unknown, so the record cannot show whether "
        "it came before the offense; an attorney decides",
        facts=("priors_apply", "prior_timing_unknown"),
        outcome="review",
        when=lambda: pl.col("priors_apply") & pl.col("prior_timing_unknown"),
        detail=lambda: pl.col("prior_timing_unknown_detail"),
    ),
)

# --------------------------------------------------------------------------------------------
# Notes: facts stated in every explanation they concern

NOTE_RULES: tuple[Rule, ...] = (
    Rule(
        id="attempt_as_target",
        citation="PC 664; HS 11361.8",
        text="An attempt is treated like the offense attempted",
        facts=("attempt",),
        outcome="note",
        when=lambda: pl.col("attempt") & (pl.col("kind") == "cannabis"),
    ),
    Rule(
        id="age_unknown_presumed_adult",
        citation="HS 11361.8(b), (f) (eligibility presumed)",
        text="The age at the offense is unknown; the person is taken as 21 or older",
        facts=("age",),
        outcome="note",
        when=lambda: pl.col("age").is_null() & (pl.col("kind") == "cannabis"),
    ),
    Rule(
        id="offense_date_from_conviction",
        citation="HS 11361.8(a), (e)",
        text="The offense date is not recorded; the conviction came before 2016-11-09, so the "
        "conduct did too",
        facts=("offense_date", "conviction_date"),
        outcome="note",
        when=_offense_from_conviction,
        detail=lambda: pl.format("convicted {}", fmt_date("conviction_date")),
    ),
    Rule(
        id="set_aside_pc1203_4",
        citation="HS 11361.8(e)-(f), (h); PC 1203.4",
        text="The conviction was set aside and dismissed under PC 1203.4; HS 11361.8 still "
        "reaches it, and its dismissal and sealing or redesignation go further",
        facts=("set_aside",),
        outcome="note",
        when=lambda: pl.col("set_aside").fill_null(False),
    ),
    Rule(
        id="lawful_conduct_not_reduced",
        citation="HS 11361.8(e)-(f); HS 11362.1",
        text="The policy asks to reduce this section, but the statute makes the conduct lawful: "
        "the court shall dismiss and seal it; keeping it would be a challenge",
        facts=("statute_relief", "section_baseline"),
        outcome="note",
        when=lambda: (
            (pl.col("statute_relief") == "dismiss") & (pl.col("section_baseline") == "reduce")
        ).fill_null(False),
    ),
    Rule(
        id="no_lesser_level",
        citation="HS 11361.8(e)",
        text="The conviction is already at the level the law now sets, so the statute gives "
        "no further relief",
        facts=("level", "statute_relief"),
        outcome="no_change",
        when=lambda: pl.col("statute_relief") == "no_change",
        detail=lambda: pl.format("recorded as {}", pl.col("level")),
    ),
    Rule(
        id="level_unknown",
        citation="HS 11361.8(e)",
        text="The level of the conviction is not recorded, so the reduction cannot be stated; "
        "an attorney decides",
        facts=("level", "statute_relief"),
        outcome="review",
        when=lambda: (
            pl.col("statute_relief").str.starts_with("reduce") & (pl.col("level") == "unknown")
        ),
    ),
    Rule(
        id="remedy_still_serving",
        citation="HS 11361.8(a)-(b)",
        text="The sentence is not complete: petition for recall and resentencing or dismissal "
        "(the court may deny for unreasonable risk to public safety)",
        facts=("serving", "sentence_end"),
        outcome="note",
        when=lambda: pl.col("serving"),
        detail=lambda: pl.format("sentence ends {}", fmt_date("sentence_end")),
    ),
    Rule(
        id="remedy_completed",
        citation="HS 11361.8(e)-(f)",
        text="The sentence is complete: application to dismiss and seal or redesignate",
        facts=("serving", "sentence_end"),
        outcome="note",
        when=lambda: ~pl.col("serving"),
        detail=lambda: pl.format("sentence ended {}", fmt_date("sentence_end")),
    ),
)

STATUTE_RULES: tuple[Rule, ...] = RELIEF_RULES + RECORD_RULES + BAR_RULES + PRIOR_RULES + NOTE_RULES


def rule_by_id(rule_id: str) -> Rule:
    """The statute rule with that id (KeyError if none)."""
    for rule in STATUTE_RULES:
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)
