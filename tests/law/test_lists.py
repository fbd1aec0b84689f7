"""Tests for the cited offense lists.

The lists decide whether a prior keeps a cannabis felony a felony and which related charges a
county dismisses, so two things must hold: every entry says where it comes from, and an entry
matches the offense text a DOJ file really holds, as `records.offenses` parses it. A list
written as `653f` that never meets a parsed `653F` would silently let a disqualifying prior
through; these tests pin the match against the parser's real output.
"""

from __future__ import annotations

import polars as pl
import pytest

from clearance.law.lists import (
    ALL_LISTS,
    FORMER_CANNABIS_SECTIONS,
    PC290_OFFENSES,
    PLEA_BARGAIN_FLAGS_SAN_FRANCISCO,
    RELATED_CHARGES_REVIEW_SAN_JOAQUIN,
    RELATED_CHARGES_SAN_JOAQUIN,
    SUPER_STRIKES,
    ListedOffense,
    OffenseList,
    get_list,
    parse_listed,
)
from clearance.records.offenses import parse_offense, parse_offenses

EXACT = (True, False)
POSSIBLE = (False, True)
NONE = (False, False)


def matches(offense_list: OffenseList, texts: list[str | None]) -> list[tuple[bool, bool]]:
    """(exact, possible) for each offense text, through the real parser."""
    parsed = parse_offenses(pl.Series("text", texts, dtype=pl.String))
    exact, possible = offense_list.match(pl.col("code"), pl.col("section"), pl.col("subsection"))
    out = parsed.select(exact=exact, possible=possible)
    return list(zip(out["exact"].to_list(), out["possible"].to_list(), strict=True))


def match_one(offense_list: OffenseList, text: str | None) -> tuple[bool, bool]:
    return matches(offense_list, [text])[0]


# --- the lists as data --------------------------------------------------------------------------


@pytest.mark.parametrize("offense_list", ALL_LISTS, ids=lambda lst: lst.id)
def test_every_entry_is_cited_and_described(offense_list: OffenseList) -> None:
    assert offense_list.entries
    assert offense_list.title.strip()
    assert offense_list.citation.strip()
    for entry in offense_list.entries:
        assert entry.citation.strip(), entry
        assert entry.label.strip(), entry


@pytest.mark.parametrize("offense_list", ALL_LISTS, ids=lambda lst: lst.id)
def test_no_entry_is_listed_twice(offense_list: OffenseList) -> None:
    keys = [entry.key for entry in offense_list.entries]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("offense_list", ALL_LISTS, ids=lambda lst: lst.id)
def test_entries_round_trip_through_their_written_form(offense_list: OffenseList) -> None:
    for entry in offense_list.entries:
        assert parse_listed(entry.text) == entry.key


@pytest.mark.parametrize("offense_list", ALL_LISTS, ids=lambda lst: lst.id)
def test_frame_has_one_row_per_entry(offense_list: OffenseList) -> None:
    frame = offense_list.frame()
    assert frame.columns == ["code", "section", "subsection", "citation", "label"]
    assert all(dtype == pl.String for dtype in frame.dtypes)
    assert frame.height == len(offense_list.entries)
    assert frame.filter(pl.col("citation").str.strip_chars() == "").height == 0


def test_match_names_its_columns_by_list() -> None:
    exact, possible = SUPER_STRIKES.match(pl.col("code"), pl.col("section"), pl.col("subsection"))
    entry = SUPER_STRIKES.describe(pl.col("code"), pl.col("section"), pl.col("subsection"))
    assert exact.meta.output_name() == "super_strikes_exact"
    assert possible.meta.output_name() == "super_strikes_possible"
    assert entry.meta.output_name() == "super_strikes_entry"


def test_lists_are_found_by_id() -> None:
    ids = [offense_list.id for offense_list in ALL_LISTS]
    assert ids == [
        "super_strikes",
        "pc290_offenses",
        "related_charges_san_joaquin",
        "related_charges_review_san_joaquin",
        "plea_bargain_flags_san_francisco",
        "former_cannabis_sections",
    ]
    for offense_list in ALL_LISTS:
        assert get_list(offense_list.id) is offense_list
    with pytest.raises(KeyError, match="super_strikes"):
        get_list("super_strike")


def test_county_lists_hold_what_the_counties_announced() -> None:
    def written(offense_list: OffenseList) -> set[str]:
        return {entry.text for entry in offense_list.entries}

    assert written(RELATED_CHARGES_SAN_JOAQUIN) == {
        "PC 647(f)",
        "PC 602",
        "PC 466",
        "PC 148",
        "PC 148.9",
        "PC 1320",
        "HS 11364",
        "HS 11550",
        "BP 4140",
        "BP 4149",
        "VC 40508",
    }
    assert written(RELATED_CHARGES_REVIEW_SAN_JOAQUIN) == {"BP 4060"}
    assert written(PLEA_BARGAIN_FLAGS_SAN_FRANCISCO) == {"PC 32", "HS 11364", "HS 11366"}
    assert written(FORMER_CANNABIS_SECTIONS) == {
        "HS 11530",
        "HS 11530.5",
        "HS 11531",
        "HS 11532",
        "HS 11540",
    }


def test_manslaughter_is_not_a_homicide_super_strike() -> None:
    """PC 667(e)(2)(C)(iv)(IV) covers PC 187-191.5 only; PC 192 lies outside the range."""
    sections = {entry.section for entry in SUPER_STRIKES.entries}
    assert {"187", "191.5"} <= sections
    assert "192" not in sections and "192.5" not in sections


# --- matching real offense texts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("187 PC-MURDER", EXACT),
        ("187(A) PC-MURDER", EXACT),
        ("664/187 PC-ATTEMPTED MURDER", EXACT),
        ("192 PC-MANSLAUGHTER", NONE),
        ("192(A) PC-VOLUNTARY MANSLAUGHTER", NONE),
        ("191.5(A) PC-GROSS VEH MANSL WHILE INTOX", EXACT),
        ("245(D)(3) PC-ADW MACHINE GUN ON PEACE OFFICER", EXACT),
        ("245(A)(1) PC-ADW NOT FIREARM", NONE),
        ("245 PC-ASSAULT WITH DEADLY WEAPON", POSSIBLE),
        ("245(D) PC-ASSAULT ON PEACE OFFICER", POSSIBLE),
        ("288(A) PC-LEWD ACT WITH CHILD UNDER 14", EXACT),
        ("288(C)(1) PC-LEWD ACT CHILD 14/15", NONE),
        ("261(A)(2) PC-RAPE BY FORCE", EXACT),
        ("261(A)(3) PC-RAPE OF INTOXICATED PERSON", NONE),
        ("261 PC-RAPE", POSSIBLE),
        ("261.5 PC-UNLAWFUL SEX WITH MINOR", NONE),
        ("11418(A)(1) PC-POSS WEAPON MASS DESTRUCTION", EXACT),
        ("11418(B)(1) PC-USE WEAPON MASS DESTRUCTION", NONE),
        ("4500 PC-ASSAULT BY LIFE PRISONER", EXACT),
        ("18745 PC-EXPLODE DEVICE W/INTENT TO MURDER", EXACT),
        ("653 PC-TATTOO MINOR", NONE),
        ("11357(C) HS-POSS MARIJUANA OVER 28.5 GRAMS", NONE),
        ("187 VC", NONE),
    ],
)
def test_super_strikes_match_parsed_offense_text(text: str, expected: tuple[bool, bool]) -> None:
    assert match_one(SUPER_STRIKES, text) == expected


def test_solicitation_to_murder_written_with_a_glued_letter_is_sent_to_review() -> None:
    """`653F PC` parses as section 653, subsection (f): the subdivision of 653f is unknown."""
    parsed = parse_offense("653F PC-SOLICIT MURDER")
    assert (parsed.code, parsed.section, parsed.subsection) == ("PC", "653", "(f)")
    assert match_one(SUPER_STRIKES, "653F PC-SOLICIT MURDER") == POSSIBLE
    assert match_one(PC290_OFFENSES, "653F PC-SOLICIT") == POSSIBLE


def test_solicitation_to_murder_with_its_subdivision_matches_exactly() -> None:
    assert match_one(SUPER_STRIKES, "653F(B) PC-SOLICIT MURDER") == EXACT


@pytest.mark.parametrize(
    ("section", "subsection", "expected"),
    [
        ("653f", "(b)", EXACT),
        ("653F", "(b)", EXACT),
        ("653f", "(b)(1)", EXACT),
        ("653f", None, POSSIBLE),
        ("653f", "(a)", NONE),
        ("653", "(f)(b)", EXACT),
        ("653", "(f)", POSSIBLE),
        ("653", None, NONE),
    ],
)
def test_lettered_sections_match_in_both_spellings(
    section: str, subsection: str | None, expected: tuple[bool, bool]
) -> None:
    """The statute's `653f(b)` and the parser's split `653`, `(f)(b)` are the same offense."""
    frame = pl.DataFrame(
        {"code": ["PC"], "section": [section], "subsection": [subsection]},
        schema={"code": pl.String, "section": pl.String, "subsection": pl.String},
    )
    exact, possible = SUPER_STRIKES.match(pl.col("code"), pl.col("section"), pl.col("subsection"))
    assert frame.select(exact, possible).row(0) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("288(A) PC-LEWD ACT WITH CHILD UNDER 14", EXACT),
        ("288 PC-LEWD ACT WITH CHILD", EXACT),
        ("288(C)(1) PC-LEWD ACT CHILD 14/15", EXACT),
        ("288A PC-ORAL COPULATION", EXACT),
        ("243.4(A) PC-SEXUAL BATTERY", EXACT),
        ("647.6(A)(1) PC-ANNOY/MOLEST CHILD", EXACT),
        ("311.11(A) PC-POSS CHILD PORN", EXACT),
        ("311.2(B) PC", EXACT),
        ("311.2(A) PC-DISTRIBUTE OBSCENE MATTER", NONE),
        ("311.2 PC", POSSIBLE),
        ("314(1) PC-INDECENT EXPOSURE", EXACT),
        ("314 PC-INDECENT EXPOSURE", EXACT),
        ("314.1 PC", NONE),
        ("261(A)(1) PC", EXACT),
        ("261(A)(7) PC", NONE),
        ("261 PC-RAPE", POSSIBLE),
        ("266 PC-ENTICE MINOR FOR PROSTITUTION", EXACT),
        ("266C PC-SEX BY FRAUD OR FEAR", EXACT),
        ("266H PC-PIMPING", POSSIBLE),
        ("236.1(C) PC-HUMAN TRAFFICKING OF MINOR", EXACT),
        ("236.1(A) PC-HUMAN TRAFFICKING", NONE),
        ("187 PC-MURDER", NONE),
        ("647(A) PC-LEWD CONDUCT IN PUBLIC", NONE),
    ],
)
def test_pc290_offenses_match_parsed_offense_text(text: str, expected: tuple[bool, bool]) -> None:
    assert match_one(PC290_OFFENSES, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("647(F) PC-DRUNK IN PUBLIC", EXACT),
        ("647F PC-DRUNK IN PUBLIC", EXACT),
        ("647(B) PC-PROSTITUTION", NONE),
        ("647 PC-DISORDERLY CONDUCT", POSSIBLE),
        ("148(A)(1) PC-OBSTRUCT/RESIST OFFICER", EXACT),
        (" 148 PC - RESISTING", EXACT),
        ("148.9(A) PC-FALSE ID TO PEACE OFFICER", EXACT),
        ("148.5 PC-FALSE REPORT", NONE),
        ("11364 HS-POSS DRUG PARAPHERNALIA", EXACT),
        ("11364.1 HS", NONE),
        ("40508(A) VC-FAIL TO APPEAR", EXACT),
        ("4060 BP-POSS CONTROLLED SUBSTANCE", NONE),
        ("11357(B) HS-POSS MARIJUANA", NONE),
    ],
)
def test_related_charges_match_parsed_offense_text(text: str, expected: tuple[bool, bool]) -> None:
    assert match_one(RELATED_CHARGES_SAN_JOAQUIN, text) == expected


def test_review_plea_and_former_lists_match_parsed_offense_text() -> None:
    assert (
        match_one(RELATED_CHARGES_REVIEW_SAN_JOAQUIN, "4060 BP-POSS CONTROLLED SUBSTANCE") == EXACT
    )
    assert match_one(PLEA_BARGAIN_FLAGS_SAN_FRANCISCO, "32 PC-ACCESSORY") == EXACT
    assert match_one(PLEA_BARGAIN_FLAGS_SAN_FRANCISCO, "11366 HS-MAINTAIN PLACE") == EXACT
    assert match_one(PLEA_BARGAIN_FLAGS_SAN_FRANCISCO, "11366.5 HS") == NONE
    assert matches(
        FORMER_CANNABIS_SECTIONS,
        ["11530 HS-POSS MARIJUANA", "11530.5 HS", "11531 HS", "11540 HS", "11357 HS", "11350 HS"],
    ) == [EXACT, EXACT, EXACT, EXACT, NONE, NONE]


def test_null_inputs_give_false_not_null() -> None:
    frame = pl.DataFrame(
        {
            "code": [None, "PC", "PC", None],
            "section": ["187", None, "245", None],
            "subsection": [None, "(d)(3)", None, None],
        },
        schema={"code": pl.String, "section": pl.String, "subsection": pl.String},
    )
    for offense_list in ALL_LISTS:
        exact, possible = offense_list.match(
            pl.col("code"), pl.col("section"), pl.col("subsection")
        )
        out = frame.select(exact=exact, possible=possible)
        assert out.null_count().row(0) == (0, 0)
    out = frame.select(
        *SUPER_STRIKES.match(pl.col("code"), pl.col("section"), pl.col("subsection"))
    )
    assert out.rows() == [NONE, NONE, POSSIBLE, NONE]


def test_unparsed_offense_text_matches_nothing() -> None:
    texts: list[str | None] = [None, "", "SEE COMMENT FOR CHARGE"]
    for offense_list in ALL_LISTS:
        assert matches(offense_list, texts) == [NONE, NONE, NONE]


def test_describe_names_the_entry_relied_on() -> None:
    parsed = parse_offenses(
        pl.Series("text", ["288(A) PC-LEWD", "245 PC", "192 PC", "288A PC"], dtype=pl.String)
    )
    cols = (pl.col("code"), pl.col("section"), pl.col("subsection"))
    described = parsed.select(
        strikes=SUPER_STRIKES.describe(*cols), pc290=PC290_OFFENSES.describe(*cols)
    )
    strikes = described["strikes"].to_list()
    assert strikes[0].startswith("PC 288(a), lewd act on a child under 14 (PC 667(e)(2)(C)(iv)")
    assert strikes[1].startswith("PC 245(d)(3), assault with a machine gun")
    assert strikes[2] is None
    # A parsed `288 (a)` may be PC 288(a) or former PC 288a: both are named, PC 288 first.
    pc290 = described["pc290"].to_list()[3]
    assert pc290.startswith("PC 288, lewd act on a child")
    assert "; or PC 288a, oral copulation" in pc290
    possible = parsed.select(PC290_OFFENSES.describe(pl.lit("PC"), pl.lit("261"), pl.lit(None)))
    assert possible.item().count("; or ") == 4  # the five registrable forms of rape


def test_describe_is_set_exactly_where_match_holds() -> None:
    texts = ["187 PC", "245 PC", "653F PC", "266H PC", "647(F) PC", "11357 HS", None, "288 PC"]
    parsed = parse_offenses(pl.Series("text", texts, dtype=pl.String))
    cols = (pl.col("code"), pl.col("section"), pl.col("subsection"))
    for offense_list in ALL_LISTS:
        exact, possible = offense_list.match(*cols)
        out = parsed.select(hit=exact | possible, described=offense_list.describe(*cols))
        assert out["hit"].to_list() == out["described"].is_not_null().to_list()


# --- written lists (policy files) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PC 647(f)", ("PC", "647", "(f)")),
        ("HS 11364", ("HS", "11364", None)),
        ("PC 653f(b)", ("PC", "653f", "(b)")),
        ("PC 653F(B)", ("PC", "653f", "(b)")),
        ("PC 245(d)(3)", ("PC", "245", "(d)(3)")),
        ("pc 148.9", ("PC", "148.9", None)),
        ("  VC 40508 ", ("VC", "40508", None)),
        ("H&S 11550", ("HS", "11550", None)),
        ("W&I 6600(b)", ("WI", "6600", "(b)")),
        ("B&P 4060", ("BP", "4060", None)),
        ("PC 667(e)(2)(C)(iv)", ("PC", "667", "(e)(2)(c)(iv)")),
        ("PC 245 (d)(3)", ("PC", "245", "(d)(3)")),
    ],
)
def test_parse_listed_reads_written_offenses(
    text: str, expected: tuple[str, str, str | None]
) -> None:
    assert parse_listed(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "647(f)",
        "PC",
        "PC 647(f",
        "PC 647 (f) extra",
        "PC-647(F)",
        "PC 11357AB",
        "123 PC",
    ],
)
def test_parse_listed_rejects_junk(text: str) -> None:
    with pytest.raises(ValueError, match=r"listed offense|code letters"):
        parse_listed(text)


def test_entries_reject_bad_fields() -> None:
    with pytest.raises(ValueError, match="citation"):
        ListedOffense("PC", "187", None, " ", "murder")
    with pytest.raises(ValueError, match="label"):
        ListedOffense("PC", "187", None, "PC 667", "")
    with pytest.raises(ValueError, match="subsection"):
        ListedOffense("PC", "245", "(D)(3)", "PC 667", "assault")
    with pytest.raises(ValueError, match="section"):
        ListedOffense("PC", "653F", None, "PC 667", "solicitation")
    entry = ListedOffense("PC", "187", None, "PC 667", "murder")
    with pytest.raises(ValueError, match="twice"):
        OffenseList("x", "x", "x", (entry, entry))
