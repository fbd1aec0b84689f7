"""Benchmark: a Los Angeles-sized Exhibit A (66,000 rows) as PDF and DOCX.

Not a test (no timing assert belongs in the suite); run it by hand:

    .venv/bin/python tests/outputs/bench_exhibit.py [--rows 66000] [--out /tmp/bench-exhibit]

It builds a synthetic run big enough (or reuses one given with --run), takes that many relieved
convictions as one dismissal exhibit, and times the layout, the motion PDF, the order PDF (which
reuses the layout) and the motion DOCX, then prints the sizes and page count.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date
from pathlib import Path

import polars as pl
from pypdf import PdfReader

from clearance.engine import decide
from clearance.outputs.filings.data import load_run, resolve_filing
from clearance.outputs.filings.docx_writer import read_exhibit_rows, render_docx
from clearance.outputs.filings.exhibit import DISMISS, relief_exhibit
from clearance.outputs.filings.motion import motion_document, order_document
from clearance.outputs.filings.pdf import layout_exhibit, render_pdf
from clearance.outputs.run import write_run
from clearance.policy.loader import load_policy, policy_text
from clearance.records.doj import read_doj
from clearance.synth import write_synthetic

FILING = {
    "office": "Office of the District Attorney, County of Sacramento",
    "signer": "Jane Q. Prosecutor",
    "bar_number": "123456",
    "court_name": "Superior Court of California, County of Sacramento",
    "court_address": "720 Ninth Street, Sacramento, CA 95814",
}


def build_run(out: Path, synth_rows: int) -> Path:
    source = out / "synth.dat.gz"
    if not source.exists():
        write_synthetic(source, rows=synth_rows, seed=7)
    run_dir = out / "run"
    if not (run_dir / "convictions.parquet").exists():
        records = read_doj([source])
        decided = decide(records, load_policy("statute"), date(2026, 11, 21), "SACRAMENTO")
        write_run(run_dir, decided, records, [source], policy_text("statute"), with_what_ifs=False)
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=66_000)
    parser.add_argument("--synth-rows", type=int, default=1_500_000)
    parser.add_argument("--run", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-exhibit"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    run_dir = args.run or build_run(args.out, args.synth_rows)
    run = load_run(run_dir)
    filing = resolve_filing(run.policy, FILING)
    relieved = run.convictions.filter(pl.col("decision").is_in(["dismiss", "reduce"]))
    if relieved.height < args.rows:
        raise SystemExit(f"the run has {relieved.height:,} relieved rows; use more --synth-rows")
    rows = relieved.head(args.rows).with_columns(
        pl.lit("dismiss").alias("decision"), pl.lit("11361.8(f)").alias("remedy")
    )
    started = time.perf_counter()
    exhibit = relief_exhibit(rows, DISMISS, run.county)
    frame_s = time.perf_counter() - started
    started = time.perf_counter()
    layout = layout_exhibit(exhibit)
    layout_s = time.perf_counter() - started
    motion, order = (f(run, filing, DISMISS, exhibit) for f in (motion_document, order_document))
    timings = {"exhibit frame": frame_s, "layout (shared)": layout_s}
    for name, document in (("motion.pdf", motion), ("order.pdf", order)):
        started = time.perf_counter()
        render_pdf([document], args.out / name, [layout])
        timings[name] = time.perf_counter() - started
    started = time.perf_counter()
    render_docx(motion, args.out / "motion.docx", run.as_of)
    timings["motion.docx"] = time.perf_counter() - started
    pages = len(PdfReader(args.out / "motion.pdf").pages)
    assert len(read_exhibit_rows(args.out / "motion.docx")) == exhibit.frame.height
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"exhibit rows: {exhibit.frame.height:,}; motion PDF pages: {pages:,}")
    for name, seconds in timings.items():
        size = (args.out / name).stat().st_size if (args.out / name).exists() else None
        extra = f", {size / 1e6:.1f} MB" if size is not None else ""
        print(f"{name:16s} {seconds:6.1f} s{extra}")
    print(
        "motion PDF from frame to file: "
        f"{timings['exhibit frame'] + timings['layout (shared)'] + timings['motion.pdf']:.1f} s"
    )


if __name__ == "__main__":
    main()
