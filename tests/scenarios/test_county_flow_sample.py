"""Each county preset decides the bundled sample as its county's own flow did, step by step.

The reference is `source_flows`, an independent reading of the counties' public code that reads
the DOJ file line by line. Every conviction the flow decides must get the same decision from the
preset, and the first of the preset's steps that holds must be the step the flow ended on (the
flow's own words: its determination and its reason). The preset's deviations (its header
comment) are applied to the reference before comparing, and the number of decisions each one
changes must be the number its header states.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pytest

from clearance.engine import decide
from clearance.policy.loader import load_policy, policy_text
from clearance.records.doj import Records, read_doj
from scenarios import source_flows as source
from scenarios.source_flows import Key, Verdict

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "peer-generated-sacramento-20k.dat.gz"
HEADER_AS_OF = date(2026, 11, 21)
AS_OFS = (HEADER_AS_OF, date(2019, 4, 10), date(2020, 2, 29), date(2021, 11, 8))
PRESETS = ("sacramento-2019", "san-joaquin-2019", "contra-costa-2019", "los-angeles-2020",
           "san-francisco-2018")  # fmt: skip

#: The flows' words -> the preset's step (rule id suffix). A reason None matches any reason.
STEPS: dict[str, dict[tuple[str, str | None], str]] = {
    "sacramento-2019": {
        ("Not eligible", "Occurred after 11/09/2016"): "after_2016",
        ("Eligible for Dismissal", "Misdemeanor or Infraction"): "not_felony",
        ("Eligible for Dismissal", "HS 11357(b)"): "hs11357b",
        ("Eligible for Dismissal", "No convictions in past 10 years"): "no_conviction_10y",
        ("Eligible for Reduction", "Has convictions in past 10 years"): "conviction_10y",
        ("Eligible for Dismissal", "Sentence Completed"): "sentence_completed",
        ("Eligible for Reduction", "Sentence not Completed"): "sentence_not_completed",
    },
    "san-joaquin-2019": {
        ("Not eligible", "Occurred after 11/09/2016"): "after_2016",
        ("Maybe Eligible - Flag for Review", "4060 BP"): "related_bp4060",
        ("Maybe Eligible - Flag for Review", "No Related Prop64 Charges"): "related_no_cannabis",
        ("Eligible for Dismissal", "Misdemeanor or Infraction"): "not_felony",
        ("Eligible for Dismissal", "11357 HS"): "hs11357",
        ("Eligible for Dismissal", "No convictions in past 5 years"): "no_conviction_5y",
        ("Maybe Eligible - Flag for Review", "Has convictions in past 5 years"): "conviction_5y",
        ("Eligible for Dismissal", "Sentence Completed"): "sentence_completed",
        ("Maybe Eligible - Flag for Review", "Sentence not Completed"): "sentence_not_completed",
        # A related charge dismissed: the flow's reason is its code section.
        ("Eligible for Dismissal", None): "related_dismiss",
    },
    "los-angeles-2020": {
        ("To be reviewed by City Attorneys", "Misdemeanor or Infraction"): "not_felony",
        ("Not eligible", "Occurred after 11/09/2016"): "after_2016",
        ("Eligible for Dismissal", "11357(a) or 11357(b)"): "hs11357_ab",
        ("Hand Review", "Other 11357"): "hs11357_other",
        ("Not eligible", "PC 667(e)(2)(c)(iv)"): "super_strike",
        ("Not eligible", "PC 290"): "pc290",
        ("Not eligible", "Two priors"): "two_priors",
        ("Eligible for Dismissal", "50 years or older"): "age_50",
        ("Eligible for Dismissal", "21 years or younger"): "age_21",
        ("Eligible for Dismissal", "Only has 11357-60 charges and completed sentence"):
            "only_cannabis_complete",
        ("Eligible for Dismissal", "No convictions in past 10 years"): "no_conviction_10y",
        ("Hand Review", "Currently serving sentence"): "serving",
        ("Eligible for Dismissal", "Deceased"): "deceased",
        ("Hand Review", "????"): "no_criteria",
    },
    "san-francisco-2018": {
        ("ineligible", "PC 290 registration"): "pc290_registration",
        ("ineligible", "PC 290 offense"): "pc290_offense",
        ("ineligible", "super strike"): "super_strike",
        ("ineligible", "three convictions of the code section"): "three_convictions",
        ("needs review", "weight not known"): "weight_unknown",
        ("eligible", "misdemeanor"): "misdemeanor",
        ("eligible", "felony"): "felony",
        ("deviation", "after 2016"): "deviation_after_2016",
        ("plea bargain", None): "possible_plea_bargain",
    },
}  # fmt: skip
STEPS["contra-costa-2019"] = STEPS["san-joaquin-2019"]

DECISIONS = {
    "Eligible for Dismissal": "dismiss",
    "Eligible for Reduction": "reduce",
    "Not eligible": "not_eligible",
    "Maybe Eligible - Flag for Review": "review",
    "Hand Review": "review",
    "To be reviewed by City Attorneys": "review",
    "ineligible": "not_eligible",
    "needs review": "review",
    "deviation": "not_eligible",
    "plea bargain": "review",
}


def decision_of(verdict: Verdict) -> str:
    label, reason = verdict
    if label == "eligible":
        return "dismiss" if reason == "misdemeanor" else "reduce"
    return DECISIONS[label]


@cache
def records() -> Records:
    return read_doj([SAMPLE])


@cache
def rows() -> list[dict[str, str]]:
    return source.read_rows(SAMPLE)


def engine_sentence_ends() -> dict[Key, date | None]:
    """Deviation sentence-end: the engine's reading of each count's sentence for the county
    flows (every part added up, on the calendar)."""
    counts = records().counts.select("subject_id", "count_id", "sentence_end_added")
    return {(s, c): end for s, c, end in counts.iter_rows()}


@cache
def offense_days() -> dict[Key, datetime]:
    """The offense date of each count as the file writes it: the cycle date, else the step's."""
    days: dict[Key, datetime] = {}
    for row in rows():
        day = source.parse_date(row["CYC_DATE"])
        if day == source.EPOCH:
            day = source.parse_date(row["STP_EVENT_DATE"])
        days.setdefault((row["SUBJECT_ID"], row["CNT_ORDER"]), day)
    return days


def after_2016(key: Key) -> bool:
    """Deviation after-2016: the offense on or after 2016-11-09."""
    return offense_days()[key] >= datetime(2016, 11, 9)


def plea_bargains(county: str) -> dict[Key, Verdict]:
    """San Francisco's possible plea bargains (its record-sheet flow): a PC 32, HS 11364 or
    HS 11366 conviction in the county whose arrest cycle has a HS 11357-11360 count."""
    listed = re.compile(r"^(32|11364|11366)(\([^)]*\))* ?(PC|HS)$")
    cannabis = re.compile(r"^(11357|11358|11359|11360)\b")
    cycles = {(r["SUBJECT_ID"], r["CNT_ORDER"][:3]) for r in rows()
              if cannabis.match(r["OFFENSE_DESCR"])}  # fmt: skip
    found: dict[Key, Verdict] = {}
    for r in rows():
        section = r["OFFENSE_DESCR"].split("-")[0].strip()
        match = listed.match(section)
        if (
            match
            and r["DISP_DESCR"].startswith("CONVICTED")
            and r["STP_ORI_CNTY_NAME"] == county
            and (match.group(1) == "32") == (match.group(3) == "PC")
            and (r["SUBJECT_ID"], r["CNT_ORDER"][:3]) in cycles
        ):
            found[(r["SUBJECT_ID"], r["CNT_ORDER"])] = ("plea bargain", section)
    return found


def reference(preset: str, as_of: date, deviations: bool) -> dict[Key, Verdict]:
    """The county's verdicts on the sample; with the preset's deviations applied or not."""
    ends = engine_sentence_ends() if deviations else None
    verdicts = source.decide(preset, rows(), "SACRAMENTO", as_of, sentence_end=ends)
    if preset == "san-francisco-2018":
        if deviations:
            verdicts = {k: ("deviation", "after 2016") if after_2016(k) else v
                        for k, v in verdicts.items()}  # fmt: skip
        verdicts |= plea_bargains("SACRAMENTO")
    return verdicts


def preset_steps(preset: str, as_of: date) -> dict[Key, tuple[str, str]]:
    """The preset's decision and first step (the suffix of its rule id) for each count."""
    policy = load_policy(preset)
    prefix = policy.flow.rsplit("_", 1)[0] + "_"
    table = decide(records(), policy, as_of, "sacramento").table
    found: dict[Key, tuple[str, str]] = {}
    for row in table.select("subject_id", "count_id", "decision", "reasons").iter_rows():
        subject, count, decision, reasons = row
        steps = [r.removeprefix(prefix) for r in reasons if r.startswith(prefix)]
        found[(subject, count)] = (decision, steps[0] if steps else "")
    return found


@pytest.mark.parametrize("as_of", AS_OFS, ids=str)
@pytest.mark.parametrize("preset", PRESETS)
def test_the_preset_decides_the_sample_as_its_county_did(preset: str, as_of: date) -> None:
    expected = reference(preset, as_of, deviations=True)
    got = preset_steps(preset, as_of)
    assert expected, "the county's flow decides nothing on the sample"
    assert set(got) == set(expected)
    steps = STEPS[preset]
    wrong = []
    for key, verdict in expected.items():
        step = steps.get(verdict) or steps[(verdict[0], None)]
        if got[key] != (decision_of(verdict), step):
            wrong.append((key, verdict, got[key]))
    assert not wrong, f"{len(wrong)} counts differ, e.g. {wrong[:5]}"
    # Every kind of outcome the flow gave is on the sample: the comparison is not vacuous.
    assert len({v[0] for v in expected.values()}) >= 3


def header_deviations(preset: str) -> dict[str, int]:
    """`Deviation <name>: ... Changes <n> decisions on the bundled sample.` of the header."""
    header = "\n".join(
        line.lstrip("# ") for line in policy_text(preset).splitlines() if line.startswith("#")
    )
    found = re.findall(r"Deviation ([\w-]+)[ :(].*?Changes (\d+) decisions", header, re.S)
    return {name: int(count) for name, count in found}


@pytest.mark.parametrize("preset", PRESETS)
def test_the_header_counts_what_each_deviation_changes(preset: str) -> None:
    """The sentence reading and San Francisco's date safeguard change what the header says;
    the other deviations change nothing on the sample (the test above compares the preset with
    a reading of the raw text, so any change of theirs would show there)."""
    stated = header_deviations(preset)
    assert {"sentence-end", "record-reading", "scope"} <= set(stated)
    pure = reference(preset, HEADER_AS_OF, deviations=False)
    ends = engine_sentence_ends()
    sentence = source.decide(preset, rows(), "SACRAMENTO", HEADER_AS_OF, sentence_end=ends)
    changed = {
        "sentence-end": sum(
            1 for k, v in sentence.items() if decision_of(pure[k]) != decision_of(v)
        ),
        "record-reading": 0,
        "scope": 0,
    }
    if preset == "san-francisco-2018":
        changed["after-2016"] = sum(
            1 for k in sentence if after_2016(k) and decision_of(pure[k]) != "not_eligible"
        )
    assert stated == changed


def test_the_reference_reads_the_flows_as_their_own_tests_do() -> None:
    """Spot checks of the reading against the counties' own test expectations."""
    assert source.RELATED.search("4149 BP ")
    assert not source.RELATED.search("647(F) PC")
    assert source.code_section({"OFFENSE_DESCR": " 148 PC - RESISTING", "COMMENT_TEXT": ""}) == (
        " 148 PC "
    )
    assert source.years_since(source.EPOCH, datetime(2020, 1, 1)) > 290
    assert source.add_date(datetime(2020, 2, 29), -10) == datetime(2010, 3, 1)
    assert source.part_duration({"SENT_LENGTH": "2", "SENT_TIME_CODE": "M"}).days == 61
