"""The reconciliation report: a progress table like the one DOJ and the Judicial Council sent
the Legislature under AB 1706 (per county: eligible, processed, outstanding), with a chart.

It is written for the court and the public: figures only, no name, case number or identifier.
`reconcile.html` is self-contained (inline SVG); `reconcile.pdf` is the same for printing, in
the filings' embedded DejaVu fonts (`outputs/filings/report.py` renders it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import matplotlib
from matplotlib.figure import Figure

from clearance.outputs.filings.charts import Chart, chart_style, finish_chart
from clearance.outputs.filings.report import (
    SECTIONS_HTML,
    Card,
    Cell,
    ReportModel,
    Section,
    TableData,
    render_report_pdf,
)

STATUS_COLORS = {
    "reflected": "#2e7d32",
    "pending": "#f9a825",
    "contradicting": "#c62828",
    "gone": "#757575",
}
STATUS_LABELS = {
    "reflected": "Reflected",
    "pending": "Pending (unchanged)",
    "contradicting": "Contradicting",
    "gone": "No longer in the file",
}
GROUP_LABELS = {
    "not-filed": "Not in a filing",
    "held-no-case-number": "Held for a case number",
}


def progress_chart(rows: Sequence[Mapping[str, Any]], label_key: str) -> Chart:
    """Horizontal bars per court, stacked by status."""
    labels = [str(r[label_key]).title() for r in rows]
    with matplotlib.rc_context(chart_style()):
        figure = Figure(figsize=(7.0, max(2.2, 0.42 * len(labels) + 1.3)), layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        base = [0] * len(labels)
        for status, color in STATUS_COLORS.items():
            values = [int(r[status]) for r in rows]
            if not any(values):
                continue
            axes.barh(positions, values, left=base, color=color, label=STATUS_LABELS[status])
            base = [b + v for b, v in zip(base, values, strict=True)]
        axes.set_yticks(positions, labels)
        axes.invert_yaxis()
        axes.set_xlabel("relieved convictions")
        title = "State record after the orders, by court"
        axes.set_title(title, loc="left")
        figure.legend(frameon=False, fontsize=8, ncols=4, loc="outside lower center")
        text = "; ".join(
            f"{label}: "
            + ", ".join(
                f"{STATUS_LABELS[status].lower()} {int(r[status]):,}"
                for status in STATUS_COLORS
                if int(r[status])
            )
            for label, r in zip(labels, rows, strict=True)
        )
        return finish_chart("reconcile-progress", title, figure, f"{title}: {text}.")


def _days(value: object) -> str:
    return "" if value is None else f"{value:,}" if isinstance(value, int) else f"{value}"


def _table(rows: Sequence[Mapping[str, Any]], first: str, label: str, path: str) -> TableData:
    header = (
        label, "Relieved", "Reflected", "Pending", "Contradicting", "Gone", "% reflected",
        "Pending cases", "Oldest pending (days)",
    )  # fmt: skip
    body = []
    for index, row in enumerate(rows):
        name = str(row[first])
        shown = GROUP_LABELS.get(name, name.title() if first == "court" else name)
        cells = [Cell(shown)]
        for key in ("relieved", *STATUS_COLORS):
            cells.append(Cell(f"{row[key]:,}", f"{path}[{index}].{key}", numeric=True))
        cells.append(Cell(f"{100 * row['reflected_share']:.1f}%", numeric=True))
        cells.append(Cell(f"{row['pending_cases']:,}", numeric=True))
        cells.append(Cell(_days(row["pending_oldest_days"]), numeric=True))
        body.append(tuple(cells))
    return TableData(
        header=header, rows=tuple(body), widths=(1.9, 1.1, 1.15, 1.05, 1.6, 0.8, 1.1, 1.05, 1.3)
    )


def build_model(summary: Mapping[str, Any]) -> ReportModel:
    """The report's sections from reconcile.json (every figure is a value of that file)."""
    totals = summary["totals"]
    newer = summary["newer"]
    since = summary["since"]
    source = (
        f"the court's response file {', '.join(newer['files'])}"
        if newer["kind"] == "court"
        else f"the DOJ file{'s' if len(newer['files']) != 1 else ''} {', '.join(newer['files'])}"
    )
    if since["date"]:
        ages = (
            f"Ages of pending cases are counted in days from the {since['kind']} date, "
            f"{since['date']}, to {summary['as_of']}."
        )
    else:
        ages = "No order or motion date was given: ages of pending cases are not computed."
    headline = Section(
        id="progress",
        title="Progress",
        paragraphs=(
            f"{summary['relieved']:,} convictions relieved by the run "
            f"(policy {summary['policy']}, decided as of {summary['run_as_of']}), compared with "
            f"{source}.",
            ages,
        ),
        cards=(
            Card("Relieved convictions", summary["relieved"], "relieved"),
            *(Card(STATUS_LABELS[s], int(totals[s]), f"totals.{s}") for s in STATUS_COLORS),
        ),
    )
    by_court = Section(
        id="by-court",
        title="By court",
        tables=(_table(summary["by_court"], "court", "Court (county)", "by_court"),),
        charts=(progress_chart(summary["by_court"], "court"),) if summary["by_court"] else (),
    )
    groups = summary.get("groups", {})
    group_rows = [
        {
            **row,
            "relief_group": groups.get(row["relief_group"], {}).get("title", row["relief_group"]),
        }
        for row in summary["by_group"]
    ]
    by_group = Section(
        id="by-group",
        title="By relief group",
        tables=(_table(group_rows, "relief_group", "Relief group", "by_group"),),
    )
    meaning = Section(
        id="meaning",
        title="What the columns mean",
        paragraphs=(
            "AB 1706 (2022) set the deadlines: court orders by 2023-03-01 and DOJ records "
            "updated by 2023-07-01 (HS 11361.9).",
            "Reflected: the newer record shows the relief asked (dismissed, or redesignated to "
            "the level asked). Pending: still convicted at the level it had. Contradicting: "
            "changed, but not as asked. Gone: the conviction is no longer in the file.",
            summary["sealed_records"],
        ),
    )
    return ReportModel(
        title="Proposition 64 relief: state record progress, "
        f"{str(summary['county']).title()} County",
        subtitle=f"Reconciled as of {summary['as_of']}",
        sections=(headline, by_court, by_group, meaning),
    )


_HTML = (
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ model.title }}</title>
<style>
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #1f2328; margin: 0 auto;
       max-width: 1060px; padding: 24px; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.15rem; border-bottom: 2px solid #d0d7de; padding-bottom: 4px; margin-top: 2rem; }
.subtitle { color: #57606a; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px; }
.card .value { font-size: 1.5rem; font-weight: 700; }
.card .label { color: #57606a; font-size: 0.85rem; }
table { border-collapse: collapse; margin: 10px 0 16px; font-size: 0.85rem; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f0f3f6; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure svg { width: 100%; max-width: 820px; height: auto; }
footer { color: #57606a; font-size: 0.8rem; margin-top: 2rem; }
</style>
</head>
<body>
<h1>{{ model.title }}</h1>
<p class="subtitle">{{ model.subtitle }}</p>
"""
    + SECTIONS_HTML
    + """<footer>Written by clearance from reconcile.json; every figure above is the value in
that file. No name, case number or identifier is in this report.</footer>
</body>
</html>
"""
)


def write_reconcile_report(summary: Mapping[str, Any], out_dir: Path) -> list[str]:
    """reconcile.html and reconcile.pdf in `out_dir`; returns their names."""
    model = build_model(summary)
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    (out_dir / "reconcile.html").write_text(
        environment.from_string(_HTML).render(model=model), encoding="utf-8"
    )
    render_report_pdf(model, out_dir / "reconcile.pdf")
    return ["reconcile.html", "reconcile.pdf"]
