"""The exhibits: which convictions each filing lists, in what words, public or confidential.

A bulk order is only as good as its exhibit: the clerk updates exactly the counts it lists. The
exhibits attached to the public motion, order and notice (Exhibit A) carry only what the court
needs to act: a row number, the court case number, the count and the relief or ground. Who the
person is (name, date of birth, CII number) and the record's detail (DOJ count number, section,
dates, the facts of a ground) are in Exhibit B, a separate confidential file lodged
conditionally under seal (California Rules of Court, rules 2.550-2.551), whose rows carry the
same numbers. Sealing a conviction and deeming it never to have occurred (HS 11361.8(f),
11361.9 as amended by AB 1706) would be undone by a public list of the people it protects.

The frames are display text, sorted by court case number, and shared by the PDF, the DOCX, the
court update file and the lists, so none can disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from clearance.law.rule import Rule

#: Shown for an unknown value.
UNKNOWN = "unknown"
#: Shown where the record has no court case number (the row is in no order until one is given).
NO_CASE = "not on record"


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


@dataclass(frozen=True)
class Exhibit:
    """A table attached to a filing: display text in `columns` order, one row per count."""

    label: str
    title: str
    columns: tuple[Column, ...]
    #: Display columns (strings) named by `Column.key`, plus `subject_id` and `count_id`.
    frame: pl.DataFrame
    confidential: bool = False

    def rows(self) -> list[tuple[str, ...]]:
        """The rows as text tuples, in order."""
        return list(self.frame.select([c.key for c in self.columns]).iter_rows())

    @property
    def people(self) -> int:
        return int(self.frame["subject_id"].n_unique()) if self.frame.height else 0


# ------------------------------------------------------------------------------------------
# Columns. Widths in points for 7.5-point DejaVu Sans: a 12-digit count, a 10-digit CII and
# a date fit whole.

ROW = Column("row", "Row", 30)
CASE = Column("case", "Court case no.", 82)
COUNT = Column("count", "Count", 34)
PUBLIC_RELIEF: tuple[Column, ...] = (ROW, CASE, COUNT, Column("relief", "Relief", 300, flex=True))
PUBLIC_RECALL: tuple[Column, ...] = (
    ROW,
    CASE,
    COUNT,
    Column("relief", "Relief", 150, flex=True),
    Column("new_sentence", "New sentence (HS 11361.8(b)-(d))", 120),
    Column("credits", "Credit for time served (days)", 78),
    Column("supervision", "Supervision (HS 11361.8(c))", 100),
    Column("custody", "Custody or release", 104),
)
PUBLIC_CHALLENGE: tuple[Column, ...] = (
    ROW,
    CASE,
    COUNT,
    Column("ground", "Ground", 300, flex=True),
)
_IDENTITY: tuple[Column, ...] = (
    ROW,
    Column("case", "Court case no.", 70),
    Column("name", "Name", 110, flex=True),
    Column("dob", "Date of birth", 56),
    Column("cii", "CII", 58),
    Column("doj_count", "DOJ count", 68),
    Column("code_section", "Code section", 74),
    Column("conviction_date", "Convicted", 56),
)
CONFIDENTIAL_RELIEF: tuple[Column, ...] = (
    *_IDENTITY,
    Column("level_now", "Level now", 60),
    Column("relief", "Relief", 120, flex=True),
)
CONFIDENTIAL_RECALL: tuple[Column, ...] = (
    *CONFIDENTIAL_RELIEF,
    Column("sentence_end", "Sentence ends", 56),
)
CONFIDENTIAL_CHALLENGE: tuple[Column, ...] = (
    *_IDENTITY,
    Column("grounds", "Grounds, with the facts of the record", 300, flex=True),
)
REVIEW_COLUMNS: tuple[Column, ...] = (
    *_IDENTITY,
    Column("level_now", "Level now", 60),
    Column("why", "Why it is in review", 260, flex=True),
)
NEEDS_CASE_COLUMNS: tuple[Column, ...] = (
    ROW,
    Column("name", "Name", 110, flex=True),
    Column("dob", "Date of birth", 56),
    Column("cii", "CII", 58),
    Column("doj_count", "DOJ count", 68),
    Column("code_section", "Code section", 74),
    Column("conviction_date", "Convicted", 56),
    Column("court_case_number", "Court case no. (to fill in)", 90),
    Column("filing", "For", 120, flex=True),
)


# ------------------------------------------------------------------------------------------
# Display expressions


def _title_level(column: str) -> pl.Expr:
    """'felony' -> 'Felony'; null -> 'unknown'."""
    return pl.col(column).fill_null(UNKNOWN).str.to_titlecase()


def date_text(column: str) -> pl.Expr:
    return pl.col(column).dt.to_string("%Y-%m-%d").fill_null(UNKNOWN)


def count_number() -> pl.Expr:
    """The count's number in its court event as DOJ records it (digits 7-9 of CNT_ORDER)."""
    digits = pl.col("count_id").str.slice(6, 3)
    return (
        pl.when(pl.col("count_id").str.contains(r"^\d{12}$"))
        .then(digits.cast(pl.Int32, strict=False).cast(pl.String))
        .otherwise(pl.col("count_id"))
    )


def relief_text() -> pl.Expr:
    """What the court is asked to do with the count, by the group it is in."""
    level = pl.col("statute_level").fill_null("misdemeanor")
    group = pl.coalesce(pl.col("order_group"), pl.col("notice_group"))
    return (
        pl.when(group == "dismiss-seal")
        .then(pl.lit("Dismiss and seal"))
        .when(group == "redesignate")
        .then(pl.format("Redesignate as {}", level))
        .when((group == "recall-resentence") & (level == "dismiss"))
        .then(pl.lit("Recall sentence; dismiss it as legally invalid"))
        .when(group == "recall-resentence")
        .then(pl.format("Recall sentence; resentence as {}", level))
        .when(group.str.ends_with("pc1385"))
        .then(pl.lit("Recall sentence; dismiss in furtherance of justice"))
        .when(group.str.ends_with("pc1203.4"))
        .then(pl.lit("No opposition to dismissal on the person's petition"))
        .otherwise(pl.lit(""))
    )


def level_after() -> pl.Expr:
    """The level of the count once the order is made ('Dismissed' for a dismissal)."""
    group = pl.col("order_group")
    return (
        pl.when(
            group.str.ends_with("pc1385")
            | (group == "dismiss-seal")
            | ((group == "recall-resentence") & (pl.col("statute_level") == "dismiss"))
        )
        .then(pl.lit("Dismissed"))
        .otherwise(pl.col("statute_level").fill_null("misdemeanor").str.to_titlecase())
    )


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
    """Court case number first in natural order (rows without one last), then person and
    count: an order that never depends on names."""
    return (
        frame.with_columns(case_sort_key().alias("_case_key"))
        .sort(
            ["_case_key", "court_case_number", "subject_id", "count_id"],
            nulls_last=True,
            maintain_order=True,
        )
        .drop("_case_key")
    )


def _numbered(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(pl.int_range(1, pl.len() + 1).cast(pl.String).alias("row"))


def _identity() -> list[pl.Expr]:
    return [
        pl.col("court_case_number").fill_null(NO_CASE).alias("case"),
        pl.col("name").fill_null(UNKNOWN).alias("name"),
        date_text("dob").alias("dob"),
        pl.col("cii_number").fill_null(UNKNOWN).alias("cii"),
        pl.col("count_id").alias("doj_count"),
        pl.col("code_section").fill_null(UNKNOWN).alias("code_section"),
        date_text("conviction_date").alias("conviction_date"),
        _title_level("offense_level").alias("level_now"),
    ]


def group_rows(classified: pl.DataFrame, group_key: str, court: str) -> pl.DataFrame:
    """The rows of one group in one court, in filing order, numbered."""
    column = "notice_group" if group_key.endswith("pc1203.4") else "order_group"
    rows = classified.filter((pl.col(column) == group_key) & (pl.col("county") == court))
    return _numbered(sort_for_filing(rows))


BLANK = "________"


def public_relief_exhibit(rows: pl.DataFrame, title: str, recall: bool) -> Exhibit:
    """Exhibit A of a motion, order or notice: row, case, count and relief, nothing more."""
    extra = (
        [pl.lit(BLANK).alias(c) for c in ("new_sentence", "credits", "supervision", "custody")]
        if recall
        else []
    )
    frame = rows.select(
        "row",
        pl.col("court_case_number").fill_null(NO_CASE).alias("case"),
        count_number().alias("count"),
        relief_text().alias("relief"),
        *extra,
        "subject_id",
        "count_id",
    )
    return Exhibit(
        label="EXHIBIT A",
        title=title,
        columns=PUBLIC_RECALL if recall else PUBLIC_RELIEF,
        frame=frame,
    )


def confidential_relief_exhibit(rows: pl.DataFrame, title: str, recall: bool) -> Exhibit:
    """Exhibit B: the same rows with who each person is and the record's detail."""
    extra = [date_text("sentence_end").alias("sentence_end")] if recall else []
    frame = rows.select(
        "row",
        *_identity(),
        relief_text().alias("relief"),
        *extra,
        "subject_id",
        "count_id",
    )
    return Exhibit(
        label="EXHIBIT B",
        title=title,
        columns=CONFIDENTIAL_RECALL if recall else CONFIDENTIAL_RELIEF,
        frame=frame,
        confidential=True,
    )


# ------------------------------------------------------------------------------------------
# Grounds of a challenge

#: Rule outcomes that say why a count gets no relief (the grounds of a challenge).
GROUND_OUTCOMES = frozenset({"not_eligible", "prior", "no_change"})
#: The public wording of a disqualifying prior: the ground, not the prior offense.
PRIOR_GROUND = (
    "Ineligible: with a prior conviction the offense may still be punished as a felony (HS "
    "11358(d), 11359(c), 11360(a)(3))"
)


def public_ground(rule: Rule) -> str:
    """A ground as the public notice states it: the rule and its citation, never the facts
    of the record; a disqualifying prior without the offense it was."""
    if rule.outcome == "prior":
        return PRIOR_GROUND
    return f"Ineligible: {rule.text} ({rule.citation})"


def public_grounds(frame: pl.DataFrame, rules: tuple[Rule, ...]) -> pl.Series:
    """Per row, the public wording of the rules that bar relief (each once)."""
    texts = {r.id: public_ground(r) for r in rules if r.outcome in GROUND_OUTCOMES}
    fallback = "Ineligible under HS 11361.8 (the facts are in confidential Exhibit B)"
    ids = frame.select(pl.col("reasons").fill_null("").str.split(";"))["reasons"]
    out = []
    for row in ids.to_list():
        seen: dict[str, None] = {}
        for rule_id in row or []:
            if rule_id in texts:
                seen.setdefault(texts[rule_id], None)
        out.append("; ".join(seen) or fallback)
    return pl.Series("ground", out, dtype=pl.String)


def fired_lines(
    frame: pl.DataFrame, rules: tuple[Rule, ...], outcomes: frozenset[str]
) -> pl.Series:
    """Per row, the explanation lines of the fired rules with one of `outcomes`, facts kept.

    A count's `reasons` and the ` | `-separated lines of its `explanation` come from the same
    fired rules in the same order, so they are paired. A policy rule's line cites the policy
    as "office policy" (its full source is stated once, elsewhere), a statute rule's its
    citation. Where they cannot be paired, or no such rule fired, the whole explanation is
    shown (a ground or a reason is never dropped).
    """
    chosen = [r for r in rules if r.outcome in outcomes]
    table = pl.DataFrame(
        {
            "_ids": [r.id for r in chosen],
            "_skip": [len(r.sentence()) for r in chosen],
            "_text": [r.text for r in chosen],
            "_cite": [r.citation if r.source == "statute" else "office policy" for r in chosen],
        },
        schema={"_ids": pl.String, "_skip": pl.Int64, "_text": pl.String, "_cite": pl.String},
    )
    indexed = frame.select(
        pl.int_range(pl.len()).alias("_row"),
        pl.col("reasons").fill_null("").str.split(";").alias("_ids"),
        pl.col("explanation").fill_null("").str.split(" | ").alias("_lines"),
        pl.col("explanation").fill_null("").alias("_all"),
    )
    paired = indexed.filter(pl.col("_ids").list.len() == pl.col("_lines").list.len())
    kept = (
        paired.explode(["_ids", "_lines"])
        .join(table, on="_ids", how="inner", maintain_order="left")
        .with_columns(
            pl.format(
                "{}{} ({})",
                pl.col("_text"),
                pl.col("_lines").str.slice(pl.col("_skip")),
                pl.col("_cite"),
            ).alias("_line")
        )
        .group_by("_row", maintain_order=True)
        .agg(pl.col("_line").str.join("; ").alias("_kept"))
    )
    joined = indexed.join(kept, on="_row", how="left").sort("_row")
    return joined.select(pl.coalesce("_kept", "_all").alias("lines"))["lines"]


def challenge_grounds(frame: pl.DataFrame, rules: tuple[Rule, ...]) -> pl.Series:
    """Per row, the rules that bar relief, with the facts of the record they used."""
    return fired_lines(frame, rules, GROUND_OUTCOMES).alias("grounds")


def challenge_rows(classified: pl.DataFrame, court: str) -> pl.DataFrame:
    """The convictions the People challenge in one court: not eligible, or marked by the
    office on the public-safety ground; in filing order, numbered."""
    rows = classified.filter(
        ((pl.col("decision") == "not_eligible") | pl.col("public_safety"))
        & (pl.col("county") == court)
    )
    return _numbered(sort_for_filing(rows))


def challenge_exhibits(rows: pl.DataFrame, rules: tuple[Rule, ...]) -> tuple[Exhibit, Exhibit]:
    """Exhibit A (public: row, case, count, ground) and Exhibit B (confidential: who, and the
    facts of each ground) of the challenge notice."""
    safety = rows["public_safety"]
    public = public_grounds(rows, rules)
    facts = challenge_grounds(rows, rules)
    ground = pl.Series(
        "ground",
        [_with_safety(g, bool(s)) for g, s in zip(public.to_list(), safety.to_list(), strict=True)],
        dtype=pl.String,
    )
    detailed = pl.Series(
        "grounds",
        [
            _with_safety(g, bool(s), note=n)
            for g, s, n in zip(
                facts.to_list(), safety.to_list(), rows["public_safety_note"].to_list(), strict=True
            )
        ],
        dtype=pl.String,
    )
    exhibit_a = Exhibit(
        label="EXHIBIT A",
        title="Convictions the People challenge, with the ground (HS 11361.9)",
        columns=PUBLIC_CHALLENGE,
        frame=rows.select(
            "row",
            pl.col("court_case_number").fill_null(NO_CASE).alias("case"),
            count_number().alias("count"),
            "subject_id",
            "count_id",
        ).with_columns(ground),
    )
    exhibit_b = Exhibit(
        label="EXHIBIT B",
        title="Convictions the People challenge: who, and the facts of each ground",
        columns=CONFIDENTIAL_CHALLENGE,
        frame=rows.select("row", *_identity(), "subject_id", "count_id").with_columns(detailed),
        confidential=True,
    )
    return exhibit_a, exhibit_b


def _with_safety(ground: str, safety: bool, note: str | None = None) -> str:
    """A row the office marked on the public-safety ground is relieved by the statute (it has
    no ground of ineligibility): its ground is the office's, with the office's note."""
    if not safety:
        return ground
    from clearance.outputs.filings.groups import PUBLIC_SAFETY_GROUND

    return PUBLIC_SAFETY_GROUND + (f": {note}" if note else "")


# ------------------------------------------------------------------------------------------
# Lists for the office and the clerk


def review_list(rows: pl.DataFrame, rules: tuple[Rule, ...], title: str) -> Exhibit:
    """Convictions still in review for one office, with the rules that sent each there."""
    why = fired_lines(rows, rules, frozenset({"review"})).alias("why")
    frame = rows.select("row", *_identity(), "subject_id", "count_id").with_columns(why)
    return Exhibit(
        label="REVIEW LIST",
        title=title,
        columns=REVIEW_COLUMNS,
        frame=frame,
        confidential=True,
    )


def needs_case_list(rows: pl.DataFrame) -> Exhibit:
    """Counts held out of every order for want of a court case number, for the clerk."""
    from clearance.outputs.filings.groups import GROUP_BY_KEY

    titles = {k: g.title for k, g in GROUP_BY_KEY.items()}
    frame = rows.select(
        "row",
        pl.col("name").fill_null(UNKNOWN).alias("name"),
        date_text("dob").alias("dob"),
        pl.col("cii_number").fill_null(UNKNOWN).alias("cii"),
        pl.col("count_id").alias("doj_count"),
        pl.col("code_section").fill_null(UNKNOWN).alias("code_section"),
        date_text("conviction_date").alias("conviction_date"),
        pl.lit("").alias("court_case_number"),
        pl.col("held_group").replace_strict(titles, default="").alias("filing"),
        "subject_id",
        "count_id",
    )
    return Exhibit(
        label="NEEDS A COURT CASE NUMBER",
        title="Counts held out of every order until the court case number is supplied",
        columns=NEEDS_CASE_COLUMNS,
        frame=frame,
        confidential=True,
    )
