"""The statewide configurable tool's decision flow, reproduced for offices that used it.

Offices that ran that tool in 2019-2020 filed with its numbers; an office switching to clearance
must be able to get the same decisions from the same options file (prop64.md section 6). So the
flow here is the tool's: the first step that holds decides. Two of its defects are not copied:
look-alike sections (HS 11357.5) are not in scope, and attempts (`664-11357`) are. Where the
statute alone would decide otherwise (a prior super strike, a conviction after 2016-11-08), the
count keeps the tool's decision and carries the warning `warning_statute_differs` plus every
statute rule that fired.

The machinery is shared with the pilot counties' flows (`clearance.county_flows`):
`decide_by_steps` decides the counts a flow covers by its first step that holds, lists every
step that holds, and leaves the counts outside the flow to the statute alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import polars as pl

from clearance.law.rule import Rule
from clearance.policy import rules as policy_rules
from clearance.policy.schema import Policy, statute_policy

Evaluate = Callable[[pl.DataFrame, Policy, date, bool], tuple[pl.DataFrame, tuple[Rule, ...]]]


def evaluate_tool(
    facts: pl.DataFrame, policy: Policy, as_of: date, evaluate: Evaluate, explained: bool = True
) -> tuple[pl.DataFrame, tuple[Rule, ...]]:
    """Decide with the tool's steps; counts outside its scope keep the statute's decision."""
    steps = policy_rules.tool_rules(policy, as_of)
    return decide_by_steps(facts, steps, pl.col("kind") == "cannabis", as_of, evaluate, explained)


def flow_rules(policy: Policy, as_of: date, statute_rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """Every rule a run of the tool's flow lists: the statute's, the steps, the warning."""
    steps = policy_rules.tool_rules(policy, as_of)
    return (*statute_rules, *steps, policy_rules.statute_differs_rule())


def verdict(step: Rule) -> str:
    """The decision a step gives when it is the first that holds."""
    return "reduce" if step.outcome.startswith("reduce") else step.outcome


def first_holding(steps: Sequence[Rule], flag: Callable[[Rule], str]) -> pl.Expr:
    """The decision of the first step whose flag column holds (review when none does)."""
    decision: pl.Expr = pl.lit("review")
    for step in reversed(steps):
        decision = pl.when(pl.col(flag(step))).then(pl.lit(verdict(step))).otherwise(decision)
    return decision


def held(
    frame: pl.DataFrame, rules: Sequence[Rule], fired: Callable[[Rule], pl.Expr]
) -> tuple[pl.Series, pl.Series]:
    """(ids, explanation) of the rules that fired on each row, in the rules' order.

    In long form, as the engine explains (`engine.explain`): each rule's text is formatted only
    on the rows where it fired, and only the columns the texts read are touched."""
    empty = pl.DataFrame(schema={"_row": pl.UInt32, "reason": pl.String, "text": pl.String})
    indexed = frame.lazy().with_row_index("_row")
    parts = [
        indexed.filter(fired(rule)).select(
            "_row", pl.lit(rule.id).alias("reason"), rule.explanation().alias("text")
        )
        for rule in rules
    ]
    # Concatenated in the rules' order; a stable sort by row keeps that order within a row.
    long = pl.concat(parts).collect() if parts else empty
    grouped = (
        long.sort("_row", maintain_order=True)
        .group_by("_row", maintain_order=True)
        .agg(pl.col("reason"), pl.col("text").str.join(" | "))
    )
    rows = pl.DataFrame({"_row": pl.arange(0, frame.height, dtype=pl.UInt32, eager=True)})
    joined = rows.join(grouped, on="_row", how="left", maintain_order="left")
    return (
        joined["reason"].fill_null(pl.lit([], dtype=pl.List(pl.String))),
        joined["text"].fill_null(""),
    )


def _flag(rule: Rule) -> str:
    return f"t__{rule.id}"


def decide_by_steps(
    facts: pl.DataFrame,
    steps: Sequence[Rule],
    in_scope: pl.Expr,
    as_of: date,
    evaluate: Evaluate,
    explained: bool = True,
    notes: Sequence[Rule] = (),
) -> tuple[pl.DataFrame, tuple[Rule, ...]]:
    """Decide the counts where `in_scope` holds by the first of `steps` that holds; the others
    keep the statute's decision. Every step that holds is listed, then the statute's reasons,
    then the `notes` that hold, then the warning where the statute alone decides otherwise."""
    statute, statute_rules = evaluate(facts, statute_policy(), as_of, explained)
    warning = policy_rules.statute_differs_rule()
    flags = [s.when().fill_null(False).alias(_flag(s)) for s in (*steps, *notes)]
    frame = statute.with_columns(
        pl.col("decision").alias("statute_decision"),
        pl.col("new_level").alias("statute_new_level"),
        in_scope.fill_null(False).alias("_in_scope"),
    ).with_columns(flags)

    scoped = pl.col("_in_scope")
    frame = frame.with_columns(
        pl.when(scoped)
        .then(first_holding(steps, _flag))
        .otherwise(pl.col("decision"))
        .alias("decision")
    )
    relieved = pl.col("decision").is_in(["dismiss", "reduce"])
    step_ids, step_text = held(frame, steps, lambda r: pl.col(_flag(r)) & scoped)
    note_ids, note_text = held(frame, notes, lambda r: pl.col(_flag(r)))
    frame = frame.with_columns(
        step_ids.alias("_step_ids"),
        step_text.alias("_step_text"),
        note_ids.alias("_note_ids"),
        note_text.alias("_note_text"),
    )
    frame = frame.with_columns(
        pl.when(pl.col("decision") != "reduce")
        .then(None)
        .when(scoped)
        .then(pl.lit("misdemeanor"))
        .otherwise(pl.col("new_level"))
        .alias("new_level"),
        pl.when(relieved | (pl.col("decision") == "review"))
        .then(pl.when(pl.col("serving")).then(pl.lit("11361.8(b)")).otherwise(pl.lit("11361.8(f)")))
        .otherwise(None)
        .alias("remedy"),
    )
    differs = warning.when().fill_null(False)
    no_ids = pl.lit([], dtype=pl.List(pl.String))
    frame = frame.with_columns(
        pl.concat_list(
            "_step_ids",
            "reasons",
            "_note_ids",
            pl.when(differs).then(pl.lit([warning.id])).otherwise(no_ids),
        ).alias("reasons"),
        pl.concat_str(
            [
                pl.when(pl.col(c) != "").then(pl.col(c))
                for c in ("_step_text", "explanation", "_note_text")
            ]
            + [pl.when(differs).then(warning.explanation())],
            separator=" | ",
            ignore_nulls=True,
        ).alias("explanation"),
    )
    helpers = ["_in_scope", "_step_ids", "_step_text", "_note_ids", "_note_text"]
    return frame.drop(helpers), (*statute_rules, *steps, *notes, warning)
