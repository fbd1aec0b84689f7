"""Records + policy + as-of date -> a decision for every cannabis conviction in the county.

How a decision is reached (the written precedence, also in README "How decisions are made"):

1. Every rule of the statute (`clearance.law.prop64`) and of the policy
   (`clearance.policy.rules`) is evaluated for every count; none is first-match. A count's
   `reasons` list every rule that held, in the order they are listed by `clearance rules`.
2. The decision then follows this precedence, first line that applies:
   a. the policy refers misdemeanors to the city attorney            -> review
   b. a record that cannot be true (age under 14, born after the offense, dated after the
      as-of date, convicted before the offense)                       -> review
   c. a bar of the statute (offense on or after 2016-11-09, conspiracy, prison, excluded
      subdivision)                                                    -> not_eligible
   d. a question the data cannot settle (no offense date, accessory, former section) -> review
   e. a disqualifying prior, where it applies (felony reductions)     -> policy: not_eligible
                                                                         (statute) / review /
                                                                         warn (no effect)
   f. a possible super strike or undated record, where priors apply   -> review (not warn)
   g. the policy challenges conduct the statute makes lawful (named ground) -> not_eligible
      (review when the policy reviews priors)
   h. the policy dismisses misdemeanors                               -> dismiss
   i. the policy's baseline for the section or subdivision (the most specific key): dismiss
      -> dismiss, review -> review
   j. an additional dismissal criterion of the policy                 -> dismiss
   k. the baseline says reduce, the conviction is a felony and the statute reduces it -> reduce
   l. the statute makes the conduct lawful (whatever a "reduce" baseline says) -> dismiss
   m. the level of the conviction is unknown and the relief is a reduction     -> review
   n. a reduction, and the policy reviews people still serving or what remains -> review
   o. the statute makes it lesser                                     -> reduce (new level)
   p. already at the level the law now sets                           -> not_eligible
   q. anything else                                                   -> review
3. Related charges (policy) in the same arrest cycle as a relieved cannabis conviction follow.

Everything is a Polars expression over the whole table; per-person context (priors, the most
recent conviction, whether every conviction is a cannabis one) comes from joins and group-bys,
so one implementation serves one person and a whole state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

import polars as pl

from clearance.frames import by_value, is_sorted_by
from clearance.law import lists
from clearance.law.prop64 import (
    BAR_RULES,
    EFFECTIVE_DATE,
    MISDEMEANOR_SUBDIVISIONS,
    NOTE_RULES,
    PRIOR_RULES,
    RECORD_RULES,
    RELIEF_RULES,
    STATUTE_RULES,
)
from clearance.law.rule import Rule
from clearance.policy import rules as policy_rules
from clearance.policy.schema import Policy
from clearance.records.doj import Records
from clearance.records.offenses import is_cannabis
from clearance.records.schema import as_strings

DECISIONS = ("dismiss", "reduce", "not_eligible", "review")
REMEDY_SERVING = "11361.8(b)"
REMEDY_COMPLETED = "11361.8(f)"

#: The columns of the determinations table, in order (convictions.csv is built from them).
DETERMINATION_COLUMNS = (
    "subject_id", "count_id", "cycle_id", "event_id", "kind", "county", "court_case_number",
    "offense_raw", "code_section", "section", "subsection", "offense_date", "conviction_date",
    "age", "level", "decision", "new_level", "remedy", "reasons", "explanation", "serving",
    "sentence_end", "source_file", "source_line",
)  # fmt: skip

#: What the figures of a decision read (`decide(..., explained=False)`): the summary's counts by
#: decision and the people relieved, and the arrest cycles that related charges follow.
FIGURE_COLUMNS = (
    "subject_id", "count_id", "cycle_id", "kind", "county", "code_section", "conviction_date",
    "level", "decision", "new_level", "remedy", "reasons", "explanation",
)  # fmt: skip

#: The `county` that asks for every county at once (`decide`): each conviction is decided as
#: its own county's run decides it, so the table holds every county's determinations.
EVERY_COUNTY = "ALL"

_MARIJUANA_TEXT = r"(?i)MARIJ|CANNABIS|HASH"
#: The Uniform Controlled Substances Act (Stats. 1972, ch. 1407) renumbered the drug sections.
RECODIFIED = date(1973, 3, 7)


class EngineError(Exception):
    """A run that cannot produce a meaningful result (unknown county, no convictions)."""


def normalize_county(name: str) -> str:
    """County names compare upper case with single spaces: 'san-joaquin ' == 'SAN JOAQUIN'."""
    return re.sub(r"[\s_\-]+", " ", name).strip().upper()


def counties(records: Records) -> list[str]:
    """Counties of court events in the record, sorted."""
    counts = records.counts
    values = counts["county"].filter(counts["step_type"] == "court").drop_nulls()
    return sorted(values.unique().to_list())


def has_county(records: Records, county: str) -> bool:
    """Whether any step of the record (a court's or another) took place in `county`: a part
    of the people decided on its own may hold a county's rows on other steps only, such as a
    conviction recorded on an arrest step, which the San Joaquin and Contra Costa flows decide
    as a related charge."""
    return bool((records.counts["county"] == county).any())


#: Facts by (county, as-of date, judgment switches): the what-if policies of a summary share
#: the facts of the main run when their judgment calls are the same.
FactsCache = dict[tuple[str, date, str], pl.DataFrame]


@dataclass(frozen=True)
class Decided:
    """A run's determinations with what produced them."""

    table: pl.DataFrame
    policy: Policy
    as_of: date
    county: str
    rules: tuple[Rule, ...]
    cache: FactsCache = field(default_factory=dict, repr=False, compare=False)
    #: The counties with a conviction in scope: the county decided, or for `EVERY_COUNTY` each
    #: county whose own run would decide something (a county without one has no run).
    counties: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Facts


def _age(dob: pl.Expr, day: pl.Expr | date) -> pl.Expr:
    """Whole years from `dob` to `day` (a 29 February birthday comes on 1 March)."""
    d = day if isinstance(day, pl.Expr) else pl.lit(day)

    # Month and day come back as small integers: widen them before combining.
    def month_day(x: pl.Expr) -> pl.Expr:
        return x.dt.month().cast(pl.Int32) * 100 + x.dt.day().cast(pl.Int32)

    before_birthday = month_day(d) < month_day(dob)
    return (d.dt.year() - dob.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Int32)


def _convictions(counts: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Every conviction in the record, any county (a PC 1203.4 set-aside is still a prior):
    only the columns asked for are copied, since the record can hold millions of counts."""
    return counts.select(columns).filter(
        counts["disposition"].is_in(["convicted", "set_aside"]).fill_null(False)
    )


def _pick(counts: pl.DataFrame, where: pl.Expr, offense: pl.Expr) -> pl.DataFrame:
    """The counts where `where` holds and whose offense (code, section, subsection) passes
    `offense`, with every column. Only the counts picked are copied: a statewide record has
    millions of counts and a county's cannabis convictions are a small share of them."""
    return counts[_pick_rows(counts, where, offense)]


def _pick_rows(counts: pl.DataFrame, where: pl.Expr, offense: pl.Expr) -> pl.Series:
    """The row numbers `_pick` copies. The offense test runs once per distinct offense."""
    keys = ["code", "section", "subsection"]
    rows = counts.select(pl.arg_where(where.fill_null(False))).to_series()
    if rows.len() == 0:
        return rows
    offenses = by_value(counts.select(keys)[rows], keys, _pass=offense.fill_null(False))
    return rows.filter(offenses["_pass"])


def _in_counties(counties: tuple[str, ...]) -> pl.Expr:
    """Whether a count is in one of `counties` (one for a county's run, or every county)."""
    if len(counties) == 1:
        return pl.col("county") == counties[0]
    return pl.col("county").is_in(list(counties))


def _scope(counts: pl.DataFrame, counties: tuple[str, ...], policy: Policy) -> pl.DataFrame:
    """Convictions in the counties that Proposition 64 concerns, each with its `kind`."""
    cannabis = is_cannabis(pl.col("code"), pl.col("section"))
    text = pl.col("offense_raw").cast(pl.String).fill_null("")
    conspiracy = (cannabis & pl.col("conspiracy")) | (
        (pl.col("code") == "PC") & (pl.col("section") == "182") & text.str.contains(_MARIJUANA_TEXT)
    )
    prison = (
        (pl.col("code") == "PC")
        & (pl.col("section") == "4573.6")
        & text.str.contains(_MARIJUANA_TEXT)
    )
    former_section, _ = lists.FORMER_CANNABIS_SECTIONS.match(
        pl.col("code"), pl.col("section"), pl.col("subsection")
    )
    # The former numbers were reused after the 1972 recodification (HS 11532 is loitering for
    # drug activity since 1995): only a record from before it is a former cannabis section.
    when = pl.coalesce(pl.col("event_date"), pl.col("offense_date"))
    former = former_section & (when < RECODIFIED).fill_null(True)
    # Only the two key columns are copied: a statewide record holds millions of such counts.
    # An accessory after any HS 11357-11360 offense may be eligible (Boatwright's reasoning
    # covers every predicate): the cycles with such a charge, of any disposition.
    charged = counts.select(is_cannabis(pl.col("code"), pl.col("section"))).to_series()
    cannabis_charge = counts.select("subject_id", "cycle_id").filter(charged).unique()
    accessory_cycles = cannabis_charge.with_columns(pl.lit(True).alias("_acc_cycle"))
    kind = (
        pl.when(conspiracy)
        .then(pl.lit("conspiracy"))
        .when(cannabis)
        .then(pl.lit("cannabis"))
        .when(prison)
        .then(pl.lit("prison"))
        .when(former)
        .then(pl.lit("former"))
        .when(
            pl.lit(policy.judgment.accessory_pc32_review)
            & (pl.col("code") == "PC")
            & (pl.col("section") == "32")
            & pl.col("_acc_cycle").fill_null(False)
        )
        .then(pl.lit("accessory"))
        .otherwise(None)
    )
    # Every kind is one of these offenses: the rest of the record is never copied.
    concerned = (
        cannabis
        | ((pl.col("code") == "PC") & pl.col("section").is_in(["182", "4573.6", "32"]))
        | former_section
    )
    # A conviction set aside under PC 1203.4 is still a conviction that HS 11361.8 dismisses
    # and seals or redesignates (more than the set-aside gave): it is decided too.
    in_county = (
        pl.col("disposition").is_in(["convicted", "set_aside"])
        & (pl.col("step_type") == "court")
        & _in_counties(counties)
    )
    return (
        _pick(counts, in_county, concerned)
        .join(accessory_cycles, on=["subject_id", "cycle_id"], how="left")
        .with_columns(kind.alias("kind"))
        .filter(pl.col("kind").is_not_null())
        .drop("_acc_cycle")
        .pipe(as_strings)
    )


def convictions_in_scope(records: Records, policy: Policy) -> pl.DataFrame:
    """(subject_id, county) of every conviction in the scope of `policy`'s runs, in any county:
    a county has a run when someone has one there (`decide`'s `counties`)."""
    present = tuple(counties(records))
    if not present:
        return pl.DataFrame(schema={"subject_id": pl.String, "county": pl.String})
    return (
        _scope(records.counts, present, policy)
        .select("subject_id", pl.col("county").cast(pl.String))
        .unique()
    )


def _prior_facts(scope: pl.DataFrame, counts: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Per scope count: disqualifying records before its offense, with the facts to cite."""
    ss_listed, ss_possible = lists.SUPER_STRIKES.match(
        pl.col("code"), pl.col("section"), pl.col("subsection")
    )
    # Kidnapping and assault with intent are super strikes only with an intent the data does
    # not show: a match is a possible one (review), never a bar.
    ss_partly = lists.possible_only_super_strike(
        pl.col("code"), pl.col("section"), pl.col("subsection")
    )
    ss_exact = ss_listed & ~ss_partly
    ss_possible = ss_possible | (ss_listed & ss_partly)
    homicide_attempt = pl.col("section").is_in(["187", "188", "189", "190", "191.5"])
    sex_exact, _ = lists.PC290_OFFENSES.match(
        pl.col("code"), pl.col("section"), pl.col("subsection")
    )
    cannabis = is_cannabis(pl.col("code"), pl.col("section")) & ~pl.col("conspiracy")
    case = (
        pl.when(pl.col("court_case_number").is_not_null())
        .then(pl.format(", case {}", pl.col("court_case_number")))
        .otherwise(pl.lit(""))
    )
    when = pl.col("p_date").dt.to_string("%Y-%m-%d").fill_null("an unknown date")
    offense = ["code", "section", "subsection", "attempt", "conspiracy"]
    # The lists are matched once per distinct offense, not once per conviction, and only the
    # convictions that are on a list or of a cannabis section are copied from the record.
    convicted = counts["disposition"].is_in(["convicted", "set_aside"]).fill_null(False)
    rows = convicted.arg_true()
    flags = by_value(
        counts.select(offense)[rows],
        offense,
        _p_ss=ss_exact & (~pl.col("attempt") | homicide_attempt),
        _p_ss_possible=ss_possible & ~pl.col("attempt"),
        _p_290=sex_exact,
        _cannabis=cannabis,
    ).select("_p_ss", "_p_ss_possible", "_p_290", "_cannabis")
    wanted = flags.select(pl.any_horizontal(pl.all())).to_series()
    needed = ["subject_id", "count_id", "event_id", "event_date", "section", "subsection",
              "level", "code_section", "court_case_number"]  # fmt: skip
    convs = counts.select(needed)[rows.filter(wanted)].hstack(flags.filter(wanted))
    flagged = convs.select(
        "subject_id",
        pl.col("count_id").alias("p_count"),
        pl.col("event_id").alias("p_event"),
        pl.col("event_date").alias("p_date"),
        pl.col("_p_ss").alias("p_ss"),
        pl.col("_p_ss_possible").alias("p_ss_possible"),
        pl.col("_p_290").alias("p_290"),
        pl.lit(False).alias("p_reg"),
        pl.when(pl.col("_cannabis")).then(pl.col("section")).otherwise(None).alias("p_section"),
        _two_priors_kind().alias("p_two"),
        pl.col("code_section"),
        pl.col("court_case_number"),
    )
    listed = pl.col("p_ss") | pl.col("p_ss_possible") | pl.col("p_290")
    flagged = as_strings(flagged.filter(listed | pl.col("p_two").is_not_null()))
    registrations = counts.filter(
        (pl.col("step_type") == "registration") & (pl.col("section") == "290")
    ).select(
        "subject_id",
        pl.col("count_id").alias("p_count"),
        pl.col("event_id").alias("p_event"),
        pl.col("event_date").alias("p_date"),
        pl.lit(False).alias("p_ss"),
        pl.lit(False).alias("p_ss_possible"),
        pl.lit(False).alias("p_290"),
        pl.lit(True).alias("p_reg"),
        pl.lit(None, dtype=pl.String).alias("p_section"),
        pl.lit(None, dtype=pl.String).alias("p_two"),
        pl.lit("PC 290 registration").alias("code_section"),
        pl.col("court_case_number"),
    )
    events = (
        pl.concat([flagged, as_strings(registrations)], how="vertical")
        .with_columns(
            pl.when(pl.col("p_reg"))
            .then(pl.format("PC 290 registration on {}", when))
            .otherwise(
                pl.format(
                    "{} conviction on {}{}", pl.col("code_section").fill_null("?"), when, case
                )
            )
            .alias("p_text")
        )
        .drop("code_section", "court_case_number")
    )
    targets = scope.select(
        "subject_id",
        "count_id",
        "section",
        pl.coalesce("offense_date", "event_date").alias("ref_date"),
    )
    # Each count is paired with every record of its person: for a statewide record that is
    # millions of pairs, so they are made a slice of counts at a time.
    # (No count at all still gives the flags' columns, from one empty slice.)
    starts = range(0, targets.height, _SLICE_ROWS) or range(1)
    return pl.concat(
        [_prior_flags(targets.slice(s, _SLICE_ROWS), events, policy) for s in starts],
        how="vertical",
    )


def _two_priors_kind() -> pl.Expr:
    """Whether a cannabis conviction can be one of "two or more prior convictions" under the
    subdivision that now carries the misdemeanor (HS 11358(c), 11359(b), 11360(a)(2)):
    `settled` (a record of 2016-11-09 or later under that subdivision), `unsettled` (an old
    felony conviction of the section, or a record without a subdivision: the judgment switch
    `old_convictions_count_as_priors` decides), or null (never: another subdivision, an old HS
    11360(b) give-away or any HS 11357 record, which HS 11361.5 and 11361.7 forbid using).

    Read on the convictions of the record (columns section, subsection, level, event_date)."""
    section = pl.col("section")
    sub = pl.col("subsection").cast(pl.String).fill_null("").str.to_lowercase()
    misdemeanor_sub = section.replace_strict(
        MISDEMEANOR_SUBDIVISIONS, default=None, return_dtype=pl.String
    )
    old = (pl.col("event_date") < EFFECTIVE_DATE).fill_null(False)
    giveaway = (section == "11360") & (
        sub.str.starts_with("(b)") | ((sub == "") & (pl.col("level") != "felony").fill_null(True))
    )
    return (
        pl.when(misdemeanor_sub.is_null() | giveaway)
        .then(pl.lit(None, dtype=pl.String))
        .when(sub.str.starts_with(misdemeanor_sub) & ~old)
        .then(pl.lit("settled"))
        .when(old | (sub == ""))
        .then(pl.lit("unsettled"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _prior_flags(targets: pl.DataFrame, events: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The prior flags and their facts for some counts, from their persons' records."""
    joined = targets.join(events, on="subject_id", how="inner").filter(
        pl.col("p_count") != pl.col("count_id")
    )
    # "Two or more prior convictions" are always convictions before the offense; the timing
    # switch concerns the super strike and PC 290 records, which some tools took from anywhere.
    strictly_before = (pl.col("p_date") < pl.col("ref_date")).fill_null(False)
    undated = pl.col("p_date").is_null() | pl.col("ref_date").is_null()
    anywhere = not policy.judgment.priors_before_offense_only
    # Two priors: of the same section, under its misdemeanor subdivision (`_two_priors_kind`);
    # the old ones count as the judgment switch says (review: they send the count to review).
    switch = policy.judgment.old_convictions_count_as_priors
    same = (pl.col("p_section") == pl.col("section")) & pl.col("p_two").is_not_null()
    settled = same & (pl.col("p_two") == "settled")
    same_section = same if switch is True else settled
    joined = joined.with_columns(
        (pl.lit(True) if anywhere else strictly_before).alias("_before"),
        strictly_before.alias("_strictly_before"),
        (undated & pl.lit(not anywhere)).alias("_unknown"),
        undated.alias("_undated"),
        same_section.fill_null(False).alias("_same"),
        (same if switch == "review" else same_section).fill_null(False).alias("_same_any"),
    ).sort(["subject_id", "count_id", "p_date", "p_count"], nulls_last=True)

    hit = pl.col("_before")
    listed_record = pl.col("p_ss") | pl.col("p_290") | pl.col("p_reg")
    kinds = {
        "prior_super_strike": pl.col("p_ss") & hit,
        "possible_super_strike": pl.col("p_ss_possible") & hit,
        "prior_pc290": pl.col("p_290") & hit,
        "prior_registration": pl.col("p_reg") & hit,
        "prior_same_section": pl.col("_same") & pl.col("_strictly_before"),
        "prior_same_any": pl.col("_same_any") & pl.col("_strictly_before"),
        "prior_timing_unknown": (listed_record & pl.col("_unknown"))
        | (pl.col("_same_any") & pl.col("_undated")),
    }
    counted = ("prior_same_section", "prior_same_any")
    keys = ["subject_id", "count_id"]
    found = joined.with_columns(**kinds).filter(pl.any_horizontal(list(kinds)))
    flags = found.group_by(keys).agg(
        *[pl.col(k).any() for k in kinds if k not in counted],
        *[pl.col("p_event").filter(pl.col(k)).n_unique().alias(k) for k in counted],
    )
    # The facts to cite (up to three records, oldest first), only where something was found.
    for kind in kinds:
        detail = (
            found.filter(pl.col(kind))
            .group_by(keys)
            .agg(pl.col("p_text").head(3).str.join("; ").alias(f"{kind}_detail"))
        )
        flags = flags.join(detail, on=keys, how="left")
    # Two or more priors only when the old ones are counted: the question goes to review.
    unsettled = (pl.col("prior_same_any") >= 2) & (pl.col("prior_same_section") < 2)
    return flags.with_columns(
        (pl.lit(switch == "review") & unsettled).alias("prior_two_unsettled"),
        pl.col("prior_same_any_detail").alias("prior_two_unsettled_detail"),
    )


_PRIOR_DEFAULTS: dict[str, pl.Expr] = {
    "prior_super_strike": pl.lit(False),
    "possible_super_strike": pl.lit(False),
    "prior_pc290": pl.lit(False),
    "prior_registration": pl.lit(False),
    "prior_same_section": pl.lit(0, dtype=pl.UInt32),
    "prior_same_any": pl.lit(0, dtype=pl.UInt32),
    "prior_two_unsettled": pl.lit(False),
    "prior_timing_unknown": pl.lit(False),
}


def _person_facts(counts: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Per person: most recent conviction, only cannabis, sentences complete, how many."""
    convs = _convictions(
        counts, ["subject_id", "event_date", "code", "section", "conspiracy", "sentence_end"]
    )
    cannabis = is_cannabis(pl.col("code"), pl.col("section")) & ~pl.col("conspiracy")
    complete = (pl.col("sentence_end") <= as_of).fill_null(True)
    return convs.group_by("subject_id").agg(
        pl.col("event_date").max().alias("last_conviction_date"),
        cannabis.all().alias("only_cannabis"),
        complete.filter(cannabis).all().alias("cannabis_sentences_complete"),
        pl.len().cast(pl.Int32).alias("convictions_total"),
    )


def build_facts(
    records: Records, counties: tuple[str, ...], policy: Policy, as_of: date
) -> pl.DataFrame:
    """The fact table the rules read: one row per cannabis conviction in the counties (each
    county's facts are what its own run builds: a person's priors and figures come from their
    whole record, in any county)."""
    counts = records.counts
    scope = _scope(counts, counties, policy)
    subjects = records.subjects.select("subject_id", "dob", "deceased")
    age_offense = pl.when(pl.col("dob").is_not_null() & pl.col("offense_date").is_not_null())
    facts = (
        scope.join(subjects, on="subject_id", how="left")
        .join(_prior_facts(scope, counts, policy), on=["subject_id", "count_id"], how="left")
        .join(_person_facts(counts, as_of), on="subject_id", how="left")
        .with_columns(
            pl.col("event_date").alias("conviction_date"),
            age_offense.then(_age(pl.col("dob"), pl.col("offense_date")))
            .otherwise(pl.col("cycle_age"))
            .alias("_age_recorded"),
            _age(pl.col("dob"), pl.col("event_date")).alias("age_at_conviction"),
            _age(pl.col("dob"), as_of).alias("age_now"),
            (pl.col("sentence_end") > as_of).fill_null(False).alias("serving"),
            (pl.col("disposition") == "set_aside").fill_null(False).alias("set_aside"),
            (
                (pl.col("offense_date") > as_of).fill_null(False)
                | (pl.col("event_date") > as_of).fill_null(False)
            ).alias("date_after_as_of"),
            pl.col("deceased").fill_null(False),
            pl.lit(policy.judgment.cultivation_presumed_lawful).alias(
                "cultivation_presumed_lawful"
            ),
        )
    )
    # A date of birth after the offense (or an age past any lifetime) is a recording error:
    # the age is unknown, and the law's presumption applies.
    plausible = pl.col("_age_recorded").is_between(0, 120)
    facts = facts.with_columns(
        pl.when(plausible).then(pl.col("_age_recorded")).otherwise(None).alias("age"),
        (pl.col("_age_recorded").is_not_null() & ~plausible).alias("age_impossible"),
        *[
            pl.when(pl.col(c).is_between(0, 120)).then(pl.col(c)).otherwise(None).alias(c)
            for c in ("age_at_conviction", "age_now")
        ],
    ).drop("_age_recorded")
    facts = facts.with_columns(
        [pl.col(k).fill_null(v) for k, v in _PRIOR_DEFAULTS.items()]
    ).with_columns(
        # A missing subdivision is read from the level: the old felony forms were 11357(a)
        # (concentrate) and 11360(a); the misdemeanor forms 11357(b) and 11360(b).
        pl.when((pl.col("section") == "11357") & pl.col("subsection").is_null())
        .then(pl.when(pl.col("level") == "felony").then(pl.lit("(a)")).otherwise(pl.lit("(b)")))
        .when((pl.col("section") == "11360") & pl.col("subsection").is_null())
        .then(pl.when(pl.col("level") == "felony").then(pl.lit("(a)")).otherwise(pl.lit("(b)")))
        .when((pl.col("section") == "11360") & ~pl.col("subsection").str.starts_with("(b)"))
        .then(pl.lit("(a)"))
        .otherwise(pl.col("subsection").str.extract(r"^(\([a-z0-9]+\))", 1))
        .alias("sub"),
    )
    # In the order of the determinations: deciding then keeps the order, and a statewide run's
    # table is not copied again to be sorted.
    return facts.sort(_ORDER)


#: The order of the determinations (and of convictions.csv).
_ORDER = ["subject_id", "count_id"]


# --------------------------------------------------------------------------------------------
# Decisions


def _statute_relief(facts: pl.DataFrame) -> pl.DataFrame:
    """What the statute makes of the count: dismiss, reduce_*, no_change, or null."""
    relief: pl.Expr = pl.lit(None, dtype=pl.String)
    for rule in reversed(RELIEF_RULES):
        relief = pl.when(rule.when()).then(pl.lit(rule.outcome)).otherwise(relief)
    level = pl.col("level")
    adjusted = (
        pl.when((relief == "reduce_misdemeanor") & level.is_in(["misdemeanor", "infraction"]))
        .then(pl.lit("no_change"))
        .when((relief == "reduce_infraction") & (level == "infraction"))
        .then(pl.lit("no_change"))
        .otherwise(relief)
    )
    facts = facts.with_columns(adjusted.alias("statute_relief"))
    felony_exception = (pl.col("statute_relief") == "reduce_misdemeanor") & pl.col("section").is_in(
        ["11358", "11359", "11360"]
    )
    return facts.with_columns(felony_exception.fill_null(False).alias("priors_apply"))


def policy_rule_set(policy: Policy, as_of: date) -> dict[str, tuple[Rule, ...]]:
    """The policy's rules by the step of the precedence they act in."""
    priors = (
        policy_rules.prior_effect_rules(policy) if policy.priors.effect != "not_eligible" else ()
    )
    return {
        "misdemeanor": policy_rules.misdemeanor_rules(policy),
        "section": policy_rules.section_rules(policy),
        "dismissal": policy_rules.dismissal_rules(policy, as_of),
        "after": policy_rules.after_rules(policy),
        "priors": priors,
        "challenge": policy_rules.lawful_rules(policy),
    }


def all_rules(policy: Policy, as_of: date) -> tuple[Rule, ...]:
    """Every rule a run under this policy evaluates, statute first."""
    if policy.flow == "configurable_tool":
        from clearance.tool_flow import flow_rules as tool_flow_rules

        return tool_flow_rules(policy, as_of, STATUTE_RULES)
    if policy.flow != "clearance":
        from clearance.county_flows import flow_rules

        return flow_rules(policy, as_of, STATUTE_RULES)
    groups = policy_rule_set(policy, as_of)
    return STATUTE_RULES + tuple(r for group in groups.values() for r in group)


def _flag(rule: Rule) -> str:
    return f"r__{rule.id}"


def _any(rules: tuple[Rule, ...] | list[Rule], outcome: str | None = None) -> pl.Expr:
    chosen = [r for r in rules if outcome is None or r.outcome == outcome]
    if not chosen:
        return pl.lit(False)
    return pl.any_horizontal([pl.col(_flag(r)) for r in chosen])


def _decide_clearance(policy: Policy, groups: dict[str, tuple[Rule, ...]]) -> pl.Expr:
    """The written precedence (module docstring) as one expression -> decision."""
    misdemeanor = groups["misdemeanor"]
    relief = pl.col("statute_relief")
    baseline = pl.col("section_baseline")
    has_prior = pl.col("has_prior")
    prior_question = _any(PRIOR_RULES, "review")
    effect = policy.priors.effect
    reduces = relief.str.starts_with("reduce").fill_null(False)
    felony = pl.col("level") == "felony"
    level_unknown = pl.col(_flag(_note("level_unknown")))
    return (
        pl.when(_any(misdemeanor, "review"))
        .then(pl.lit("review"))
        .when(_any(RECORD_RULES, "review"))
        .then(pl.lit("review"))
        .when(_any(BAR_RULES, "not_eligible"))
        .then(pl.lit("not_eligible"))
        .when(_any(BAR_RULES, "review"))
        .then(pl.lit("review"))
        .when(has_prior & pl.lit(effect == "not_eligible"))
        .then(pl.lit("not_eligible"))
        .when(has_prior & pl.lit(effect == "review"))
        .then(pl.lit("review"))
        .when(prior_question & pl.lit(effect != "warn"))
        .then(pl.lit("review"))
        .when(_any(groups["challenge"], "not_eligible"))
        .then(pl.lit("not_eligible"))
        .when(_any(groups["challenge"], "review"))
        .then(pl.lit("review"))
        .when(_any(misdemeanor, "dismiss"))
        .then(pl.lit("dismiss"))
        .when(baseline == "dismiss")
        .then(pl.lit("dismiss"))
        .when(baseline == "review")
        .then(pl.lit("review"))
        .when(_any(groups["dismissal"]))
        .then(pl.lit("dismiss"))
        .when((baseline == "reduce") & felony & reduces)
        .then(pl.lit("reduce"))
        .when(relief == "dismiss")
        .then(pl.lit("dismiss"))
        .when(level_unknown)
        .then(pl.lit("review"))
        .when(reduces & _any(groups["after"]))
        .then(pl.lit("review"))
        .when(reduces)
        .then(pl.lit("reduce"))
        .when(relief == "no_change")
        .then(pl.lit("not_eligible"))
        .otherwise(pl.lit("review"))
    )


def _note(rule_id: str) -> Rule:
    for rule in NOTE_RULES:
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


def _finish(
    facts: pl.DataFrame, rules: tuple[Rule, ...], decision: pl.Expr, explained: bool = True
) -> pl.DataFrame:
    """Decision, new level, remedy, reasons and explanation from the evaluated rules."""
    remedy_rules = {"remedy_still_serving", "remedy_completed"}
    facts = facts.with_columns(decision.alias("decision"))
    relieved = pl.col("decision").is_in(["dismiss", "reduce", "review"])
    new_level = (
        pl.when(pl.col("decision") != "reduce")
        .then(None)
        .when(pl.col("statute_relief") == "reduce_infraction")
        .then(pl.lit("infraction"))
        .otherwise(pl.lit("misdemeanor"))
    )
    remedy = (
        pl.when(~relieved)
        .then(None)
        .when(pl.col("serving"))
        .then(pl.lit(REMEDY_SERVING))
        .otherwise(pl.lit(REMEDY_COMPLETED))
    )

    def fired(rule: Rule) -> pl.Expr:
        flag = pl.col(_flag(rule))
        return flag & relieved if rule.id in remedy_rules else flag

    facts = facts.with_columns(new_level.alias("new_level"), remedy.alias("remedy"))
    if not explained:
        return facts.with_columns(
            pl.lit([], dtype=pl.List(pl.String)).alias("reasons"), pl.lit("").alias("explanation")
        )
    return explain(facts, rules, fired)


def explain(
    facts: pl.DataFrame, rules: tuple[Rule, ...], fired: Callable[[Rule], pl.Expr]
) -> pl.DataFrame:
    """Add `reasons` (rule ids) and `explanation` (their sentences with the facts used).

    Built in long form, one row per rule that fired on a count, so the text of a rule is
    formatted only where it fired: a handful per count rather than every rule for every count.
    """
    facts = facts.with_row_index("_row")
    parts = [
        facts.filter(fired(rule)).select(
            "_row",
            pl.lit(order, dtype=pl.Int32).alias("_order"),
            pl.lit(rule.id).alias("reason"),
            rule.explanation().alias("text"),
        )
        for order, rule in enumerate(rules)
    ]
    long = pl.concat(parts, how="vertical").sort(["_row", "_order"])
    grouped = long.group_by("_row", maintain_order=True).agg(
        pl.col("reason").alias("reasons"), pl.col("text").str.join(" | ").alias("explanation")
    )
    return (
        facts.drop("reasons", "explanation", strict=False)
        .join(grouped, on="_row", how="left", maintain_order="left")
        .with_columns(
            pl.col("reasons").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("explanation").fill_null(""),
        )
        .drop("_row")
    )


def _display(facts: pl.DataFrame) -> pl.DataFrame:
    """The code section as shown to readers: `PC 664/HS 11359` for an attempt."""
    shown = (
        pl.when(pl.col("attempt") & (pl.col("kind") == "cannabis"))
        .then(pl.format("PC 664/{}", pl.col("code_section")))
        .when((pl.col("kind") == "conspiracy") & (pl.col("section") != "182"))
        .then(pl.format("PC 182/{}", pl.col("code_section")))
        .otherwise(pl.col("code_section"))
    )
    return facts.with_columns(shown.alias("code_section"))


def evaluate(
    facts: pl.DataFrame, policy: Policy, as_of: date, explained: bool = True
) -> tuple[pl.DataFrame, tuple[Rule, ...]]:
    """Evaluate every rule on the facts and decide (the clearance precedence).

    `explained=False` skips the reasons and explanation text (the what-if figures need only
    the decisions)."""
    facts = _statute_relief(facts)
    groups = policy_rule_set(policy, as_of)
    key = policy_rules.section_key(policy)
    facts = facts.with_columns(key.alias("section_key")).with_columns(
        pl.col("section_key")
        .replace_strict(policy.sections, default=None, return_dtype=pl.String)
        .alias("section_baseline")
    )
    # A felony the office asks to reduce is read under the felony exceptions too. Conduct the
    # statute makes lawful never is: priors only keep a *reduction* a felony (HS 11362.1,
    # 11361.8(f)); an office that withholds its dismissal challenges it (`lawful_rules`).
    policy_reduces = (pl.col("section_baseline") == "reduce") & pl.col("section").is_in(
        ["11358", "11359", "11360"]
    )
    applies_all = policy.priors.applies_to == "all"
    lawful = (pl.col("statute_relief") == "dismiss").fill_null(False)
    facts = facts.with_columns(
        (
            (
                pl.col("priors_apply")
                | policy_reduces.fill_null(False)
                | pl.lit(applies_all) & (pl.col("kind") == "cannabis")
            )
            & ~lawful
        ).alias("priors_apply")
    )
    facts = facts.with_columns(
        [r.when().fill_null(False).alias(_flag(r)) for r in PRIOR_RULES]
    ).with_columns(_any(PRIOR_RULES, "prior").alias("has_prior"))
    rules = all_rules(policy, as_of)
    facts = facts.with_columns(
        [r.when().fill_null(False).alias(_flag(r)) for r in rules if r not in PRIOR_RULES]
    )
    decided = _finish(facts, rules, _decide_clearance(policy, groups), explained)
    return decided, rules


def _sentence_ends(records: Records, policy: Policy) -> tuple[Records, str]:
    """The records with each sentence's end as the policy reads it: when its longest part ends
    (the statute's reading, prop64.md section 2); with prison terms added up when the policy
    says they were served one after the other (`judgment.consecutive_prison_terms`); with every
    part added up in the flows that reproduce a county's tool, which read it so. Returns the
    records and the column read (facts built on one reading are not reused for another)."""
    counts = records.counts
    from clearance import county_flows

    if county_flows.is_county_flow(policy) or policy.flow == "configurable_tool":
        column = "sentence_end_added"
    elif policy.judgment.consecutive_prison_terms:
        column = "sentence_end_consecutive"
    else:
        return records, "sentence_end"
    if column not in counts.columns:
        return records, "sentence_end"
    read = pl.coalesce(column, "sentence_end").alias("sentence_end")
    return replace(records, counts=counts.with_columns(read)), column


def decide(
    records: Records,
    policy: Policy,
    as_of: date,
    county: str,
    cache: FactsCache | None = None,
    explained: bool = True,
    empty_ok: bool = False,
) -> Decided:
    """Decide every cannabis conviction of `county` under `policy` as of `as_of`.

    `cache` carries facts between decisions on the same records (a run and its what-ifs);
    `explained=False` is for figures only (the what-ifs of a summary): the table holds the
    `FIGURE_COLUMNS`, with reasons and explanations empty, and the related charges after the
    other rows instead of in (subject_id, count_id) order. A statewide what-if then costs a
    fraction of the memory of a run.

    `county` `EVERY_COUNTY` decides every county in one pass: each conviction as its own
    county's run decides it (the scope, and the related charges, are each county's own), so
    the rows of one county are that county's run's rows, in the same order. `counties` of the
    result names the counties with a conviction in scope: only those have a run, and the
    rows of the others (related charges a policy reviews) are the caller's to leave out. No
    conviction in scope is then no error (a part of the people may have none).

    `empty_ok`: no conviction of the county in scope is no error either, for a part of the
    people decided on its own (a bucket): its related charges in the county are still
    decided (a county's flow decides every one), and `counties` is empty; nor is a county
    present on other steps than a court's only (`has_county`)."""
    wanted = normalize_county(county)
    present = counties(records)
    every = wanted == EVERY_COUNTY
    if not every and wanted not in present and not (empty_ok and has_county(records, wanted)):
        listed = ", ".join(present[:12]) + (" ..." if len(present) > 12 else "")
        raise EngineError(
            f"county {county!r} does not appear in the input; counties present: {listed or 'none'}"
        )
    scope = tuple(present) if every else (wanted,)
    records, reading = _sentence_ends(records, policy)
    cache = {} if cache is None else cache
    key = (wanted, as_of, policy.judgment.model_dump_json() + reading)
    from clearance import county_flows

    county_flow = county_flows.is_county_flow(policy)
    # An explanation shows every fact; a county's flow reads the offense text itself.
    needed = set(_SHOWN_ONLY) if explained else {"offense_raw"} if county_flow else set()
    facts = cache.get(key)
    if facts is None or not needed <= set(facts.columns):
        facts = cache[key] = build_facts(records, scope, policy, as_of)
    if facts.height == 0 and not (every or empty_ok):
        raise EngineError(f"no cannabis conviction in {wanted.title()} County in the input")
    decided_counties = tuple(sorted(facts["county"].unique().to_list()))
    if policy.flow != "clearance":
        # The configurable tool and the county flows read a conviction as a disposition that
        # starts with CONVICTED: a PC 1203.4 set-aside was never in their scope.
        facts = facts.filter(~pl.col("set_aside"))
    if county_flow:
        facts = county_flows.source_facts(records, facts, policy, as_of)

    def flow(piece: pl.DataFrame) -> tuple[pl.DataFrame, tuple[Rule, ...]]:
        if policy.flow == "configurable_tool":
            from clearance.tool_flow import evaluate_tool

            return evaluate_tool(piece, policy, as_of, evaluate, explained)
        if county_flow:
            return county_flows.evaluate_county(piece, policy, as_of, evaluate, explained)
        return evaluate(piece, policy, as_of, explained)

    pieces: list[pl.DataFrame] = []
    rules: tuple[Rule, ...] = ()
    columns = _output_columns() if explained else list(FIGURE_COLUMNS)
    # Every rule reads one count's facts only, so the facts are decided a slice at a time: the
    # rules' working columns and texts for a statewide record never exist all at once.
    # (No conviction in scope still gives the table's columns, from one empty slice.)
    for start in range(0, facts.height, _SLICE_ROWS) or range(1):
        decided, rules = flow(facts.slice(start, _SLICE_ROWS))
        pieces.append(_display(decided).select(columns))
        del decided
    table = pl.concat(pieces, how="vertical", rechunk=False)
    find_related = county_flows.related if county_flow else _related
    related = find_related(records, table, policy, scope, as_of).select(columns)
    table = pl.concat([table, related], how="vertical")
    if explained and (related.height or not is_sorted_by(table, _ORDER)):
        table = table.sort(_ORDER)
    return Decided(
        table=table,
        policy=policy,
        as_of=as_of,
        county=wanted,
        rules=rules,
        cache=cache,
        counties=decided_counties,
    )


#: Facts read only to show and explain a decision: where the count was read and its texts.
#: (The priors' details quoted in explanations, the `*_detail` columns, are such facts too.)
_SHOWN_ONLY = ("offense_raw", "court_case_number", "source_file", "source_line", "source_lines",
               "source_rows")  # fmt: skip


def keep_for_figures(cache: FactsCache) -> None:
    """Drop from cached facts what only shown and explained decisions read.

    A run's what-ifs need figures only (`explained=False`); for a statewide run this is about
    200 MB less held while the outputs are written. An explained decision on the same cache
    later builds its facts again."""
    for key, facts in cache.items():
        shown = [c for c in facts.columns if c in _SHOWN_ONLY or c.endswith("_detail")]
        cache[key] = facts.drop(shown)


#: Facts decided at once (see `decide`).
_SLICE_ROWS = 200_000


def _output_columns() -> list[pl.Expr]:
    return [pl.col(c).alias("age") if c == "age" else pl.col(c) for c in DETERMINATION_COLUMNS]


def _policy_list(list_id: str, texts: list[str], source: str) -> lists.OffenseList:
    """A policy's list of related charges in the form of the cited lists."""
    entries = []
    for text in texts:
        code, section, subsection = lists.parse_listed(text)
        entries.append(lists.ListedOffense(code, section, subsection, source, text))
    return lists.OffenseList(id=list_id, title=list_id, citation=source, entries=tuple(entries))


def _related(
    records: Records,
    decided: pl.DataFrame,
    policy: Policy,
    counties: tuple[str, ...],
    as_of: date,
) -> pl.DataFrame:
    """Policy-listed convictions in the same arrest cycle as a cannabis conviction. Each
    county's follow its own relieved convictions (the county's run decides no other)."""
    rc = policy.related_charges
    empty = decided.clear()
    if not rc.dismiss and not rc.review:
        return empty
    dismiss_rule, review_rule = policy_rules.related_rules(policy)
    dismiss_list = _policy_list("related_dismiss", rc.dismiss, policy.source)
    review_list = _policy_list("related_review", rc.review, policy.source)
    counts = records.counts
    relieved_cycles = (
        decided.select("subject_id", "cycle_id", "county", "decision")
        .filter(pl.col("decision").is_in(["dismiss", "reduce"]))
        .select("subject_id", "cycle_id", "county")
        .unique()
        .with_columns(pl.lit(True).alias("_relieved"))
    )
    d_exact, _ = dismiss_list.match(pl.col("code"), pl.col("section"), pl.col("subsection"))
    r_exact, _ = review_list.match(pl.col("code"), pl.col("section"), pl.col("subsection"))
    in_county = (
        (pl.col("disposition") == "convicted")
        & (pl.col("step_type") == "court")
        & _in_counties(counties)
    )
    # Listed convictions can be a large share of a statewide record: they are narrowed down on
    # their keys, and only the related charges found are copied whole. (Their order does not
    # matter: `decide` sorts them in.)
    listed = _pick_rows(counts, in_county, d_exact | r_exact)
    keys = ["subject_id", "count_id", "cycle_id", "county", "code", "section", "subsection"]
    found = (
        as_strings(counts.select(keys)[listed])
        .with_columns(listed.alias("_row"))
        .join(decided.select("subject_id", "count_id"), on=["subject_id", "count_id"], how="anti")
    )
    # Which of the listed convictions' arrest cycles hold a cannabis charge: only the cannabis
    # counts of the people concerned are read, and only their cycles kept.
    cycles = found.select("subject_id", "cycle_id").unique()
    cannabis = counts.select(
        is_cannabis(pl.col("code"), pl.col("section"))
        & pl.col("subject_id").is_in(cycles["subject_id"].implode())
    ).to_series()
    cannabis_cycles = (
        as_strings(counts.select("subject_id", "cycle_id").filter(cannabis))
        .join(cycles, on=["subject_id", "cycle_id"], how="semi")
        .unique()
        .with_columns(pl.lit(True).alias("_cannabis"))
    )
    found = (
        found.join(relieved_cycles, on=["subject_id", "cycle_id", "county"], how="left")
        .join(cannabis_cycles, on=["subject_id", "cycle_id"], how="left")
        .with_columns(
            (d_exact & pl.col("_relieved").fill_null(False)).alias("_dismiss"),
            (r_exact & pl.col("_cannabis").fill_null(False)).alias("_review"),
        )
        .filter(pl.col("_dismiss") | pl.col("_review"))
    )
    if found.height == 0:
        return empty
    candidates = as_strings(counts[found["_row"]]).hstack(found.select("_dismiss", "_review"))
    return candidates.select(
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
        pl.col("event_date").alias("conviction_date"),
        pl.lit(None, dtype=pl.Int32).alias("age"),
        "level",
        pl.when("_dismiss").then(pl.lit("dismiss")).otherwise(pl.lit("review")).alias("decision"),
        pl.lit(None, dtype=pl.String).alias("new_level"),
        pl.when((pl.col("sentence_end") > as_of).fill_null(False))
        .then(pl.lit(REMEDY_SERVING))
        .otherwise(pl.lit(REMEDY_COMPLETED))
        .alias("remedy"),
        pl.when("_dismiss")
        .then(pl.lit([dismiss_rule.id]))
        .otherwise(pl.lit([review_rule.id]))
        .alias("reasons"),
        pl.when("_dismiss")
        .then(pl.lit(dismiss_rule.sentence()))
        .otherwise(pl.lit(review_rule.sentence()))
        .alias("explanation"),
        (pl.col("sentence_end") > as_of).fill_null(False).alias("serving"),
        "sentence_end",
        "source_file",
        "source_line",
    ).select(_output_columns())
