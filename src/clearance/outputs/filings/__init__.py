"""What an office files and publishes from a run: motions, orders, exhibits, notices, the
court's update file, per-person petitions, the impact report and the review workbook.

Decisions help no one until a judge signs an order and the court and the state update their
records, so this package turns a run folder (`clearance run ... --out DIR`) into those
documents. Everything is read back from the run folder, never recomputed, so a filing lists
exactly the decisions the office reviewed.

`write_filings` is the entry point; the heavy libraries (ReportLab, python-docx, openpyxl,
matplotlib) are imported only when documents are written, so the `clearance` command starts
fast.
"""

from __future__ import annotations

from clearance.outputs.filings.data import FilingsError
from clearance.outputs.filings.writer import FilingsResult, write_filings

__all__ = ["FilingsError", "FilingsResult", "write_filings"]
