"""Federal scenario suite: cases written from the two proclamations (shared/law/federal.md).

Each YAML file here holds scenarios: `rows` of the documented federal case list (missing columns
take the defaults below), optional `policy` switches (`unplaced`, `presume_marijuana`) and
`expect`, one entry per row in order: decision, form, reasons (all must have fired),
not_reasons (none may have fired), explanation_has, conditions_has. Every scenario is written as
a real CSV file and read back through the reader, so the statute forms are exercised too.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml

from clearance.law.federal import RULES_BY_ID, FederalPolicy, decide_federal
from clearance.records.federal import CASE_LIST_COLUMNS, read_federal

HERE = Path(__file__).parent
DEFAULTS = {
    "person_id": "F1",
    "name": "TESTER, PAT",
    "dob": "1970-01-01",
    "citizenship": "citizen",
    "court": "C.D. Cal.",
    "docket": "2:10-cr-00001",
    "offense_date": "2010-01-01",
    "disposition": "convicted",
    "disposition_date": "2010-06-01",
    "sentence": "",
}


def _scenarios() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(HERE.glob("*.yaml")):
        for s in yaml.safe_load(path.read_text(encoding="utf-8"))["scenarios"]:
            found.append((f"{path.stem}: {s['name']}", s))
    return found


SCENARIOS = _scenarios()


def _write(rows: list[dict[str, Any]], path: Path) -> None:
    columns = [*CASE_LIST_COLUMNS, "description"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            merged = {**DEFAULTS, **{k: ("" if v is None else str(v)) for k, v in row.items()}}
            writer.writerow([merged.get(c, "") for c in columns])


@pytest.mark.parametrize(("name", "scenario"), SCENARIOS, ids=[n for n, _ in SCENARIOS])
def test_federal_scenario(name: str, scenario: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    _write(scenario["rows"], path)
    read = read_federal([path])
    assert read.rows_quarantined == 0, read.quarantine.to_dicts()
    policy = FederalPolicy(**scenario.get("policy", {}))
    decided = decide_federal(read.counts, policy).to_dicts()
    assert len(decided) == len(scenario["expect"]), name
    for row, expect in zip(decided, scenario["expect"], strict=True):
        where = f"{name}: {row['statute_raw']} {row['offense_date']}"
        if "decision" in expect:
            assert row["decision"] == expect["decision"], (where, row["reasons"])
        if "form" in expect:
            assert row["form"] == expect["form"], where
        if "statute" in expect:
            assert row["statute"] == expect["statute"], where
        for reason in expect.get("reasons", []):
            assert reason in RULES_BY_ID, reason
            assert reason in row["reasons"], (where, row["reasons"])
        for reason in expect.get("not_reasons", []):
            assert reason in RULES_BY_ID, reason
            assert reason not in row["reasons"], (where, row["reasons"])
        for text in expect.get("explanation_has", []):
            assert text in row["explanation"], (where, row["explanation"])
        for text in expect.get("conditions_has", []):
            assert text in row["conditions"], (where, row["conditions"])


def test_every_deciding_rule_has_a_scenario() -> None:
    """A rule without a scenario is a rule nobody checked against the proclamations."""
    named = {reason for _, s in SCENARIOS for e in s["expect"] for reason in e.get("reasons", [])}
    assert set(RULES_BY_ID) - named == set()
