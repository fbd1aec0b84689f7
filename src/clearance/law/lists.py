"""The cited offense lists that the decision rules read, kept as data in one place.

Several Proposition 64 questions are "is this conviction one of the offenses listed in ...?": a
prior super strike (PC 667(e)(2)(C)(iv)) or PC 290(c) registrable offense keeps a cannabis felony
a felony (HS 11358(d), 11359(c), 11360(a)(3)); counties dismissed "related charges" of the same
arrest cycle, flagged possible plea bargains, and sent pre-1973 cannabis sections to review. The
rules, the `clearance rules` listing, the per-count explanations and the report's methodology
all need the same lists. Kept here once, as data, they cannot drift apart: what a judge reads in
the methodology is exactly what the engine matched.

Each entry carries its own citation, because a list is only as good as its weakest entry and a
reviewer must be able to check each one against the statute or the announcement it comes from.
Where the statute names a form of an offense that the DOJ data cannot show (an intent, a
victim's age), the label says which judgment was made.

Sections are written the way `clearance.records.offenses` yields them (`187`, `311.11`, `11418`)
and subsections lower-case and parenthesised (`(d)(3)`). Sections that carry a letter (`653f`,
`266h`, former `288a`) are written lower-case as the codes print them. The offense parser reads a
letter glued to a section as a subsection (`653F PC` gives section `653`, subsection `(f)`,
exactly as `11357A` gives `11357(a)`), so `OffenseList.match` also recognises that split
spelling; see `OffenseList.match`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import polars as pl

__all__ = [
    "ALL_LISTS",
    "FORMER_CANNABIS_SECTIONS",
    "PC290_OFFENSES",
    "PLEA_BARGAIN_FLAGS_SAN_FRANCISCO",
    "RELATED_CHARGES_REVIEW_SAN_JOAQUIN",
    "RELATED_CHARGES_SAN_JOAQUIN",
    "SUPER_STRIKES",
    "ListedOffense",
    "OffenseList",
    "get_list",
    "parse_listed",
]

#: The columns of `OffenseList.frame`, in order.
FRAME_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String(),
    "section": pl.String(),
    "subsection": pl.String(),
    "citation": pl.String(),
    "label": pl.String(),
}

_CODE = re.compile(r"[A-Z]{2,4}")
_SECTION = re.compile(r"[0-9]+(?:\.[0-9]+)?[a-z]?")
_SUBSECTION = re.compile(r"(?:\([0-9a-z]{1,4}\))+")
_LETTER_SECTION = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<letter>[a-z])")
_GROUP = re.compile(r"\([0-9a-z]{1,4}\)")

#: How a policy file or this module writes a listed offense: code letters, a section (with an
#: optional letter that belongs to the section, `653f`), then parenthesised subsections.
_LISTED = re.compile(
    r"^\s*(?P<code>[A-Za-z&]{2,6})\s*"
    r"(?P<section>[0-9]+(?:\.[0-9]+)?[A-Za-z]?)\s*"
    r"(?P<sub>(?:\s*\([0-9A-Za-z]{1,4}\))*)\s*$"
)
#: Spellings of code letters folded into the two-letter codes the offense parser yields.
_CODE_ALIASES = {"HSC": "HS", "WIC": "WI"}


def parse_listed(text: str) -> tuple[str, str, str | None]:
    """Read a listed offense as written in this module or a policy file.

    `"PC 647(f)"` gives `("PC", "647", "(f)")`, `"HS 11364"` gives `("HS", "11364", None)` and
    `"PC 653f(b)"` gives `("PC", "653f", "(b)")`: a letter right after the number belongs to the
    section (as the codes print `653f`), and subsections are always in parentheses, so there is
    no guessing as there is with DOJ offense text. Code letters may be written `H&S`, `W&I`,
    `B&P`. Raises `ValueError` naming the text when it is not of that form, so that a typo in a
    policy file stops the run instead of silently matching nothing.
    """
    if not isinstance(text, str):
        raise ValueError(f"a listed offense must be text such as 'PC 647(f)', not {text!r}")
    found = _LISTED.match(text)
    if found is None:
        raise ValueError(
            f"cannot read listed offense {text!r}: write code letters, a section and optional "
            "parenthesised subsections, e.g. 'PC 647(f)', 'HS 11364' or 'PC 653f(b)'"
        )
    code = found["code"].replace("&", "").upper()
    code = _CODE_ALIASES.get(code, code)
    if _CODE.fullmatch(code) is None:
        raise ValueError(f"cannot read the code letters {found['code']!r} in {text!r}")
    sub = re.sub(r"\s", "", found["sub"]).lower()
    return code, found["section"].lower(), sub or None


@dataclass(frozen=True)
class ListedOffense:
    """One offense on a list, with where it comes from and a short plain description."""

    code: str
    section: str
    subsection: str | None
    citation: str
    label: str

    def __post_init__(self) -> None:
        """Reject an entry that could never match a parsed offense, or that lacks its source."""
        if _CODE.fullmatch(self.code) is None:
            raise ValueError(f"code must be upper-case letters such as 'PC': {self.code!r}")
        if _SECTION.fullmatch(self.section) is None:
            raise ValueError(f"section must be written like '187', '653f': {self.section!r}")
        if self.subsection is not None and _SUBSECTION.fullmatch(self.subsection) is None:
            raise ValueError(f"subsection must be written like '(d)(3)': {self.subsection!r}")
        if not self.citation.strip():
            raise ValueError(f"{self.text} has no citation")
        if not self.label.strip():
            raise ValueError(f"{self.text} has no label")

    @property
    def text(self) -> str:
        """The entry as written in lists and explanations, e.g. `PC 653f(b)`."""
        return f"{self.code} {self.section}{self.subsection or ''}"

    @property
    def key(self) -> tuple[str, str, str | None]:
        """Code, section and subsection, the identity of the entry within a list."""
        return self.code, self.section, self.subsection


def _entry(text: str, citation: str, label: str) -> ListedOffense:
    """Build an entry from its written form, so the lists below read like the statute."""
    code, section, subsection = parse_listed(text)
    return ListedOffense(code, section, subsection, citation, label)


def _groups(subsection: str | None) -> list[str]:
    return _GROUP.findall(subsection or "")


@dataclass(frozen=True)
class _Form:
    """One spelling under which a record can carry a listed entry.

    `bare_possible`: a record with no subsection may be this entry (data cannot settle it).
    `partial`: record subsections less specific than `sub` that may be this entry.
    `guard`: for a whole-section entry, the first subsection groups under which the record may
    be a lettered section listed only in part (`(h)` on PC 266 may be PC 266h(a), as the
    offense parser splits `266H`); such a record is not an exact match of the whole section.
    `split`: the spelling the offense parser gives a lettered section (`653`, `(f)(b)`).
    """

    entry: ListedOffense
    key: str
    sub: str | None
    bare_possible: bool
    partial: tuple[str, ...]
    guard: tuple[str, ...]
    split: bool = False


def _forms(entries: tuple[ListedOffense, ...]) -> list[_Form]:
    """Every spelling of every entry, in entry order.

    An entry for a lettered section (`PC 653f(b)`) has a second spelling, the one the offense
    parser gives for `653F...` texts: section `653`, subsection `(f)` followed by the listed
    subsection. That spelling never matches a record with no subsection (plain `653 PC` is a
    different offense) and, because the parser drops anything after a glued letter, a record
    `653 (f)` is only a possible match for `653f(b)`.
    """
    # A whole-section entry must not exactly match a record that may instead be a lettered
    # section listed only in part: `266 (h)` may be PC 266h(a), which PC 290 does not list.
    partly_listed: dict[str, list[str]] = {}
    for item in entries:
        found = _LETTER_SECTION.fullmatch(item.section)
        if found is not None and item.subsection is not None:
            partly_listed.setdefault(f"{item.code} {found['number']}", []).append(
                f"({found['letter']})"
            )
    forms: list[_Form] = []
    for item in entries:
        key = f"{item.code} {item.section}"
        groups = _groups(item.subsection)
        partial = tuple("".join(groups[:n]) for n in range(1, len(groups)))
        guard = tuple(sorted(set(partly_listed.get(key, ())))) if item.subsection is None else ()
        forms.append(_Form(item, key, item.subsection, True, partial, guard))
        found = _LETTER_SECTION.fullmatch(item.section)
        if found is not None:
            split = [f"({found['letter']})", *groups]
            forms.append(
                _Form(
                    entry=item,
                    key=f"{item.code} {found['number']}",
                    sub="".join(split),
                    bare_possible=False,
                    partial=tuple("".join(split[:n]) for n in range(1, len(split))),
                    guard=(),
                    split=True,
                )
            )
    return forms


@dataclass(frozen=True)
class _Index:
    """The spellings of a list as lookup tables, each mapping a key to what it may be.

    Keys are `"PC 245"` (code and section) or `"PC 245(d)(3)"` (with a subsection), so that
    every test is one `is_in` over a column instead of one comparison per entry. The value
    describes every entry the key may stand for (`PC 261` may be any listed form of rape).
    """

    whole: dict[str, str]
    guarded: dict[str, str]
    guard: frozenset[str]
    exact_sub: dict[str, str]
    split_sub: dict[str, str]
    depth: int
    bare: dict[str, str]
    partial: dict[str, str]

    @staticmethod
    def build(entries: tuple[ListedOffense, ...]) -> _Index:
        """Index every spelling of the entries, keeping entry order within each key."""
        tables: dict[str, dict[str, list[str]]] = {
            name: {} for name in ("whole", "guarded", "exact_sub", "split_sub", "bare", "partial")
        }
        guard: set[str] = set()
        depth = 0

        def add(table: str, key: str, words: str) -> None:
            found = tables[table].setdefault(key, [])
            if words not in found:
                found.append(words)

        for form in _forms(entries):
            item = form.entry
            words = f"{item.text}, {item.label} ({item.citation})"
            if form.sub is None:
                add("guarded" if form.guard else "whole", form.key, words)
                guard.update(form.key + group for group in form.guard)
                continue
            add("split_sub" if form.split else "exact_sub", form.key + form.sub, words)
            depth = max(depth, len(_groups(form.sub)))
            if form.bare_possible:
                add("bare", form.key, words)
            for prefix in form.partial:
                add("partial", form.key + prefix, words)

        def joined(name: str) -> dict[str, str]:
            return {key: "; or ".join(words) for key, words in tables[name].items()}

        return _Index(
            whole=joined("whole"),
            guarded=joined("guarded"),
            guard=frozenset(guard),
            exact_sub=joined("exact_sub"),
            split_sub=joined("split_sub"),
            depth=depth,
            bare=joined("bare"),
            partial=joined("partial"),
        )


@dataclass(frozen=True)
class _Lookup:
    """One look-up of a record key in one table, under an optional extra condition."""

    key: pl.Expr
    table: dict[str, str]
    only_if: pl.Expr | None = None

    def found(self) -> pl.Expr:
        """Whether the key is in the table (and the condition holds); never null."""
        if not self.table:
            return pl.lit(False)
        hit = self.key.is_in(sorted(self.table)).fill_null(False)
        return hit if self.only_if is None else hit & self.only_if.fill_null(False)

    def description(self) -> pl.Expr:
        """The matched entry's description, null where `found` is false."""
        if not self.table:
            return pl.lit(None, dtype=pl.String)
        words = self.key.replace_strict(self.table, default=None, return_dtype=pl.String)
        return words if self.only_if is None else pl.when(self.only_if).then(words)


def _joined(parts: Iterable[pl.Expr]) -> pl.Expr:
    """The non-null parts joined by "; or ", null when every part is null."""
    listed = list(parts)
    if not listed:
        return pl.lit(None, dtype=pl.String)
    text = pl.concat_str(listed, separator="; or ", ignore_nulls=True)
    return pl.when(text.str.len_chars() > 0).then(text)


def _any(terms: Iterable[pl.Expr]) -> pl.Expr:
    """Logical or of the terms, false (not null) when there are none or all are null."""
    listed = list(terms)
    if not listed:
        return pl.lit(False)
    return pl.any_horizontal(listed).fill_null(False)


@dataclass(frozen=True)
class OffenseList:
    """A named, cited list of offenses that one or more rules read."""

    id: str
    title: str
    citation: str
    entries: tuple[ListedOffense, ...]

    def __post_init__(self) -> None:
        """A list must have a source and no entry twice (a duplicate hides a copy error)."""
        if not self.id or not self.title.strip() or not self.citation.strip():
            raise ValueError(f"offense list {self.id!r} needs an id, a title and a citation")
        seen: set[tuple[str, str, str | None]] = set()
        for item in self.entries:
            if item.key in seen:
                raise ValueError(f"{item.text} is listed twice in {self.id}")
            seen.add(item.key)

    def frame(self) -> pl.DataFrame:
        """The entries as a table (code, section, subsection, citation, label) for reports."""
        return pl.DataFrame(
            {
                "code": [item.code for item in self.entries],
                "section": [item.section for item in self.entries],
                "subsection": [item.subsection for item in self.entries],
                "citation": [item.citation for item in self.entries],
                "label": [item.label for item in self.entries],
            },
            schema=FRAME_SCHEMA,
        )

    @cached_property
    def _index(self) -> _Index:
        """The lookup tables, built once per list on first use."""
        return _Index.build(self.entries)

    def _lookups(
        self, code: pl.Expr, section: pl.Expr, subsection: pl.Expr
    ) -> tuple[list[_Lookup], list[_Lookup]]:
        """The look-ups that make a record an exact match (most specific first) or a possible one.

        A record's key is its code and section (`PC 245`); with its first one, two ...
        subsection levels appended (`PC 245(d)`, `PC 245(d)(3)`) it is looked up among the
        listed subsections, so "starts with the listed subsection" is a handful of `is_in`
        tests whatever the length of the list.
        """
        index = self._index
        # Cast first: an all-null column (or `pl.lit(None)`) has no string type of its own.
        key = pl.concat_str(
            code.cast(pl.String).str.strip_chars().str.to_uppercase(),
            pl.lit(" "),
            section.cast(pl.String).str.strip_chars().str.to_lowercase(),
        )
        sub = subsection.cast(pl.String).str.to_lowercase()
        no_sub = sub.fill_null("").str.len_chars() == 0

        def levels(n: int) -> pl.Expr:
            return sub.str.extract(rf"^((?:\([0-9a-z]{{1,4}}\)){{{n}}})", 1)

        deepest_first = range(index.depth, 0, -1)
        exact = [_Lookup(key + levels(n), index.exact_sub) for n in deepest_first]
        exact.append(_Lookup(key, index.whole))
        if index.guard:
            other_section = (key + levels(1)).is_in(sorted(index.guard)).fill_null(False)
            exact.append(_Lookup(key, index.guarded, ~other_section))
        exact.extend(_Lookup(key + levels(n), index.split_sub) for n in deepest_first)
        possible = [_Lookup(key, index.bare, no_sub), _Lookup(key + sub, index.partial)]
        return exact, possible

    def match(
        self, code: pl.Expr, section: pl.Expr, subsection: pl.Expr
    ) -> tuple[pl.Expr, pl.Expr]:
        """(exact, possible) for records given by their code, section and subsection columns.

        Exact: code and section are listed and the entry lists no subsection or the record's
        subsection starts with the listed one (`245(d)(3)` is on the list, so is `245(d)(3)(a)`).
        Possible: code and section are listed with a subsection and the record does not carry
        one, or carries a less specific one (`245` or `245(d)` against `245(d)(3)`); the data
        cannot settle it, so the engine sends it to review rather than guessing. Possible is
        false wherever exact is true. Sections compare case-insensitively (`653F` = `653f`),
        and a lettered section split by the offense parser (`653`, `(f)`) is recognised.

        The expressions are named `<id>_exact` and `<id>_possible`, so several lists can be
        matched in one `select`. Both are false, never null, when any input is null. They are
        plain Polars expressions (`is_in` over the list's keys), so a million records cost a
        few column passes whatever the length of the list, and no Python runs per row.
        Attempt and conspiracy flags are not read here: whether an attempt counts is the
        calling rule's question.
        """
        exact_lookups, possible_lookups = self._lookups(code, section, subsection)
        exact = _any(lookup.found() for lookup in exact_lookups)
        possible = _any(lookup.found() for lookup in possible_lookups) & ~exact
        return exact.alias(f"{self.id}_exact"), possible.alias(f"{self.id}_possible")

    def describe(self, code: pl.Expr, section: pl.Expr, subsection: pl.Expr) -> pl.Expr:
        """The entry a record matches, as `PC 288(a), lewd act ... (citation)`, else null.

        The explanation of a count names the entry the rule relied on. Where the record may be
        more than one entry, all are named, joined by "; or ": a possible match lists what the
        record may be (`245` may be `245(d)(3)`), and a parsed `288 (a)` may be PC 288(a) or
        former PC 288a, which the offense text cannot tell apart. Exact matches are named
        instead of possible ones, the more specific first. The expression is named
        `<id>_entry` and is non-null exactly where `match` holds.
        """
        exact_lookups, possible_lookups = self._lookups(code, section, subsection)
        exact = _joined(lookup.description() for lookup in exact_lookups)
        possible = _joined(lookup.description() for lookup in possible_lookups)
        return pl.coalesce(exact, possible).alias(f"{self.id}_entry")


# --------------------------------------------------------------------------------------------
# Super strikes, PC 667(e)(2)(C)(iv)(I)-(VIII)
# --------------------------------------------------------------------------------------------

_SS = "PC 667(e)(2)(C)(iv)"
_SVO = f"{_SS}(I); WIC 6600(b)"
_LIFE = f"{_SS}(VIII) (life or death; as listed by public record-clearance tools)"

SUPER_STRIKES = OffenseList(
    id="super_strikes",
    title="Super strikes (a prior one keeps a cannabis felony a felony)",
    citation=(
        "PC 667(e)(2)(C)(iv)(I)-(VIII), read by HS 11358(d)(1), 11359(c)(1), 11360(a)(3)(A); "
        "a sexually violent offense is defined in WIC 6600(b)"
    ),
    entries=(
        # (I) sexually violent offenses: WIC 6600(b) requires force, violence, duress, menace,
        # fear or a threat of retaliation. Where only some subdivisions are forcible they are
        # listed by subdivision, so a record without one is a possible match (review). Every
        # one of these sections is also on PC290_OFFENSES as a whole, so a prior of any form
        # still disqualifies through that list.
        _entry("PC 261(a)(2)", _SVO, "rape by force, violence, duress, menace or fear"),
        _entry("PC 261(a)(6)", _SVO, "rape by threat of future retaliation"),
        _entry("PC 262(a)(1)", _SVO, "spousal rape by force or fear (section repealed 2021)"),
        _entry("PC 262(a)(4)", _SVO, "spousal rape by threat of retaliation (repealed 2021)"),
        _entry(
            "PC 264.1", _SVO, "rape or sexual penetration in concert by force (always forcible)"
        ),
        _entry("PC 269", _SVO, "aggravated sexual assault of a child under 14 (every form)"),
        _entry(
            "PC 286(c)",
            f"{_SS}(I), (II); WIC 6600(b)",
            "sodomy with a child under 14 and 10+ years younger, or by force or threat",
        ),
        _entry("PC 286(d)", _SVO, "sodomy in concert by force or threat"),
        _entry(
            "PC 287(c)",
            f"{_SS}(I), (II); WIC 6600(b)",
            "oral copulation with a child under 14 and 10+ years younger, or by force or threat",
        ),
        _entry("PC 287(d)", _SVO, "oral copulation in concert by force or threat"),
        _entry(
            "PC 288a(c)",
            f"{_SS}(I), (II); WIC 6600(b)",
            "oral copulation with a child under 14 and 10+ years younger, or by force or "
            "threat (former section 288a, now 287)",
        ),
        _entry(
            "PC 288a(d)",
            _SVO,
            "oral copulation in concert by force or threat (former section 288a, now 287)",
        ),
        _entry("PC 288(a)", f"{_SS}(I), (III); WIC 6600(b)", "lewd act on a child under 14"),
        _entry(
            "PC 288(b)",
            f"{_SS}(I), (III); WIC 6600(b)",
            "lewd act by force or fear on a child under 14, or on a dependent person",
        ),
        _entry("PC 288.5", _SVO, "continuous sexual abuse of a child (every form)"),
        _entry("PC 289(a)", _SVO, "sexual penetration by force or threat"),
        _entry(
            "PC 289(j)", f"{_SS}(II)", "sexual penetration of a child under 14, 10+ years younger"
        ),
        # (IV) homicide offenses defined in PC 187-191.5, attempts included (an attempt is
        # parsed as its target section with the attempt flag). PC 192 manslaughter is outside
        # the range and is not a super strike.
        _entry("PC 187", f"{_SS}(IV)", "murder or attempted murder"),
        _entry("PC 189", f"{_SS}(IV)", "murder, coded by the section defining its degrees"),
        _entry("PC 190", f"{_SS}(IV)", "murder, coded by the section setting its punishment"),
        _entry(
            "PC 191.5",
            f"{_SS}(IV)",
            "gross vehicular manslaughter while intoxicated (and vehicular manslaughter "
            "while intoxicated)",
        ),
        # (V)-(VII)
        _entry("PC 653f(b)", f"{_SS}(V)", "solicitation to commit murder"),
        _entry(
            "PC 245(d)(3)",
            f"{_SS}(VI)",
            "assault with a machine gun or assault weapon on a peace officer or firefighter",
        ),
        _entry("PC 11418(a)(1)", f"{_SS}(VII)", "possession of a weapon of mass destruction"),
        # (VIII) any serious or violent felony punishable by life imprisonment or death. The
        # statute names no sections; these are the ones the public record-clearance tools used.
        _entry("PC 37", _LIFE, "treason"),
        _entry("PC 128", _LIFE, "perjury procuring the execution of an innocent person"),
        _entry("PC 205", _LIFE, "aggravated mayhem"),
        _entry(
            "PC 207",
            f"{_SS}(I), (VIII); WIC 6600(b); as listed by public record-clearance tools",
            "kidnapping (a super strike when committed with intent to commit a listed sex "
            "offense; the intent is not in the data: a possible super strike, review)",
        ),
        _entry(
            "PC 209",
            f"{_SS}(I), (VIII); WIC 6600(b); as listed by public record-clearance tools",
            "kidnapping for ransom, extortion or robbery (listed whole by the public tools; a "
            "possible super strike, review)",
        ),
        _entry("PC 217.1", _LIFE, "assault on or attempted murder of a public official"),
        _entry("PC 218", _LIFE, "derailing or attempting to wreck a train"),
        _entry("PC 219", _LIFE, "wrecking a train"),
        _entry(
            "PC 220",
            f"{_SS}(I), (VIII); WIC 6600(b); as listed by public record-clearance tools",
            "assault with intent to commit rape, sodomy, oral copulation or another listed "
            "sex offense (a possible super strike, review; 220(b), in a first-degree burglary, "
            "is punished by life)",
        ),
        _entry(
            "PC 220(b)",
            _LIFE,
            "assault with intent to commit a listed sex offense during a first-degree burglary "
            "(life)",
        ),
        _entry("PC 451.5", _LIFE, "aggravated arson"),
        _entry("PC 667.61", _LIFE, "one-strike sex offense sentence (life)"),
        _entry("PC 667.7", _LIFE, "habitual offender sentence (life)"),
        _entry("PC 667.71", _LIFE, "habitual sexual offender sentence (life)"),
        _entry("PC 4500", _LIFE, "assault with malice aforethought by a prisoner serving life"),
        _entry(
            "PC 12308",
            _LIFE,
            "exploding a destructive device with intent to murder (former section, now 18745)",
        ),
        _entry(
            "PC 12310",
            _LIFE,
            "explosion causing death, mayhem or great bodily injury (former section, now 18755)",
        ),
        _entry("PC 18745", _LIFE, "exploding a destructive device with intent to murder"),
        _entry("PC 18755", _LIFE, "explosion causing death, mayhem or great bodily injury"),
    ),
)


#: Sections on SUPER_STRIKES that are a super strike only in one form the DOJ data cannot show:
#: kidnapping (PC 207, 209) and assault with intent (PC 220) only with the intent to commit a
#: listed sex offense (PC 667(e)(2)(C)(iv)(I); WIC 6600(b)), PC 220(b) (in a first-degree
#: burglary, life) apart. A record of one of them is a *possible* super strike: review, with
#: the section named (prop64.md section 5). PC 245 is listed only as 245(d)(3), so a bare 245 is
#: already a possible match and 245(a)(1) none.
POSSIBLE_ONLY_SUPER_STRIKES: tuple[str, ...] = ("207", "209", "220")


def possible_only_super_strike(code: pl.Expr, section: pl.Expr, subsection: pl.Expr) -> pl.Expr:
    """The record is of a section that is a super strike only in a form the data cannot show."""
    sub = subsection.cast(pl.String).fill_null("").str.to_lowercase()
    listed = (code == "PC") & section.cast(pl.String).is_in(list(POSSIBLE_ONLY_SUPER_STRIKES))
    life_form = (section == "220") & sub.str.starts_with("(b)")
    return (listed & ~life_form).fill_null(False)


# --------------------------------------------------------------------------------------------
# Offenses requiring sex-offender registration, PC 290(c)
# --------------------------------------------------------------------------------------------

_290 = "PC 290(c)"

PC290_OFFENSES = OffenseList(
    id="pc290_offenses",
    title="Offenses requiring sex-offender registration (a prior one keeps a cannabis felony)",
    citation=(
        "PC 290(c), read by HS 11358(d)(1), 11359(c)(1), 11360(a)(3)(A). Left out because the "
        "data cannot show the registrable form: PC 187 committed in a rape or listed sex act, "
        "PC 207 and 209 with intent to commit a sex offense (all three are super strikes "
        "anyway), lewd conduct under PC 272, felony PC 288.2, and former PC 647a (the offense "
        "parser reads 647A as PC 647(a), a different offense). A PC 290 registration event in "
        "the record is a separate fact the rules read."
    ),
    entries=(
        _entry(
            "PC 220",
            _290,
            "assault with intent to commit a sex offense (290(c) excludes the mayhem form, "
            "which the data cannot tell apart; listed whole)",
        ),
        _entry("PC 236.1(b)", _290, "human trafficking for a sex offense"),
        _entry("PC 236.1(c)", _290, "human trafficking of a minor for a sex act"),
        _entry("PC 243.4", _290, "sexual battery"),
        _entry("PC 261(a)(1)", _290, "rape of a person incapable of consent"),
        _entry("PC 261(a)(2)", _290, "rape by force, violence, duress, menace or fear"),
        _entry("PC 261(a)(3)", _290, "rape of a person prevented from resisting by an intoxicant"),
        _entry("PC 261(a)(4)", _290, "rape of an unconscious person"),
        _entry("PC 261(a)(6)", _290, "rape by threat of future retaliation"),
        _entry(
            "PC 262(a)(1)",
            _290,
            "spousal rape by force or violence (registrable when sentenced to state prison, "
            "which the list does not check; section repealed 2021)",
        ),
        _entry("PC 264.1", _290, "rape or sexual penetration in concert"),
        _entry("PC 266", _290, "enticing a minor into prostitution"),
        _entry("PC 266c", _290, "sexual act induced by fraud or fear"),
        _entry("PC 266h(b)", _290, "pimping a minor"),
        _entry("PC 266i(b)", _290, "pandering a minor"),
        _entry("PC 266j", _290, "procuring a child under 16 for a lewd act"),
        _entry("PC 267", _290, "abducting a minor for prostitution"),
        _entry("PC 269", _290, "aggravated sexual assault of a child under 14"),
        _entry("PC 285", _290, "incest"),
        _entry("PC 286", _290, "sodomy (every form)"),
        _entry("PC 287", _290, "oral copulation (every form)"),
        _entry("PC 288", _290, "lewd act on a child (every form)"),
        _entry("PC 288a", _290, "oral copulation (former section 288a, now 287)"),
        _entry("PC 288.3", _290, "contacting a minor with intent to commit a sex offense"),
        _entry("PC 288.4", _290, "arranging a meeting with a minor for lewd purposes"),
        _entry("PC 288.5", _290, "continuous sexual abuse of a child"),
        _entry(
            "PC 288.7",
            _290,
            "sexual intercourse, sodomy or oral copulation with a child 10 or under",
        ),
        _entry("PC 289", _290, "sexual penetration by a foreign object (every form)"),
        _entry("PC 311.1", _290, "obscene matter depicting a minor"),
        _entry("PC 311.2(b)", _290, "distributing obscene matter depicting a minor for sale"),
        _entry("PC 311.2(c)", _290, "distributing obscene matter depicting a minor"),
        _entry("PC 311.2(d)", _290, "distributing obscene matter depicting a minor to a minor"),
        _entry("PC 311.3", _290, "sexual exploitation of a child"),
        _entry("PC 311.4", _290, "employing a minor to pose for obscene matter"),
        _entry("PC 311.10", _290, "advertising obscene matter depicting a minor"),
        _entry("PC 311.11", _290, "possessing obscene matter depicting a minor"),
        _entry(
            "PC 314",
            f"{_290} (subdivision 1 or 2 of PC 314)",
            "indecent exposure (the section has only subdivisions 1 and 2; listed whole)",
        ),
        _entry("PC 647.6", _290, "annoying or molesting a child"),
        _entry("PC 653f(c)", _290, "soliciting a sex offense by force or threat"),
    ),
)


# --------------------------------------------------------------------------------------------
# County policies (policy, not law)
# --------------------------------------------------------------------------------------------

_SJ = "San Joaquin County DA and Contra Costa County DA, Prop 64 announcements (2019-20)"

RELATED_CHARGES_SAN_JOAQUIN = OffenseList(
    id="related_charges_san_joaquin",
    title="Related charges dismissed with a cannabis count of the same arrest cycle",
    citation=(
        f"{_SJ}: related charges in the same arrest cycle as a cannabis count were dismissed "
        "with it (county policy, not statute)"
    ),
    entries=(
        _entry("PC 647(f)", _SJ, "public intoxication"),
        _entry("PC 602", _SJ, "trespass"),
        _entry("PC 466", _SJ, "possession of burglary tools"),
        _entry("PC 148", _SJ, "resisting, delaying or obstructing an officer"),
        _entry("PC 148.9", _SJ, "false identification to a peace officer"),
        _entry("PC 1320", _SJ, "failure to appear after release on own recognizance"),
        _entry("HS 11364", _SJ, "possession of drug paraphernalia"),
        _entry("HS 11550", _SJ, "under the influence of a controlled substance"),
        _entry("BP 4140", _SJ, "possession of a hypodermic needle or syringe (former section)"),
        _entry("BP 4149", _SJ, "hypodermic needle or syringe offense (Pharmacy Law)"),
        _entry("VC 40508", _SJ, "failure to appear or to pay on a Vehicle Code citation"),
    ),
)

RELATED_CHARGES_REVIEW_SAN_JOAQUIN = OffenseList(
    id="related_charges_review_san_joaquin",
    title="Related charges sent to review with a cannabis count of the same arrest cycle",
    citation=(
        f"{_SJ}: this related charge was flagged for review rather than dismissed "
        "(county policy, not statute)"
    ),
    entries=(
        _entry("BP 4060", _SJ, "possession of a controlled substance without a prescription"),
    ),
)

_SF = "San Francisco DA, Prop 64 conviction relief (2018-19)"

PLEA_BARGAIN_FLAGS_SAN_FRANCISCO = OffenseList(
    id="plea_bargain_flags_san_francisco",
    title="Possible plea bargains of a cannabis charge (flagged, same arrest cycle)",
    citation=(
        f"{_SF}: convictions for these in the same arrest cycle as a cannabis count were "
        "flagged as possible plea bargains of the cannabis charge (county policy, not statute)"
    ),
    entries=(
        _entry("PC 32", _SF, "accessory after the fact"),
        _entry("HS 11364", _SF, "possession of drug paraphernalia"),
        _entry("HS 11366", _SF, "maintaining a place for using or selling controlled substances"),
    ),
)


# --------------------------------------------------------------------------------------------
# Former cannabis sections (before HS 11357-11360 existed)
# --------------------------------------------------------------------------------------------

_FORMER = "former Health and Safety Code (before the 1972 recodification, Stats. 1972 ch. 1407)"

FORMER_CANNABIS_SECTIONS = OffenseList(
    id="former_cannabis_sections",
    title="Former marijuana sections, before the 1972 recodification (review)",
    citation=(
        f"{_FORMER}. Whether HS 11361.8 reaches convictions under these predecessors of "
        "HS 11357-11360 is unsettled, so they go to review. The numbers are only meaningful "
        "for convictions dated before the recodification took effect in 1973."
    ),
    entries=(
        _entry("HS 11530", f"former HS 11530; {_FORMER}", "possession of marijuana"),
        _entry("HS 11530.5", f"former HS 11530.5; {_FORMER}", "possession of marijuana for sale"),
        _entry(
            "HS 11531",
            f"former HS 11531; {_FORMER}",
            "sale, transport, furnishing or giving away marijuana",
        ),
        _entry(
            "HS 11532",
            f"former HS 11532; {_FORMER}",
            "marijuana offenses involving minors (the number was reused in 1995 for loitering "
            "for drug activity, so only a pre-1973 conviction is the former section)",
        ),
        _entry(
            "HS 11540",
            f"former HS 11540; {_FORMER}",
            "planting, cultivating, harvesting or processing marijuana",
        ),
    ),
)


ALL_LISTS: tuple[OffenseList, ...] = (
    SUPER_STRIKES,
    PC290_OFFENSES,
    RELATED_CHARGES_SAN_JOAQUIN,
    RELATED_CHARGES_REVIEW_SAN_JOAQUIN,
    PLEA_BARGAIN_FLAGS_SAN_FRANCISCO,
    FORMER_CANNABIS_SECTIONS,
)

_BY_ID: dict[str, OffenseList] = {offense_list.id: offense_list for offense_list in ALL_LISTS}
if len(_BY_ID) != len(ALL_LISTS):
    raise RuntimeError("two offense lists share an id")


def get_list(list_id: str) -> OffenseList:
    """The list with this id, for policy files and rules that name lists by id.

    Raises `KeyError` naming the known ids, so a misspelt id in a policy stops the run.
    """
    try:
        return _BY_ID[list_id]
    except KeyError:
        known = ", ".join(sorted(_BY_ID))
        raise KeyError(f"no offense list {list_id!r}; known lists: {known}") from None
