"""Constants and helpers shared by the store tests (imported as `store_helpers`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "peer-generated-sacramento-20k.dat.gz"
AS_OF = date(2026, 11, 21)
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class SampleRun:
    run_dir: Path
    inputs: list[Path]


def make_run(out_dir: Path, inputs: list[Path], what_ifs: bool = True) -> SampleRun:
    """`clearance run` on the inputs, through the same functions the command uses."""
    from clearance.engine import decide
    from clearance.outputs.run import write_run
    from clearance.policy.loader import load_policy, policy_text
    from clearance.records.doj import read_doj

    records = read_doj(inputs)
    decided = decide(records, load_policy("statute"), AS_OF, "SACRAMENTO")
    write_run(out_dir, decided, records, inputs, policy_text("statute"), with_what_ifs=what_ifs)
    return SampleRun(out_dir, inputs)
