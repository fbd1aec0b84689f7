"""A conviction set aside under PC 1203.4 is decided, counted and filed (issue 13 point 6).

HS 11361.8 reaches a conviction that was set aside: its dismissal and sealing go further than
the set-aside. So `clearance run` decides it, the person's figures count it among the
convictions before and remove it after a dismissal, and the filings put it in the statute's
motions.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from clearance.cli import app
from clearance.outputs.filings.data import load_run, rules_used
from clearance.outputs.filings.groups import DISMISS_SEAL, REDESIGNATE, Authority, classify
from scenarios.builder import Event, rows_for, write_doj

SET_ASIDE = "CONV SET ASIDE & DISM PER 1203.4 PC"


def test_set_aside_convictions_are_decided_counted_and_filed(tmp_path: Path) -> None:
    lawful = Event(
        "11357(B) HS-POSSESS MARIJUANA 28.5 GRAMS OR LESS", date(1995, 3, 1), level="M",
        disposition=SET_ASIDE, case="SA1",
    )  # fmt: skip
    sale = Event(
        "11359 HS-POSSESS MARIJUANA FOR SALE", date(2001, 3, 1), level="F",
        disposition=SET_ASIDE, case="SA2",
    )  # fmt: skip
    source = write_doj(
        tmp_path / "set-aside.dat",
        [
            rows_for("90000001", date(1970, 1, 1), [lawful]),
            rows_for("90000002", date(1960, 1, 1), [sale]),
        ],
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["run", str(source), "--county", "Sacramento", "--as-of", "2026-11-21", "--out", str(out),
         "--no-what-if", "--quiet"],
        prog_name="clearance",
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    with (out / "convictions.csv").open(encoding="utf-8") as handle:
        decided = {row["subject_id"]: row for row in csv.DictReader(handle)}
    assert decided["90000001"]["decision"] == "dismiss"
    assert "set_aside_pc1203_4" in decided["90000001"]["reasons"].split(";")
    assert "set aside and dismissed under PC 1203.4" in decided["90000001"]["explanation"]
    assert (decided["90000002"]["decision"], decided["90000002"]["new_level"]) == (
        "reduce",
        "misdemeanor",
    )

    with (out / "people.csv").open(encoding="utf-8") as handle:
        people = {row["subject_id"]: row for row in csv.DictReader(handle)}
    assert (people["90000001"]["convictions_before"], people["90000001"]["convictions_after"]) == (
        "1",
        "0",
    )
    assert people["90000001"]["no_conviction_left"] == "true"
    assert (people["90000002"]["felonies_before"], people["90000002"]["felonies_after"]) == (
        "1",
        "0",
    )

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["by_decision"]["dismiss"] == 1
    assert summary["by_decision"]["reduce"] == 1
    assert summary["by_reason"]["set_aside_pc1203_4"] == 2

    run = load_run(out)
    filed = classify(run.convictions, rules_used(run.policy, run.as_of), Authority(None, None))
    groups = dict(zip(filed["subject_id"].to_list(), filed["order_group"].to_list(), strict=True))
    assert groups == {"90000001": DISMISS_SEAL.key, "90000002": REDESIGNATE.key}
