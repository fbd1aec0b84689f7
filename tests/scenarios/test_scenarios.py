"""Scenario suite: small histories written from the statute and the county policies.

Each YAML file under tests/scenarios/ holds scenarios: a person, a history, a policy, an as-of
date, and the decision, level, remedy and reasons expected for each cannabis conviction. Every
history is written as a real DOJ file and read back, so the whole path is exercised.

Scenario keys:
- `person` (dob, deceased_on), `history` (events, see builder.Event), `as_of`, `county` (the
  county decided, default Sacramento; an event without a county happens there);
- `policy` (a preset name, default statute) with optional `policy_overrides` (merged one level
  deep), or `policy_json` (the statewide configurable tool's eligibility options, written to a
  .json file and loaded with `load_policy`, as an office would pass it with --policy);
- `policy_error`: the policy must be refused with a message containing this text (no run);
- `others`: more people in the same file (dob, deceased_on, history); an `expect` entry with
  `other: i` checks the i-th of them instead of the main person;
- `expect`: per cycle (and count): decision, new_level, remedy, reasons, not_reasons,
  explanation_has, first_reason (the first of the reasons: the step that decided, in a
  first-holding flow), or `absent: true` when the count must not be decided.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from clearance.engine import all_rules, decide
from clearance.law.prop64 import STATUTE_RULES
from clearance.policy.loader import PolicyError, load_policy
from clearance.policy.schema import Policy
from clearance.records.doj import read_doj
from scenarios.builder import Event, count_id, rows_for, write_doj

HERE = Path(__file__).parent
SUBJECT = "90000001"


def other_id(index: int) -> str:
    """SUBJECT_ID of the i-th of a scenario's `others`."""
    return str(90000100 + index)


def _load_files() -> dict[str, list[dict[str, Any]]]:
    files = {}
    for path in sorted(HERE.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        files[path.stem] = data["scenarios"]
    return files


FILES = _load_files()
SCENARIOS = [(f"{stem}: {s['name']}", s) for stem, found in FILES.items() for s in found]


def _policy(scenario: dict[str, Any], tmp_path: Path) -> Policy:
    if "policy_json" in scenario:
        assert "policy" not in scenario, "policy and policy_json are exclusive"
        path = tmp_path / scenario.get("policy_json_file", "eligibility-options.json")
        path.write_text(json.dumps(scenario["policy_json"], indent=2), encoding="utf-8")
        base = load_policy(path)
    else:
        base = load_policy(scenario.get("policy", "statute"))
    overrides = scenario.get("policy_overrides")
    if not overrides:
        return base
    merged = base.model_dump()
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return Policy.model_validate(merged)


def _event(raw: dict[str, Any], county: str) -> Event:
    """An event of a history; without a county it happens in the scenario's county."""
    values = {"county": county, **raw}
    return Event(**values)


def run_scenario(scenario: dict[str, Any], tmp_path: Path) -> Any:
    county = scenario.get("county", "Sacramento")
    home = county.upper()
    person = scenario.get("person", {})
    rows = rows_for(
        SUBJECT,
        person.get("dob"),
        [_event(e, home) for e in scenario["history"]],
        deceased_on=person.get("deceased_on"),
        deceased_county=home,
    )
    others = [
        rows_for(
            other_id(i),
            o.get("dob"),
            [_event(e, home) for e in o["history"]],
            deceased_on=o.get("deceased_on"),
            deceased_county=home,
        )
        for i, o in enumerate(scenario.get("others", []))
    ]
    path = write_doj(tmp_path / "scenario.dat", [rows, *others])
    records = read_doj([path])
    assert records.rows_quarantined == 0, records.quarantine
    policy = _policy(scenario, tmp_path)
    as_of = scenario.get("as_of", date(2026, 11, 21))
    return decide(records, policy, as_of, county)


@pytest.mark.parametrize("scenario", [s for _, s in SCENARIOS], ids=[n for n, _ in SCENARIOS])
def test_scenario(scenario: dict[str, Any], tmp_path: Path) -> None:
    if "policy_error" in scenario:
        with pytest.raises(PolicyError) as info:
            _policy(scenario, tmp_path)
        assert scenario["policy_error"] in str(info.value)
        return
    decided = run_scenario(scenario, tmp_path)
    for expect in scenario["expect"]:
        who = other_id(expect["other"]) if "other" in expect else SUBJECT
        table = decided.table.filter(pl.col("subject_id") == who)
        by_count = {row["count_id"]: row for row in table.iter_rows(named=True)}
        cid = count_id(expect["cycle"], expect.get("count", 1))
        if expect.get("absent"):
            assert cid not in by_count, f"count {cid} of {who} should not be decided"
            continue
        assert cid in by_count, f"count {cid} of {who} not decided; decided: {sorted(by_count)}"
        row = by_count[cid]
        context = (
            f"{scenario['name']} / cycle {expect['cycle']}: got {row['decision']} {row['reasons']}"
        )
        assert row["decision"] == expect["decision"], context
        if "new_level" in expect:
            assert row["new_level"] == expect["new_level"], context
        if "remedy" in expect:
            assert row["remedy"] == expect["remedy"], context
        if "first_reason" in expect:
            first = row["reasons"][0] if row["reasons"] else None
            assert first == expect["first_reason"], f"first reason {first}: {context}"
        for reason in expect.get("reasons", []):
            assert reason in row["reasons"], f"{reason} missing: {context}"
        for reason in expect.get("not_reasons", []):
            assert reason not in row["reasons"], f"{reason} should not fire: {context}"
        for text in expect.get("explanation_has", []):
            assert text in row["explanation"], f"{text!r} not in {row['explanation']!r}"


def _covered(stem: str) -> set[str]:
    return {
        reason
        for s in FILES.get(stem, [])
        for e in s.get("expect", [])
        for reason in [*e.get("reasons", []), *([e["first_reason"]] if "first_reason" in e else [])]
    }


def test_every_statute_rule_has_a_scenario() -> None:
    """Each statute rule is the subject of at least one scenario where it fires."""
    covered = {reason for stem in FILES for reason in _covered(stem)}
    missing = [r.id for r in STATUTE_RULES if r.id not in covered]
    assert not missing, f"statute rules without a scenario: {missing}"


@pytest.mark.parametrize(
    "preset",
    [
        "los-angeles-2020",
        "sacramento-2019",
        "san-joaquin-2019",
        "contra-costa-2019",
        "san-francisco-2018",
    ],
)
def test_every_rule_of_a_preset_has_a_scenario_in_its_file(preset: str) -> None:
    """Each policy rule a preset adds fires in at least one scenario of that preset's file."""
    policy = load_policy(preset)
    wanted = {r.id for r in all_rules(policy, date(2026, 11, 21)) if r.source == "policy"}
    if policy.related_charges.dismiss:
        wanted.add("policy_related_charge_dismiss")
    if policy.related_charges.review:
        wanted.add("policy_related_charge_review")
    missing = sorted(wanted - _covered(preset))
    assert not missing, f"{preset}: policy rules without a scenario: {missing}"


def test_every_policy_criterion_has_a_scenario() -> None:
    """Each switch of the policy schema fires in policy-criteria.yaml."""
    wanted = {
        "policy_age_at_least",
        "policy_under_21_at_offense",
        "policy_under_21_at_conviction",
        "policy_years_since_conviction",
        "policy_crime_free",
        "policy_only_cannabis_sentences_complete",
        "policy_only_cannabis",
        "policy_single_conviction_complete",
        "policy_deceased",
        "policy_misdemeanor_dismiss",
        "policy_misdemeanor_city_attorney",
        "policy_hs11359_dismiss",
        "policy_hs11358_reduce",
        "policy_hs11359_review",
        "policy_priors_review",
        "policy_priors_warn",
        "policy_still_serving_review",
        "policy_remaining_review",
        "policy_challenge_lawful_with_prior",
        "policy_challenge_lawful_conduct",
        "policy_related_charge_dismiss",
        "policy_related_charge_review",
    }
    missing = sorted(wanted - _covered("policy-criteria") - _covered("statute-lawful-conduct"))
    assert not missing, f"policy criteria without a scenario: {missing}"


def test_every_tool_step_has_a_scenario() -> None:
    """Each step of the configurable tool's flow, and its warning, fires in its file."""
    wanted = {
        "tool_not_felony",
        "tool_baseline_dismiss",
        "tool_under_21_at_conviction",
        "tool_age_threshold",
        "tool_years_since_conviction",
        "tool_crime_free",
        "tool_only_prop64",
        "tool_deceased",
        "tool_baseline_reduce",
        "tool_no_decision",
        "warning_statute_differs",
    }
    missing = sorted(wanted - _covered("configurable-tool"))
    assert not missing, f"tool steps without a scenario: {missing}"


def test_every_rule_has_citation_and_sentence() -> None:
    for preset in (
        "statute",
        "los-angeles-2020",
        "sacramento-2019",
        "san-joaquin-2019",
        "contra-costa-2019",
        "san-francisco-2018",
    ):
        for rule in all_rules(load_policy(preset), date(2026, 11, 21)):
            assert rule.citation.strip(), rule.id
            assert len(rule.text.split()) >= 3, rule.id
