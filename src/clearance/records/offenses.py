"""Read the code, section and subsection out of a DOJ offense text.

The DOJ bulk file has no structured offense column: an offense is free text such as
`11357(C) HS-POSS MARIJUANA OVER 1 OZ/28.5 GRAM`, written in many spellings (see
formats/doj-bulk-file.md, "Offense text variants"). Eligibility under Proposition 64 turns on the
exact section, so substring matching is not good enough: it took `11357.5` (synthetic
cannabinoids) and `113570` for cannabis possession, and it missed attempts written as
`664-11357(C) HS` or `66411357(C) HS`, which are eligible like their target offense.

The parser reads only the leading part of the text (the sections, their subsections and the
code letters) and never the description after the dash, which often holds digits of its own
(`OVER 1 OZ/28.5 GRAM`, `6+ PLANTS`). It runs as one anchored regular expression over the whole
column, so a million rows cost one pass in Polars rather than a million Python calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

#: The Health and Safety Code sections that Proposition 64 changed (HS 11361.8).
CANNABIS_SECTIONS: tuple[str, ...] = ("11357", "11358", "11359", "11360")

#: The columns `parse_offenses` returns, in order. They are the offense columns of
#: `schema.COUNTS_SCHEMA`, so a reader can attach them to its counts unchanged.
OFFENSE_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String(),
    "section": pl.String(),
    "subsection": pl.String(),
    "attempt": pl.Boolean(),
    "conspiracy": pl.Boolean(),
    "offense_parsed": pl.Boolean(),
    "code_section": pl.String(),
}

#: PC 664 (attempt) and PC 182 (conspiracy): written before a target section they change the
#: offense's meaning but not which offense it is aimed at.
ATTEMPT_SECTION = "664"
CONSPIRACY_SECTION = "182"

# The pieces of the pattern. The text is upper-cased first, so letters are only A-Z. Digits are
# spelled [0-9] because \d in the regex engine also matches non-ASCII digits.

#: Code letters recognised wherever they stand (before the section, after it, glued to it).
#: Longer spellings come first so that `WIC` is not read as `WI` followed by a stray `C`.
_KNOWN_CODES = (
    r"W\s*&\s*I\s*C|W\s*&\s*I|WIC|WI|H\s*&\s*S\s*C|H\s*&\s*S|HSC|HS|PC|VC|B\s*&\s*P|BP|HN"
    r"|F\s*&\s*G|FG|GC|EC|CCP|CC|PRC|PR|RT|UI|LC|IC|FAC|FA|MC|PUC"
)
#: Spellings folded into the two-letter code other modules compare against.
_CODE_ALIASES = {
    "W&IC": "WI",
    "W&I": "WI",
    "WIC": "WI",
    "H&SC": "HS",
    "H&S": "HS",
    "HSC": "HS",
    "B&P": "BP",
    "F&G": "FG",
}
_SECTION = r"[0-9]+(?:\.[0-9]+)?"
#: One or more parenthesised levels, `(A)`, `(B)(2)`, `(A)(1)`.
_PAREN_SUB = r"(?:\s*\([0-9A-Z]{1,4}\))+"
#: A subsection glued to the section without parentheses: `11357A`, `11357B2`, `11360A2`.
_GLUED_SUB = r"[A-Z][0-9]{0,2}"
#: Anything that may end the leading part: the end, or a character that is not part of a word
#: (space, dash, slash, colon...). Requiring it keeps `11359HS` from reading as subsection `H`.
_END = r"(?:[^0-9A-Z&]|$)"

_PATTERN = (
    r"^[\s/,;:*\-]*"
    # Code letters written first: `HS 11357(b)`.
    rf"(?:(?P<code_first>{_KNOWN_CODES})\s*)?"
    r"(?:"
    # An attempt or conspiracy with its target: `664/11359`, `664-11357`, `664 PC/11359`,
    # `182(A)(1)/11359`, or the target glued on with an optional dot: `664.11357`, `66411357`.
    # The glued target must be five digits so that PC 182.5 and PC 18710 stay themselves.
    rf"(?P<prefix>664|182)(?:{_PAREN_SUB})?"
    r"(?:(?:\s*PC\s*/|\s*[/\-])\s*"
    rf"(?P<target>{_SECTION})|\.?(?P<glued_target>[0-9]{{5}}(?:\.[0-9]+)?))"
    # Otherwise the first section is the offense.
    # A letter glued to the section and followed by a subsection belongs to the section:
    # `653F(B) PC` is PC 653f(b), `266H(B) PC` is PC 266h(b).
    rf"|(?P<plain>{_SECTION})(?:(?P<sec_letter>[A-Z])(?P<letter_sub>{_PAREN_SUB}))?"
    r")"
    rf"(?P<sub>{_PAREN_SUB}|{_GLUED_SUB})?"
    # Further sections of a combined charge (`484(A)/490.5 PC`) are read past and ignored: the
    # first one names the offense.
    rf"(?:\s*/\s*{_SECTION}(?:{_PAREN_SUB}|{_GLUED_SUB})?)*"
    r"\s*"
    r"(?:"
    rf"(?P<code_known>{_KNOWN_CODES}){_END}"
    # Unlisted code letters are accepted only right before the description dash or at the end,
    # so that a description without code letters (`11360(B) SELL/...`) is not read as a code.
    r"|(?P<code_other>[A-Z]{2,3})\s*(?:-|$)"
    rf"|{_END}"
    r")"
)


def _subsection(sub: pl.Expr) -> pl.Expr:
    """`(A)(1)` and glued `B2` both become the lower-case parenthesised form `(b)(2)`."""
    glued = sub.str.replace(r"^([A-Z])([0-9]+)$", "(${1})(${2})").str.replace(
        r"^([A-Z])$", "(${1})"
    )
    return glued.str.replace_all(r"\s", "").str.to_lowercase()


def _code(raw: pl.Expr) -> pl.Expr:
    """Code letters without spaces, with the aliases folded (`W & I` -> `WI`)."""
    squeezed = raw.str.replace_all(r"\s", "")
    return squeezed.replace(_CODE_ALIASES)


def parse_offenses(texts: pl.Series) -> pl.DataFrame:
    """Parse every offense text of a column at once.

    Returns one row per input, in the same order, with exactly the columns of `OFFENSE_SCHEMA`.
    A text whose section cannot be read (null, blank, `SEE COMMENT FOR CHARGE`, free text) is
    kept with `offense_parsed` false, null code, section and subsection and both flags false,
    so that callers can report it instead of losing it.

    For an attempt or conspiracy written with its target (`664/11359 HS`), `section` is the
    target and the flag is set; written alone (`664 PC-ATTEMPTED ...`), the section is 664 or 182
    itself. The conspiracy flag matters to eligibility: a PC 182 conspiracy to commit 11359 is
    not eligible even though its target is (People v. Medina, 2018).
    """
    groups = pl.col("text").str.to_uppercase().str.extract_groups(_PATTERN)
    target = pl.coalesce(pl.col("target"), pl.col("glued_target"))
    plain = pl.concat_str(pl.col("plain"), pl.col("sec_letter").str.to_lowercase().fill_null(""))
    section = pl.coalesce(target, plain)
    code = pl.coalesce(
        _code(pl.col("code_known")), pl.col("code_other"), _code(pl.col("code_first"))
    )
    # Without code letters, a cannabis section can only be the Health and Safety Code, and a
    # bare 664 or 182 only the Penal Code.
    inferred = (
        pl.when(pl.col("code").is_not_null())
        .then(pl.col("code"))
        .when(pl.col("section").is_in(CANNABIS_SECTIONS))
        .then(pl.lit("HS"))
        .when(
            pl.col("prefix").is_null()
            & pl.col("section").is_in((ATTEMPT_SECTION, CONSPIRACY_SECTION))
        )
        .then(pl.lit("PC"))
    )

    def flag(number: str) -> pl.Expr:
        written_alone = (pl.col("section") == number) & (pl.col("code") == "PC")
        return ((pl.col("prefix") == number) | written_alone).fill_null(False)

    display = pl.concat_str(
        pl.col("code").fill_null(""),
        pl.lit(" "),
        pl.col("section"),
        pl.col("subsection").fill_null(""),
    ).str.strip_chars_start(" ")

    frame = pl.DataFrame({"text": texts.cast(pl.String)})
    return (
        frame.lazy()
        .select(groups.alias("groups"))
        .unnest("groups")
        .with_columns(
            section=section,
            subsection=_subsection(pl.coalesce(pl.col("letter_sub"), pl.col("sub"))),
            code=code,
        )
        .with_columns(code=inferred)
        .select(
            code=pl.col("code"),
            section=pl.col("section"),
            subsection=pl.col("subsection"),
            attempt=flag(ATTEMPT_SECTION),
            conspiracy=flag(CONSPIRACY_SECTION),
            offense_parsed=pl.col("section").is_not_null(),
            code_section=display,
        )
        .collect()
        .cast(pl.Schema(OFFENSE_SCHEMA))
    )


@dataclass(frozen=True)
class Offense:
    """One parsed offense text; the fields mirror the columns of `OFFENSE_SCHEMA`.

    `parsed` is the `offense_parsed` column and `code_section` the display form (`HS 11357(c)`).
    """

    code: str | None
    section: str | None
    subsection: str | None
    attempt: bool
    conspiracy: bool
    parsed: bool
    code_section: str | None


def parse_offense(text: str | None) -> Offense:
    """Parse a single offense text.

    This goes through `parse_offenses` on a one-element column so that a single text and a
    whole file can never be parsed differently.
    """
    row = parse_offenses(pl.Series("text", [text], dtype=pl.String)).row(0, named=True)
    return Offense(
        code=row["code"],
        section=row["section"],
        subsection=row["subsection"],
        attempt=row["attempt"],
        conspiracy=row["conspiracy"],
        parsed=row["offense_parsed"],
        code_section=row["code_section"],
    )


def is_cannabis(code: pl.Expr, section: pl.Expr) -> pl.Expr:
    """True when the offense is HS 11357, 11358, 11359 or 11360, with any subsection.

    The comparison is exact, so the look-alikes 11357.5, 11359.5, 113570 and the former 11530
    are not cannabis sections here, and neither is a 11357 in another code. A null code or
    section gives false, not null, so the result can filter directly. Attempts and conspiracies
    carry their target section, so this is true for them too: callers that must exclude
    conspiracies (not eligible) check the `conspiracy` column as well.
    """
    return ((code == "HS") & section.is_in(CANNABIS_SECTIONS)).fill_null(False)
