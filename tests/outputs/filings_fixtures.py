"""A small run and its filings, built once for every filings test.

The run comes from a synthetic DOJ file through the real reader, engine and run writer, under a
copy of the San Francisco preset with related charges to dismiss and the filing block filled
in. Its as-of date (2019-01-01)
is chosen so that every kind of filing has rows: dismissals, reductions, people still serving
(recall and resentencing), related charges, challenged convictions and convictions left for
review, plus counts without a court case number.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from clearance.engine import decide
from clearance.outputs.filings import FilingsResult, write_filings
from clearance.outputs.run import write_run
from clearance.policy.loader import policy_from_yaml_text, policy_text
from clearance.records.doj import read_doj
from clearance.synth import write_synthetic

AS_OF = date(2019, 1, 1)
COUNTY = "SACRAMENTO"
FILING = {
    "office": "Office of the District Attorney, County of Sacramento",
    "signer": "Jane Q. Prosecutor",
    "bar_number": "123456",
    "court_name": "Superior Court of California, County of Sacramento",
    "court_address": "720 Ninth Street, Sacramento, CA 95814",
}


def policy_yaml(filing: dict[str, str | None] | None) -> str:
    """The San Francisco preset as a YAML policy file, with the given filing block."""
    data = yaml.safe_load(policy_text("san-francisco-2018"))
    data["name"] = "test-filings"
    # The preset follows San Francisco's own flow; these filings need the clearance flow with
    # San Francisco's announced misdemeanor dismissals and related charges.
    data["flow"] = "clearance"
    data["misdemeanors"] = {"treatment": "dismiss", "since": "1975-01-01"}
    # Related charges dismissed as well, so the dismissal exhibit has some (PC 1385).
    data["related_charges"] = {
        "dismiss": ["PC 647(f)", "PC 148", "HS 11364", "HS 11550", "PC 602", "VC 40508"],
        "review": ["PC 32", "HS 11366"],
    }
    data["filing"] = filing if filing is not None else {}
    text = yaml.safe_dump(data, sort_keys=False)
    policy_from_yaml_text(text, "test-policy.yaml")  # the loader's checks
    return text


def build_run(
    folder: Path, rows: int = 5000, seed: int = 5, filing: dict[str, str | None] | None = None
) -> Path:
    """Synthetic file -> reader -> engine -> run folder; returns the run folder."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "doj.dat"
    write_synthetic(source, rows=rows, seed=seed)
    text = policy_yaml(filing)
    records = read_doj([source])
    decided = decide(records, policy_from_yaml_text(text, "test-policy.yaml"), AS_OF, COUNTY)
    run_dir = folder / "run"
    write_run(run_dir, decided, records, [source], text)
    return run_dir


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run(tmp_path_factory.mktemp("filings-run"), filing=dict(FILING))


@pytest.fixture(scope="session")
def convictions(run_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(run_dir / "convictions.parquet")


@pytest.fixture(scope="session")
def packet_subject(convictions: pl.DataFrame) -> str:
    """A person with relieved counts in two or more cases, or else the one with the most."""
    relieved = convictions.filter(pl.col("decision").is_in(["dismiss", "reduce"]))
    ranked = (
        relieved.group_by("subject_id")
        .agg(pl.col("court_case_number").n_unique().alias("cases"), pl.len().alias("n"))
        .sort(["cases", "n", "subject_id"], descending=[True, True, False])
    )
    return str(ranked["subject_id"][0])


@pytest.fixture(scope="session")
def filings(run_dir: Path, packet_subject: str) -> FilingsResult:
    return write_filings(
        run_dir, run_dir / "filings", subject=packet_subject, order_date=date(2019, 3, 1)
    )
