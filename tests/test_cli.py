"""Tests of the `clearance` command line, driven in-process with typer's CliRunner.

The command is what a District Attorney's analyst actually runs, often on a locked-down laptop
with the real, confidential extract. Two promises matter as much as the numbers: bad input
ends with one plain line starting `error:` and exit status 2 (no traceback to puzzle over or to
paste into a ticket), and that line never repeats a name or a date of birth from the data. The
good paths are checked for the files they write and the figures they print.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from clearance import cli
from clearance.cli import app
from clearance.law.prop64 import STATUTE_RULES
from clearance.policy.loader import list_presets
from clearance.records.doj import read_doj
from clearance.records.schema import DOJ_COLUMNS

SAMPLE_NAME = "peer-generated-sacramento-20k.dat.gz"
#: The sample bundled with the project (a file another tool generated).
SAMPLE = Path(__file__).resolve().parents[1] / "examples" / SAMPLE_NAME
#: Wide enough that rich never folds an id or a citation across lines.
WIDE = {"COLUMNS": "1000"}
COMMANDS = ("ingest", "synth", "run", "explain", "rules", "policies")
SECRET_NAME, SECRET_DOB = "SMITH,JANE Q", "19800214"


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE, prog_name="clearance")


def assert_one_line_error(result: Result, code: int = 2) -> str:
    """Exit `code` (2, bad usage or content, unless said) with exactly one line, `error: ...`,
    on stderr and no traceback anywhere."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


def one_line(text: str) -> str:
    """Text with rich's wrapping undone, for phrases that may span a line break."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def sample() -> Path:
    path = SAMPLE
    return path


@pytest.fixture(scope="module")
def good_run(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """One full run on the sample, shared by the tests that read its outputs."""
    out = tmp_path_factory.mktemp("run") / "out"
    result = invoke("run", sample, "--county", "Sacramento", "--as-of", "2024-01-01", "--out", out)
    assert result.exit_code == 0, result.output
    return out, result


# --------------------------------------------------------------------------------------------
# Help


def test_top_level_help_lists_every_command() -> None:
    """`clearance --help` works and names each command."""
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Proposition 64" in result.stdout
    for command in COMMANDS:
        assert command in result.stdout


def test_no_arguments_shows_help_not_a_traceback() -> None:
    """Running the bare command explains itself rather than failing with a traceback."""
    result = invoke()
    assert "Usage: clearance [OPTIONS] COMMAND" in one_line(result.output)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    """`clearance <command> --help` exits 0 and shows that command's usage."""
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    text = one_line(result.stdout)
    assert f"Usage: clearance {command} [OPTIONS]" in text
    doc = getattr(cli, command).__doc__
    assert one_line(doc.split(".")[0]) in text


# --------------------------------------------------------------------------------------------
# ingest


def test_ingest_writes_tables_and_prints_the_accounting(sample: Path, tmp_path: Path) -> None:
    """The sample loads whole but for its 42 lines that repeat a line byte for byte (set aside as
    duplicates); the tables on disk are the reader's and the totals are printed."""
    result = invoke("ingest", sample, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    text = one_line(result.stdout)
    assert "20,179 rows read = 20,137 loaded + 42 quarantined; 216 people, 18,660 counts" in text
    assert SAMPLE_NAME[:20] in text
    assert "wrote subjects.parquet, counts.parquet, quarantine.csv" in text
    subjects = pl.read_parquet(tmp_path / "subjects.parquet")
    counts = pl.read_parquet(tmp_path / "counts.parquet")
    assert subjects.height == 216
    assert counts.height == 18_660
    assert counts["source_rows"].sum() == 20_137
    quarantine = pl.read_csv(tmp_path / "quarantine.csv")
    assert quarantine.height == 42
    assert quarantine["reason"].str.starts_with("exact duplicate of line ").all()


def test_ingest_quarantine_csv_holds_every_set_aside_row(tmp_path: Path) -> None:
    """Two deliveries, one with planted defects, one repeating a few of its rows: the
    quarantine file has every set-aside row with its file and line, and the totals printed
    count the repeated counts once."""
    synth = tmp_path / "synth.dat"
    made = invoke("synth", "--out", synth, "--rows", "3000", "--malformed", "0.01", "--seed", "4")
    assert made.exit_code == 0, made.output
    assert "30 malformed" in made.stdout
    again = tmp_path / "again.dat.gz"
    again.write_bytes(gzip.compress(b"".join(synth.read_bytes().splitlines(True)[:21]), mtime=0))
    out = tmp_path / "out"
    result = invoke("ingest", synth, again, "--out", out)
    assert result.exit_code == 0, result.output
    expected = read_doj([synth, again])
    assert expected.files[0].rows_quarantined == 30
    assert expected.merged_duplicate_counts > 0
    quarantine = pl.read_csv(out / "quarantine.csv", schema=expected.quarantine.schema)
    assert quarantine.height == expected.rows_quarantined
    in_order = ["source_file", "source_line"]
    assert quarantine.sort(in_order).equals(expected.quarantine.sort(in_order))
    assert quarantine.filter(pl.col("source_file") == str(synth))["source_line"].min() > 1
    text = one_line(result.stdout)
    loaded, quarantined = expected.rows_loaded, expected.rows_quarantined
    assert (
        f"3,020 rows read = {loaded:,} loaded + {quarantined} quarantined; "
        f"{expected.subjects.height:,} people, {expected.counts.height:,} counts "
        f"({expected.merged_duplicate_counts:,} counts found in two files merged)"
    ) in text
    assert pl.read_parquet(out / "counts.parquet").equals(expected.counts)


def _ten_columns(path: Path) -> None:
    path.write_text(
        "ID,NAME,DOB,A,B,C,D,E,F,G\n" + f'1,"{SECRET_NAME}",{SECRET_DOB},a,b,c,d,e,f,g\n'
    )


def _truncated_gz(path: Path) -> None:
    row = ",".join(["X"] * len(DOJ_COLUMNS))
    data = gzip.compress(("\n".join([row] * 500) + "\n").encode(), mtime=0)
    path.write_bytes(data[: len(data) // 2])


BAD_INPUTS = {
    "missing": lambda p: None,
    "folder": lambda p: p.mkdir(),
    "pdf": lambda p: p.write_bytes(b"%PDF-1.4\n" + SECRET_NAME.encode()),
    "zip": lambda p: p.write_bytes(b"PK\x03\x04" + SECRET_NAME.encode() + b"\x00" * 40),
    "binary": lambda p: p.write_bytes(b"\x00\x01\x02" + SECRET_DOB.encode() * 10),
    "empty": lambda p: p.write_bytes(b""),
    "ten-columns": _ten_columns,
    "truncated-gz": _truncated_gz,
}


#: Exit statuses of the environment's failures (README); bad content is 2.
BAD_INPUT_CODES = {"missing": 3, "folder": 4}


@pytest.mark.parametrize("kind", BAD_INPUTS)
def test_ingest_bad_input_is_one_line_error(tmp_path: Path, kind: str) -> None:
    """A file that cannot be read or is not a DOJ extract: one line naming it, its exit status
    (3 not found, 4 a folder, 2 bad content), nothing from its content, and no tables
    written."""
    path = tmp_path / f"delivery-{kind}.dat"
    BAD_INPUTS[kind](path)
    out = tmp_path / "out"
    result = invoke("ingest", path, "--out", out)
    line = assert_one_line_error(result, BAD_INPUT_CODES.get(kind, 2))
    assert path.name in line
    assert SECRET_NAME not in result.output and "SMITH" not in result.output
    assert SECRET_DOB not in result.output
    assert not (out / "counts.parquet").exists()


def test_error_line_survives_brackets_in_a_file_name(tmp_path: Path) -> None:
    """A path with square brackets is printed as it is, not taken for terminal markup."""
    folder = tmp_path / "x[" / "b]"
    folder.mkdir(parents=True)
    path = folder / "[red]delivery.dat"
    _ten_columns(path)
    line = assert_one_line_error(invoke("ingest", path, "--out", tmp_path / "out"))
    assert "[red]delivery.dat" in line
    assert "x[/b]" in line


# --------------------------------------------------------------------------------------------
# synth


def test_synth_is_deterministic(tmp_path: Path) -> None:
    """The same arguments give byte-identical files; another seed gives another file."""
    a, b, c = tmp_path / "a.dat", tmp_path / "b.dat", tmp_path / "c.dat"
    for path, seed in ((a, "7"), (b, "7"), (c, "8")):
        result = invoke("synth", "--out", path, "--rows", "800", "--seed", seed)
        assert result.exit_code == 0, result.output
        assert "wrote 800 rows" in result.stdout
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert a.read_bytes().startswith(",".join(DOJ_COLUMNS).encode() + b"\n")


def test_synth_options_shape_the_file(tmp_path: Path) -> None:
    """--latin1 --crlf --no-header and a .gz name: the reader gets what was asked for."""
    path = tmp_path / "s.dat.gz"
    result = invoke(
        "synth", "--out", path, "--rows", "1500", "--latin1", "--crlf", "--no-header",
        "--malformed", "0", "--county", "SAN JOAQUIN",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = gzip.decompress(path.read_bytes())
    assert not data.startswith(b"RECORD_ID")
    assert data.count(b"\r\n") == data.count(b"\n") == 1500
    records = read_doj([path])
    (stats,) = records.files
    assert (stats.rows_read, stats.rows_loaded, stats.encoding) == (1500, 1500, "latin-1")
    assert not stats.header
    assert records.counts["county"].value_counts().sort("count")["county"][-1] == "SAN JOAQUIN"


def test_synth_refuses_bad_options(tmp_path: Path) -> None:
    """Out-of-range options are refused by the command line, before anything is written."""
    path = tmp_path / "s.dat"
    result = invoke("synth", "--out", path, "--rows", "0")
    assert result.exit_code == 2
    assert not path.exists()


# --------------------------------------------------------------------------------------------
# run


RUN_OUTPUTS = (
    "convictions.csv",
    "convictions.parquet",
    "results.csv",
    "people.csv",
    "summary.json",
    "quarantine.csv",
    "record/counts.parquet",
    "record/subjects.parquet",
    "record/determinations.parquet",
    "record/policy.yaml",
)


def test_run_writes_every_output(good_run: tuple[Path, Result]) -> None:
    """A good run writes each output, prints the accounting and the decisions, and its
    files agree with each other."""
    out, result = good_run
    for name in RUN_OUTPUTS:
        assert (out / name).is_file(), name
    text = one_line(result.stdout)
    assert "20,179 rows read = 20,137 loaded + 42 quarantined; 216 people" in text
    assert "outputs in " in text and "convictions.csv" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["as_of"] == "2024-01-01"
    assert summary["county"].upper() == "SACRAMENTO"
    convictions = pl.read_csv(out / "convictions.csv", infer_schema=False)
    assert sum(summary["by_decision"].values()) == convictions.height > 0
    assert set(convictions["decision"]) <= {"dismiss", "reduce", "not_eligible", "review"}
    table = one_line(result.stdout.replace("│", " "))
    for decision, n in summary["by_decision"].items():
        assert f"{decision.replace('_', ' ')} {n:,}" in table
    with (out / "results.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 1 + 20_179
    assert rows[0][: len(DOJ_COLUMNS)] == list(DOJ_COLUMNS)
    assert pl.read_parquet(out / "record/counts.parquet").height == 18_660


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--county", "Sacramento"], "--as-of"),
        (["--county", "Sacramento", "--as-of", "2024-13-01"], "2024-13-01"),
        (["--county", "Atlantis", "--as-of", "2024-01-01"], "Atlantis"),
        (["--county", "Sacramento", "--as-of", "2024-01-01", "--policy", "no-such"], "no-such"),
    ],
    ids=["no-as-of", "bad-as-of", "unknown-county", "unknown-policy"],
)
def test_run_usage_errors_are_one_line(
    sample: Path, tmp_path: Path, args: list[str], needle: str
) -> None:
    """What the user can fix is said in one line that points at it, with exit 2."""
    out = tmp_path / "out"
    line = assert_one_line_error(invoke("run", sample, *args, "--out", out))
    assert needle in line
    assert "MITCHELL" not in line and "19750820" not in line


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.yaml", "name: x\nmisdemeanors: [\n"),
        ("unknown-key.yaml", "name: x\ntitle: y\nsource: z\nbogus_setting: 1\n"),
        ("missing-title.yaml", "name: x\n"),
        ("broken.json", '{"a": '),
    ],
)
def test_run_with_malformed_policy_file(
    sample: Path, tmp_path: Path, name: str, content: str
) -> None:
    """A policy file that does not parse or validate stops the run in one line naming it."""
    policy = tmp_path / name
    policy.write_text(content)
    out = tmp_path / "out"
    line = assert_one_line_error(
        invoke("run", sample, "--county", "Sacramento", "--as-of", "2024-01-01",
               "--policy", policy, "--out", out)
    )  # fmt: skip
    assert name in line
    assert not (out / "results.csv").exists()


def test_run_on_a_file_that_is_not_doj(tmp_path: Path) -> None:
    """The reader's refusal reaches the user the same way from `run` as from `ingest`."""
    path = tmp_path / "export.csv"
    _ten_columns(path)
    line = assert_one_line_error(
        invoke("run", path, "--county", "Sacramento", "--as-of", "2024-01-01",
               "--out", tmp_path / "out")
    )  # fmt: skip
    assert "export.csv" in line and "95" in line
    assert SECRET_NAME not in line and SECRET_DOB not in line


# --------------------------------------------------------------------------------------------
# explain, rules, policies


def test_explain_prints_the_counts_and_rules(good_run: tuple[Path, Result]) -> None:
    """A known person's timeline lists each count, and each decided cannabis count with the
    ids of the rules that fired (the same ids convictions.csv records)."""
    out, _ = good_run
    result = invoke("explain", "10000001", "--run", out)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "SUBJECT_ID 10000001" in text
    assert "MITCHELL,SCOTT K" in text
    counts = pl.read_parquet(out / "record/counts.parquet").filter(
        pl.col("subject_id") == "10000001"
    )
    for line in counts["source_line"].to_list():
        assert f"{SAMPLE_NAME}:{line}" in text
    convictions = pl.read_csv(out / "convictions.csv", infer_schema=False).filter(
        pl.col("subject_id") == "10000001"
    )
    assert convictions.height > 0
    rule_ids = {r for reasons in convictions["reasons"] for r in reasons.split(";")}
    assert "remedy_completed" in rule_ids
    for rule_id in rule_ids:
        assert f"{rule_id}:" in text
    # The end of the three-part sentence of lines 7-9: its longest part, 10 years.
    assert "1987-10-24" in text


def test_explain_unknown_person_or_folder(good_run: tuple[Path, Result], tmp_path: Path) -> None:
    """An unknown SUBJECT_ID or a folder that is not a run: one line, exit 2."""
    out, _ = good_run
    assert_one_line_error(invoke("explain", "99999999", "--run", out))
    assert_one_line_error(invoke("explain", "10000001", "--run", tmp_path / "nowhere"))


def test_rules_lists_ids_with_citations() -> None:
    """Every statute rule appears with its id, outcome and citation."""
    result = invoke("rules")
    assert result.exit_code == 0, result.output
    text = one_line(result.stdout)
    assert len(STATUTE_RULES) > 5
    for rule in STATUTE_RULES:
        assert rule.id in text
        assert one_line(rule.citation) in text


def test_rules_of_a_policy_and_of_an_unknown_one() -> None:
    """--policy adds that policy's rules; an unknown policy is a one-line error."""
    statute = invoke("rules")
    county = invoke("rules", "--policy", "sacramento-2019")
    assert county.exit_code == 0, county.output
    assert len(county.stdout.splitlines()) > len(statute.stdout.splitlines())
    line = assert_one_line_error(invoke("rules", "--policy", "no-such-policy"))
    assert "no-such-policy" in line


def test_policies_lists_the_presets() -> None:
    """Every shipped preset is listed by the name --policy takes."""
    result = invoke("policies")
    assert result.exit_code == 0, result.output
    presets = list_presets()
    names = {p.name for p in presets}
    assert {"statute", "sacramento-2019", "los-angeles-2020", "san-francisco-2018"} <= names
    for preset in presets:
        assert preset.name in result.stdout
        assert one_line(preset.title) in one_line(result.stdout)
