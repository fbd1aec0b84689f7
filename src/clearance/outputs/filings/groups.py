"""Relief groups: which filing each decided conviction goes in, and on what authority.

A court grants relief on an authority, and a motion may ask only what its authority gives.
So every conviction the run relieves is put in one group by the authority its relief rests
on, read from the rules that fired on it (their `source`, statute or policy, and `outcome`),
never from rule ids written here:

- **dismiss-seal**: the statute dismisses it (a statute rule with outcome `dismiss` fired: the
  conduct is now lawful) and the sentence is complete: dismissed and sealed as legally invalid,
  HS 11361.8(e)-(f);
- **redesignate**: the statute reduces it (a statute rule `reduce_*` fired, no statute bar)
  and the sentence is complete: redesignated, HS 11361.8(e)-(f), (h);
- **recall-resentence**: either of those while the person is still serving: recall and
  resentence, or dismissal of the sentence as legally invalid, HS 11361.8(a)-(d), never sealed;
- **dismissals by office policy** (a dismissal no statute rule gives) and **related charges**,
  each their own group, on the authority the policy names (`filing.policy_authority`, see
  `docs/filings.md`): while the sentence runs, dismissal in furtherance of justice (PC 1385,
  with the recall); once it is complete, PC 1385 no longer reaches it (People v. Chavez (2018)
  4 Cal.5th 771), so the People can only say they do not oppose dismissal on the person's own
  petition (PC 1203.4, 1203.4a, 1203.41, 1203.42) and ask the statute's relief meanwhile. Never
  sealed under 11361.8(f): they are not legally invalid.

Rows that no authority covers are listed as "not filed" with the reason; rows without a court
case number are held back from every order until one is supplied; rows still in review are
listed per office with the HS 11361.9 deadline. Nothing decided vanishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from clearance.engine import REMEDY_SERVING
from clearance.law.rule import Rule

GroupKind = Literal["statute", "policy", "related"]


@dataclass(frozen=True)
class ReliefGroup:
    """One kind of filing: a motion and order (or a notice alone) per court and group."""

    key: str
    title: str
    kind: GroupKind
    #: "motion": a motion and a proposed order; "notice": a notice without an order.
    document: Literal["motion", "notice"]
    #: The authority the group rests on, as cited in its title and exhibit.
    authority: str
    #: People still serving (True) or with the sentence complete (False).
    serving: bool
    seals: bool
    #: A hearing is requested (the no-hearing rule of HS 11361.8(g) covers (e) applications).
    hearing: bool
    motion_title: str
    order_title: str
    #: The motion's request, completing "move the Court for an order ... each conviction".
    request: str = ""


DISMISS_SEAL = ReliefGroup(
    key="dismiss-seal",
    title="Dismissal and sealing",
    kind="statute",
    document="motion",
    authority="HS 11361.8(e)-(f)",
    serving=False,
    seals=True,
    hearing=False,
    motion_title="NOTICE OF MOTION AND MOTION TO DISMISS AND SEAL CANNABIS CONVICTIONS "
    "(SENTENCE COMPLETED)",
    order_title="[PROPOSED] ORDER DISMISSING AND SEALING CANNABIS CONVICTIONS",
    request=(
        "dismissing and sealing, as legally invalid (Health and Safety Code section "
        "11361.8, subdivisions (e) and (f)),"
    ),
)
REDESIGNATE = ReliefGroup(
    key="redesignate",
    title="Redesignation",
    kind="statute",
    document="motion",
    authority="HS 11361.8(e)-(f), (h)",
    serving=False,
    seals=False,
    hearing=False,
    motion_title="NOTICE OF MOTION AND MOTION TO REDESIGNATE CANNABIS CONVICTIONS AS "
    "MISDEMEANORS OR INFRACTIONS (SENTENCE COMPLETED)",
    order_title="[PROPOSED] ORDER REDESIGNATING CANNABIS CONVICTIONS AS MISDEMEANORS OR "
    "INFRACTIONS",
    request=(
        "redesignating as a misdemeanor or infraction (Health and Safety Code section "
        "11361.8, subdivisions (e), (f) and (h)),"
    ),
)
RECALL = ReliefGroup(
    key="recall-resentence",
    title="Recall and resentencing",
    kind="statute",
    document="motion",
    authority="HS 11361.8(a)-(d)",
    serving=True,
    seals=False,
    hearing=True,
    motion_title="NOTICE OF MOTION AND MOTION TO RECALL SENTENCES AND RESENTENCE OR DISMISS "
    "SENTENCES (PERSONS CURRENTLY SERVING)",
    order_title="[PROPOSED] ORDER RECALLING SENTENCES AND RESENTENCING OR DISMISSING SENTENCES",
    request=(
        "recalling the sentence on, and resentencing or dismissing the sentence on "
        "(Health and Safety Code section 11361.8, subdivisions (a) through (d)),"
    ),
)
POLICY_1385 = ReliefGroup(
    key="policy-dismiss-pc1385",
    title="Dismissal by office policy, sentence not complete",
    kind="policy",
    document="motion",
    authority="PC 1385; HS 11361.8(a)-(b)",
    serving=True,
    seals=False,
    hearing=True,
    motion_title="NOTICE OF MOTION AND MOTION TO RECALL SENTENCES AND DISMISS IN FURTHERANCE "
    "OF JUSTICE (PENAL CODE § 1385; PERSONS CURRENTLY SERVING)",
    order_title="[PROPOSED] ORDER DISMISSING CONVICTIONS IN FURTHERANCE OF JUSTICE (PENAL "
    "CODE § 1385)",
    request=(
        "recalling the sentence on, and dismissing in furtherance of justice (Penal "
        "Code section 1385; Health and Safety Code section 11361.8, subdivisions (a) "
        "and (b)),"
    ),
)
RELATED_1385 = ReliefGroup(
    key="related-dismiss-pc1385",
    title="Dismissal of related charges, sentence not complete",
    kind="related",
    document="motion",
    authority="PC 1385",
    serving=True,
    seals=False,
    hearing=True,
    motion_title="NOTICE OF MOTION AND MOTION TO DISMISS RELATED CONVICTIONS IN FURTHERANCE OF "
    "JUSTICE (PENAL CODE § 1385; PERSONS CURRENTLY SERVING)",
    order_title="[PROPOSED] ORDER DISMISSING RELATED CONVICTIONS IN FURTHERANCE OF JUSTICE "
    "(PENAL CODE § 1385)",
    request=("dismissing in furtherance of justice (Penal Code section 1385),"),
)
POLICY_1203 = ReliefGroup(
    key="policy-no-opposition-pc1203.4",
    title="No opposition to dismissal by office policy, sentence complete",
    kind="policy",
    document="notice",
    authority="PC 1203.4, 1203.4a, 1203.41, 1203.42",
    serving=False,
    seals=False,
    hearing=False,
    motion_title="PEOPLE'S NOTICE OF NON-OPPOSITION TO DISMISSAL ON PETITION (PENAL CODE "
    "§§ 1203.4, 1203.4a, 1203.41, 1203.42)",
    order_title="",
)
RELATED_1203 = ReliefGroup(
    key="related-no-opposition-pc1203.4",
    title="No opposition to dismissal of related charges, sentence complete",
    kind="related",
    document="notice",
    authority="PC 1203.4, 1203.4a, 1203.41, 1203.42",
    serving=False,
    seals=False,
    hearing=False,
    motion_title="PEOPLE'S NOTICE OF NON-OPPOSITION TO DISMISSAL OF RELATED CONVICTIONS ON "
    "PETITION (PENAL CODE §§ 1203.4, 1203.4a, 1203.41, 1203.42)",
    order_title="",
)
#: Groups with a motion and an order (the court update file lists their rows).
ORDER_GROUPS: tuple[ReliefGroup, ...] = (
    DISMISS_SEAL,
    REDESIGNATE,
    RECALL,
    POLICY_1385,
    RELATED_1385,
)
#: Groups with a notice alone (the court acts on each person's petition).
NOTICE_GROUPS: tuple[ReliefGroup, ...] = (POLICY_1203, RELATED_1203)
GROUPS: tuple[ReliefGroup, ...] = ORDER_GROUPS + NOTICE_GROUPS
GROUP_BY_KEY = {group.key: group for group in GROUPS}

#: What a policy may name for its dismissals beyond the statute (`filing.policy_authority`),
#: per sentence status, and what each choice files.
AUTHORITY_CHOICES: dict[str, dict[str, str]] = {
    "serving": {
        "pc1385": "recall under HS 11361.8(b) and dismissal in furtherance of justice (PC "
        "1385): the court keeps jurisdiction while the sentence or probation runs",
        "statute": "ask only the statute's relief (recall and resentence); the policy's "
        "dismissal is listed as not filed",
    },
    "completed": {
        "pc1203.4": "ask the statute's relief (redesignation) and file a notice that the "
        "People do not oppose dismissal on the person's petition (PC 1203.4, 1203.4a, "
        "1203.41, 1203.42); PC 1385 no longer reaches a completed sentence (People v. Chavez)",
        "statute": "ask only the statute's relief (redesignation); the policy's dismissal is "
        "listed as not filed",
    },
}

#: The public-safety ground (HS 11361.8(b)): only the office can assert it.
PUBLIC_SAFETY_GROUND = (
    "Unreasonable risk of danger to public safety, asserted by the People (HS 11361.8(b)(1)-(2); "
    "PC 1170.18(c))"
)
#: Statute rule outcomes that bar the statute's own relief.
_BARS = frozenset({"not_eligible", "prior", "no_change", "review"})


@dataclass(frozen=True)
class RuleSets:
    """The rule ids of each role, read from the rule objects of the run's policy."""

    statute_dismiss: tuple[str, ...]
    statute_infraction: tuple[str, ...]
    statute_misdemeanor: tuple[str, ...]
    statute_bar: tuple[str, ...]
    city_attorney: tuple[str, ...]

    @classmethod
    def of(cls, rules: tuple[Rule, ...]) -> RuleSets:
        statute = [r for r in rules if r.source == "statute"]
        return cls(
            statute_dismiss=tuple(r.id for r in statute if r.outcome == "dismiss"),
            statute_infraction=tuple(r.id for r in statute if r.outcome == "reduce_infraction"),
            statute_misdemeanor=tuple(r.id for r in statute if r.outcome == "reduce_misdemeanor"),
            statute_bar=tuple(r.id for r in statute if r.outcome in _BARS),
            city_attorney=tuple(
                r.id
                for r in rules
                if r.source == "policy"
                and r.outcome == "review"
                and "city attorney" in f"{r.id} {r.text}".replace("_", " ").lower()
            ),
        )


def fired(ids: tuple[str, ...]) -> pl.Expr:
    """Whether any of the rule ids is among the row's reasons."""
    if not ids:
        return pl.lit(False)
    return (
        pl.col("reasons")
        .fill_null("")
        .str.split(";")
        .list.eval(pl.element().is_in(list(ids)))
        .list.any()
        .fill_null(False)
    )


def statute_level(sets: RuleSets) -> pl.Expr:
    """What the statute alone gives the count: dismiss, infraction, misdemeanor, or null
    (nothing: a statute bar or question fired, or no relief rule did)."""
    return (
        pl.when(fired(sets.statute_bar))
        .then(pl.lit(None, dtype=pl.String))
        .when(fired(sets.statute_dismiss))
        .then(pl.lit("dismiss"))
        .when(fired(sets.statute_infraction))
        .then(pl.lit("infraction"))
        .when(fired(sets.statute_misdemeanor))
        .then(pl.lit("misdemeanor"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def serving_expr() -> pl.Expr:
    """The person is still serving the count's sentence (the determinations' fact, else the
    remedy the engine chose)."""
    remedy = (pl.col("remedy") == REMEDY_SERVING).fill_null(False)
    return pl.col("serving").fill_null(remedy)


@dataclass(frozen=True)
class Authority:
    """What the policy names for its dismissals beyond the statute (None: nothing named)."""

    serving: str | None
    completed: str | None


def classify(
    convictions: pl.DataFrame, rules: tuple[Rule, ...], authority: Authority
) -> pl.DataFrame:
    """The convictions with the columns the filings read:

    - `statute_level`: what the statute alone gives (see `statute_level`);
    - `is_serving`; `policy_dismissal` (a dismissal no statute rule gives, related charges
      apart); `related`;
    - `order_group` / `notice_group`: the group keys (null: in none);
    - `authority_missing`: "serving" or "completed" when the policy names no authority for
      this row's dismissal (the filings refuse to be written);
    - `unfiled_reason`: why a relieved row is in no filing;
    - `level_differs`: a reduction filed at the statute's level, which is not the level the
      office's decision recorded (an unchallenged conviction takes the statute's level);
    - `office`: who reviews a row left in review (district_attorney, city_attorney).
    """
    sets = RuleSets.of(rules)
    frame = convictions.with_columns(
        statute_level(sets).alias("statute_level"),
        serving_expr().fill_null(False).alias("is_serving"),
        (pl.col("kind") == "related").fill_null(False).alias("related"),
    )
    decision = pl.col("decision")
    level = pl.col("statute_level")
    serving = pl.col("is_serving")
    related = pl.col("related")
    relief = decision.is_in(["dismiss", "reduce"])
    lesser = level.is_in(["misdemeanor", "infraction"]).fill_null(False)
    statute_group = (
        pl.when(serving)
        .then(pl.lit(RECALL.key))
        .otherwise(
            pl.when(level == "dismiss")
            .then(pl.lit(DISMISS_SEAL.key))
            .otherwise(pl.lit(REDESIGNATE.key))
        )
    )
    chosen = pl.when(serving).then(pl.lit(authority.serving)).otherwise(pl.lit(authority.completed))
    frame = frame.with_columns(
        ((decision == "dismiss") & ~related & (level != "dismiss").fill_null(True)).alias(
            "policy_dismissal"
        ),
        chosen.cast(pl.String).alias("_authority"),
    )
    policy = pl.col("policy_dismissal")
    named = pl.col("_authority")
    dismissed_related = related & (decision == "dismiss")
    order_group = (
        pl.when(~relief)
        .then(pl.lit(None, dtype=pl.String))
        .when(dismissed_related)
        .then(pl.when(named == "pc1385").then(pl.lit(RELATED_1385.key)))
        .when(related)
        .then(pl.lit(None, dtype=pl.String))
        .when((decision == "dismiss") & (level == "dismiss"))
        .then(statute_group)
        .when(policy & (named == "pc1385"))
        .then(pl.lit(POLICY_1385.key))
        .when(policy & lesser)
        .then(statute_group)
        .when(policy)
        .then(pl.lit(None, dtype=pl.String))
        .when((decision == "reduce") & lesser)
        .then(statute_group)
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    notice_group = (
        pl.when(dismissed_related & ~serving & (named == "pc1203.4"))
        .then(pl.lit(RELATED_1203.key))
        .when(policy & ~serving & (named == "pc1203.4"))
        .then(pl.lit(POLICY_1203.key))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    missing = (
        pl.when((policy | dismissed_related) & named.is_null())
        .then(pl.when(serving).then(pl.lit("serving")).otherwise(pl.lit("completed")))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    frame = frame.with_columns(
        order_group.alias("order_group"),
        notice_group.alias("notice_group"),
        missing.alias("authority_missing"),
    )
    unfiled = (
        pl.when(
            ~relief | pl.col("order_group").is_not_null() | pl.col("notice_group").is_not_null()
        )
        .then(pl.lit(None, dtype=pl.String))
        .when(dismissed_related)
        .then(
            pl.lit(
                "related charge: the statute gives it no relief and the policy's authority "
                "choice for this sentence status files none"
            )
        )
        .when(policy)
        .then(
            pl.lit(
                "dismissal by office policy where the statute gives no relief, and the policy's "
                "authority choice for this sentence status is the statute's relief alone"
            )
        )
        .when(level == "dismiss")
        .then(
            pl.lit(
                "the office asks a reduction where the statute dismisses (the conduct is now "
                "lawful): file it as a challenge, or dismiss it"
            )
        )
        .otherwise(pl.lit("no relief under the statute supports this reduction"))
    )
    review_office = (
        pl.when(decision != "review")
        .then(pl.lit(None, dtype=pl.String))
        .when(fired(sets.city_attorney))
        .then(pl.lit("city_attorney"))
        .otherwise(pl.lit("district_attorney"))
    )
    # An unchallenged conviction is redesignated at the level the statute sets (HS 11361.8(f),
    # 11361.9), whatever level the office's flow recorded: the difference is stated.
    differs = ((decision == "reduce") & lesser & pl.col("new_level").ne_missing(level)).fill_null(
        False
    )
    return frame.with_columns(
        unfiled.alias("unfiled_reason"),
        review_office.alias("office"),
        differs.alias("level_differs"),
    ).drop("_authority")
