"""Charts drawn on the server as SVG (no JavaScript, no CDN, nothing for the strict CSP to
block): horizontal bars for categories (labels stay readable on a phone), lines for months.
The table next to each chart carries the same figures for screen readers; the SVG says so in
its label. Masked values ("< 5", "—") are not drawn: their bar is left out and the value is
written instead."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accesmt.common.formats import figure

from .tables import Table

SERIES_COLOURS = ("#0b5394", "#b35900", "#1b6b35")  # ≥ 3:1 against white (WCAG 1.4.11)
WIDTH = 460  # close to the width it is shown at (a phone, half a desktop table row)
BAR = 16
GAP = 10
LABEL_WIDTH = 150
LABEL_CHARS = 22
MAX_BARS = 15  # a long table (the communes of a territory) draws its first rows
TEXT = 'font-family="system-ui, sans-serif" font-size="13" fill="#1e1e1e"'


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _legend(table: Table, left: int) -> tuple[list[str], int]:
    """The legend of a chart with several series, wrapped to the chart's width: (parts, number
    of lines). The plot is drawn below its first line."""
    parts, x, line = [], left, 0
    if len(table.chart.columns) < 2:
        return parts, 1
    for index, column in enumerate(table.chart.columns):
        name = table.columns[column]
        width = 24 + 7 * len(name)
        if x > left and x + width > WIDTH:
            x, line = left, line + 1
        y = 14 + 16 * line
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        parts.append(f'<rect x="{x}" y="{y - 11}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y}" {TEXT}>{escape(name)}</text>')
        x += width
    return parts, line + 1


def bars(table: Table, masked: bool) -> str:
    chart = table.chart
    left_out = max(0, len(table.rows) - MAX_BARS) + table.more_rows
    rows = [[cell.shown(masked) for cell in row] for row in table.rows[:MAX_BARS]]
    values = [_number(row[c]) for row in rows for c in chart.columns]
    top = max([v for v in values if v is not None] or [0]) or 1
    series = len(chart.columns)
    group = series * BAR + GAP
    height = 28 + group * len(rows) + (20 if left_out else 0)
    plot = WIDTH - LABEL_WIDTH - 50
    parts: list[str] = []
    y = 28
    for row in rows:
        label = escape(_short(str(row[chart.label])))
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR}" text-anchor="end" {TEXT}>{label}</text>'
        )
        for index, column in enumerate(chart.columns):
            value = row[column]
            number = _number(value)
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            bar_y = y + index * BAR
            width = 0 if number is None else max(0, round(plot * number / top))
            if width:
                parts.append(
                    f'<rect x="{LABEL_WIDTH}" y="{bar_y + 2}" width="{width}" height="{BAR - 4}" '
                    f'fill="{colour}"/>'
                )
            parts.append(
                f'<text x="{LABEL_WIDTH + width + 4}" y="{bar_y + BAR - 3}" {TEXT}>'
                f"{escape(figure(value))}</text>"
            )
        y += group
    if left_out:
        parts.append(
            f'<text x="{LABEL_WIDTH}" y="{y + 10}" {TEXT}>… et {left_out} autres lignes '
            "dans le tableau</text>"
        )
    return _svg(table, height, parts, legend_left=LABEL_WIDTH)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def line(table: Table, masked: bool) -> str:
    chart = table.chart
    rows = table.shown_rows(masked)[: len(table.rows)]
    values = [_number(row[c]) for row in rows for c in chart.columns]
    top = max([v for v in values if v is not None] or [0]) or 1
    height, left, bottom, plot_top = 240, 44, 200, 30
    plot_width = WIDTH - left - 20
    step = plot_width / max(1, len(rows) - 1) if len(rows) > 1 else 0
    parts = []
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 20}" y2="{bottom}" stroke="#4a4a4a"/>'
    )
    parts.append(
        f'<text x="{left - 6}" y="{plot_top + 4}" text-anchor="end" {TEXT}>{figure(top)}</text>'
    )
    parts.append(f'<text x="{left - 6}" y="{bottom}" text-anchor="end" {TEXT}>0</text>')
    every = max(1, -(-len(rows) // 6))  # at most about six month labels
    for index, row in enumerate(rows):
        if index % every == 0:
            x = left + index * step
            label = escape(str(row[chart.label])[:3] + str(row[chart.label])[-2:])
            parts.append(
                f'<text x="{x:.0f}" y="{bottom + 18}" text-anchor="middle" {TEXT}>{label}</text>'
            )
    for index, column in enumerate(chart.columns):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        points = []
        for position, row in enumerate(rows):
            number = _number(row[column])
            if number is None:  # a masked month breaks the line
                if len(points) > 1:
                    parts.append(_polyline(points, colour))
                points = []
                continue
            y = bottom - (bottom - plot_top) * number / top
            points.append((left + position * step, y))
            parts.append(
                f'<circle cx="{left + position * step:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
            )
        if len(points) > 1:
            parts.append(_polyline(points, colour))
    return _svg(table, height, parts, legend_left=left)


def _polyline(points, colour) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'


def _svg(table: Table, height: int, parts: list[str], *, legend_left: int) -> str:
    label = escape(f"Graphique : {table.title} (les valeurs sont dans le tableau)")
    legend, lines = _legend(table, legend_left)
    extra = 16 * (lines - 1)
    body = "".join(legend) + f'<g transform="translate(0 {extra})">' + "".join(parts) + "</g>"
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height + extra}" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMinYMin meet">{body}</svg>'
    )


def render(table: Table, *, masked: bool) -> SafeString:
    """The SVG of `table`'s chart ('' when it has none). Every text is escaped."""
    if table.chart is None or not table.rows:
        return mark_safe("")
    draw = line if table.chart.kind == "line" else bars
    return mark_safe(draw(table, masked))  # noqa: S308 (built from escaped parts above)
