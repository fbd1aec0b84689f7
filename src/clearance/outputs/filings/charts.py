"""The impact report's charts, drawn once and written as SVG (the HTML) and PNG (the PDF).

matplotlib is used through `Figure` objects, never pyplot, so no global backend or figure
registry is touched (the web app may draw charts concurrently). SVG output is deterministic:
no date in the metadata, a fixed id salt per chart, and text kept as text so the page stays
small and searchable.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.figure import Figure

#: Colours of the decisions, the same in every chart and table; each at least 3:1 against
#: white, as WCAG 2.1 (1.4.11) asks of the parts of a graphic.
DECISION_COLORS: dict[str, str] = {
    "dismiss": "#2e7d32",
    "reduce": "#1565c0",
    "not_eligible": "#757575",
    "review": "#b26a00",
}
DECISION_LABELS: dict[str, str] = {
    "dismiss": "Dismiss and seal",
    "reduce": "Reduce",
    "not_eligible": "Not eligible",
    "review": "Review",
}
DECISIONS = tuple(DECISION_COLORS)


@dataclass(frozen=True)
class Chart:
    """One chart in both formats."""

    name: str
    title: str
    svg: str
    png: bytes
    #: The text alternative: the title and every value the chart draws (the SVG's accessible
    #: name in the HTML, since a screen reader does not read a chart's own labels).
    alt: str = ""


def chart_style() -> dict[Any, Any]:
    """The look every chart of the reports shares (the filings' report, the reconciliation's):
    matplotlib settings for `rc_context`. SVG text stays text, so a screen reader and a search
    find the labels."""
    return {
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "svg.fonttype": "none",
    }


def _alt(title: str, values: str) -> str:
    return f"{title}: {values}." if values else f"{title}: no data."


def finish_chart(name: str, title: str, figure: Figure, alt: str = "") -> Chart:
    """A drawn figure as a `Chart`: SVG (labelled with `alt` for screen readers) and PNG, both
    the same bytes for the same figure (no date, a fixed hash salt per chart name), so a
    report written twice is identical. Every report's charts end here."""
    # Lay the figure out once and freeze it: each save would otherwise lay it out again.
    engine = figure.get_layout_engine()
    if engine is not None:
        engine.execute(figure)
        figure.set_layout_engine("none")
    svg_buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"clearance-{name}"}):
        figure.savefig(svg_buffer, format="svg", metadata={"Date": None})
    svg = svg_buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    alt = alt or f"{title}."
    label = html.escape(alt, quote=True)
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{label}"', 1)
    png_buffer = io.BytesIO()
    figure.savefig(png_buffer, format="png", dpi=160, metadata={"Software": None})
    return Chart(name=name, title=title, svg=svg, png=png_buffer.getvalue(), alt=alt)


def stacked_decisions(
    name: str,
    title: str,
    categories: Sequence[str],
    counts: Mapping[str, Mapping[str, int]],
    horizontal: bool = False,
) -> Chart:
    """Bars per category, stacked by decision (dismiss, reduce, not eligible, review)."""
    with matplotlib.rc_context(chart_style()):
        height = max(2.4, 0.42 * len(categories) + 1.2) if horizontal else 3.2
        figure = Figure(figsize=(7.0, height), layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(categories)))
        base = [0] * len(categories)
        for decision in DECISIONS:
            values = [int(counts.get(c, {}).get(decision, 0)) for c in categories]
            if not any(values):
                continue
            if horizontal:
                axes.barh(
                    positions,
                    values,
                    left=base,
                    color=DECISION_COLORS[decision],
                    label=DECISION_LABELS[decision],
                )
            else:
                axes.bar(
                    positions,
                    values,
                    bottom=base,
                    color=DECISION_COLORS[decision],
                    label=DECISION_LABELS[decision],
                )
            base = [b + v for b, v in zip(base, values, strict=True)]
        if horizontal:
            axes.set_yticks(positions, list(categories))
            axes.invert_yaxis()
            axes.set_xlabel("convictions")
        else:
            axes.set_xticks(positions, list(categories))
            axes.set_ylabel("convictions")
        axes.set_title(title, loc="left")
        figure.legend(frameon=False, fontsize=8, ncols=4, loc="outside lower center")
        text = "; ".join(
            f"{c}: "
            + ", ".join(
                f"{DECISION_LABELS[d].lower()} {int(counts.get(c, {}).get(d, 0)):,}"
                for d in DECISIONS
                if int(counts.get(c, {}).get(d, 0))
            )
            for c in categories
        )
        return finish_chart(name, title, figure, _alt(title, text))


def horizontal_bars(
    name: str, title: str, labels: Sequence[str], values: Sequence[int], color: str, unit: str
) -> Chart:
    """One bar per label, value written at the end of the bar."""
    with matplotlib.rc_context(chart_style()):
        figure = Figure(figsize=(7.0, max(2.0, 0.36 * len(labels) + 1.0)), layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        axes.barh(positions, list(values), color=color)
        axes.set_yticks(positions, list(labels))
        axes.invert_yaxis()
        axes.set_xlabel(unit)
        top = max(values) if values else 0
        for position, value in zip(positions, values, strict=True):
            axes.text(value + top * 0.01, position, f"{value:,}", va="center", fontsize=8)
        axes.set_xlim(0, top * 1.12 + 1)
        axes.set_title(title, loc="left")
        text = "; ".join(
            f"{label} {value:,} {unit}" for label, value in zip(labels, values, strict=True)
        )
        return finish_chart(name, title, figure, _alt(title, text))


def what_if(
    name: str,
    title: str,
    policies: Sequence[str],
    decisions: Mapping[str, Mapping[str, int]],
    people: Mapping[str, Mapping[str, int]],
    people_labels: Mapping[str, str],
) -> Chart:
    """Two panels: convictions by decision per policy, and people affected per policy."""
    with matplotlib.rc_context(chart_style()):
        figure = Figure(figsize=(7.6, 3.8), layout="constrained")
        left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
        positions = list(range(len(policies)))
        base = [0] * len(policies)
        for decision in DECISIONS:
            values = [int(decisions[p].get(decision, 0)) for p in policies]
            left.bar(
                positions,
                values,
                bottom=base,
                color=DECISION_COLORS[decision],
                label=DECISION_LABELS[decision],
            )
            base = [b + v for b, v in zip(base, values, strict=True)]
        left.set_xticks(positions, list(policies))
        left.set_ylabel("convictions")
        left.set_title("Convictions by decision", loc="left")
        left.legend(
            frameon=False, fontsize=7, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.12)
        )
        keys = list(people_labels)
        width = 0.8 / max(1, len(keys))
        shades = ["#1b5e20", "#43a047", "#81c784", "#c8e6c9"]
        for index, key in enumerate(keys):
            values = [int(people[p].get(key, 0)) for p in policies]
            right.bar(
                [x + (index - (len(keys) - 1) / 2) * width for x in positions],
                values,
                width=width,
                color=shades[index % len(shades)],
                label=people_labels[key],
            )
        right.set_xticks(positions, list(policies))
        right.set_ylabel("people")
        right.set_title("People", loc="left")
        right.legend(
            frameon=False, fontsize=7, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.12)
        )
        figure.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
        text = "; ".join(
            f"{p}: "
            + ", ".join(
                f"{DECISION_LABELS[d].lower()} {int(decisions[p].get(d, 0)):,}" for d in DECISIONS
            )
            + ", "
            + ", ".join(f"people {people_labels[k]} {int(people[p].get(k, 0)):,}" for k in keys)
            for p in policies
        )
        return finish_chart(name, title, figure, _alt(title, text))
