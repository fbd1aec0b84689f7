"""End to end: `clearance run` on a synthetic file and on the bundled sample, outputs checked
against the contract of DESIGN.md ("Decisions", "Outputs").

Each case runs the command twice (the files must be byte-identical), once more through the
Python API (engine.decide + outputs.run.write_run, which must write the same files), and the
input once under `--policy statute` (the summary's what-if "statute" block must equal it).
"""

from __future__ import annotations

import csv
import functools
import gzip
import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from clearance import engine
from clearance.cli import app
from clearance.engine import DECISIONS, all_rules, decide
from clearance.outputs import tables
from clearance.outputs.run import write_run
from clearance.outputs.summary import impact
from clearance.outputs.tables import convictions_table, write_results_csv
from clearance.policy import rules as policy_rules
from clearance.policy.loader import load_policy, policy_text
from clearance.policy.schema import Policy
from clearance.records import chunks
from clearance.records.doj import read_doj
from clearance.records.schema import DOJ_COLUMNS
from clearance.synth import write_synthetic

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "peer-generated-sacramento-20k.dat.gz"
AS_OF = date(2026, 11, 21)
COUNTY = "Sacramento"

#: DESIGN.md "Outputs": the columns of convictions.csv, in this order.
CONVICTION_COLUMNS = [
    "subject_id", "name", "dob", "cii_number", "county", "court_case_number", "count_id",
    "offense_date", "conviction_date", "age_at_offense", "code_section", "offense_level",
    "decision", "new_level", "remedy", "reasons", "explanation", "source",
]  # fmt: skip
RESULT_COLUMNS = ["clearance_decision", "clearance_new_level", "clearance_remedy",
                  "clearance_reasons"]  # fmt: skip
OUTPUT_FILES = (
    "convictions.csv",
    "convictions.parquet",
    "results.csv",
    "people.csv",
    "summary.json",
    "quarantine.csv",
)
REMEDIES = {"11361.8(b)", "11361.8(f)"}
WHAT_IFS = ("statute", "dismiss_all", "dismiss_all_related")

#: Eligibility options of the statewide configurable tool, as an office would have saved them.
TOOL_OPTIONS = {
    "baselineEligibility": {"dismiss": ["11357", "11358"], "reduce": ["11359", "11360"]},
    "additionalRelief": {
        "subjectUnder21AtConviction": True,
        "subjectAgeThreshold": 50,
        "yearsSinceConvictionThreshold": 10,
        "yearsCrimeFreeThreshold": 5,
        "subjectHasOnlyProp64Charges": True,
        "subjectIsDeceased": True,
    },
}

#: (input, policy): the synthetic file under a policy with related charges, the sample under
#: a county preset and under the configurable tool's options.
CASES = [
    ("synthetic", "san-joaquin-2019"),
    ("sample", "sacramento-2019"),
    ("sample", "tool-options.json"),
]


@dataclass(frozen=True)
class Run:
    """A case's input, policy and output folders."""

    input: Path
    spec: str
    policy: Policy
    first: Path
    second: Path
    api: Path
    statute: Path


runner = CliRunner()


def _cli_run(path: Path, spec: str, out: Path, *extra: str) -> None:
    args = ["run", str(path), "--county", COUNTY, "--as-of", AS_OF.isoformat()]
    result = runner.invoke(app, [*args, "--policy", spec, "--out", str(out), "--quiet", *extra])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("run-outputs")


@pytest.fixture(scope="module")
def inputs(workdir: Path) -> dict[str, Path]:
    synthetic = workdir / "synthetic-20k.dat"
    write_synthetic(synthetic, rows=20_000, seed=7)
    (workdir / "tool-options.json").write_text(json.dumps(TOOL_OPTIONS, indent=2), "utf-8")
    return {"synthetic": synthetic, "sample": SAMPLE}


@pytest.fixture(scope="module")
def statute_runs(workdir: Path, inputs: dict[str, Path]) -> dict[str, Path]:
    """Each input once under the statute alone."""
    found = {}
    for name, path in inputs.items():
        out = workdir / f"{name}-statute"
        _cli_run(path, "statute", out, "--no-what-if")
        found[name] = out
    return found


@pytest.fixture(scope="module", params=CASES, ids=[f"{i}-{p}" for i, p in CASES])
def run(
    request: pytest.FixtureRequest,
    workdir: Path,
    inputs: dict[str, Path],
    statute_runs: dict[str, Path],
) -> Run:
    name, spec = request.param
    path = inputs[name]
    if spec.endswith(".json"):
        spec = str(workdir / spec)
    stem = f"{name}-{Path(spec).stem}"
    first, second, api = (workdir / f"{stem}-{k}" for k in ("1", "2", "api"))
    _cli_run(path, spec, first)
    _cli_run(path, spec, second)
    policy = load_policy(spec)
    records = read_doj([path])
    decided = decide(records, policy, AS_OF, COUNTY)
    write_run(api, decided, records, [path], policy_text(spec))
    return Run(path, spec, policy, first, second, api, statute_runs[name])


# ------------------------------------------------------------------------------------------
# Helpers


def _input_lines(path: Path) -> tuple[bool, list[bytes]]:
    """(has a header, the data lines as bytes without their line ends)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    lines = [line.removesuffix(b"\r") for line in lines]
    header = lines[0].startswith(b"RECORD_ID,")
    return header, lines[1:] if header else lines


def _csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _summary(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "summary.json").read_text("utf-8"))
    return data


def _known_rule_ids(policy: Policy) -> set[str]:
    ids = {rule.id for rule in all_rules(policy, AS_OF)}
    ids |= {rule.id for rule in policy_rules.related_rules(policy)}
    ids |= {rule.id for rule in policy_rules.tool_rules(policy, AS_OF)}
    if policy.flow == "configurable_tool":
        ids.add(policy_rules.statute_differs_rule().id)
    return ids


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# ------------------------------------------------------------------------------------------
# Files and determinism


def test_every_output_is_written(run: Run) -> None:
    for name in OUTPUT_FILES:
        assert (run.first / name).is_file(), name


def test_two_runs_are_byte_identical(run: Run) -> None:
    first, second = _files(run.first), _files(run.second)
    assert sorted(first) == sorted(second)
    assert set(OUTPUT_FILES) <= set(first)
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"files that differ between two runs: {differ}"


def test_the_python_api_writes_what_the_command_writes(run: Run) -> None:
    cli, api = _files(run.first), _files(run.api)
    differ = [name for name in OUTPUT_FILES if cli[name] != api[name]]
    assert not differ, f"files that differ between the command and the API: {differ}"


# ------------------------------------------------------------------------------------------
# convictions.csv / .parquet


def test_convictions_columns_are_the_contract(run: Run) -> None:
    header, _ = _csv_rows(run.first / "convictions.csv")
    assert header == CONVICTION_COLUMNS
    parquet = pl.read_parquet(run.first / "convictions.parquet")
    assert parquet.columns == CONVICTION_COLUMNS


def test_parquet_holds_the_same_rows_as_the_csv(run: Run) -> None:
    _, rows = _csv_rows(run.first / "convictions.csv")
    parquet = pl.read_parquet(run.first / "convictions.parquet")
    assert parquet.height == len(rows) > 0
    for column in ("subject_id", "count_id", "decision", "remedy", "new_level", "source"):
        assert parquet[column].fill_null("").to_list() == [r[column] for r in rows], column
    assert parquet["reasons"].to_list() == [r["reasons"] for r in rows]


def test_every_conviction_row_is_decided_and_explained(run: Run) -> None:
    _, rows = _csv_rows(run.first / "convictions.csv")
    known = _known_rule_ids(run.policy)
    assert rows
    for row in rows:
        where = f"{row['subject_id']}/{row['count_id']}"
        assert row["decision"] in DECISIONS, where
        reasons = row["reasons"].split(";") if row["reasons"] else []
        assert reasons, f"{where}: no reasons"
        unknown = set(reasons) - known
        assert not unknown, f"{where}: unknown rule ids {unknown}"
        assert row["explanation"].strip(), where
        if row["decision"] in ("dismiss", "reduce"):
            assert row["remedy"] in REMEDIES, where
        if row["decision"] == "not_eligible":
            assert row["remedy"] == "", where
        if row["decision"] == "reduce":
            assert row["new_level"] in ("misdemeanor", "infraction"), where
        else:
            assert row["new_level"] == "", where


def test_conviction_rows_point_back_to_their_source_line(run: Run) -> None:
    header, lines = _input_lines(run.input)
    _, rows = _csv_rows(run.first / "convictions.csv")
    offset = 2 if header else 1
    keys = set()
    for row in rows:
        keys.add((row["subject_id"], row["count_id"]))
        name, _, line = row["source"].rpartition(":")
        assert name == run.input.name
        text = lines[int(line) - offset].decode("utf-8", "replace")
        assert row["subject_id"] in text and row["count_id"] in text, row["source"]
        assert row["county"] == COUNTY.upper()
        assert row["code_section"][:3] in ("HS ", "PC ", "BP ", "VC "), row["code_section"]
    assert len(keys) == len(rows), "a count is decided twice"


# ------------------------------------------------------------------------------------------
# results.csv


def test_results_has_every_input_row_unchanged_with_the_decisions(run: Run) -> None:
    """Every row of the layout, loaded or quarantined, as it was in the input (a trailing
    comma cut), with the decision columns; blank lines and lines with the wrong number of
    fields are left out (the quarantine holds them), so every row has the header's fields."""
    header, lines = _input_lines(run.input)
    data = (run.first / "results.csv").read_bytes()
    out = data.split(b"\n")
    assert out[-1] == b""
    out.pop()
    assert out[0].decode("ascii") == ",".join([*DOJ_COLUMNS, *RESULT_COLUMNS])
    out = out[1:]
    offset = 2 if header else 1
    quarantine = pl.read_csv(run.first / "quarantine.csv", infer_schema=False)
    shapeless = {
        int(line)
        for line, reason in quarantine.select("source_line", "reason").iter_rows()
        if reason.startswith(("wrong number of fields", "unbalanced quotes"))
    }
    assert shapeless or run.input == SAMPLE, "the synthetic file has no line of the wrong shape"
    kept = [
        (index + offset, line)
        for index, line in enumerate(lines)
        if line.strip() and index + offset not in shapeless
    ]
    assert len(out) == len(kept)

    # The lines of every decided count (sentence parts included) carry its decision.
    counts = pl.read_parquet(run.first / "record" / "counts.parquet")
    decided = pl.read_csv(run.first / "convictions.csv", infer_schema=False)
    expected: dict[int, bytes] = {}
    joined = decided.join(counts.select("subject_id", "count_id", "source_lines"),
                          on=["subject_id", "count_id"], how="left")  # fmt: skip
    for row in joined.iter_rows(named=True):
        assert row["source_lines"], f"{row['subject_id']}/{row['count_id']} has no lines"
        suffix = ",".join(
            ["", row["decision"], row["new_level"] or "", row["remedy"] or "", row["reasons"]]
        ).encode()
        for line in row["source_lines"]:
            expected[line] = suffix
    for (number, before), after in zip(kept, out, strict=True):
        suffix = expected.get(number, b",,,,")
        assert after.endswith(suffix), f"line {number}"
        row = after[: len(after) - len(suffix)]
        assert row == before or row + b"," == before or row + b',""' == before, (
            f"line {number} is not the input row unchanged"
        )
        assert len(next(csv.reader([after.decode("utf-8", "replace")]))) == len(DOJ_COLUMNS) + 4
    assert expected, "no decided line"


# ------------------------------------------------------------------------------------------
# people.csv, quarantine.csv


def test_people_has_one_row_per_person_with_a_decided_conviction(run: Run) -> None:
    header, rows = _csv_rows(run.first / "people.csv")
    for column in (
        "subject_id",
        "convictions_before",
        "convictions_after",
        "felonies_before",
        "felonies_after",
        "no_conviction_left",
        "conviction_last_7_years_before",
        "conviction_last_7_years_after",
    ):
        assert column in header, column
    _, convictions = _csv_rows(run.first / "convictions.csv")
    assert [r["subject_id"] for r in rows] == sorted({r["subject_id"] for r in convictions})
    for row in rows:
        assert int(row["convictions_after"]) <= int(row["convictions_before"]), row["subject_id"]
        assert int(row["felonies_after"]) <= int(row["felonies_before"]), row["subject_id"]
        assert (row["no_conviction_left"] == "true") == (row["convictions_after"] == "0")


def test_quarantine_lists_every_row_set_aside(run: Run) -> None:
    header, rows = _csv_rows(run.first / "quarantine.csv")
    assert header == ["source_file", "source_line", "reason", "raw"]
    summary = _summary(run.first)
    assert len(rows) == summary["input"]["rows_quarantined"]
    assert all(r["reason"] for r in rows)
    _, convictions = _csv_rows(run.first / "convictions.csv")
    decided_lines = {int(r["source"].rpartition(":")[2]) for r in convictions}
    assert not decided_lines & {int(r["source_line"]) for r in rows}


# ------------------------------------------------------------------------------------------
# summary.json


def test_summary_has_the_keys_of_the_design(run: Run) -> None:
    summary = _summary(run.first)
    for key in (
        "input",
        "county",
        "policy",
        "as_of",
        "by_decision",
        "by_section",
        "by_reason",
        "by_decade",
        "people_impact",
        "what_if",
    ):
        assert key in summary, key
    for key in ("rows_read", "rows_loaded", "rows_quarantined"):
        assert isinstance(summary["input"][key], int), key
    assert summary["county"] == COUNTY.upper()
    assert summary["policy"]["name"] == run.policy.name
    assert summary["as_of"] == AS_OF.isoformat()
    for key in ("no_longer_felony", "no_conviction_left", "no_conviction_last_7_years"):
        assert isinstance(summary["people_impact"][key], int), key
    assert sorted(summary["what_if"]) == sorted(WHAT_IFS)
    for block in summary["what_if"].values():
        assert set(DECISIONS) <= set(block["by_decision"])
        assert sum(block["by_decision"].values()) == block["convictions"]
        assert set(summary["people_impact"]) == set(block["people_impact"])


def test_summary_accounts_for_every_input_row(run: Run) -> None:
    _, lines = _input_lines(run.input)
    rows = _summary(run.first)["input"]
    assert rows["rows_read"] == len([x for x in lines if x.strip()])
    assert rows["rows_read"] == rows["rows_loaded"] + rows["rows_quarantined"]


def test_summary_figures_add_up_to_the_convictions(run: Run) -> None:
    summary = _summary(run.first)
    _, rows = _csv_rows(run.first / "convictions.csv")
    assert summary["convictions"] == len(rows)
    assert set(summary["by_decision"]) == set(DECISIONS)
    assert sum(summary["by_decision"].values()) == len(rows)
    assert summary["by_decision"] == {d: sum(r["decision"] == d for r in rows) for d in DECISIONS}
    for key in ("by_section", "by_decade"):
        assert sum(n for inner in summary[key].values() for n in inner.values()) == len(rows), key
    reasons = Counter(reason for r in rows for reason in r["reasons"].split(";"))
    assert summary["by_reason"] == dict(reasons)
    assert summary["people"] == len({r["subject_id"] for r in rows})


def test_what_if_statute_equals_a_run_under_the_statute(run: Run) -> None:
    what_if = _summary(run.first)["what_if"]["statute"]
    statute = _summary(run.statute)
    assert statute["policy"]["name"] == "statute"
    assert what_if["policy"] == statute["policy"]["title"]
    for key in ("convictions", "people", "by_decision", "people_impact"):
        assert what_if[key] == statute[key], key


def test_what_if_alternatives_relieve_at_least_as_much(run: Run) -> None:
    what_if = _summary(run.first)["what_if"]
    statute, dismiss_all, related = (what_if[k] for k in WHAT_IFS)
    assert dismiss_all["by_decision"]["dismiss"] >= statute["by_decision"]["dismiss"]
    assert dismiss_all["by_decision"]["reduce"] == 0
    assert related["convictions"] >= dismiss_all["convictions"]
    assert related["by_decision"]["dismiss"] >= dismiss_all["by_decision"]["dismiss"]


def test_summary_json_is_sorted_and_ends_with_a_newline(run: Run) -> None:
    text = (run.first / "summary.json").read_text("utf-8")
    assert text.endswith("\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


# ------------------------------------------------------------------------------------------
# Scale


@pytest.mark.parametrize("spec", ["san-joaquin-2019", "tool-options.json"])
def test_deciding_in_slices_gives_the_same_table(
    workdir: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, spec: str
) -> None:
    """A statewide record is decided a slice of facts at a time: slicing must not change a
    decision, a reason, an explanation or the related charges that follow."""
    records = read_doj([inputs["synthetic"]])
    policy = load_policy(str(workdir / spec) if spec.endswith(".json") else spec)
    whole = decide(records, policy, AS_OF, COUNTY).table
    monkeypatch.setattr(engine, "_SLICE_ROWS", 7)
    sliced = decide(records, policy, AS_OF, COUNTY).table
    assert whole.height > 3 * 7
    assert sliced.equals(whole)


def test_convictions_keep_person_and_count_order_whatever_order_they_come_in(
    inputs: dict[str, Path],
) -> None:
    """Determinations read back from the store may come in another order than a run's."""
    records = read_doj([inputs["synthetic"]])
    decided = decide(records, load_policy("statute"), AS_OF, COUNTY)
    shuffled = replace(decided, table=decided.table.sample(fraction=1.0, shuffle=True, seed=3))
    assert not shuffled.table.equals(decided.table)
    ordered = convictions_table(decided, records)
    assert convictions_table(shuffled, records).equals(ordered)
    assert ordered.select("subject_id", "count_id").equals(
        ordered.select("subject_id", "count_id").sort("subject_id", "count_id")
    )


def test_convictions_of_a_decision_made_in_slices_keep_its_chunks(
    inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The determinations of a statewide run come in pieces; the convictions table is built a
    piece at a time, so the explanations are not copied into one block to line up."""
    records = read_doj([inputs["synthetic"]])
    monkeypatch.setattr(engine, "_SLICE_ROWS", 7)
    decided = decide(records, load_policy("statute"), AS_OF, COUNTY)
    pieces = decided.table["explanation"].n_chunks()
    assert pieces > 3
    table = convictions_table(decided, records)
    assert table["explanation"].n_chunks() == pieces
    whole = convictions_table(replace(decided, table=decided.table.rechunk()), records)
    assert whole["explanation"].n_chunks() == 1
    assert table.equals(whole)


def test_results_are_the_same_whatever_the_size_of_the_chunks_read(
    tmp_path: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk of the input takes its decisions from one slice of the decided lines: with
    small chunks, sentence parts and decided lines fall on many chunk boundaries."""
    records = read_doj([inputs["synthetic"]])
    decided = decide(records, load_policy("san-joaquin-2019"), AS_OF, COUNTY)
    assert records.counts["source_rows"].max() > 1
    rows = write_results_csv(tmp_path / "whole.csv", decided, records, [inputs["synthetic"]])
    monkeypatch.setattr(tables, "iter_chunks", functools.partial(chunks.iter_chunks, size=4096))
    small = write_results_csv(tmp_path / "small.csv", decided, records, [inputs["synthetic"]])
    assert small == rows == sum(f.results_rows for f in records.files) < records.rows_read
    assert (tmp_path / "small.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_what_if_figures_do_not_depend_on_the_order_of_the_rows(inputs: dict[str, Path]) -> None:
    """A what-if's related charges are left after the other rows (figures only): its figures
    are those of the same decisions in order."""
    records = read_doj([inputs["synthetic"]])
    policy = load_policy("san-joaquin-2019")
    explained = decide(records, policy, AS_OF, COUNTY)
    figures = decide(records, policy, AS_OF, COUNTY, explained=False)
    assert explained.table["kind"].eq("related").any()
    keys = ["subject_id", "count_id", "decision", "new_level", "remedy"]
    assert figures.table.select(keys).sort(keys).equals(explained.table.select(keys).sort(keys))
    assert impact(figures, records) == impact(explained, records)


def test_facts_kept_for_figures_give_the_same_figures(inputs: dict[str, Path]) -> None:
    """A run's facts, stripped to what figures read, give the what-ifs the same decisions; an
    explained decision on that cache builds its facts again."""
    records = read_doj([inputs["synthetic"]])
    policy = load_policy("san-joaquin-2019")
    run = decide(records, load_policy("statute"), AS_OF, COUNTY)
    full = decide(records, policy, AS_OF, COUNTY, run.cache, explained=False)
    engine.keep_for_figures(run.cache)
    # The statute's facts, and the county flow's (it reads sentences as its tool did).
    assert len(run.cache) == 2
    for facts in run.cache.values():
        assert "source_line" not in facts.columns
        assert not [c for c in facts.columns if c.endswith("_detail")]
    figures = decide(records, policy, AS_OF, COUNTY, run.cache, explained=False)
    assert figures.table.equals(full.table)
    again = decide(records, load_policy("statute"), AS_OF, COUNTY, run.cache)
    assert again.table.equals(run.table)
