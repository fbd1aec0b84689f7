"""Tests for the offense-text parser.

The parser exists because eligibility under Proposition 64 depends on the exact Health and Safety
Code section: earlier tools matched `11357` as a substring, so they took `11357.5` (synthetic
cannabinoids) for cannabis possession, and they lost attempts written as `664-11357(C) HS`. Every
spelling listed in formats/doj-bulk-file.md ("Offense text variants") is pinned here with its
full expected parse.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.records.offenses import (
    CANNABIS_SECTIONS,
    OFFENSE_SCHEMA,
    Offense,
    is_cannabis,
    parse_offense,
    parse_offenses,
)


class Case(NamedTuple):
    text: str | None
    code: str | None
    section: str | None
    subsection: str | None
    attempt: bool
    conspiracy: bool
    parsed: bool
    code_section: str | None


UNPARSED = (None, None, None, False, False, False, None)

CASES: list[Case] = [
    # Cannabis sections in every spelling seen.
    Case("11357 HS-POSSESSION OF MARIJUANA", "HS", "11357", None, False, False, True, "HS 11357"),
    Case("11357(A) HS-POSSESS CONCENTRATED CANNABIS", "HS", "11357", "(a)", False, False, True,
         "HS 11357(a)"),
    Case("11357(C)HS-POSS MARIJUANA OVER 1 OZ/28.5 GRAM", "HS", "11357", "(c)", False, False,
         True, "HS 11357(c)"),
    Case("11357(b)HS-POSSESSION", "HS", "11357", "(b)", False, False, True, "HS 11357(b)"),
    Case("11357A HS-POSSESSION OF MARIJUANA", "HS", "11357", "(a)", False, False, True,
         "HS 11357(a)"),
    Case("11357B2 HS-POSSESSION OF MARIJUANA", "HS", "11357", "(b)(2)", False, False, True,
         "HS 11357(b)(2)"),
    Case("11359HS-INTENT SELL CANNABIS", "HS", "11359", None, False, False, True, "HS 11359"),
    Case("11360A2 HS-SELL/FURNISH/ETC MARIJUANA/HASH", "HS", "11360", "(a)(2)", False, False,
         True, "HS 11360(a)(2)"),
    Case("11360(B) SELL/FURNISH/ETC MARIJUANA/HASH", "HS", "11360", "(b)", False, False, True,
         "HS 11360(b)"),
    Case("HS 11357(b)", "HS", "11357", "(b)", False, False, True, "HS 11357(b)"),
    Case("/11357 HS", "HS", "11357", None, False, False, True, "HS 11357"),
    Case("11360(a)(2) HS", "HS", "11360", "(a)(2)", False, False, True, "HS 11360(a)(2)"),
    Case("11358(C) HS-CULTIVATE MARIJUANA 6+ PLANTS", "HS", "11358", "(c)", False, False, True,
         "HS 11358(c)"),
    Case("11357 hs-Possession Of Marijuana", "HS", "11357", None, False, False, True,
         "HS 11357"),
    Case("11359b Hs-marijuana possess for sale", "HS", "11359", "(b)", False, False, True,
         "HS 11359(b)"),
    # Leading spaces and combined sections.
    Case(" 148 PC - RESISTING", "PC", "148", None, False, False, True, "PC 148"),
    Case("484(A)/490.5 PC-THEFT", "PC", "484", "(a)", False, False, True, "PC 484(a)"),
    # Attempts: the section is the target.
    Case("664/11359 HS", "HS", "11359", None, True, False, True, "HS 11359"),
    Case("664.11357(C) HS", "HS", "11357", "(c)", True, False, True, "HS 11357(c)"),
    Case("66411357(C) HS", "HS", "11357", "(c)", True, False, True, "HS 11357(c)"),
    Case("664-11357(C) HS", "HS", "11357", "(c)", True, False, True, "HS 11357(c)"),
    Case("664 PC/11359 HS", "HS", "11359", None, True, False, True, "HS 11359"),
    Case("664/187(A) PC-ATTEMPTED MURDER", "PC", "187", "(a)", True, False, True, "PC 187(a)"),
    Case("664 PC-ATTEMPTED ROBBERY", "PC", "664", None, True, False, True, "PC 664"),
    # Conspiracies: the section is the target when one is written.
    Case("182(A)(1) PC-CONSPIRACY:COMMIT CRIME", "PC", "182", "(a)(1)", False, True, True,
         "PC 182(a)(1)"),
    Case("182 PC-CRIMINAL CONSPIRACY", "PC", "182", None, False, True, True, "PC 182"),
    Case("182/11359 HS", "HS", "11359", None, False, True, True, "HS 11359"),
    # Sections that start like 664 or 182 but are neither.
    Case("182.5 PC-GANG CONSPIRACY", "PC", "182.5", None, False, False, True, "PC 182.5"),
    Case("18710 PC-DESTRUCTIVE DEVICE", "PC", "18710", None, False, False, True, "PC 18710"),
    # Look-alikes that are not cannabis sections: each is its own section.
    Case("11357.5 HS-SYNTHETIC CANNABINOIDS", "HS", "11357.5", None, False, False, True,
         "HS 11357.5"),
    Case("11359.5 HS", "HS", "11359.5", None, False, False, True, "HS 11359.5"),
    Case("11355 HS", "HS", "11355", None, False, False, True, "HS 11355"),
    Case("11350 HS", "HS", "11350", None, False, False, True, "HS 11350"),
    Case("11377 HS", "HS", "11377", None, False, False, True, "HS 11377"),
    Case("113570 HS", "HS", "113570", None, False, False, True, "HS 113570"),
    Case("11530 HS-POSSESS MARIJUANA", "HS", "11530", None, False, False, True, "HS 11530"),
    # Other codes.
    Case("12500(A) VC-DRIVE W/O LICENSE", "VC", "12500", "(a)", False, False, True,
         "VC 12500(a)"),
    Case("23152(A) VC-DUI", "VC", "23152", "(a)", False, False, True, "VC 23152(a)"),
    Case("4149 BP-POSSESS HYPODERMIC", "BP", "4149", None, False, False, True, "BP 4149"),
    Case("647(F) PC-DISORDERLY", "PC", "647", "(f)", False, False, True, "PC 647(f)"),
    Case("290 PC-REGISTRATION", "PC", "290", None, False, False, True, "PC 290"),
    Case("243(E)(1) PC-BAT:SPOUSE", "PC", "243", "(e)(1)", False, False, True, "PC 243(e)(1)"),
    Case("148(A)(1) PC-OBSTRUCT/ETC PUBLIC OFFICER/ETC", "PC", "148", "(a)(1)", False, False,
         True, "PC 148(a)(1)"),
    Case("148.9 PC-FALSE IDENTIFICATION", "PC", "148.9", None, False, False, True, "PC 148.9"),
    Case("5150 W&I-EVALUATION", "WI", "5150", None, False, False, True, "WI 5150"),
    Case("602 WIC-MINOR", "WI", "602", None, False, False, True, "WI 602"),
    Case("655 HN-BOATING", "HN", "655", None, False, False, True, "HN 655"),
    # Nothing to read.
    Case(None, *UNPARSED),
    Case("", *UNPARSED),
    Case("   ", *UNPARSED),
    Case("  -  ", *UNPARSED),
    Case("SEE COMMENT FOR CHARGE", *UNPARSED),
    Case("POSSESSION OF MARIJUANA", *UNPARSED),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda case: repr(case.text))
def test_parse_offense_variants(case: Case) -> None:
    assert parse_offense(case.text) == Offense(
        code=case.code,
        section=case.section,
        subsection=case.subsection,
        attempt=case.attempt,
        conspiracy=case.conspiracy,
        parsed=case.parsed,
        code_section=case.code_section,
    )


def test_parse_offenses_table_matches_cases() -> None:
    result = parse_offenses(pl.Series([case.text for case in CASES], dtype=pl.String))
    expected = pl.DataFrame(
        {
            "code": [case.code for case in CASES],
            "section": [case.section for case in CASES],
            "subsection": [case.subsection for case in CASES],
            "attempt": [case.attempt for case in CASES],
            "conspiracy": [case.conspiracy for case in CASES],
            "offense_parsed": [case.parsed for case in CASES],
            "code_section": [case.code_section for case in CASES],
        },
        schema=OFFENSE_SCHEMA,
    )
    assert result.equals(expected)


def test_parsed_columns_are_the_declared_schema() -> None:
    """The counts table takes its offense columns from OFFENSE_SCHEMA: the parser must return
    exactly those columns and types, also for text it cannot read."""
    for texts in (["11357 HS"], [None], ["SEE COMMENT FOR CHARGE"]):
        assert parse_offenses(pl.Series(texts, dtype=pl.String)).schema == pl.Schema(OFFENSE_SCHEMA)


def _cannabis_flags(texts: list[str | None]) -> list[bool]:
    parsed = parse_offenses(pl.Series(texts, dtype=pl.String))
    flags = parsed.select(is_cannabis(pl.col("code"), pl.col("section")).alias("flag"))
    return flags["flag"].to_list()


@pytest.mark.parametrize(
    "text",
    [
        "11357 HS-POSSESSION OF MARIJUANA",
        "11357B2 HS-POSSESSION OF MARIJUANA",
        "11358(C) HS-CULTIVATE MARIJUANA 6+ PLANTS",
        "11359HS-INTENT SELL CANNABIS",
        "11360(B) SELL/FURNISH/ETC MARIJUANA/HASH",
        "HS 11357(b)",
        "664/11359 HS",
        "664.11357(C) HS",
        "66411357(C) HS",
        "664-11357(C) HS",
    ],
)
def test_is_cannabis_true(text: str) -> None:
    assert _cannabis_flags([text]) == [True]


@pytest.mark.parametrize(
    "text",
    [
        "11357.5 HS",
        "11359.5 HS",
        "11355 HS",
        "11350 HS",
        "11377 HS",
        "113570 HS",
        "11530 HS-POSSESS MARIJUANA",
        "11357 PC",
        "11359 VC",
        "11360 BP",
        "664 PC-ATTEMPTED ROBBERY",
        "182(A)(1) PC-CONSPIRACY:COMMIT CRIME",
        "SEE COMMENT FOR CHARGE",
        "",
        None,
    ],
)
def test_is_cannabis_false(text: str | None) -> None:
    assert _cannabis_flags([text]) == [False]


def test_is_cannabis_on_raw_columns_never_null() -> None:
    frame = pl.DataFrame(
        {
            "code": ["HS", "HS", None, "HS", "PC"],
            "section": ["11358", "11358.5", "11358", None, "11358"],
        }
    )
    flags = frame.select(is_cannabis(pl.col("code"), pl.col("section")).alias("flag"))["flag"]
    assert flags.to_list() == [True, False, False, False, False]
    assert set(CANNABIS_SECTIONS) == {"11357", "11358", "11359", "11360"}


def test_parse_offenses_keeps_length_order_and_nulls() -> None:
    texts = [
        "12500(A) VC-DRIVE W/O LICENSE",
        None,
        "664-11357(C) HS",
        "",
        "11357.5 HS",
        "SEE COMMENT FOR CHARGE",
        "182(A)(1) PC-CONSPIRACY:COMMIT CRIME",
        None,
        "11360A2 HS-SELL/FURNISH/ETC MARIJUANA/HASH",
    ]
    result = parse_offenses(pl.Series(texts, dtype=pl.String))
    assert result.height == len(texts)
    assert list(result.columns) == list(OFFENSE_SCHEMA)
    assert result["section"].to_list() == [
        "12500", None, "11357", None, "11357.5", None, "182", None, "11360",
    ]  # fmt: skip
    assert result["offense_parsed"].to_list() == [
        True, False, True, False, True, False, True, False, True,
    ]  # fmt: skip
    assert result["offense_parsed"].null_count() == 0
    rows = [
        Offense(
            code=row["code"],
            section=row["section"],
            subsection=row["subsection"],
            attempt=row["attempt"],
            conspiracy=row["conspiracy"],
            parsed=row["offense_parsed"],
            code_section=row["code_section"],
        )
        for row in result.iter_rows(named=True)
    ]
    assert rows == [parse_offense(text) for text in texts]


def test_parse_offenses_empty_and_all_null() -> None:
    empty = parse_offenses(pl.Series([], dtype=pl.String))
    assert empty.height == 0
    assert empty.schema == pl.Schema(OFFENSE_SCHEMA)
    all_null = parse_offenses(pl.Series([None, None]))
    assert all_null["offense_parsed"].to_list() == [False, False]
    assert all_null["attempt"].to_list() == [False, False]
    assert all_null["code_section"].to_list() == [None, None]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text()), max_size=20))
def test_random_text_never_raises(texts: list[str | None]) -> None:
    result = parse_offenses(pl.Series(texts, dtype=pl.String))
    assert result.height == len(texts)
    assert result.schema == pl.Schema(OFFENSE_SCHEMA)
    assert result["offense_parsed"].null_count() == 0
    assert result["attempt"].null_count() == 0
    assert result["conspiracy"].null_count() == 0
    # A row counts as parsed exactly when it has a section, and only then has a display form.
    assert result["offense_parsed"].to_list() == result["section"].is_not_null().to_list()
    assert result["code_section"].is_null().to_list() == result["section"].is_null().to_list()


@settings(max_examples=300, deadline=None)
@given(
    section=st.sampled_from(["11357", "11358", "11359", "11360", "11357.5", "113570", "4149"]),
    sub=st.sampled_from(["", "(A)", "(b)", "(B)(2)", "A", "C2"]),
    code=st.sampled_from(["HS", "PC", "VC", "BP"]),
    space=st.sampled_from(["", " "]),
    description=st.text(),
)
def test_description_never_changes_the_parse(
    section: str, sub: str, code: str, space: str, description: str
) -> None:
    expected_sub = {"": None, "(A)": "(a)", "(b)": "(b)", "(B)(2)": "(b)(2)", "A": "(a)",
                    "C2": "(c)(2)"}[sub]  # fmt: skip
    parsed = parse_offense(f"{section}{sub}{space}{code}-{description}")
    assert (parsed.code, parsed.section, parsed.subsection) == (code, section, expected_sub)
    assert parsed.parsed
    assert not parsed.attempt
    assert not parsed.conspiracy


@pytest.mark.parametrize(
    ("text", "section", "subsection"),
    [
        ("653F(B) PC-SOLICIT MURDER", "653f", "(b)"),
        ("266H(B) PC-PIMPING", "266h", "(b)"),
    ],
)
def test_letter_suffixed_section_with_subsection(text: str, section: str, subsection: str) -> None:
    """A letter glued to a section and followed by a subdivision is part of the section."""
    parsed = parse_offense(text)
    assert (parsed.code, parsed.section, parsed.subsection) == ("PC", section, subsection)
