"""A rule: a stable id, where it comes from, one plain sentence, the facts it reads, and when it
holds as a Polars expression over the engine's fact columns.

The same objects feed the decision (their `when`), the explanation of every count (their
sentence, citation and `detail`), the `clearance rules` listing and the report's methodology, so
the words a judge reads cannot drift from what the code does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl

#: What a rule says about a count when it holds.
#: - dismiss / reduce_misdemeanor / reduce_infraction: the relief it gives;
#: - no_change: the conviction is already at the level the law now sets;
#: - not_eligible / review: a bar, or a question the data cannot settle;
#: - prior: a disqualifying prior (its effect depends on the policy);
#: - note: a fact worth stating that changes nothing by itself (remedy path, presumptions).
Outcome = Literal[
    "dismiss",
    "reduce_misdemeanor",
    "reduce_infraction",
    "no_change",
    "not_eligible",
    "review",
    "prior",
    "note",
]


@dataclass(frozen=True)
class Rule:
    """One rule of the statute or of a policy."""

    id: str
    citation: str
    text: str
    facts: tuple[str, ...]
    outcome: Outcome
    when: Callable[[], pl.Expr]
    #: Facts of this count to name in the explanation (e.g. the date and case of a prior).
    detail: Callable[[], pl.Expr] | None = None
    source: Literal["statute", "policy"] = "statute"

    def sentence(self) -> str:
        """The rule as a reader sees it: the plain sentence and its citation."""
        return f"{self.text} ({self.citation})"

    def explanation(self) -> pl.Expr:
        """This rule's line of a count's explanation, with the facts it used."""
        base = pl.lit(self.sentence())
        if self.detail is None:
            return base
        detail = self.detail()
        return (
            pl.when(detail.is_not_null() & (detail != ""))
            .then(pl.concat_str([base, pl.lit(": "), detail]))
            .otherwise(base)
        )


def fmt_date(column: str) -> pl.Expr:
    """A date column as YYYY-MM-DD, or 'unknown'."""
    return pl.col(column).dt.to_string("%Y-%m-%d").fill_null("unknown")
