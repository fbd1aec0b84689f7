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


def held(rules: Sequence[Rule], flag: Callable[[Rule], str]) -> tuple[pl.Expr, pl.Expr]:
    """(ids, explanation lines) of the rules whose flag column holds, in the rules' order."""
    if not rules:
        none = pl.lit([], dtype=pl.List(pl.String))
        return none, none
    ids = pl.concat_list(
        [pl.when(pl.col(flag(r))).then(pl.lit(r.id)).otherwise(None) for r in rules]
    ).list.drop_nulls()
    texts = pl.concat_list(
        [pl.when(pl.col(flag(r))).then(r.explanation()).otherwise(None) for r in rules]
    ).list.drop_nulls()
    return ids, texts


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
    step_ids, step_text = held(steps, _flag)
    note_ids, note_text = held(notes, _flag)
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
            pl.when(scoped).then(step_ids).otherwise(no_ids),
            pl.col("reasons"),
            note_ids,
            pl.when(differs).then(pl.lit([warning.id])).otherwise(no_ids),
        ).alias("reasons"),
        pl.concat_str(
            [
                pl.when(scoped).then(step_text.list.join(" | ")).otherwise(None),
                pl.when(pl.col("explanation") != "").then(pl.col("explanation")),
                pl.when(note_text.list.len() > 0).then(note_text.list.join(" | ")),
                pl.when(differs).then(warning.explanation()).otherwise(None),
            ],
            separator=" | ",
            ignore_nulls=True,
        ).alias("explanation"),
    )
    return frame.drop("_in_scope"), (*statute_rules, *steps, *notes, warning)
