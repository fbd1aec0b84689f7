"""The statewide configurable tool's decision flow, reproduced for offices that used it.

Offices that ran that tool in 2019-2020 filed with its numbers; an office switching to clearance
must be able to get the same decisions from the same options file (prop64.md section 6). So the
flow here is the tool's: the first step that holds decides. Two of its defects are not copied:
look-alike sections (HS 11357.5) are not in scope, and attempts (`664-11357`) are. Where the
statute alone would decide otherwise (a prior super strike, a conviction after 2016-11-08), the
count keeps the tool's decision and carries the warning `warning_statute_differs` plus every
statute rule that fired.
"""

from __future__ import annotations

from collections.abc import Callable
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
    statute, statute_rules = evaluate(facts, statute_policy(), as_of, explained)
    steps = policy_rules.tool_rules(policy, as_of)
    warning = policy_rules.statute_differs_rule()
    flags = [s.when().fill_null(False).alias(f"t__{s.id}") for s in steps]
    frame = statute.with_columns(
        pl.col("decision").alias("statute_decision"),
        pl.col("new_level").alias("statute_new_level"),
    ).with_columns(flags)

    decision: pl.Expr = pl.lit("review")
    for step in reversed(steps):
        verdict = "reduce" if step.outcome.startswith("reduce") else step.outcome
        decision = pl.when(pl.col(f"t__{step.id}")).then(pl.lit(verdict)).otherwise(decision)
    in_scope = pl.col("kind") == "cannabis"
    frame = frame.with_columns(
        pl.when(in_scope).then(decision).otherwise(pl.col("decision")).alias("decision")
    )
    relieved = pl.col("decision").is_in(["dismiss", "reduce"])
    tool_reasons = pl.concat_list(
        [pl.when(pl.col(f"t__{s.id}")).then(pl.lit(s.id)).otherwise(None) for s in steps]
    ).list.drop_nulls()
    tool_text = pl.concat_list(
        [pl.when(pl.col(f"t__{s.id}")).then(pl.lit(s.sentence())).otherwise(None) for s in steps]
    ).list.drop_nulls()
    frame = frame.with_columns(
        pl.when(pl.col("decision") != "reduce")
        .then(None)
        .when(in_scope)
        .then(pl.lit("misdemeanor"))
        .otherwise(pl.col("new_level"))
        .alias("new_level"),
        pl.when(relieved | (pl.col("decision") == "review"))
        .then(pl.when(pl.col("serving")).then(pl.lit("11361.8(b)")).otherwise(pl.lit("11361.8(f)")))
        .otherwise(None)
        .alias("remedy"),
    )
    differs = warning.when().fill_null(False)
    frame = frame.with_columns(
        pl.when(in_scope)
        .then(
            pl.concat_list(
                tool_reasons,
                pl.col("reasons"),
                pl.when(differs)
                .then(pl.lit([warning.id]))
                .otherwise(pl.lit([], dtype=pl.List(pl.String))),
            )
        )
        .otherwise(pl.col("reasons"))
        .alias("reasons"),
        pl.when(in_scope)
        .then(
            pl.concat_str(
                [
                    tool_text.list.join(" | "),
                    pl.col("explanation"),
                    pl.when(differs).then(warning.explanation()).otherwise(None),
                ],
                separator=" | ",
                ignore_nulls=True,
            )
        )
        .otherwise(pl.col("explanation"))
        .alias("explanation"),
    )
    return frame, (*statute_rules, *steps, warning)
