"""The exhibits: which convictions each motion, order and notice lists, in what words.

A bulk motion is only as good as its exhibit: the court clerk updates exactly the counts it
lists. So every relieved conviction of a run belongs to exactly one relief group (one motion and
one order per court and group), every conviction the People challenge is listed once in the
challenge notice, and a conviction still under review is in no filing at all. The frames built
here are display-ready text, sorted by court case number, and shared by the PDF, the DOCX and
the court's update file so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from clearance.engine import REMEDY_SERVING
from clearance.law.prop64 import STATUTE_RULES
from clearance.law.rule import Rule

#: Shown where the DOJ record carries no court case number (the clerk searches by CII and name).
NO_CASE = "none on record"
#: Shown for an unknown value.
UNKNOWN = "unknown"
#: Marks a dismissal the office's policy asks for where the statute alone would reduce.
POLICY_MARK = "(office policy)"
#: Marks a related charge dismissed with a relieved cannabis conviction.
RELATED_MARK = "(related charge)"
#: The statute's own dismissals: conduct now lawful, the conviction legally invalid.
STATUTE_DISMISSALS: tuple[str, ...] = tuple(r.id for r in STATUTE_RULES if r.outcome == "dismiss")


@dataclass(frozen=True)
class ReliefGroup:
    """One kind of relief a bulk motion asks for (one motion and order per court and group)."""

    key: str
    title: str
    #: The motion's request, completing "for an order ... each conviction listed".
    request: str
    motion_title: str
    order_title: str
    statute: str


DISMISS = ReliefGroup(
    key="dismiss-seal",
    title="Dismissal and sealing",
    request="dismissing and sealing",
    motion_title="NOTICE OF MOTION AND MOTION TO DISMISS AND SEAL CANNABIS CONVICTIONS",
    order_title="[PROPOSED] ORDER DISMISSING AND SEALING CANNABIS CONVICTIONS",
    statute="HS 11361.8(e)-(f)",
)
REDESIGNATE = ReliefGroup(
    key="redesignate",
    title="Redesignation",
    request="redesignating as a misdemeanor or infraction",
    motion_title="NOTICE OF MOTION AND MOTION TO REDESIGNATE CANNABIS CONVICTIONS AS "
    "MISDEMEANORS OR INFRACTIONS",
    order_title="[PROPOSED] ORDER REDESIGNATING CANNABIS CONVICTIONS AS MISDEMEANORS OR "
    "INFRACTIONS",
    statute="HS 11361.8(e)-(f), (h)",
)
RESENTENCE = ReliefGroup(
    key="recall-resentence",
    title="Recall and resentencing",
    request="recalling the sentence on, and resentencing or dismissing,",
    motion_title="NOTICE OF MOTION AND MOTION TO RECALL SENTENCES AND RESENTENCE OR DISMISS "
    "CANNABIS CONVICTIONS (PERSONS CURRENTLY SERVING)",
    order_title="[PROPOSED] ORDER RECALLING SENTENCES AND RESENTENCING OR DISMISSING "
    "CANNABIS CONVICTIONS",
    statute="HS 11361.8(a)-(b)",
)
#: Relief groups in the order their filings are written.
GROUPS: tuple[ReliefGroup, ...] = (DISMISS, REDESIGNATE, RESENTENCE)
GROUP_BY_KEY = {group.key: group for group in GROUPS}


@dataclass(frozen=True)
class Column:
    """A column of an exhibit table: the frame column it shows, its header and its width in
    points. Flexible columns share what the fixed ones leave of the page width (so identifiers
    are never squeezed into a wrap); without one, every column is scaled to the page."""

    key: str
    header: str
    width: float
    flex: bool = False


def column_widths(columns: tuple[Column, ...], usable: float) -> tuple[float, ...]:
    """Widths in the unit of `usable` (points, twips): fixed columns as given, flexible ones
    sharing the rest in proportion to their nominal widths."""
    flexible = sum(c.width for c in columns if c.flex)
    fixed = sum(c.width for c in columns if not c.flex)
    if not flexible or fixed >= usable:
        total = fixed + flexible
        return tuple(c.width * usable / total for c in columns)
    return tuple(
        (usable - fixed) * c.width / flexible if c.flex else float(c.width) for c in columns
    )


#: Widths in points for 7.5-point text: a 12-digit count, a 10-digit CII and a date fit whole.
_IDENTITY: tuple[Column, ...] = (
    Column("case", "Court case no.", 62),
    Column("name", "Name", 110, flex=True),
    Column("dob", "Date of birth", 47),
    Column("cii", "CII", 48),
    Column("count", "DOJ count", 56),
    Column("code_section", "Code section", 64),
    Column("conviction_date", "Convicted", 47),
    Column("level_now", "Level now", 52),
)
RELIEF_COLUMNS: tuple[Column, ...] = (
    *_IDENTITY,
    Column("relief", "Relief", 120, flex=True),
    Column("level_after", "Level after", 56),
)
CHALLENGE_COLUMNS: tuple[Column, ...] = (
    *_IDENTITY[:1],
    Column("name", "Name", 100),
    *_IDENTITY[2:],
    Column("grounds", "Grounds", 300, flex=True),
)


@dataclass(frozen=True)
class Exhibit:
    """A table attached to a filing: display text in `columns` order, one row per count."""

    label: str
    title: str
    columns: tuple[Column, ...]
    #: Display columns (strings) named by `Column.key`, plus `subject_id` and `count_id`.
    frame: pl.DataFrame

    def rows(self) -> list[tuple[str, ...]]:
        """The rows as text tuples, in order."""
        return list(self.frame.select([c.key for c in self.columns]).iter_rows())

    @property
    def people(self) -> int:
        return int(self.frame["subject_id"].n_unique()) if self.frame.height else 0


def relief_group() -> pl.Expr:
    """The relief group key of a conviction row; null when nothing is filed for it."""
    decision = pl.col("decision")
    return (
        pl.when(~decision.is_in(["dismiss", "reduce"]))
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("remedy") == REMEDY_SERVING)
        .then(pl.lit(RESENTENCE.key))
        .when(decision == "dismiss")
        .then(pl.lit(DISMISS.key))
        .otherwise(pl.lit(REDESIGNATE.key))
    )


def _title_level(column: str) -> pl.Expr:
    """'felony' -> 'Felony'; null -> 'unknown'."""
    return pl.col(column).fill_null(UNKNOWN).str.to_titlecase()


def _date_text(column: str) -> pl.Expr:
    return pl.col(column).dt.to_string("%Y-%m-%d").fill_null(UNKNOWN)


def _related() -> pl.Expr:
    return (pl.col("kind") == "related").fill_null(False)


def statutory_dismissal() -> pl.Expr:
    """The statute itself dismisses the count: a rule making the conduct lawful fired, so the
    conviction is legally invalid (HS 11361.8(f)). A dismissal without one is the office's
    policy going beyond the statute, which a court grants in furtherance of justice."""
    return (
        pl.col("reasons")
        .fill_null("")
        .str.split(";")
        .list.eval(pl.element().is_in(list(STATUTE_DISMISSALS)))
        .list.any()
    )


def relief_text() -> pl.Expr:
    """What the court is asked to do with the count, in the exhibit's words."""
    new_level = pl.col("new_level").fill_null("misdemeanor")
    serving = (pl.col("remedy") == REMEDY_SERVING).fill_null(False)
    dismiss = pl.col("decision") == "dismiss"
    recall = pl.when(serving).then(pl.lit("Recall sentence; d")).otherwise(pl.lit("D"))
    return (
        pl.when(dismiss & _related())
        .then(pl.format("{}ismiss {}", recall, pl.lit(RELATED_MARK)))
        .when(dismiss & statutory_dismissal())
        .then(pl.format("{}ismiss and seal", recall))
        .when(dismiss)
        .then(pl.format("{}ismiss and seal {}", recall, pl.lit(POLICY_MARK)))
        .when(serving)
        .then(pl.format("Recall sentence; resentence as {}", new_level))
        .otherwise(pl.format("Redesignate as {}", new_level))
    )


def level_after() -> pl.Expr:
    """The level of the count once the order is made ('Dismissed' for a dismissal)."""
    return (
        pl.when(pl.col("decision") == "dismiss")
        .then(pl.lit("Dismissed"))
        .otherwise(pl.col("new_level").fill_null("misdemeanor").str.to_titlecase())
    )


def statute_of_relief() -> pl.Expr:
    """The provision the relief rests on, for the court's update file."""
    path = (
        pl.when(pl.col("remedy") == REMEDY_SERVING)
        .then(pl.lit("HS 11361.8(b)"))
        .otherwise(pl.lit("HS 11361.8(f)"))
    )
    return (
        pl.when(_related())
        .then(pl.lit("PC 1385 (related charge, county policy)"))
        .when((pl.col("decision") == "dismiss") & ~statutory_dismissal())
        .then(pl.format("{}; PC 1385 (county policy)", path))
        .otherwise(path)
    )


def _identity() -> list[pl.Expr]:
    return [
        pl.col("court_case_number").fill_null(NO_CASE).alias("case"),
        pl.col("name").fill_null(UNKNOWN).alias("name"),
        _date_text("dob").alias("dob"),
        pl.col("cii_number").fill_null(UNKNOWN).alias("cii"),
        pl.col("count_id").alias("count"),
        pl.col("code_section").fill_null(UNKNOWN).alias("code_section"),
        _date_text("conviction_date").alias("conviction_date"),
        _title_level("offense_level").alias("level_now"),
    ]


def case_sort_key() -> pl.Expr:
    """The court case number in natural order: every run of digits is compared as a number
    ('7349007' before '73487683', '2-B' before '10-A'), the rest as text, and a run of digits
    before text at the same place (each run is prefixed by a marker that says which it is)."""
    chunks = pl.col("court_case_number").str.extract_all(r"\d+|\D+")
    padded = chunks.list.eval(
        pl.when(pl.element().str.contains(r"^\d"))
        .then(pl.lit("\x01") + pl.element().str.zfill(20))
        .otherwise(pl.lit("\x02") + pl.element())
    )
    return padded.list.join("")


def sort_for_filing(frame: pl.DataFrame) -> pl.DataFrame:
    """Court case number first in natural order (rows without one last), then name, person
    and count."""
    return (
        frame.with_columns(case_sort_key().alias("_case_key"))
        .sort(
            ["_case_key", "court_case_number", "name", "subject_id", "count_id"],
            nulls_last=True,
            maintain_order=True,
        )
        .drop("_case_key")
    )


def relief_exhibit(convictions: pl.DataFrame, group: ReliefGroup, court: str) -> Exhibit:
    """Exhibit A of a bulk motion and order: the group's convictions in one court."""
    rows = sort_for_filing(
        convictions.filter((relief_group() == group.key) & (pl.col("county") == court))
    )
    frame = rows.select(
        *_identity(),
        relief_text().alias("relief"),
        level_after().alias("level_after"),
        "subject_id",
        "count_id",
    )
    return Exhibit(
        label="EXHIBIT A",
        title=f"{group.title}: convictions listed ({group.statute})",
        columns=RELIEF_COLUMNS,
        frame=frame,
    )


#: Rule outcomes that say why a count gets no relief (the grounds of a challenge).
GROUND_OUTCOMES = frozenset({"not_eligible", "prior", "no_change"})


def challenge_grounds(frame: pl.DataFrame, rules: tuple[Rule, ...]) -> pl.Series:
    """Per row, the explanation lines of the rules that bar relief, with their facts.

    A count's `reasons` and the ` | `-separated lines of its `explanation` come from the same
    fired rules in the same order, so they are paired; only the lines of rules whose outcome
    bars relief are kept. Where they cannot be paired, or none bars relief, the whole
    explanation is shown (a ground is never dropped).
    """
    grounds_ids = [r.id for r in rules if r.outcome in GROUND_OUTCOMES]
    indexed = frame.select(
        pl.int_range(pl.len()).alias("_row"),
        pl.col("reasons").fill_null("").str.split(";").alias("_ids"),
        pl.col("explanation").fill_null("").str.split(" | ").alias("_lines"),
        pl.col("explanation").fill_null("").alias("_all"),
    )
    paired = indexed.filter(pl.col("_ids").list.len() == pl.col("_lines").list.len())
    kept = (
        paired.explode(["_ids", "_lines"])
        .filter(pl.col("_ids").is_in(grounds_ids))
        .group_by("_row", maintain_order=True)
        .agg(pl.col("_lines").str.join("; ").alias("_kept"))
    )
    joined = indexed.join(kept, on="_row", how="left").sort("_row")
    return joined.select(pl.coalesce("_kept", "_all").alias("grounds"))["grounds"]


def challenge_exhibit(convictions: pl.DataFrame, court: str, rules: tuple[Rule, ...]) -> Exhibit:
    """The convictions the People challenge in one court (decision not eligible), with grounds."""
    rows = sort_for_filing(
        convictions.filter((pl.col("decision") == "not_eligible") & (pl.col("county") == court))
    )
    frame = rows.select(*_identity(), "subject_id", "count_id").with_columns(
        challenge_grounds(rows, rules)
    )
    return Exhibit(
        label="EXHIBIT A",
        title="Convictions the People challenge, with the grounds (HS 11361.9)",
        columns=CHALLENGE_COLUMNS,
        frame=frame,
    )
