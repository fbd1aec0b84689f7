"""A county policy as rules, in the same form as the statute's (`clearance.law.rule.Rule`).

Each rule cites the policy's own source (the announcement or memo) and states the criterion with
its parameter, so an explanation reads "the person is at least 50 on the as-of date (Los
Angeles County District Attorney, 2020)". They read the person-level facts the engine prepares
(`POLICY_FACTS`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from clearance.law.rule import Rule, fmt_date
from clearance.policy.schema import Policy

POLICY_FACTS: dict[str, str] = {
    "age_now": "age on the as-of date",
    "age_at_conviction": "age on the conviction date",
    "last_conviction_date": "the person's most recent conviction of any offense, any county",
    "only_cannabis": "every conviction of the person is HS 11357-11360",
    "cannabis_sentences_complete": "every cannabis sentence of the person ended by the as-of date",
    "convictions_total": "the person's number of convictions (counts) of any offense",
    "deceased": "the record has a DECEASED event",
}


def minus_years(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _fixed(expr: pl.Expr) -> Callable[[], pl.Expr]:
    """A rule condition built now, with the parameter values it was made with."""
    return lambda: expr


def _misdemeanor() -> pl.Expr:
    return pl.col("level").is_in(["misdemeanor", "infraction"])


def misdemeanor_rules(policy: Policy) -> tuple[Rule, ...]:
    """The office's treatment of misdemeanor and infraction convictions."""
    m = policy.misdemeanors
    since = m.since
    in_range = (pl.col("conviction_date") >= since).fill_null(False) if since else pl.lit(True)
    since_text = f" convicted on or after {since.isoformat()}" if since else ""
    if m.treatment == "dismiss":
        return (
            Rule(
                id="policy_misdemeanor_dismiss",
                citation=policy.source,
                text=f"The office dismisses cannabis misdemeanors and infractions{since_text}",
                facts=("level", "conviction_date"),
                outcome="dismiss",
                when=lambda: _misdemeanor() & in_range,
                source="policy",
            ),
        )
    if m.treatment == "city_attorney":
        return (
            Rule(
                id="policy_misdemeanor_city_attorney",
                citation=policy.source,
                text="Misdemeanors are referred to the city attorney that prosecuted them",
                facts=("level",),
                outcome="review",
                when=lambda: _misdemeanor() & in_range,
                source="policy",
            ),
        )
    return ()


def section_key(policy: Policy) -> pl.Expr:
    """The policy's baseline key that a cannabis conviction falls under: the most specific one
    (`11357(b)` before `11357`), or null when only the statute's baseline applies.

    A one-level key compares with the count's `sub` fact (which reads a missing HS 11357 or
    11360 subdivision from the level, as the statute rules do); a deeper key with the recorded
    subdivision."""
    keys = sorted((k for k, v in policy.sections.items() if v != "statute"), key=len, reverse=True)
    chosen: pl.Expr = pl.lit(None, dtype=pl.String)
    for key in reversed(keys):
        section = key.split("(", 1)[0]
        sub = key[len(section) :]
        matches = (pl.col("kind") == "cannabis") & (pl.col("section") == section)
        if sub.count("(") == 1:
            matches = matches & (pl.col("sub") == sub)
        elif sub:
            matches = matches & pl.col("subsection").fill_null("").str.starts_with(sub)
        chosen = pl.when(matches.fill_null(False)).then(pl.lit(key)).otherwise(chosen)
    return chosen


def _key_is(key: str) -> Callable[[], pl.Expr]:
    return lambda: pl.col("section_key") == key


def section_rules(policy: Policy) -> tuple[Rule, ...]:
    """Per-section (or subdivision) baselines that differ from the statute; each fires on the
    counts whose most specific key it is (the engine adds `section_key`)."""
    rules: list[Rule] = []
    for key, baseline in sorted(policy.sections.items()):
        if baseline == "statute":
            continue
        outcome = {"dismiss": "dismiss", "reduce": "reduce_misdemeanor", "review": "review"}[
            baseline
        ]
        verb = {"dismiss": "dismisses", "reduce": "asks to reduce", "review": "reviews"}[baseline]
        rules.append(
            Rule(
                id=f"policy_hs{key.replace('(', '').replace(')', '')}_{baseline}",
                citation=policy.source,
                text=f"The office {verb} HS {key} convictions",
                facts=("section", "subsection"),
                outcome=outcome,  # type: ignore[arg-type]
                when=_key_is(key),
                source="policy",
            )
        )
    return tuple(rules)


def dismissal_rules(policy: Policy, as_of: date) -> tuple[Rule, ...]:
    """The policy's additional dismissal criteria (each off unless set).

    Each parameter has a name of its own and is bound into the rule's expression when the rule
    is made (`_fixed`), so no rule reads another's threshold."""
    a = policy.additional_dismissal
    src = policy.source
    rules: list[Rule] = []
    if a.age_at_least is not None:
        age = a.age_at_least
        rules.append(
            Rule(
                id="policy_age_at_least",
                citation=src,
                text=f"The person is at least {age} on the as-of date",
                facts=("age_now",),
                outcome="dismiss",
                when=_fixed((pl.col("age_now") >= age).fill_null(False)),
                detail=lambda: pl.format("age {} now", pl.col("age_now")),
                source="policy",
            )
        )
    if a.under_21_at_offense:
        rules.append(
            Rule(
                id="policy_under_21_at_offense",
                citation=src,
                text="The person was under 21 at the offense",
                facts=("age",),
                outcome="dismiss",
                when=lambda: (pl.col("age") < 21).fill_null(False),
                detail=lambda: pl.format("age {} at the offense", pl.col("age")),
                source="policy",
            )
        )
    if a.under_21_at_conviction:
        rules.append(
            Rule(
                id="policy_under_21_at_conviction",
                citation=src,
                text="The person was under 21 when convicted",
                facts=("age_at_conviction",),
                outcome="dismiss",
                when=lambda: (pl.col("age_at_conviction") < 21).fill_null(False),
                detail=lambda: pl.format("age {} when convicted", pl.col("age_at_conviction")),
                source="policy",
            )
        )
    if a.years_since_conviction is not None:
        years = a.years_since_conviction
        convicted_by = minus_years(as_of, years)
        rules.append(
            Rule(
                id="policy_years_since_conviction",
                citation=src,
                text=f"The conviction is at least {years} years old on the as-of date",
                facts=("conviction_date",),
                outcome="dismiss",
                when=_fixed((pl.col("conviction_date") <= convicted_by).fill_null(False)),
                detail=_fixed(
                    pl.format(
                        "convicted {}, on or before {}",
                        fmt_date("conviction_date"),
                        pl.lit(convicted_by.isoformat()),
                    )
                ),
                source="policy",
            )
        )
    if a.crime_free_years is not None:
        free = a.crime_free_years
        since = minus_years(as_of, free)
        rules.append(
            Rule(
                id="policy_crime_free",
                citation=src,
                text=f"No conviction of any offense, in any county, in the {free} years before "
                "the as-of date",
                facts=("last_conviction_date",),
                outcome="dismiss",
                when=_fixed((pl.col("last_conviction_date") < since).fill_null(False)),
                detail=_fixed(
                    pl.format(
                        "most recent conviction {}, before {}",
                        fmt_date("last_conviction_date"),
                        pl.lit(since.isoformat()),
                    )
                ),
                source="policy",
            )
        )
    if a.only_cannabis_sentences_complete:
        rules.append(
            Rule(
                id="policy_only_cannabis_sentences_complete",
                citation=src,
                text="Every conviction of the person is a cannabis conviction and every sentence "
                "is complete",
                facts=("only_cannabis", "cannabis_sentences_complete"),
                outcome="dismiss",
                when=lambda: pl.col("only_cannabis") & pl.col("cannabis_sentences_complete"),
                source="policy",
            )
        )
    if a.only_cannabis:
        rules.append(
            Rule(
                id="policy_only_cannabis",
                citation=src,
                text="Every conviction of the person is a cannabis conviction",
                facts=("only_cannabis",),
                outcome="dismiss",
                when=lambda: pl.col("only_cannabis"),
                source="policy",
            )
        )
    if a.single_conviction_sentence_complete:
        rules.append(
            Rule(
                id="policy_single_conviction_complete",
                citation=src,
                text="This is the person's only conviction and its sentence is complete",
                facts=("convictions_total", "serving"),
                outcome="dismiss",
                when=lambda: (pl.col("convictions_total") == 1) & ~pl.col("serving"),
                source="policy",
            )
        )
    if a.deceased:
        rules.append(
            Rule(
                id="policy_deceased",
                citation=src,
                text="The person is deceased",
                facts=("deceased",),
                outcome="dismiss",
                when=lambda: pl.col("deceased"),
                source="policy",
            )
        )
    return tuple(rules)


def after_rules(policy: Policy) -> tuple[Rule, ...]:
    """Rules that send what the statute would reduce to review."""
    rules: list[Rule] = []
    if policy.still_serving == "review":
        rules.append(
            Rule(
                id="policy_still_serving_review",
                citation=policy.source,
                text="The person is still serving the sentence; an attorney reviews the "
                "public-safety question",
                facts=("serving",),
                outcome="review",
                when=lambda: pl.col("serving"),
                source="policy",
            )
        )
    if policy.remaining == "review":
        rules.append(
            Rule(
                id="policy_remaining_review",
                citation=policy.source,
                text="An eligible felony that no dismissal criterion covers is flagged for "
                "review instead of reduced",
                facts=(),
                outcome="review",
                when=lambda: pl.lit(True),
                source="policy",
            )
        )
    return tuple(rules)


def prior_effect_rules(policy: Policy) -> tuple[Rule, ...]:
    """How a disqualifying prior acts under the policy (statute: not eligible)."""
    effect = policy.priors.effect
    if effect == "not_eligible":
        text = "A disqualifying prior keeps the felony: not eligible for reduction"
    elif effect == "review":
        text = "The office reviews every count with a disqualifying prior"
    else:
        text = "The policy reports disqualifying priors without acting on them (warning)"
    return (
        Rule(
            id=f"policy_priors_{effect}",
            citation=policy.source,
            text=text,
            facts=("prior_*",),
            outcome="not_eligible"
            if effect == "not_eligible"
            else "review"
            if effect == "review"
            else "note",
            when=lambda: pl.col("has_prior"),
            source="policy",
        ),
    )


def _lawful() -> pl.Expr:
    return (pl.col("statute_relief") == "dismiss").fill_null(False)


def _disqualifying_prior() -> pl.Expr:
    """A prior the statute names for its felony exceptions (super strike, PC 290(c) offense,
    two priors under the misdemeanor subdivision), found whether or not it applies."""
    return (
        pl.col("prior_super_strike") | pl.col("prior_pc290") | (pl.col("prior_same_section") >= 2)
    ).fill_null(False)


def _prior_details() -> pl.Expr:
    return pl.concat_str(
        [
            pl.col(c)
            for c in (
                "prior_super_strike_detail",
                "prior_pc290_detail",
                "prior_same_section_detail",
            )
        ],
        separator="; ",
        ignore_nulls=True,
    )


def lawful_rules(policy: Policy) -> tuple[Rule, ...]:
    """An office that keeps a conviction the statute makes lawful (HS 11362.1) is challenging
    it: HS 11361.8(f) says the court shall dismiss and seal, and priors only keep a reduction a
    felony. Each rule is a named ground that goes to the challenge notice (outcome
    not_eligible), or to review when the policy reviews priors; never a silent reduction."""
    choice = policy.lawful_conduct
    with_prior = choice == "challenge_with_prior" or policy.priors.applies_to == "all"
    effect = policy.priors.effect
    rules: list[Rule] = []
    if with_prior and effect != "warn":
        rules.append(
            Rule(
                id="policy_challenge_lawful_with_prior",
                citation=f"{policy.source}; challenged under HS 11361.9 (the statute dismisses "
                "the conduct, HS 11361.8(f), 11362.1)",
                text="The office challenges the dismissal of conduct the statute now makes "
                "lawful because of a prior conviction (the statute's priors bar only a "
                "reduction, HS 11358(d), 11359(c), 11360(a)(3))"
                + ("; an attorney reviews it" if effect == "review" else ""),
                facts=("statute_relief", "prior_*"),
                outcome="review" if effect == "review" else "not_eligible",
                when=lambda: _lawful() & _disqualifying_prior() & (pl.col("kind") == "cannabis"),
                detail=_prior_details,
                source="policy",
            )
        )
    if choice == "challenge_when_reduced":
        rules.append(
            Rule(
                id="policy_challenge_lawful_conduct",
                citation=f"{policy.source}; challenged under HS 11361.9 (the statute dismisses "
                "the conduct, HS 11361.8(f), 11362.1)",
                text="The office asks to reduce this section and challenges the dismissal of "
                "conduct the statute now makes lawful",
                facts=("statute_relief", "section_baseline"),
                outcome="not_eligible",
                when=lambda: _lawful() & (pl.col("section_baseline") == "reduce").fill_null(False),
                source="policy",
            )
        )
    return tuple(rules)


def related_rules(policy: Policy) -> tuple[Rule, Rule]:
    """Related charges in the same arrest cycle (applied by the engine after the cannabis
    decisions, since they depend on them)."""
    listed_d = ", ".join(policy.related_charges.dismiss) or "none"
    listed_r = ", ".join(policy.related_charges.review) or "none"
    return (
        Rule(
            id="policy_related_charge_dismiss",
            citation=policy.source,
            text="A related charge in the same arrest cycle as a relieved cannabis conviction "
            f"is dismissed ({listed_d})",
            facts=("cycle_id", "code", "section"),
            outcome="dismiss",
            when=lambda: pl.lit(False),
            source="policy",
        ),
        Rule(
            id="policy_related_charge_review",
            citation=policy.source,
            text="A charge in the same arrest cycle as a cannabis count may be a plea bargain "
            f"and is reviewed ({listed_r})",
            facts=("cycle_id", "code", "section"),
            outcome="review",
            when=lambda: pl.lit(False),
            source="policy",
        ),
    )


TOOL_CITATION = "statewide configurable tool, eligibility options (prop64.md section 6)"


def _entry_match(entries: list[str]) -> pl.Expr:
    """The count's section (and subsection) is one of the tool's list entries."""
    conditions = []
    for entry in entries:
        section = entry.split("(", 1)[0]
        sub = entry[len(section) :]
        condition = pl.col("section") == section
        if sub:
            condition = condition & pl.col("subsection").fill_null("").str.starts_with(sub)
        conditions.append(condition)
    if not conditions:
        return pl.lit(False)
    return pl.any_horizontal(conditions).fill_null(False)


def tool_rules(policy: Policy, as_of: date) -> tuple[Rule, ...]:
    """The configurable tool's steps, in its order (the first that holds decided there)."""
    options = policy.tool_options
    if options is None:
        return ()
    cite = f"{TOOL_CITATION}; {policy.source}"

    def rule(rule_id: str, text: str, outcome: str, when: pl.Expr, facts: tuple[str, ...]) -> Rule:
        return Rule(
            id=rule_id,
            citation=cite,
            text=text,
            facts=facts,
            outcome=outcome,  # type: ignore[arg-type]
            when=lambda: when,
            source="policy",
        )

    steps: list[Rule] = [
        rule(
            "tool_not_felony",
            "Misdemeanor or infraction: dismissal",
            "dismiss",
            pl.col("level") != "felony",
            ("level",),
        ),
        rule(
            "tool_baseline_dismiss",
            f"The options dismiss {', '.join('HS ' + e for e in options.dismiss) or 'nothing'}",
            "dismiss",
            _entry_match(options.dismiss),
            ("section", "subsection"),
        ),
    ]
    if options.subject_under_21_at_conviction:
        steps.append(
            rule(
                "tool_under_21_at_conviction",
                "Under 21 at conviction: dismissal",
                "dismiss",
                (pl.col("age_at_conviction") < 21).fill_null(False),
                ("age_at_conviction",),
            )
        )
    if options.subject_age_threshold:
        n = options.subject_age_threshold
        steps.append(
            rule(
                "tool_age_threshold",
                f"At least {n} on the as-of date: dismissal",
                "dismiss",
                (pl.col("age_now") >= n).fill_null(False),
                ("age_now",),
            )
        )
    if options.years_since_conviction_threshold:
        n = options.years_since_conviction_threshold
        cutoff = minus_years(as_of, n)
        steps.append(
            rule(
                "tool_years_since_conviction",
                f"Convicted at least {n} years before the as-of date: dismissal",
                "dismiss",
                (pl.col("conviction_date") <= cutoff).fill_null(False),
                ("conviction_date",),
            )
        )
    if options.years_crime_free_threshold:
        n = options.years_crime_free_threshold
        cutoff = minus_years(as_of, n)
        steps.append(
            rule(
                "tool_crime_free",
                f"No conviction in the {n} years before the as-of date: dismissal",
                "dismiss",
                (pl.col("last_conviction_date") < cutoff).fill_null(False),
                ("last_conviction_date",),
            )
        )
    if options.subject_has_only_prop64_charges:
        steps.append(
            rule(
                "tool_only_prop64",
                "Only HS 11357-11360 convictions: dismissal",
                "dismiss",
                pl.col("only_cannabis").fill_null(False),
                ("only_cannabis",),
            )
        )
    if options.subject_is_deceased:
        steps.append(
            rule(
                "tool_deceased",
                "Deceased: dismissal",
                "dismiss",
                pl.col("deceased").fill_null(False),
                ("deceased",),
            )
        )
    steps.append(
        rule(
            "tool_baseline_reduce",
            f"The options reduce {', '.join('HS ' + e for e in options.reduce) or 'nothing'}",
            "reduce_misdemeanor",
            _entry_match(options.reduce),
            ("section", "subsection"),
        )
    )
    steps.append(
        rule(
            "tool_no_decision",
            "No step of the options holds: the tool left the decision empty; an attorney decides",
            "review",
            ~pl.any_horizontal([step.when() for step in steps]),
            (),
        )
    )
    return tuple(steps)


def statute_differs_rule() -> Rule:
    """Warning on a count where the configurable tool and the statute alone disagree, on the
    decision or on the level a reduction leads to."""
    statute_said = pl.format(
        "the statute alone: {}{}",
        pl.col("statute_decision"),
        pl.when(pl.col("statute_new_level").is_not_null())
        .then(pl.format(" to {}", pl.col("statute_new_level")))
        .otherwise(pl.lit("")),
    )
    return Rule(
        id="warning_statute_differs",
        citation="HS 11361.8",
        text="Warning: the statute alone decides this count differently",
        facts=("statute_decision", "statute_new_level"),
        outcome="note",
        when=lambda: (
            (pl.col("statute_decision") != pl.col("decision"))
            | pl.col("statute_new_level").ne_missing(pl.col("new_level"))
        ),
        detail=lambda: statute_said,
        source="policy",
    )
