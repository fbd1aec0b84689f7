"""Narrowing a whole repository to the people a run can decide (Spark's repository mode and
its county files) changes no decision, under every policy: the statute, each county's flow,
the summary's what-ifs, a policy with related charges and the configurable tool's flow.

The Spark runs themselves are in test_scale_spark_flows.py; this checks the narrowing on its
own, with the engine as it runs on one machine, and the out-of-core path (which does not
narrow) on the same repository."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import RUN_FILES
from flow_edges import COUNTY, EDGE_IDS, HISTORIES, edge_id, write_repository
from typer.testing import CliRunner

from clearance.cli import app
from clearance.engine import EVERY_COUNTY, decide
from clearance.outputs.summary import what_if_policies
from clearance.policy.loader import load_policy, policy_from_tool_options
from clearance.policy.schema import Policy, RelatedCharges
from clearance.records.doj import Records, read_doj
from clearance.scale.people import concerned_convictions, decidable
from clearance.scale.spark import cannabis_people

AS_OF = date(2026, 11, 21)
PRESETS = ("statute", "san-joaquin-2019", "contra-costa-2019", "los-angeles-2020",
           "sacramento-2019", "san-francisco-2018")  # fmt: skip


def _related_policy() -> Policy:
    """The statute with related charges to dismiss (after a relieved conviction) and to
    review (beside any cannabis charge, even a dismissed one)."""
    return load_policy("statute").model_copy(
        update={
            "name": "related",
            "related_charges": RelatedCharges(
                dismiss=["PC 602", "HS 11550"], review=["HS 11364", "HS 11366", "PC 32"]
            ),
        }
    )


def _tool_policy() -> Policy:
    """The statewide configurable tool's flow, with related charges to review too."""
    options = {
        "baselineEligibility": {"dismiss": ["11357", "11358"], "reduce": ["11359", "11360"]},
        "additionalRelief": {"subjectAgeThreshold": 50, "yearsCrimeFreeThreshold": 10},
    }
    policy = policy_from_tool_options(options, "options.json")
    return policy.model_copy(
        update={"related_charges": RelatedCharges(review=["HS 11364", "HS 11366"])}
    )


def _policies() -> dict[str, Policy]:
    policies = {name: load_policy(name) for name in PRESETS}
    policies.update({f"what-if-{k}": p for k, p in what_if_policies().items()})
    policies["related"] = _related_policy()
    policies["configurable-tool"] = _tool_policy()
    return policies


POLICIES = _policies()


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_repository(tmp_path_factory.mktemp("repo") / "repository.dat")


@pytest.fixture(scope="module")
def records(repository: Path) -> Records:
    return read_doj([repository])


@pytest.mark.parametrize("name", list(POLICIES))
def test_narrowing_changes_no_decision(records: Records, name: str) -> None:
    """Every county's decisions (one county's run, and every county at once) are the same on
    the narrowed record as on the whole repository; the people decided are all named, in the
    counties they are decided in."""
    policy = POLICIES[name]
    narrowed = cannabis_people(records, policy)
    assert narrowed.narrowed.subjects.height < records.subjects.height
    for county in (COUNTY, EVERY_COUNTY):
        whole = decide(records, policy, AS_OF, county)
        part = decide(narrowed.narrowed, policy, AS_OF, county)
        assert part.table.equals(whole.table), county
        assert part.counties == whole.counties
    everywhere = decide(records, policy, AS_OF, EVERY_COUNTY)
    named = narrowed.county_people
    decided = everywhere.table.select("subject_id", "county").unique()
    assert decided.join(named, on=["subject_id", "county"], how="anti").height == 0
    # The counties where someone has a conviction in scope are the counties with a run.
    in_scope = named.filter("in_scope")["county"].unique().sort().to_list()
    assert in_scope == sorted(everywhere.counties)


@pytest.mark.parametrize(
    ("name", "beyond"),
    [
        # A related charge with no cannabis conviction anywhere, read by the flow's pattern.
        ("san-joaquin-2019", {edge_id(2), edge_id(3), edge_id(7)}),
        ("contra-costa-2019", {edge_id(2), edge_id(3), edge_id(7)}),
        # Possible plea bargains beside a dismissed cannabis charge.
        ("san-francisco-2018", {edge_id(3), edge_id(9)}),
        ("related", {edge_id(3), edge_id(9)}),
        ("configurable-tool", {edge_id(3), edge_id(9)}),
        ("statute", set()),
        ("los-angeles-2020", set()),
    ],
)
def test_people_decided_without_a_cannabis_conviction(
    records: Records, name: str, beyond: set[str]
) -> None:
    """The edges the narrowing must reach: people a policy decides in the county though they
    have no conviction the engine's scope concerns (the people DOJ would call "with a
    cannabis conviction"). Among the edge people, exactly these."""
    policy = POLICIES[name]
    decided = decide(records, policy, AS_OF, COUNTY).table["subject_id"].unique()
    concerned = concerned_convictions(records)["subject_id"]
    reached = set(decided.filter(~decided.is_in(concerned.implode())).to_list())
    assert reached & EDGE_IDS == beyond
    named = decidable(records, policy)["subject_id"]
    assert reached <= set(named.to_list())


def test_a_county_flow_names_related_charges_only_under_its_own_policy(records: Records) -> None:
    """San Joaquin's related-charge pattern names people only when the run follows a flow
    that decides by it: under the statute, a county's file holds no one for an HS 11550
    conviction alone."""
    person = pl.col("subject_id") == edge_id(2)
    named = decidable(records, load_policy("san-joaquin-2019")).filter(person)
    assert named.rows() == [(edge_id(2), COUNTY, False)]
    assert decidable(records, load_policy("statute")).filter(person).height == 0


def test_decidable_of_an_empty_record() -> None:
    from clearance.records import schema

    empty = Records(
        subjects=schema.empty(schema.SUBJECTS_SCHEMA),
        counts=schema.empty(schema.COUNTS_SCHEMA),
        quarantine=pl.DataFrame(),
        files=[],
    )
    assert decidable(empty, load_policy("san-joaquin-2019")).height == 0


def test_edge_people_have_ids_of_their_own(tmp_path: Path) -> None:
    """The edge people are added whole: none shares a SUBJECT_ID (ten digits, the synthetic
    ones have eight) with the synthetic people."""
    records = read_doj([write_repository(tmp_path / "r.dat")])
    edges = records.subjects.filter(pl.col("subject_id").is_in(list(EDGE_IDS)))
    assert edges.height == len(HISTORIES)
    assert edges["name"].str.starts_with("EDGE,PERSON").all()


@pytest.mark.parametrize("preset", PRESETS[1:])
def test_repository_in_buckets_under_a_county_flow(
    repository: Path, preset: str, tmp_path: Path
) -> None:
    """The out-of-core path does not narrow: it decides every person in buckets on disk. Under
    each county's flow, the edge repository in buckets gives the in-memory run's files."""
    folder = tmp_path
    for out, extra in (("memory", ["-q"]), ("buckets", ["--memory-limit", "1M"])):
        args = ["run", str(repository), "--county", COUNTY, "--as-of", AS_OF.isoformat(), "--out",
                str(folder / out), "--policy", preset, *extra]  # fmt: skip
        result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
    assert "buckets of people" in result.output
    for name in RUN_FILES:
        assert (folder / "memory" / name).read_bytes() == (
            folder / "buckets" / name
        ).read_bytes(), name


@pytest.mark.parametrize("name", ["san-joaquin-2019", "contra-costa-2019"])
def test_a_person_with_a_conviction_on_another_step_only(tmp_path: Path, name: str) -> None:
    """A conviction recorded on an arrest step (no court step in the county) is a related
    charge the San Joaquin and Contra Costa flows decide: a part of the people decided alone
    (a bucket of the out-of-core path or of Spark) decides it as the whole run does."""
    from clearance.records.schema import DOJ_COLUMNS
    from clearance.scale.people import narrow
    from clearance.scale.pieces import decide_piece
    from scenarios.builder import Event, rows_for, write_doj

    alone = "7700000099"
    trespass = Event("602 PC-TRESPASSING", date(2012, 1, 1), county=COUNTY, step="arrest")
    rows = rows_for(alone, date(1980, 1, 1), [trespass])
    for row in rows:
        row[DOJ_COLUMNS.index("DISP_DESCR")] = "CONVICTED"
    other = rows_for("7700000100", date(1981, 1, 1), [Event(
        "11359 HS-POSSESS MARIJUANA FOR SALE", date(2010, 3, 1), county=COUNTY)])  # fmt: skip
    records = read_doj([write_doj(tmp_path / "doj.dat", [rows, other])])
    policy = load_policy(name)
    whole = decide(records, policy, AS_OF, COUNTY).table.filter(pl.col("subject_id") == alone)
    assert whole.height == 1 and whole["decision"][0] == "review"
    assert alone in decidable(records, policy)["subject_id"].to_list()
    piece = decide_piece(narrow(records, pl.Series([alone])), policy, AS_OF, COUNTY, False)
    assert piece.decided is not None
    assert piece.decided.drop("source_file").equals(whole.drop("source_file"))
