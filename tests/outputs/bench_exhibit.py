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
from clearance.outputs.filings.data import load_run, resolve_filing, rules_used
from clearance.outputs.filings.docx_writer import read_exhibit_rows, render_docx
from clearance.outputs.filings.exhibit import (
    confidential_relief_exhibit,
    group_rows,
    public_relief_exhibit,
)
from clearance.outputs.filings.groups import DISMISS_SEAL, Authority, classify
from clearance.outputs.filings.layout import layout_document, layout_exhibit
from clearance.outputs.filings.motion import motion_document, order_document
from clearance.outputs.filings.pdf import write_laid_out
from clearance.outputs.run import write_run
from clearance.policy.loader import load_policy, policy_text
from clearance.records.doj import read_doj
from clearance.synth import write_synthetic

FILING = {
    "office": "Office of the District Attorney, County of Sacramento",
    "signer": "Jane Q. Prosecutor",
    "bar_number": "123456",
    "office_address": "901 G Street, Sacramento, CA 95814",
    "phone": "(916) 555-0142",
    "email": "jane.prosecutor@example.org",
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
    rules = rules_used(run.policy, run.as_of)
    classified = classify(run.convictions, rules, Authority("pc1385", "pc1203.4"))
    lawful = group_rows(classified, DISMISS_SEAL.key, run.county)
    if lawful.height == 0:
        raise SystemExit("the run has no dismissal to seal; use more --synth-rows")
    repeat = -(-args.rows // lawful.height)
    rows = (
        pl.concat([lawful] * repeat)
        .head(args.rows)
        .with_columns(pl.int_range(1, pl.len() + 1).cast(pl.String).alias("row"))
    )
    started = time.perf_counter()
    exhibit = public_relief_exhibit(rows, "Dismissal and sealing", recall=False)
    sealed = confidential_relief_exhibit(rows, "Dismissal and sealing", recall=False)
    frame_s = time.perf_counter() - started
    started = time.perf_counter()
    layout = layout_exhibit(exhibit)
    layout_s = time.perf_counter() - started
    motion = motion_document(run, filing, DISMISS_SEAL, exhibit, [], [])
    order = order_document(run, filing, DISMISS_SEAL, exhibit)
    timings = {"exhibit frames": frame_s, "layout (shared)": layout_s}
    laid = {}
    for name, document in (("motion.pdf", motion), ("order.pdf", order)):
        started = time.perf_counter()
        laid[name] = layout_document(document, layout)
        write_laid_out([laid[name]], args.out / name)
        timings[name] = time.perf_counter() - started
    started = time.perf_counter()
    from clearance.outputs.filings.motion import exhibit_b_document

    write_laid_out(
        [layout_document(exhibit_b_document(filing, motion.title, motion.short_title, sealed))],
        args.out / "exhibit-b.pdf",
    )
    timings["exhibit-b.pdf"] = time.perf_counter() - started
    started = time.perf_counter()
    render_docx(laid["motion.pdf"], args.out / "motion.docx", run.as_of)
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
        f"{timings['exhibit frames'] + timings['layout (shared)'] + timings['motion.pdf']:.1f} s"
    )


if __name__ == "__main__":
    main()
