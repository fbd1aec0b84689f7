"""Inline SVG charts drawn from a run's summary.json: no script, no image files, no library.

Simple horizontal bars read well at any width, print, and need nothing beyond the page itself.
Every label goes through `markupsafe.escape`, since a county or policy name is user input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

#: One colour per decision, used in every chart and in the legend; each the badge colour of
#: style.css, at least 4.5:1 against white (WCAG 2.1, 1.4.3 and 1.4.11).
DECISION_COLORS: dict[str, str] = {
    "dismiss": "#2f7d4f",
    "reduce": "#3b6fb6",
    "not_eligible": "#6b6b6b",
    "review": "#9a5b00",
}
DECISION_LABELS: dict[str, str] = {
    "dismiss": "dismiss",
    "reduce": "reduce",
    "not_eligible": "not eligible",
    "review": "review",
}

_ROW = 24
_BAR = 17
_LABEL_WIDTH = 96
_WIDTH = 480


def _svg_open(title: str, rows: int, values: str) -> str:
    """The chart's opening tag with its text alternative: a screen reader reads the title and
    every value (`values`), since an image's own texts are not read."""
    height = _ROW * rows + 8
    text = f"{title}: {values}." if values else f"{title}: no data."
    return (
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-label="{escape(text)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(text)}</title>"
    )


def bar_chart(
    items: Sequence[tuple[str, int]],
    title: str,
    colors: Sequence[str] = ("#3b6fb6",),
    label_width: int = _LABEL_WIDTH,
) -> Markup:
    """One bar per item, its value at the end of the bar (colours repeat when fewer)."""
    top = max((value for _, value in items), default=0) or 1
    span = _WIDTH - label_width - 50
    values = "; ".join(f"{label} {value:,}" for label, value in items)
    parts = [_svg_open(title, len(items), values)]
    for i, (label, value) in enumerate(items):
        y = 4 + i * _ROW
        width = round(span * value / top)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{max(width, 1)}" height="{_BAR}" '
            f'fill="{colors[i % len(colors)]}" rx="2"/>'
            f'<text x="{label_width + width + 6}" y="{y + 13}">{value:,}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def decision_bars(by_decision: Mapping[str, int], title: str) -> Markup:
    """Convictions by decision, each bar in its decision's colour."""
    items = [(DECISION_LABELS[k], int(by_decision.get(k, 0))) for k in DECISION_COLORS]
    return bar_chart(items, title, tuple(DECISION_COLORS.values()))


def stacked_bars(groups: Mapping[str, Mapping[str, int]], title: str) -> Markup:
    """One bar per group (a section, a decade), split by decision; total at the end."""
    rows = sorted(groups.items())
    top = max((sum(int(v) for v in parts.values()) for _, parts in rows), default=0) or 1
    span = _WIDTH - _LABEL_WIDTH - 50
    values = "; ".join(
        f"{label}: "
        + ", ".join(
            f"{DECISION_LABELS[d]} {int(parts.get(d, 0)):,}"
            for d in DECISION_COLORS
            if int(parts.get(d, 0))
        )
        for label, parts in rows
    )
    out = [_svg_open(title, len(rows), values)]
    for i, (label, parts) in enumerate(rows):
        y = 4 + i * _ROW
        x = float(_LABEL_WIDTH)
        out.append(
            f'<text x="{_LABEL_WIDTH - 8}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
        )
        total = 0
        for decision, color in DECISION_COLORS.items():
            value = int(parts.get(decision, 0))
            if not value:
                continue
            total += value
            width = span * value / top
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{_BAR}" fill="{color}">'
                f"<title>{escape(label)}: {value:,} {DECISION_LABELS[decision]}</title></rect>"
            )
            x += width
        out.append(f'<text x="{x + 6:.1f}" y="{y + 13}">{total:,}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def legend() -> Markup:
    """The decision colours, once per page."""
    items = "".join(
        f'<span class="key"><span class="swatch" style="background:{color}"></span>'
        f"{DECISION_LABELS[name]}</span>"
        for name, color in DECISION_COLORS.items()
    )
    return Markup(f'<div class="legend">{items}</div>')
