"""The presidential marijuana pardons as rules over federal counts (shared/law/federal.md).

Proclamation 10467 (2022-10-06) pardoned simple possession of marijuana under 21 U.S.C. 844 and
D.C. Code 48-904.01(d)(1); Proclamation 10688 (2023-12-22) added attempted simple possession
(21 U.S.C. 846, D.C. Code 48-904.09), earlier D.C. provisions, and the CFR rules that prohibit
only simple possession or use of marijuana on federal property. Both cover offenses committed
on or before their date, whether or not charged or convicted, for citizens and lawful permanent
residents; neither covers a person who was not lawfully present at the offense.

Each rule has a stable id, its citation, one plain sentence and the facts it reads, and is
evaluated over the whole table (every rule, none first-match). The decision of a count follows a
written precedence: any `not_covered` rule, else any `review` rule, else `covered_2022`, else
`covered_2023`; `condition` and `note` rules are stated and never decide. Citizenship is a
condition stated in the output, never a bar, unless the record says the person was unlawfully
present at the offense. Unsettled points are the switches of `FederalPolicy`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

#: Proclamation 10467: its date is the offense cutoff (on or before).
CUTOFF_2022 = date(2022, 10, 6)
#: Proclamation 10688.
CUTOFF_2023 = date(2023, 12, 22)

P2022 = "Proclamation 10467 of Oct. 6, 2022"
P2023 = "Proclamation 10688 of Dec. 22, 2023"
BOTH = f"{P2022}; {P2023}"

DECISIONS = ("covered_2022", "covered_2023", "not_covered", "review")

FederalOutcome = Literal[
    "covered_2022", "covered_2023", "not_covered", "review", "condition", "note"
]

#: The CFR rules Proclamation 10688 lists ("including but not limited to"): title, section,
#: subsection.
LISTED_CFR: tuple[tuple[str, str, str], ...] = (
    ("25", "11.452", "(a)"),
    ("32", "1903.12", "(b)(2)"),
    ("36", "2.35", "(b)(2)"),
    ("36", "1002.35", "(b)(2)"),
    ("36", "1280.16", "(a)(1)"),
    ("36", "702.6", "(b)"),
    ("41", "102-74.400", "(a)"),
    ("43", "8365.1-4", "(b)(2)"),
    ("50", "27.82", "(b)(2)"),
)
#: Import and export sections of the Controlled Substances Import and Export Act.
IMPORT_EXPORT = ("952", "953", "957", "959", "960", "963")


@dataclass(frozen=True)
class FederalPolicy:
    """The judgment points of the federal screen, each a named switch with its default.

    - `unplaced`: a covered section whose offense the record cannot place before either
      cutoff (no offense date, and no disposition date on or before the cutoff): `review`
      (default) sends it to a person; `both_forms` treats it as covered by the 2023
      proclamation and puts both application forms in the packet (federal.md section 2).
    - `presume_marijuana`: a row of the federal case list whose statute and description name
      no substance is presumed a marijuana case (default true: the list is a list of cannabis
      cases, and an office that lists other drug cases names the drug). RAP-sheet and DOJ
      entries name their offense, so one that names no substance goes to review.
    """

    unplaced: Literal["review", "both_forms"] = "review"
    presume_marijuana: bool = True


@dataclass(frozen=True)
class FederalRule:
    """One point of the proclamations (or of what they leave out)."""

    id: str
    citation: str
    text: str
    facts: tuple[str, ...]
    outcome: FederalOutcome
    when: Callable[[], pl.Expr]
    detail: Callable[[], pl.Expr] | None = None

    def sentence(self) -> str:
        return f"{self.text} ({self.citation})"

    def explanation(self) -> pl.Expr:
        base = pl.lit(self.sentence())
        if self.detail is None:
            return base
        detail = self.detail()
        return (
            pl.when(detail.is_not_null() & (detail != ""))
            .then(pl.concat_str([base, pl.lit(": "), detail]))
            .otherwise(base)
        )


# --------------------------------------------------------------------------------------------
# Facts (columns added by `federal_facts`)

#: What each fact column means (the rules listing and docs/federal.md show these).
FACTS: dict[str, str] = {
    "code / title / section / subsection": "the statute as normalised (records.federal_statutes)",
    "object_section": "for 846 or D.C. 48-904.09, the section attempted or conspired to",
    "attempt / conspiracy": "the record's words say attempt / conspiracy",
    "substance": "marijuana, other (another controlled substance named) or unknown",
    "offense_by": "the offense date, else the disposition date (the offense came before it)",
    "citizenship": "citizen, lpr, unlawfully_present (at the offense) or unknown",
    "disposition": "convicted, charged, dismissed or pending (null: not given)",
    "origin": "case list, RAP sheet or DOJ file",
}


def _usc(*sections: str) -> pl.Expr:
    return (
        (pl.col("code") == "USC")
        & (pl.col("title") == "21")
        & pl.col("section").is_in(list(sections))
    ).fill_null(False)


def _dc(section: str) -> pl.Expr:
    return ((pl.col("code") == "DC") & (pl.col("section") == section)).fill_null(False)


def _sub_starts(prefix: str) -> pl.Expr:
    return pl.col("subsection").fill_null("").str.starts_with(prefix)


def _listed_cfr() -> pl.Expr:
    keys = [f"{t}|{s}|{sub}" for t, s, sub in LISTED_CFR]
    key = pl.concat_str(
        [pl.col("title"), pl.col("section"), pl.col("subsection").fill_null("")], separator="|"
    )
    starts = pl.lit(False)
    for k in keys:
        starts = starts | key.str.starts_with(k)
    return ((pl.col("code") == "CFR") & starts).fill_null(False)


def _listed_cfr_section() -> pl.Expr:
    """A listed CFR section, whatever its subsection."""
    key = pl.concat_str([pl.col("title"), pl.col("section")], separator="|")
    return (
        (pl.col("code") == "CFR") & key.is_in([f"{t}|{s}" for t, s, _ in LISTED_CFR])
    ).fill_null(False)


def _dc_possession() -> pl.Expr:
    return _dc("48-904.01") & _sub_starts("(d)(1)")


def _dc_possession_unclear() -> pl.Expr:
    return _dc("48-904.01") & pl.col("subsection").fill_null("(d)").is_in(["(d)"])


def _former_dc() -> pl.Expr:
    return _dc("33-541") & _sub_starts("(d)")


def _possession_section() -> pl.Expr:
    """Simple possession under a 2022 section: 21 USC 844 or D.C. 48-904.01(d)(1)."""
    return _usc("844") | _dc_possession()


def _attempt_section() -> pl.Expr:
    return _usc("846") | _dc("48-904.09")


def _attempt_of_possession() -> pl.Expr:
    return _attempt_section() & (
        (pl.col("object_section") == "844")
        | pl.col("object_section").fill_null("").str.starts_with("48-904.01(d)")
    ).fill_null(False)


def _attempt_object_beyond_possession() -> pl.Expr:
    return _attempt_section() & pl.col("object_section").is_not_null() & ~_attempt_of_possession()


def _pardon_section() -> pl.Expr:
    """Any section the proclamations name (before the date, the words and the substance)."""
    return _possession_section() | _attempt_of_possession() | _former_dc() | _listed_cfr()


def _on_or_before(day: date) -> pl.Expr:
    return (pl.col("offense_by") <= pl.lit(day)).fill_null(False)


def _marijuana_ok() -> pl.Expr:
    """The count is about marijuana: named, or presumed (case list, switch on)."""
    return (pl.col("substance") == "marijuana") | (
        (pl.col("substance") == "unknown") & pl.col("presume_marijuana")
    )


def _fine() -> pl.Expr:
    """Nothing in the words keeps a pardon section from counting (other rules say why)."""
    return _marijuana_ok() & ~pl.col("conspiracy")


def _offense_detail() -> pl.Expr:
    return pl.format(
        "{} offense {}",
        pl.col("statute").fill_null("no section"),
        pl.col("offense_date")
        .dt.to_string("%Y-%m-%d")
        .fill_null(
            pl.format(
                "date unknown (disposition {})",
                pl.col("disposition_date").dt.to_string("%Y-%m-%d").fill_null("date unknown"),
            )
        ),
    )


def _statute_detail() -> pl.Expr:
    return pl.col("statute").fill_null(pl.col("statute_raw")).fill_null("no statute")


# --------------------------------------------------------------------------------------------
# The rules

COVERED_RULES: tuple[FederalRule, ...] = (
    FederalRule(
        id="fed_2022_simple_possession",
        citation=f"{P2022}; 21 U.S.C. 844",
        text="Simple possession of marijuana under 21 U.S.C. 844, committed on or before "
        "October 6, 2022, is pardoned by the 2022 proclamation",
        facts=("section", "substance", "offense_by"),
        outcome="covered_2022",
        when=lambda: _usc("844") & _fine() & _on_or_before(CUTOFF_2022),
        detail=_offense_detail,
    ),
    FederalRule(
        id="fed_2022_dc_possession",
        citation=f"{P2022}; D.C. Code 48-904.01(d)(1)",
        text="Simple possession of marijuana under D.C. Code 48-904.01(d)(1), committed on or "
        "before October 6, 2022, is pardoned by the 2022 proclamation",
        facts=("section", "subsection", "substance", "offense_by"),
        outcome="covered_2022",
        when=lambda: _dc_possession() & _fine() & _on_or_before(CUTOFF_2022),
        detail=_offense_detail,
    ),
    FederalRule(
        id="fed_2023_possession_after_2022",
        citation=f"{P2023}; 21 U.S.C. 844; D.C. Code 48-904.01(d)(1)",
        text="Simple possession of marijuana committed after October 6, 2022 and on or before "
        "December 22, 2023 is pardoned by the 2023 proclamation only (its form applies)",
        facts=("section", "substance", "offense_by"),
        outcome="covered_2023",
        when=lambda: (
            _possession_section()
            & _fine()
            & ~_on_or_before(CUTOFF_2022)
            & _on_or_before(CUTOFF_2023)
        ),
        detail=_offense_detail,
    ),
    FederalRule(
        id="fed_2023_attempted_possession",
        citation=f"{P2023}; 21 U.S.C. 846",
        text="Attempted simple possession of marijuana under 21 U.S.C. 846, committed on or "
        "before December 22, 2023, is pardoned by the 2023 proclamation",
        facts=("section", "object_section", "attempt", "conspiracy", "offense_by"),
        outcome="covered_2023",
        when=lambda: (
            _usc("846")
            & _attempt_of_possession()
            & pl.col("attempt")
            & _fine()
            & _on_or_before(CUTOFF_2023)
        ),
        detail=_offense_detail,
    ),
    FederalRule(
        id="fed_2023_dc_attempted_possession",
        citation=f"{P2023}; D.C. Code 48-904.09",
        text="Attempted simple possession of marijuana under D.C. Code 48-904.09, committed on "
        "or before December 22, 2023, is pardoned by the 2023 proclamation",
        facts=("section", "object_section", "attempt", "conspiracy", "offense_by"),
        outcome="covered_2023",
        when=lambda: (
            _dc("48-904.09")
            & _attempt_of_possession()
            & pl.col("attempt")
            & _fine()
            & _on_or_before(CUTOFF_2023)
        ),
        detail=_offense_detail,
    ),
    FederalRule(
        id="fed_2023_dc_former_provision",
        citation=f"{P2023}; former D.C. Code 33-541(d)",
        text="Simple possession of marijuana under an earlier D.C. Code provision (former "
        "33-541(d)), committed on or before December 22, 2023, is pardoned by the 2023 "
        "proclamation",
        facts=("section", "subsection", "substance", "offense_by"),
        outcome="covered_2023",
        when=lambda: _former_dc() & _fine() & _on_or_before(CUTOFF_2023),
        detail=_offense_detail,
    ),
    FederalRule(
        id="fed_2023_cfr_possession_or_use",
        citation=f"{P2023} (CFR rules it lists)",
        text="Simple possession or use of marijuana on federal property under a CFR rule the "
        "2023 proclamation lists, committed on or before December 22, 2023, is pardoned by "
        "the 2023 proclamation",
        facts=("title", "section", "subsection", "substance", "offense_by"),
        outcome="covered_2023",
        when=lambda: _listed_cfr() & _fine() & _on_or_before(CUTOFF_2023),
        detail=_offense_detail,
    ),
)

NOT_COVERED_RULES: tuple[FederalRule, ...] = (
    FederalRule(
        id="fed_not_covered_distribution_841",
        citation=f"{BOTH}; 21 U.S.C. 841",
        text="Distribution or possession with intent to distribute (21 U.S.C. 841) is not "
        "pardoned: the proclamations reach simple possession only",
        facts=("section",),
        outcome="not_covered",
        when=lambda: _usc("841"),
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_not_covered_conspiracy",
        citation=f"{P2023}; 21 U.S.C. 846; D.C. Code 48-904.09",
        text="A conspiracy (21 U.S.C. 846 or D.C. Code 48-904.09 read as conspiracy) is not "
        "pardoned: the 2023 proclamation adds attempted possession only",
        facts=("section", "conspiracy"),
        outcome="not_covered",
        when=lambda: _attempt_section() & pl.col("conspiracy"),
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_not_covered_846_beyond_possession",
        citation=f"{P2023}; 21 U.S.C. 846",
        text="An attempt or conspiracy to commit an offense beyond simple possession (such as "
        "846 with 841, distribution) is not pardoned",
        facts=("section", "object_section"),
        outcome="not_covered",
        when=_attempt_object_beyond_possession,
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_not_covered_import_export",
        citation=f"{BOTH}; 21 U.S.C. 952, 960",
        text="Importing or exporting marijuana (21 U.S.C. 952, 960 and related sections) is not "
        "pardoned",
        facts=("section",),
        outcome="not_covered",
        when=lambda: _usc(*IMPORT_EXPORT),
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_not_covered_premises_856",
        citation=f"{BOTH}; 21 U.S.C. 856",
        text="Maintaining drug-involved premises (21 U.S.C. 856) is not pardoned",
        facts=("section",),
        outcome="not_covered",
        when=lambda: _usc("856"),
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_not_covered_other_substance",
        citation=BOTH,
        text="An offense involving a controlled substance other than marijuana is not pardoned, "
        "even when committed with a pardoned possession of marijuana (that count stays "
        "pardoned)",
        facts=("substance",),
        outcome="not_covered",
        when=lambda: pl.col("substance") == "other",
        detail=lambda: pl.coalesce(pl.col("description"), pl.col("statute_raw")),
    ),
    FederalRule(
        id="fed_not_covered_after_2023",
        citation=P2023,
        text="An offense committed after December 22, 2023 is not pardoned: both proclamations "
        "cover offenses on or before their date",
        facts=("offense_date",),
        outcome="not_covered",
        when=lambda: (pl.col("offense_date") > pl.lit(CUTOFF_2023)).fill_null(False),
        detail=lambda: pl.format("offense {}", pl.col("offense_date").dt.to_string("%Y-%m-%d")),
    ),
    FederalRule(
        id="fed_not_covered_military",
        citation=f"{BOTH}; 10 U.S.C. 912a (UCMJ art. 112a)",
        text="A military offense under the Uniform Code of Military Justice is not pardoned",
        facts=("code",),
        outcome="not_covered",
        when=lambda: (pl.col("code") == "UCMJ").fill_null(False),
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_not_covered_state_conviction",
        citation=BOTH,
        text="A state offense is not pardoned: the proclamations reach federal and D.C. "
        "offenses only (state relief, such as HS 11361.8 in California, is separate)",
        facts=("code", "court"),
        outcome="not_covered",
        when=lambda: (pl.col("code") == "STATE").fill_null(False) | pl.col("state_court"),
        detail=lambda: pl.coalesce(pl.col("court"), _statute_detail()),
    ),
    FederalRule(
        id="fed_not_covered_outside_lists",
        citation=BOTH,
        text="The section is not one the proclamations pardon",
        facts=("code", "title", "section", "subsection"),
        outcome="not_covered",
        when=lambda: (
            pl.col("outside_lists")
            & ~(
                pl.col("code").is_in(["USC", "CFR"]) & (pl.col("substance") == "marijuana")
            ).fill_null(False)
        ),
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_not_covered_unlawfully_present",
        citation=f"{BOTH} (persons excluded)",
        text="The record says the person was a non-citizen not lawfully present in the United "
        "States at the time of the offense, whom both proclamations exclude",
        facts=("citizenship",),
        outcome="not_covered",
        when=lambda: pl.col("citizenship") == "unlawfully_present",
    ),
)

REVIEW_RULES: tuple[FederalRule, ...] = (
    FederalRule(
        id="fed_review_section_missing",
        citation=BOTH,
        text="A marijuana offense whose section the record does not give: a person must find "
        "the section (never not covered by default)",
        facts=("code", "substance"),
        outcome="review",
        when=lambda: pl.col("code").is_null() & (pl.col("substance") != "other"),
        detail=lambda: pl.coalesce(pl.col("statute_raw"), pl.col("description")).fill_null(
            "no statute"
        ),
    ),
    FederalRule(
        id="fed_review_846_object_unclear",
        citation=f"{P2023}; 21 U.S.C. 846; D.C. Code 48-904.09",
        text="Section 846 (or D.C. 48-904.09) reads 'attempt or conspiracy': the record does "
        "not say which, or what was attempted; only an attempt of simple possession is "
        "pardoned",
        facts=("section", "object_section", "attempt", "conspiracy"),
        outcome="review",
        when=lambda: (
            _attempt_section()
            & ~pl.col("conspiracy")
            & ((_attempt_of_possession() & ~pl.col("attempt")) | pl.col("object_section").is_null())
        ),
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_review_dc_subsection_unclear",
        citation=f"{P2022}; D.C. Code 48-904.01(d)(1)",
        text="D.C. Code 48-904.01 without subsection (d)(1): the record does not show simple "
        "possession",
        facts=("section", "subsection"),
        outcome="review",
        when=_dc_possession_unclear,
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_review_cfr_subsection_or_unlisted",
        citation=f'{P2023} ("including but not limited to")',
        text="A CFR rule the 2023 proclamation does not list on marijuana possession or use, "
        "or a listed rule under another subsection or none: the proclamation's list is not "
        "exhaustive, so a person must check the rule prohibits only simple possession or use",
        facts=("code", "title", "section", "subsection", "substance"),
        outcome="review",
        when=lambda: (
            (pl.col("code") == "CFR").fill_null(False)
            & ~_listed_cfr()
            & (_listed_cfr_section() | (pl.col("substance") == "marijuana"))
        ),
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_review_former_federal_provision",
        citation=BOTH,
        text="A marijuana offense under another federal section: the proclamations also pardon "
        "earlier provisions that prohibited simple possession, so a person must check this one",
        facts=("code", "section", "substance"),
        outcome="review",
        when=lambda: (
            (pl.col("code") == "USC").fill_null(False)
            & pl.col("outside_lists")
            & (pl.col("substance") == "marijuana")
        ),
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_review_substance_not_named",
        citation=BOTH,
        text="The record names no substance for a possession section that covers every "
        "controlled substance; the pardon is for marijuana only",
        facts=("substance", "origin"),
        outcome="review",
        when=lambda: (
            _pardon_section() & (pl.col("substance") == "unknown") & ~pl.col("presume_marijuana")
        ),
        detail=_statute_detail,
    ),
    FederalRule(
        id="fed_review_offense_not_placed",
        citation=BOTH,
        text="The record does not date the offense on or before either proclamation's date "
        "(no offense date, and no disposition date before the cutoff)",
        facts=("offense_date", "disposition_date"),
        outcome="review",
        when=lambda: pl.col("unplaced") & ~pl.col("both_forms"),
        detail=_offense_detail,
    ),
    FederalRule(
        id="fed_review_dates_impossible",
        citation=BOTH,
        text="The disposition is dated before the offense: a recording error to correct",
        facts=("offense_date", "disposition_date"),
        outcome="review",
        when=lambda: (pl.col("disposition_date") < pl.col("offense_date")).fill_null(False),
        detail=_offense_detail,
    ),
)

CONDITION_RULES: tuple[FederalRule, ...] = (
    FederalRule(
        id="fed_condition_citizenship",
        citation=f"{BOTH} (persons covered)",
        text="Covered if the person was a U.S. citizen or lawfully present at the offense, and "
        "was a U.S. citizen or lawful permanent resident on the proclamation's date; the "
        "record does not say, so the application must show it",
        facts=("citizenship",),
        outcome="condition",
        when=lambda: pl.col("covered_any") & (pl.col("citizenship") == "unknown"),
    ),
    FederalRule(
        id="fed_note_citizenship_stated",
        citation=f"{BOTH} (persons covered)",
        text="The record states the person's status as a U.S. citizen or lawful permanent "
        "resident; the application asks for proof of it",
        facts=("citizenship",),
        outcome="note",
        when=lambda: pl.col("covered_any") & pl.col("citizenship").is_in(["citizen", "lpr"]),
        detail=lambda: pl.col("citizenship"),
    ),
    FederalRule(
        id="fed_note_not_convicted",
        citation=f'{BOTH} ("committed or were convicted")',
        text="The pardon covers the offense whether or not the person was convicted: a charge "
        "alone qualifies for a certificate",
        facts=("disposition",),
        outcome="note",
        when=lambda: (
            pl.col("covered_any")
            & (pl.col("disposition").is_null() | (pl.col("disposition") != "convicted"))
        ),
        detail=lambda: pl.col("disposition").fill_null("disposition not given"),
    ),
    FederalRule(
        id="fed_note_substance_presumed",
        citation=BOTH,
        text="The case list names no substance; a case on a federal cannabis case list is "
        "presumed a marijuana case (switch presume_marijuana)",
        facts=("substance", "origin"),
        outcome="note",
        when=lambda: (
            pl.col("covered_any") & (pl.col("substance") == "unknown") & pl.col("presume_marijuana")
        ),
    ),
    FederalRule(
        id="fed_note_both_forms",
        citation=BOTH,
        text="The record does not place the offense before either cutoff; the packet carries "
        "both application forms (switch unplaced: both_forms)",
        facts=("offense_date", "disposition_date"),
        outcome="note",
        when=lambda: pl.col("unplaced") & pl.col("both_forms") & pl.col("covered_any"),
    ),
    FederalRule(
        id="fed_note_pardon_not_expungement",
        citation=BOTH,
        text="A pardon is forgiveness: it does not expunge or seal the record; the Certificate "
        "of Pardon from the Office of the Pardon Attorney is the proof of it",
        facts=(),
        outcome="note",
        when=lambda: pl.col("covered_any"),
    ),
)

FEDERAL_RULES: tuple[FederalRule, ...] = (
    *COVERED_RULES,
    *NOT_COVERED_RULES,
    *REVIEW_RULES,
    *CONDITION_RULES,
)
RULES_BY_ID = {r.id: r for r in FEDERAL_RULES}

#: Short words for each not-covered reason (the summary's population table).
NOT_COVERED_LABELS = {
    "fed_not_covered_distribution_841": "distribution (21 USC 841)",
    "fed_not_covered_conspiracy": "conspiracy (846)",
    "fed_not_covered_846_beyond_possession": "846 beyond possession",
    "fed_not_covered_import_export": "import/export (952, 960)",
    "fed_not_covered_premises_856": "premises (21 USC 856)",
    "fed_not_covered_other_substance": "another substance",
    "fed_not_covered_after_2023": "after 2023-12-22",
    "fed_not_covered_military": "military (UCMJ)",
    "fed_not_covered_state_conviction": "state conviction",
    "fed_not_covered_outside_lists": "section outside the lists",
    "fed_not_covered_unlawfully_present": "unlawfully present at the offense",
}

#: A state court as a case list may name one (never the D.C. Superior Court).
_STATE_COURT = r"(?i)\b(?:SUPERIOR|MUNICIPAL|JUSTICE|COUNTY|CIRCUIT|CASC|CAMC)\b"
_DC_COURT = r"(?i)\bD\.?\s*C\.?\b|DISTRICT OF COLUMBIA"
#: A federal court, whatever else it names ("U.S. District Court, Los Angeles County").
_FEDERAL_COURT = (
    r"(?i)DISTRICT COURT|\bU\.?\s?S\.?\b|UNITED STATES|FEDERAL|MAGISTRATE|\b[CNSEWM]\.\s?D\.\s|"
    r"\bD\.\s?[A-Z][a-z]+\.|COURT.MARTIAL"
)


def federal_facts(frame: pl.DataFrame, policy: FederalPolicy) -> pl.DataFrame:
    """The facts the rules read, added to the federal counts."""
    cfr = (pl.col("code") == "CFR").fill_null(False)
    named = (
        _possession_section()
        | _attempt_section()
        | _former_dc()
        | _dc_possession_unclear()
        | _listed_cfr_section()
        | (cfr & (pl.col("substance") == "marijuana"))
        | _usc("841", "856", *IMPORT_EXPORT)
        | pl.col("code").is_in(["UCMJ", "STATE"]).fill_null(False)
    )
    court = pl.col("court").fill_null("")
    staged = frame.with_columns(
        pl.coalesce(pl.col("offense_date"), pl.col("disposition_date")).alias("offense_by"),
        (
            court.str.contains(_STATE_COURT)
            & ~court.str.contains(_DC_COURT)
            & ~court.str.contains(_FEDERAL_COURT)
        ).alias("state_court"),
        (pl.col("code").is_not_null() & ~named).alias("outside_lists"),
        ((pl.col("origin") == "case list") & pl.lit(policy.presume_marijuana)).alias(
            "presume_marijuana"
        ),
        pl.lit(policy.unplaced == "both_forms").alias("both_forms"),
    )
    # A pardon section the record cannot date on or before the later cutoff.
    unplaced = (
        _pardon_section() & _fine() & pl.col("offense_date").is_null() & ~_on_or_before(CUTOFF_2023)
    )
    return staged.with_columns(unplaced.alias("unplaced"))


def _explained(fired: pl.DataFrame) -> pl.DataFrame:
    """`reasons`, `explanation` and `conditions` of every count from its fired-rule columns.

    Each rule's sentence and detail are computed only on the rows where it fired (a few per
    count), then gathered per count in rule order: a sentence is never copied onto rows it does
    not concern."""
    indexed = fired.with_row_index("_i")
    parts = [
        indexed.filter(pl.col(f"_r_{rule.id}")).select(
            "_i",
            pl.lit(order, dtype=pl.Int32).alias("_o"),
            pl.lit(rule.id).alias("_id"),
            rule.explanation().alias("_e"),
            pl.lit(rule.text if rule.outcome == "condition" else None, dtype=pl.String).alias("_c"),
        )
        for order, rule in enumerate(FEDERAL_RULES)
    ]
    gathered = (
        pl.concat(parts)
        .sort("_i", "_o")
        .group_by("_i", maintain_order=True)
        .agg(
            pl.col("_id").alias("reasons"),
            pl.col("_e").str.join(" | ").alias("explanation"),
            pl.col("_c").drop_nulls().str.join(" | ").alias("conditions"),
        )
    )
    return (
        indexed.join(gathered, on="_i", how="left", maintain_order="left")
        .with_columns(
            pl.col("reasons").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("explanation").fill_null(""),
            pl.col("conditions").fill_null(""),
        )
        .drop("_i")
    )


#: Rules that decide (the others state conditions and notes on covered counts).
DECIDING_RULES = (*COVERED_RULES, *NOT_COVERED_RULES, *REVIEW_RULES)


def decide_federal(frame: pl.DataFrame, policy: FederalPolicy | None = None) -> pl.DataFrame:
    """Every rule over every federal count: the counts with `decision`, `form` (the application
    form: 2022, 2023, 2022+2023, or empty), `reasons` (every rule that fired, in rule order),
    `conditions` (the condition sentences) and `explanation` (each fired rule's sentence,
    citation and the facts used). Conditions and notes are evaluated on the decided counts:
    they speak to covered counts only."""
    policy = policy or FederalPolicy()
    facts = federal_facts(frame, policy)
    fired = facts.with_columns(rule.when().alias(f"_r_{rule.id}") for rule in DECIDING_RULES)

    def any_of(outcome: str) -> pl.Expr:
        return pl.any_horizontal(
            [pl.col(f"_r_{r.id}") for r in DECIDING_RULES if r.outcome == outcome]
        )

    both = pl.col("unplaced") & pl.col("both_forms")
    decision = (
        pl.when(any_of("not_covered"))
        .then(pl.lit("not_covered"))
        .when(any_of("review"))
        .then(pl.lit("review"))
        .when(any_of("covered_2022"))
        .then(pl.lit("covered_2022"))
        .when(any_of("covered_2023") | both)
        .then(pl.lit("covered_2023"))
        .otherwise(pl.lit("review"))
    )
    fired = fired.with_columns(decision.alias("decision")).with_columns(
        pl.col("decision").is_in(["covered_2022", "covered_2023"]).alias("covered_any")
    )
    fired = fired.with_columns(rule.when().alias(f"_r_{rule.id}") for rule in CONDITION_RULES)
    decided = _explained(fired).with_columns(
        pl.when(pl.col("decision") == "covered_2022")
        .then(pl.lit("2022"))
        .when((pl.col("decision") == "covered_2023") & both)
        .then(pl.lit("2022+2023"))
        .when(pl.col("decision") == "covered_2023")
        .then(pl.lit("2023"))
        .otherwise(pl.lit(""))
        .alias("form"),
    )
    return decided.drop([c for c in decided.columns if c.startswith("_r_")])
