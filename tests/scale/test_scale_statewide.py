"""`clearance run ... --county all`: every county in one pass, each county's folder the bytes
of that county's own run.

The differential tests run the statewide mode and then each county's single run on the same
input, and compare the files: the single-county run is the reference, so a statewide shortcut
that changed a decision, a figure or an order would show here.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from clearance.cli import app
from clearance.scale.statewide import STATEWIDE_COLUMNS, county_folder

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "peer-generated-sacramento-20k.dat.gz"
AS_OF = "2026-11-21"
#: Files a county's folder shares, byte for byte, with the county's own run.
SAME_FILES = (
    "convictions.csv",
    "convictions.parquet",
    "people.csv",
    "summary.json",
    "record/determinations.parquet",
    "record/policy.yaml",
)


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def run(path: Path, county: str, out: Path, *extra: str) -> Path:
    result = invoke("run", path, "--county", county, "--as-of", AS_OF, "--out", out, "-q", *extra)
    assert result.exit_code == 0, result.output
    return out


def statewide_rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "statewide.csv").open(newline="", encoding="utf-8") as f:
        return {row["county"]: row for row in csv.DictReader(f)}


def assert_counties_equal_single_runs(path: Path, tmp: Path, *extra: str) -> dict[str, Path]:
    """Run statewide, then every county alone; each county's folder equals its run. Returns
    the single runs' folders by county."""
    everything = run(path, "all", tmp / "all", *extra)
    rows = statewide_rows(everything)
    counties = [c for c in rows if c != "STATEWIDE"]
    assert counties, "no county decided"
    folders = sorted(p.name for p in (everything / "counties").iterdir())
    assert folders == sorted(county_folder(c) for c in counties)
    singles: dict[str, Path] = {}
    for county in counties:
        single = run(path, county, tmp / f"single-{county_folder(county)}", *extra)
        singles[county] = single
        mine = everything / "counties" / county_folder(county)
        for name in SAME_FILES:
            assert (mine / name).read_bytes() == (single / name).read_bytes(), (county, name)
        summary = json.loads((single / "summary.json").read_text(encoding="utf-8"))
        row = rows[county]
        assert int(row["convictions"]) == summary["convictions"]
        assert int(row["people_relieved"]) == summary["people_impact"]["relieved"]
        for decision, n in summary["by_decision"].items():
            assert int(row[decision]) == n
    # The input-wide files: the quarantine once; results.csv with every county's decisions,
    # each line carrying the columns of the county run that decided it.
    first = singles[counties[0]]
    assert (everything / "quarantine.csv").read_bytes() == (first / "quarantine.csv").read_bytes()
    merged = _merged_results([singles[c] for c in counties])
    assert (everything / "results.csv").read_bytes().splitlines() == merged
    totals = rows["STATEWIDE"]
    assert int(totals["convictions"]) == sum(int(rows[c]["convictions"]) for c in counties)
    return singles


def _merged_results(singles: list[Path]) -> list[bytes]:
    """Line by line, the line of the single run that decided it (its decision columns filled),
    else the line every run writes alike."""
    empty = b",,,,"
    runs = [(s / "results.csv").read_bytes().splitlines() for s in singles]
    lines: list[bytes] = []
    for versions in zip(*runs, strict=True):
        decided = {v for v in versions if not v.endswith(empty)}
        assert len(decided) <= 1, "a line decided by two counties"
        lines.append(decided.pop() if decided else versions[0])
    return lines


def test_sample_counties_equal_their_own_runs(tmp_path: Path) -> None:
    singles = assert_counties_equal_single_runs(SAMPLE, tmp_path)
    assert set(singles) == {"NARNIA", "SACRAMENTO"}


@pytest.fixture(scope="module")
def statewide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "statewide.dat"
    result = invoke("synth", "--out", path, "--rows", "30000", "--county", "all", "--seed", "5")
    assert result.exit_code == 0, result.output
    return path


def test_synthetic_counties_equal_their_own_runs(statewide_file: Path, tmp_path: Path) -> None:
    singles = assert_counties_equal_single_runs(
        statewide_file, tmp_path, "--policy", "san-joaquin-2019"
    )
    # Homes in turn: the first two counties of the alphabet, and the other counties people's
    # histories pass through.
    assert {"ALAMEDA", "ALPINE"} <= set(singles)
    assert len(singles) > 5


def test_statewide_summary_report_and_figures(tmp_path: Path) -> None:
    out = run(SAMPLE, "ALL", tmp_path / "all")
    rows = statewide_rows(out)
    assert list(next(iter(rows.values()))) == list(STATEWIDE_COLUMNS)
    document = json.loads((out / "statewide.json").read_text(encoding="utf-8"))
    assert document["folders"] == {"NARNIA": "counties/narnia", "SACRAMENTO": "counties/sacramento"}
    # People are counted once statewide: nobody relieved in two counties is counted twice.
    convictions = pl.concat(
        pl.read_csv(out / "counties" / c / "convictions.csv", infer_schema=False)
        for c in ("narnia", "sacramento")
    )
    relieved = convictions.filter(pl.col("decision").is_in(["dismiss", "reduce"]))
    assert document["statewide"]["people_relieved"] == relieved["subject_id"].n_unique()
    assert document["statewide"]["convictions"] == convictions.height
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in report
    assert report.count("<tr>") == 1 + len(rows)
    assert "Sacramento" in report and "Narnia" in report
    # Each county's folder is a run folder: one person explained from it.
    person = convictions["subject_id"][0]
    county = convictions["county"][0].lower()
    result = invoke("explain", person, "--run", out / "counties" / county)
    assert result.exit_code == 0, result.output


def test_statewide_refuses_filings_in_one_line(tmp_path: Path) -> None:
    result = invoke(
        "run", SAMPLE, "--county", "all", "--as-of", AS_OF, "--out", tmp_path, "--filings"
    )
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: --filings with --county all")
    assert len(result.stderr.strip().splitlines()) == 1


def test_synth_repository_and_statewide_files(tmp_path: Path) -> None:
    """`synth --repository`: most people have no cannabis record at all (DOJ's repository);
    `--county all`: people at home in several counties; both reproducible."""
    from clearance.records.doj import read_doj
    from clearance.scale.people import concerned_convictions

    paths = []
    for name in ("a.dat", "b.dat"):
        path = tmp_path / name
        result = invoke("synth", "--out", path, "--rows", "30000", "--county", "all",
                        "--repository", "--seed", "9")  # fmt: skip
        assert result.exit_code == 0, result.output
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    records = read_doj([paths[0]])
    concerned = concerned_convictions(records)
    assert 0 < concerned["subject_id"].n_unique() < records.subjects.height / 2
    homes = records.counts["county"].cast(pl.String).value_counts(sort=True)
    assert homes["county"].head(2).sort().to_list() == ["ALAMEDA", "ALPINE"]


def _in_cycle(rows: list[list[str]], cycle: int, into: int) -> list[list[str]]:
    """The rows of arrest cycle `cycle` moved into cycle `into`, after its steps: one arrest
    cycle whose court events are in two counties."""
    from clearance.records.schema import DOJ_COLUMNS

    at = DOJ_COLUMNS.index("CNT_ORDER")
    moved = []
    for row in rows:
        order = row[at]
        if order.startswith(f"{cycle:03d}"):
            step = int(order[3:6]) + 2
            row = [*row[:at], f"{into:03d}{step:03d}{order[6:]}", *row[at + 1 :]]
        moved.append(row)
    return moved


def test_related_charges_follow_their_own_county(tmp_path: Path) -> None:
    """A related charge follows a relieved cannabis conviction of its own county only (the
    county's run decides no other), and a county without a cannabis conviction decides
    nothing, not even a related charge to review: as in each county's run."""
    from datetime import date

    from scenarios.builder import Event, rows_for, write_doj

    day = date(2010, 1, 5)
    # One arrest cycle: possession dismissed in Alameda, obstruction convicted in Sacramento.
    across = _in_cycle(
        rows_for("81000001", date(1980, 1, 1), [
            Event("11357(B) HS-POSSESS MARIJUANA", day, level="M", county="ALAMEDA"),
            Event("148 PC-OBSTRUCT/ETC PUBLIC OFFICER", day, level="M", county="SACRAMENTO"),
        ]), cycle=2, into=1,
    )  # fmt: skip
    # In Sacramento, the same pair in one county: the related charge is dismissed there.
    home = rows_for("81000002", date(1981, 1, 1), [Event(
        "11357(B) HS-POSSESS MARIJUANA", day, level="M", county="SACRAMENTO",
        extra_counts=[{"offense": "148 PC-OBSTRUCT/ETC PUBLIC OFFICER", "level": "M"}],
    )])  # fmt: skip
    # Fresno: a cannabis arrest dismissed, a trespass convicted in its cycle (a related charge
    # to review), and no cannabis conviction: Fresno has no run.
    fresno = rows_for("81000003", date(1982, 1, 1), [Event(
        "11359 HS-POSSESS MARIJUANA FOR SALE", day, disposition="DISMISSED", county="FRESNO",
        extra_counts=[{"offense": "602 PC-TRESPASSING", "level": "M"}],
    )])  # fmt: skip
    source = write_doj(tmp_path / "across.dat", [across, home, fresno])
    policy = tmp_path / "related.yaml"
    demo = (SAMPLE.parent / "demo-policy.yaml").read_text(encoding="utf-8")
    none = "related_charges:\n  dismiss: []\n  review: []\n"
    related = "related_charges:\n  dismiss:\n    - PC 148\n  review:\n    - PC 602\n"
    assert none in demo
    policy.write_text(demo.replace(none, related), encoding="utf-8")
    singles = assert_counties_equal_single_runs(source, tmp_path, "--policy", str(policy))
    assert set(singles) == {"ALAMEDA", "SACRAMENTO"}
    document = json.loads((tmp_path / "all" / "statewide.json").read_text(encoding="utf-8"))
    assert document["counties_without_cannabis_conviction"] == ["FRESNO"]
    sacramento = pl.read_csv(singles["SACRAMENTO"] / "convictions.csv", infer_schema=False)
    related_rows = sacramento.filter(pl.col("code_section").str.starts_with("PC 148"))
    assert related_rows["subject_id"].to_list() == ["81000002"]
    assert related_rows["decision"].to_list() == ["dismiss"]
    # The same in buckets of people, where Fresno's people decide nothing.
    buckets = tmp_path / "buckets"
    result = invoke("run", source, "--county", "all", "--as-of", AS_OF, "--out", buckets,
                    "--memory-limit", "1M", "--policy", str(policy))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert_same_statewide(tmp_path / "all", buckets)


def assert_same_statewide(memory: Path, buckets: Path) -> None:
    """Two statewide folders hold the same files with the same bytes; the record tables of
    each county (written bucket by bucket) hold the same rows for the people decided, by
    person and count (in buckets they hold the people of the what-ifs too, as a county's run
    in buckets does)."""

    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    assert files(memory) == files(buckets)
    record = {"counts.parquet", "subjects.parquet"}
    for name in sorted(files(memory) - {"run.json"}):
        a, b = memory / name, buckets / name
        if a.name in record and a.parent.name == "record":
            keys = ["subject_id", "count_id"] if a.name == "counts.parquet" else ["subject_id"]
            kept = pl.read_parquet(a)
            written = pl.read_parquet(b).filter(
                pl.col("subject_id").is_in(kept["subject_id"].implode())
            )
            assert kept.sort(keys).equals(written.sort(keys)), name
        else:
            assert a.read_bytes() == b.read_bytes(), name


def test_statewide_in_buckets_equals_in_memory(statewide_file: Path, tmp_path: Path) -> None:
    """`--county all` above the memory limit (a tiny one forces it): every county decided in
    buckets of people on disk gives the in-memory statewide run's files, under a county's
    flow (related charges of its own) and with the what-ifs."""
    for path, extra in ((SAMPLE, ()), (statewide_file, ("--policy", "san-joaquin-2019"))):
        name = path.name.split(".")[0]
        memory = run(path, "all", tmp_path / f"{name}-memory", *extra)
        result = invoke("run", path, "--county", "all", "--as-of", AS_OF, "--out",
                        tmp_path / f"{name}-buckets", "--memory-limit", "1M", *extra)  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "buckets of people" in result.output and "counties," in result.output
        assert_same_statewide(memory, tmp_path / f"{name}-buckets")
        assert not list(tmp_path.glob(".clearance-buckets-*"))


def test_county_flow_in_buckets_keeps_every_related_charge(
    statewide_file: Path, tmp_path: Path
) -> None:
    """A county's own run in buckets: a bucket without a cannabis conviction of the county
    still has the related charges that the county's flow decides there, and the what-ifs'
    convictions; the files are the in-memory run's."""
    for county in ("contra-costa", "alpine"):
        extra = ("--policy", "san-joaquin-2019")
        memory = run(statewide_file, county, tmp_path / f"{county}-memory", *extra)
        buckets = run(statewide_file, county, tmp_path / f"{county}-buckets", "--memory-limit",
                      "1M", *extra)  # fmt: skip
        for name in (*SAME_FILES, "results.csv", "quarantine.csv"):
            assert (memory / name).read_bytes() == (buckets / name).read_bytes(), (county, name)
