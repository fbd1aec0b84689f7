"""The impact report: what the run does for people, how the policy compares, how good the data
was and how decisions were made, as `report.html` (self-contained, SVG charts inline) and
`report.pdf`.

District Attorneys publish these figures (people who no longer have a felony, people with no
record left) and boards compare policies before choosing one (prop64.md section 7). Every figure
is read from the run's summary.json, never recounted, so the report cannot disagree with it;
each figure in the HTML carries `data-figure="path.in.summary"` so that can be checked. The
methodology lists every rule the engine evaluates for the policy (the same `Rule` objects), with
its citation and how many convictions it fired on.

Both formats are rendered from one `ReportModel`, so they hold the same sections and numbers.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jinja2

from clearance.law.rule import Rule
from clearance.outputs.filings.charts import (
    DECISION_LABELS,
    DECISIONS,
    Chart,
    horizontal_bars,
    stacked_decisions,
    what_if,
)
from clearance.outputs.filings.data import RunData

#: What each people-impact figure means, in the order shown.
PEOPLE_FIGURES: dict[str, str] = {
    "relieved": "People with at least one conviction dismissed or reduced",
    "no_longer_felony": "People who had a felony and have none left",
    "no_conviction_left": "People left with no conviction at all",
    "no_conviction_last_7_years": "People left with no conviction in the last 7 years",
}
PEOPLE_SHORT: dict[str, str] = {
    "relieved": "relieved",
    "no_longer_felony": "no felony left",
    "no_conviction_left": "no conviction left",
    "no_conviction_last_7_years": "none in 7 years",
}
WHAT_IF_ORDER = ("statute", "dismiss_all", "dismiss_all_related")
#: Short names of the what-if policies under the chart's bars (the table gives the titles).
WHAT_IF_SHORT = {
    "statute": "Statute\nalone",
    "dismiss_all": "Dismiss\nall",
    "dismiss_all_related": "Dismiss all\n+ related",
}


@dataclass(frozen=True)
class Cell:
    """A table cell; `figure` is the summary.json path of a number taken from it."""

    text: str
    figure: str | None = None
    numeric: bool = False


@dataclass(frozen=True)
class TableData:
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[float, ...] = ()


@dataclass(frozen=True)
class Card:
    label: str
    value: int
    figure: str


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    paragraphs: tuple[str, ...] = ()
    cards: tuple[Card, ...] = ()
    tables: tuple[TableData, ...] = ()
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True)
class FilingCount:
    """One filing of the run and how many convictions and people it lists."""

    label: str
    file: str
    convictions: int
    people: int


@dataclass(frozen=True)
class FilingStatus:
    """What the filing set leaves out of its orders, and why (from the filings, not the
    summary): still in review per office, held for a court case number, not filed, and the
    public-safety challenges the office marked."""

    in_review: Mapping[str, int]
    held: int
    not_filed: Mapping[str, int]
    public_safety: int
    as_of: date
    #: Counts no attorney has reviewed yet: held out of every filing (`pending_held`), or
    #: filed at the engine's decision because the attorney chose to include them.
    pending_held: int = 0
    pending_included: int = 0


@dataclass(frozen=True)
class ReportModel:
    title: str
    subtitle: str
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = field(default=())
    #: The office that publishes the report (the PDF's author).
    author: str = ""


def _n(value: object) -> str:
    return f"{int(value):,}" if isinstance(value, int | float) else str(value)


def _num(summary_value: object, figure: str) -> Cell:
    return Cell(_n(summary_value), figure=figure, numeric=True)


def _decision_table(
    groups: Mapping[str, Mapping[str, int]], first: str, root: str
) -> tuple[TableData, list[str]]:
    keys = list(groups)
    rows = []
    for key in keys:
        counts = groups[key]
        total = sum(int(v) for v in counts.values())
        rows.append(
            (
                Cell(key),
                *[
                    _num(int(counts.get(d, 0)), f"{root}.{key}.{d}")
                    if d in counts
                    else Cell("0", numeric=True)
                    for d in DECISIONS
                ],
                Cell(_n(total), numeric=True),
            )
        )
    header = (first, *[DECISION_LABELS[d] for d in DECISIONS], "Total")
    return TableData(header=header, rows=tuple(rows)), keys


def _headline(summary: Mapping[str, Any], filings: Sequence[FilingCount]) -> Section:
    by_decision = summary["by_decision"]
    impact = summary["people_impact"]
    cards = (
        Card("Cannabis convictions decided", int(summary["convictions"]), "convictions"),
        Card("People", int(summary["people"]), "people"),
        Card("Dismissed and sealed", int(by_decision["dismiss"]), "by_decision.dismiss"),
        Card("Reduced", int(by_decision["reduce"]), "by_decision.reduce"),
        Card("Not eligible", int(by_decision["not_eligible"]), "by_decision.not_eligible"),
        Card("For review", int(by_decision["review"]), "by_decision.review"),
        Card("People relieved", int(impact["relieved"]), "people_impact.relieved"),
        Card(
            "People with no felony left",
            int(impact["no_longer_felony"]),
            "people_impact.no_longer_felony",
        ),
        Card(
            "People with no conviction left",
            int(impact["no_conviction_left"]),
            "people_impact.no_conviction_left",
        ),
    )
    paragraphs = [
        f"{summary['convictions']:,} cannabis convictions of {summary['people']:,} people in "
        f"{str(summary['county']).title()} County were decided under the policy "
        f"\u201c{summary['policy']['title']}\u201d as of {summary['as_of']}.",
    ]
    tables: tuple[TableData, ...] = ()
    if filings:
        paragraphs.append(
            "What is filed: one bulk motion and proposed order (or notice) per relief group, "
            "each resting on one authority and listing its convictions by case number in "
            "Exhibit A (who each person is in Exhibit B, under seal), and a notice of the "
            "convictions the People challenge."
        )
        tables = (
            TableData(
                header=("Filing", "File", "Convictions", "People"),
                rows=tuple(
                    (
                        Cell(f.label),
                        Cell(f.file),
                        Cell(_n(f.convictions), numeric=True),
                        Cell(_n(f.people), numeric=True),
                    )
                    for f in filings
                ),
                widths=(3, 3, 1, 1),
            ),
        )
    return Section("headline", "Headline figures", tuple(paragraphs), cards=cards, tables=tables)


def _outstanding(status: FilingStatus) -> Section:
    """What is still outstanding: review per office with the HS 11361.9 deadline, counts
    held for a court case number, relieved counts no filing covers."""
    from clearance.outputs.filings.review import OFFICES, deadline_text

    rows: list[tuple[Cell, ...]] = [
        (Cell(f"In review: {title}"), Cell(_n(int(status.in_review.get(key, 0))), numeric=True))
        for key, title in OFFICES.items()
    ]
    rows.append(
        (Cell("Held out of every order: no court case number"), Cell(_n(status.held), numeric=True))
    )
    rows += [
        (Cell(f"Not filed: {reason}"), Cell(_n(int(n)), numeric=True))
        for reason, n in sorted(status.not_filed.items())
    ]
    if status.public_safety:
        rows.append(
            (
                Cell("Challenged by the office on the public-safety ground"),
                Cell(_n(status.public_safety), numeric=True),
            )
        )
    if status.pending_held:
        rows.append(
            (
                Cell("Held out of every filing: not yet reviewed by an attorney"),
                Cell(_n(status.pending_held), numeric=True),
            )
        )
    if status.pending_included:
        rows.append(
            (
                Cell("Filed at the engine's decision, not yet reviewed by an attorney"),
                Cell(_n(status.pending_included), numeric=True),
            )
        )
    pending = sum(int(v) for v in status.in_review.values())
    paragraphs = [
        f"{pending:,} conviction{'s' if pending != 1 else ''} "
        f"remain{'s' if pending == 1 else ''} in review and appear in no motion or challenge; "
        "the review lists (review-*.pdf, .csv) give each, per office.",
        deadline_text(status.as_of),
    ]
    if status.pending_held:
        paragraphs.append(
            f"{status.pending_held:,} decision{'s' if status.pending_held != 1 else ''} of the "
            "engine no attorney has reviewed yet "
            f"{'are' if status.pending_held != 1 else 'is'} in no filing of this set."
        )
    if status.pending_included:
        paragraphs.append(
            f"UNREVIEWED: {status.pending_included:,} decision"
            f"{'s' if status.pending_included != 1 else ''} of the engine no attorney has "
            "reviewed yet are included in these filings, at the attorney's request."
        )
    return Section(
        "outstanding",
        "What remains: review, case numbers, not filed",
        tuple(paragraphs),
        tables=(TableData(("What", "Convictions"), tuple(rows), widths=(5, 1)),),
    )


def _people(summary: Mapping[str, Any]) -> Section:
    impact = summary["people_impact"]
    rows = tuple(
        (Cell(label), _num(int(impact[key]), f"people_impact.{key}"))
        for key, label in PEOPLE_FIGURES.items()
    )
    chart = horizontal_bars(
        "people",
        "What changes for people",
        [PEOPLE_FIGURES[k] for k in PEOPLE_FIGURES],
        [int(impact[k]) for k in PEOPLE_FIGURES],
        "#2e7d32",
        "people",
    )
    return Section(
        "people",
        "People relieved and what changes for them",
        (
            "A dismissal removes the conviction from the record (sealed); a reduction makes a "
            "felony a misdemeanor or a misdemeanor an infraction for all purposes (HS "
            "11361.8(h)). Counted here are each person's convictions of any offense in any "
            "county in the DOJ record, before and after the decisions of this run.",
        ),
        tables=(TableData(("Figure", "People"), rows, widths=(5, 1)),),
        charts=(chart,),
    )


def _by_section(summary: Mapping[str, Any]) -> Section:
    table, keys = _decision_table(summary["by_section"], "Section", "by_section")
    chart = stacked_decisions(
        "by_section", "Decisions by code section", keys, summary["by_section"], horizontal=True
    )
    return Section("by-section", "Decisions by section", tables=(table,), charts=(chart,))


def _by_decade(summary: Mapping[str, Any]) -> Section:
    groups = summary["by_decade"]
    table, keys = _decision_table(groups, "Decade of conviction", "by_decade")
    chart = stacked_decisions("by_decade", "Decisions by decade of conviction", keys, groups)
    return Section(
        "by-decade", "Decisions by decade of conviction", tables=(table,), charts=(chart,)
    )


def _by_reason(summary: Mapping[str, Any], rules: Mapping[str, Rule]) -> Section:
    reasons: Mapping[str, int] = summary["by_reason"]
    ordered = sorted(reasons.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    rows = tuple(
        (
            Cell(key),
            Cell(rules[key].text if key in rules else "(rule not in this version)"),
            _num(int(value), f"by_reason.{key}"),
        )
        for key, value in ordered
    )
    top = ordered[:15]
    chart = horizontal_bars(
        "by_reason",
        "Convictions by reason (rule that fired)",
        [k for k, _ in top],
        [int(v) for _, v in top],
        "#1565c0",
        "convictions",
    )
    return Section(
        "by-reason",
        "Decisions by reason",
        (
            "Every rule is evaluated for every conviction and a conviction carries every rule "
            "that held, so a conviction is counted under each of its reasons.",
        ),
        tables=(TableData(("Rule", "What it says", "Convictions"), rows, widths=(2.2, 5, 1)),),
        charts=(chart,) if top else (),
    )


def _what_if(summary: Mapping[str, Any]) -> Section:
    blocks: Mapping[str, Any] | None = summary.get("what_if")
    if not blocks:
        return Section(
            "what-if",
            "What if: other policies",
            ("This run was made without the what-if comparison (--no-what-if).",),
        )
    keys = [k for k in WHAT_IF_ORDER if k in blocks] + sorted(set(blocks) - set(WHAT_IF_ORDER))
    rows = []
    for key in keys:
        block = blocks[key]
        root = f"what_if.{key}"
        rows.append(
            (
                Cell(str(block["policy"])),
                _num(int(block["convictions"]), f"{root}.convictions"),
                *[
                    _num(int(block["by_decision"].get(d, 0)), f"{root}.by_decision.{d}")
                    for d in DECISIONS
                ],
                *[
                    _num(int(block["people_impact"][p]), f"{root}.people_impact.{p}")
                    for p in PEOPLE_FIGURES
                ],
            )
        )
    header = (
        "Policy",
        "Convictions",
        *[DECISION_LABELS[d] for d in DECISIONS],
        *[f"People: {PEOPLE_SHORT[p]}" for p in PEOPLE_FIGURES],
    )
    labels = {k: WHAT_IF_SHORT.get(k, k.replace("_", " ")) for k in keys}
    chart = what_if(
        "what_if",
        "The same records under other policies",
        [labels[k] for k in keys],
        {labels[k]: blocks[k]["by_decision"] for k in keys},
        {labels[k]: blocks[k]["people_impact"] for k in keys},
        PEOPLE_SHORT,
    )
    return Section(
        "what-if",
        "What if: other policies",
        (
            "The same records, the same engine and the same as-of date, decided under other "
            f"policies. This run's policy is \u201c{summary['policy']['title']}\u201d.",
        ),
        tables=(TableData(header, tuple(rows), widths=(2.0, 1.3, 1, 1, 1, 1, 1, 1, 1, 1)),),
        charts=(chart,),
    )


def _quality(summary: Mapping[str, Any]) -> Section:
    source = summary["input"]
    totals = TableData(
        ("Input", "Rows"),
        (
            (Cell("Rows read"), _num(source["rows_read"], "input.rows_read")),
            (Cell("Rows loaded"), _num(source["rows_loaded"], "input.rows_loaded")),
            (Cell("Rows quarantined"), _num(source["rows_quarantined"], "input.rows_quarantined")),
            (Cell("People in the record"), _num(source["people"], "input.people")),
            (Cell("Counts in the record"), _num(source["counts"], "input.counts")),
            (
                Cell("Counts found in two files, merged"),
                _num(source["counts_merged_across_files"], "input.counts_merged_across_files"),
            ),
        ),
        widths=(4, 1),
    )
    files = TableData(
        ("File", "Rows read", "Loaded", "Quarantined", "Encoding"),
        tuple(
            (
                Cell(str(f["name"])),
                _num(f["rows_read"], f"input.files.{i}.rows_read"),
                _num(f["rows_loaded"], f"input.files.{i}.rows_loaded"),
                _num(f["rows_quarantined"], f"input.files.{i}.rows_quarantined"),
                Cell(str(f["encoding"])),
            )
            for i, f in enumerate(source["files"])
        ),
        widths=(4, 1, 1, 1, 1),
    )
    reasons: Mapping[str, int] = source.get("quarantined_by_reason", {})
    quarantine = TableData(
        ("Quarantine reason", "Rows"),
        tuple(
            (Cell(k), _num(v, f"input.quarantined_by_reason.{k}"))
            for k, v in sorted(reasons.items())
        )
        or ((Cell("No row was quarantined"), Cell("0", numeric=True)),),
        widths=(4, 1),
    )
    holds = "holds" if source["accounting_holds"] else "DOES NOT HOLD"
    return Section(
        "data-quality",
        "Data quality",
        (
            f"Every input row is either loaded or set aside in quarantine.csv with its reason: "
            f"rows read = rows loaded + rows quarantined ({holds} for this run).",
        ),
        tables=(totals, files, quarantine),
    )


def _sources(summary: Mapping[str, Any]) -> Section | None:
    """Cases found only in the court's records (or a RAP sheet), when the run read them."""
    sources = summary.get("sources")
    if not isinstance(sources, Mapping):
        return None
    rows = []
    for key, label in (
        ("found_only_in_court_records", "Found only in the court's records"),
        ("found_only_in_rap_sheets", "Found only in RAP sheets"),
    ):
        block = sources.get(key)
        if not isinstance(block, Mapping):
            continue
        by_decision = block["by_decision"]
        rows.append(
            (
                Cell(label),
                *[_num(by_decision.get(d, 0), f"sources.{key}.by_decision.{d}") for d in DECISIONS],
                _num(block["convictions"], f"sources.{key}.convictions"),
            )
        )
    if not rows:
        return None
    table = TableData(
        ("Convictions", *[DECISION_LABELS[d] for d in DECISIONS], "Total"), tuple(rows)
    )
    shared = int(sources.get("convictions_in_two_sources", 0))
    doubtful = int(sources.get("doubtful_matches", 0))
    return Section(
        "sources",
        "Cases found only in the court's records",
        (
            "Convictions the DOJ file does not carry, read from the court's case records (or a "
            "RAP sheet) and decided like the rest. "
            f"{shared:,} convictions were found in two sources and decided once; {doubtful:,} "
            "people of the other sources resembled someone in the DOJ file without being "
            "surely the same person and were kept apart, for review (matches.csv).",
        ),
        tables=(table,),
    )


def _methodology(run: RunData, rules: Sequence[Rule]) -> Section:
    summary = run.summary
    reasons: Mapping[str, int] = summary["by_reason"]
    rows = tuple(
        (
            Cell(rule.id),
            Cell(rule.source),
            Cell(rule.outcome.replace("_", " ")),
            Cell(rule.citation),
            Cell(rule.text),
            _num(int(reasons[rule.id]), f"by_reason.{rule.id}")
            if rule.id in reasons
            else Cell("0", numeric=True),
        )
        for rule in rules
    )
    policy = summary["policy"]
    return Section(
        "methodology",
        "Methodology",
        (
            f"Policy: {policy['title']} ({policy['name']}). Source: {policy['source']}.",
            f"As of {summary['as_of']}: whether a sentence is still being served, and every "
            "period counted in years, is measured to this date.",
            "Every rule of the statute (Health and Safety Code 11357-11361.8) and of the policy "
            "is evaluated for every cannabis conviction; none is first-match. The decision "
            "follows a written precedence: a record that cannot be true (an age under 14 at "
            "the offense, a date of birth after it, a date after the as-of date, a conviction "
            "before its offense) goes to review; a statutory bar makes a conviction not "
            "eligible (an offense on or after 2016-11-09, read on the offense date as HS "
            "11361.8(a) and (e) say); a question the data cannot settle sends it to review; a "
            "disqualifying prior (super strike, PC 290(c) offense, two priors under the "
            "subdivision that now carries the misdemeanor) bars only a reduction, as the policy "
            "says, and what the record cannot settle about a prior goes to review; then a "
            "policy dismissal, a statutory dismissal (conduct now lawful, whatever the priors) "
            "or a statutory reduction (conduct now lesser) applies. Eligibility is presumed "
            "(HS 11361.8(b), (f)): a fact missing from the record never defeats relief.",
            "The rules below are the objects the engine evaluated for this policy, listed with "
            "their citation and the number of convictions each fired on.",
        ),
        tables=(
            TableData(
                ("Rule", "Source", "Outcome", "Citation", "What it says", "Convictions"),
                rows,
                widths=(2.2, 0.9, 1.1, 2.4, 4.2, 1),
            ),
        ),
    )


def build_report(
    run: RunData,
    rules: Sequence[Rule],
    filings: Sequence[FilingCount] = (),
    status: FilingStatus | None = None,
    author: str = "",
) -> ReportModel:
    """Every section of the report, from summary.json and the rules of the policy (and, for
    what remains outstanding, from the filing set)."""
    summary = run.summary
    by_id = {rule.id: rule for rule in rules}
    outstanding = (_outstanding(status),) if status is not None else ()
    found = (
        _headline(summary, filings),
        *outstanding,
        _people(summary),
        _by_section(summary),
        _by_reason(summary, by_id),
        _by_decade(summary),
        _what_if(summary),
        _sources(summary),
        _quality(summary),
        _methodology(run, rules),
    )
    sections = tuple(section for section in found if section is not None)
    county = str(summary["county"]).title()
    return ReportModel(
        title=f"Proposition 64 relief in {county} County: impact report",
        subtitle=f"Policy \u201c{summary['policy']['title']}\u201d, as of {summary['as_of']}",
        sections=sections,
        author=author,
    )


# ------------------------------------------------------------------------------------------
# HTML

#: The sections of a report model as HTML (headings, paragraphs, figure cards, tables whose
#: cells carry `data-figure` so a test can check each against the summary, inline SVG charts):
#: the run's report and the reconciliation's report show their sections alike.
SECTIONS_HTML = """{% for s in model.sections %}
<section id="{{ s.id }}">
<h2>{{ s.title }}</h2>
{% for p in s.paragraphs %}<p>{{ p }}</p>
{% endfor %}
{% if s.cards %}<div class="cards">
{% for c in s.cards %}<div class="card">
<div class="value" data-figure="{{ c.figure }}">{{ "{:,}".format(c.value) }}</div>
<div class="label">{{ c.label }}</div></div>
{% endfor %}</div>{% endif %}
{% for t in s.tables %}<table>
<thead><tr>{% for h in t.header %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in t.rows %}<tr>{% for c in row %}<td
{%- if c.numeric %} class="n"{% endif %}
{%- if c.figure %} data-figure="{{ c.figure }}"{% endif %}>{{ c.text }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% endfor %}
{% for chart in s.charts %}<figure aria-label="{{ chart.title }}">{{ chart.svg | safe }}</figure>
{% endfor %}
</section>
{% endfor %}
"""

_HTML = (
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ model.title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #1f2328; margin: 0 auto; max-width: 1060px; padding: 24px; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; border-bottom: 2px solid #d0d7de; padding-bottom: 4px; margin-top: 2rem; }
.subtitle { color: #57606a; margin-top: 0; }
nav a { margin-right: 12px; font-size: 0.9rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr));
         gap: 10px; margin: 12px 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px; }
.card .value { font-size: 1.5rem; font-weight: 700; }
.card .label { color: #57606a; font-size: 0.85rem; }
table { border-collapse: collapse; margin: 10px 0 16px; font-size: 0.85rem; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f0f3f6; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 8px 0 16px; }
figure svg { width: 100%; max-width: 820px; height: auto; }
footer { color: #57606a; font-size: 0.8rem; margin-top: 2rem; }
@media print { nav { display: none; } h2 { break-after: avoid; } figure { break-inside: avoid; } }
</style>
</head>
<body>
<header>
<h1>{{ model.title }}</h1>
<p class="subtitle">{{ model.subtitle }}</p>
<nav aria-label="Sections">
{%- for s in model.sections %}<a href="#{{ s.id }}">{{ s.title }}</a>{% endfor -%}
</nav>
</header>
<main>
"""
    + SECTIONS_HTML
    + """</main>
<footer>Written by clearance from the run's summary.json; every figure above is the value in that
file. Charts are inline SVG: this page needs no other file.</footer>
</body>
</html>
"""
)


def render_html(model: ReportModel, path: Path) -> None:
    """The self-contained HTML report."""
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    path.write_text(environment.from_string(_HTML).render(model=model), encoding="utf-8")


# ------------------------------------------------------------------------------------------
# PDF


def render_report_pdf(model: ReportModel, path: Path) -> None:
    """The same report as a PDF (PNG charts), for printing and attaching to a press release."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import (
        Image,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    from clearance.outputs.filings.fonts import font_name
    from clearance.outputs.filings.model import esc
    from clearance.outputs.filings.pdf import LANG, binary_streams

    regular, bold = font_name("sans"), font_name("sans", bold=True)
    from reportlab.lib.fonts import addMapping

    addMapping(regular, 0, 0, regular)
    addMapping(regular, 1, 0, bold)
    addMapping(regular, 0, 1, font_name("sans", italic=True))
    addMapping(regular, 1, 1, font_name("sans", bold=True, italic=True))
    base = ParagraphStyle("base", fontName=regular, fontSize=9.5, leading=13)
    h1 = ParagraphStyle("h1", parent=base, fontName=bold, fontSize=16, leading=20)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=12.5, leading=16, spaceBefore=10)
    sub = ParagraphStyle("sub", parent=base, textColor=colors.Color(0.34, 0.38, 0.42))
    cell = ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9)
    cell_n = ParagraphStyle("cell_n", parent=cell, alignment=2)
    head = ParagraphStyle("head", parent=cell, fontName=bold)
    width = letter[0] - 2 * 54

    def table(data: TableData) -> Table:
        weights = data.widths or tuple(1.0 for _ in data.header)
        total = sum(weights)
        rows = [[Paragraph(esc(h), head) for h in data.header]]
        rows += [
            [Paragraph(esc(c.text), cell_n if c.numeric else cell) for c in row]
            for row in data.rows
        ]
        result = Table(rows, colWidths=[w * width / total for w in weights], repeatRows=1)
        result.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), regular),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.Color(0.8, 0.82, 0.85)),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.94, 0.95, 0.96)),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return result

    def image(chart: Chart) -> Image:
        picture = Image(io.BytesIO(chart.png))
        scale = min(1.0, width / picture.imageWidth)
        picture.drawWidth = picture.imageWidth * scale
        picture.drawHeight = picture.imageHeight * scale
        return picture

    def cards(section: Section) -> Table:
        per_row = 3
        cells = [
            Paragraph(f'<font size="15"><b>{c.value:,}</b></font><br/>{esc(c.label)}', base)
            for c in section.cards
        ]
        grid = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
        while len(grid[-1]) < per_row:
            grid[-1].append(Paragraph("", base))
        result = Table(grid, colWidths=[width / per_row] * per_row)
        result.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), regular),
                    ("BOX", (0, 0), (-1, -1), 0.4, colors.Color(0.8, 0.82, 0.85)),
                    ("INNERGRID", (0, 0), (-1, -1), 0.4, colors.Color(0.8, 0.82, 0.85)),
                    ("TOPPADDING", (0, 0), (-1, -1), 6),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ]
            )
        )
        return result

    top = Paragraph(esc(model.title), h1)
    top.bookmark = (model.title, 0)  # type: ignore[attr-defined]
    story: list[Any] = [top, Paragraph(esc(model.subtitle), sub)]
    for section in model.sections:
        parts: list[Any] = [Paragraph(esc(p), base) for p in section.paragraphs]
        if section.cards:
            parts += [Spacer(1, 6), cards(section)]
        for data in section.tables:
            parts += [Spacer(1, 6), table(data)]
        for chart in section.charts:
            parts += [Spacer(1, 6), image(chart)]
        # The heading stays with what follows it (never alone at the foot of a page).
        first = 1 if section.paragraphs else 2
        heading = Paragraph(esc(section.title), h2)
        heading.bookmark = (section.title, 1)  # type: ignore[attr-defined]
        story.append(KeepTogether([heading, *parts[:first]]))
        story += parts[first:]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.drawCentredString(letter[0] / 2, 28, f"{model.title} - page {doc.page}")
        canvas.restoreState()

    document = SimpleDocTemplate(
        str(path),
        pagesize=letter,
        leftMargin=54,
        rightMargin=54,
        topMargin=54,
        bottomMargin=54,
        title=model.title,
        author=model.author,
        subject=model.subtitle,
        keywords=["Proposition 64", "HS 11361.8", "impact report"],
        creator="clearance",
        lang=LANG,
        invariant=1,
        initialFontName=regular,
    )
    marks = iter(range(1_000_000))

    def bookmark(flowable: Any) -> None:
        """The report's title and each section in the PDF's outline, where they are drawn."""
        found = getattr(flowable, "bookmark", None)
        if found is not None:
            key = f"s{next(marks)}"
            top = document.frame._y + flowable.height
            document.canv.bookmarkPage(key, fit="XYZ", left=0, top=top, zoom=0)
            document.canv.addOutlineEntry(found[0], key, level=found[1], closed=False)

    document.afterFlowable = bookmark  # type: ignore[method-assign]

    def opening(canvas: Any, doc: Any) -> None:
        canvas.setViewerPreference("DisplayDocTitle", "true")
        canvas.showOutline()
        footer(canvas, doc)

    with binary_streams():
        document.build(story, onFirstPage=opening, onLaterPages=footer)


def write_report(
    run: RunData,
    rules: Sequence[Rule],
    out_dir: Path,
    filings: Sequence[FilingCount] = (),
    status: FilingStatus | None = None,
    author: str = "",
) -> tuple[Path, Path]:
    """report.html and report.pdf in `out_dir` (`author`: the office that publishes it)."""
    model = build_report(run, rules, filings, status, author)
    html_path, pdf_path = out_dir / "report.html", out_dir / "report.pdf"
    render_html(model, html_path)
    render_report_pdf(model, pdf_path)
    return html_path, pdf_path
