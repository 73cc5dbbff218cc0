"""reportlab building blocks shared by the ACI report and the commune sheet: the styles (the
Helvetica family, as the flyer and the letters), French number formats, an indicator table as
a platypus Table and its chart as a reportlab graphics drawing built from the table's `Chart`
spec (masked values are not drawn: their bar is missing, a masked month breaks the line)."""

from __future__ import annotations

import io

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from accesmt.common.formats import figure

from ..charts import SERIES_COLOURS
from ..tables import Table
from .tables import is_number

PRIMARY = colors.HexColor("#0b5394")
GRID = colors.HexColor("#b8b8b8")
SOFT = colors.HexColor("#eef3f8")
MUTED = colors.HexColor("#555555")
SERIES = [colors.HexColor(colour) for colour in SERIES_COLOURS]
# the previous year's series, beside the year's: the same hues, lighter
LIGHT = [colors.HexColor(colour) for colour in ("#7fa9d4", "#e0a96b", "#86bf97")]

# The standard PDF fonts (WinAnsi) have no narrow no-break space, superscript letters or some
# symbols: they are written with their nearest WinAnsi equivalent.
REPLACEMENTS = str.maketrans(
    {"\u202f": "\u00a0", "ᵉ": "e", "ʳ": "r", "≥": ">=", "≤": "<=", "→": "->", "\u2009": " "}
)


def text(value) -> str:
    """A value as the PDF writes it: French figures (12 345, 12,5), WinAnsi characters only."""
    shown = figure(value) if is_number(value) else ("" if value is None else str(value))
    return shown.translate(REPLACEMENTS).encode("cp1252", "replace").decode("cp1252")


def escaped(value) -> str:
    """`text(value)` safe inside a Paragraph (which reads a little XML)."""
    return text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["Normal"], fontName="Helvetica", fontSize=9.5)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, textColor=MUTED, leading=10),
        "cover": ParagraphStyle(
            "cover", parent=body, fontName="Helvetica-Bold", fontSize=24, leading=30
        ),
        "cover_sub": ParagraphStyle("cover_sub", parent=body, fontSize=14, leading=20),
        "h1": ParagraphStyle(
            "h1", parent=body, fontName="Helvetica-Bold", fontSize=16, leading=20, spaceAfter=6
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName="Helvetica-Bold",
            fontSize=11.5,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
            textColor=PRIMARY,
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10),
        "head": ParagraphStyle("head", parent=body, fontName="Helvetica-Bold", fontSize=8.5),
        "number": ParagraphStyle(
            "number", parent=body, fontSize=8.5, leading=10, alignment=TA_RIGHT
        ),
        "number_head": ParagraphStyle(
            "number_head", parent=body, fontName="Helvetica-Bold", fontSize=8.5, alignment=TA_RIGHT
        ),
    }


def p(value, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escaped(value), style)


def table_flowable(table: Table, *, masked: bool, width: float) -> PdfTable:
    """`table` as a platypus table over `width` points: labels left, figures right, the total
    row in bold on a tinted background, the header repeated on every page."""
    css = styles()
    label_width = min(width * 0.42, 70 * mm) if len(table.columns) > 1 else width
    other = (width - label_width) / max(1, len(table.columns) - 1)
    widths = [label_width] + [other] * (len(table.columns) - 1)
    data = [
        [
            p(name, css["head"] if i == 0 else css["number_head"])
            for i, name in enumerate(table.columns)
        ]
    ]
    for values in table.shown_rows(masked):
        data.append(
            [p(value, css["cell"] if i == 0 else css["number"]) for i, value in enumerate(values)]
        )
    commands = [
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, PRIMARY),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if table.total is not None:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), SOFT))
        data[-1] = [
            p(value, css["head"] if i == 0 else css["number_head"])
            for i, value in enumerate(table.shown_rows(masked)[-1])
        ]
    return PdfTable(data, colWidths=widths, repeatRows=1, style=TableStyle(commands))


def _series(table: Table, masked: bool) -> tuple[list[str], list[list[float | None]]]:
    rows = table.shown_rows(masked)[: len(table.rows)]
    labels = [text(row[table.chart.label])[:48] for row in rows]
    series = [
        [float(row[column]) if is_number(row[column]) else None for row in rows]
        for column in table.chart.columns
    ]
    return labels, series


def colour(index: int, paired: int = 0):
    """The colour of series `index`; with `paired` series for the year followed by as many for
    the previous year, series i and paired + i share a hue (the previous year lighter)."""
    if paired:
        hue = index % paired % len(SERIES)
        return SERIES[hue] if index < paired else LIGHT[hue]
    return SERIES[index % len(SERIES)]


def _legend(table: Table, drawing: Drawing, x: float, y: float, paired: int = 0) -> None:
    if len(table.chart.columns) < 2:
        return
    legend = Legend()
    legend.x, legend.y = x, y
    legend.dx = legend.dy = 7
    legend.fontName, legend.fontSize = "Helvetica", 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 150
    legend.colorNamePairs = [
        (colour(index, paired), text(table.columns[column]))
        for index, column in enumerate(table.chart.columns)
    ]
    drawing.add(legend)


def chart_drawing(table: Table, *, masked: bool, width: float, paired: int = 0) -> Drawing | None:
    """The table's chart (None without one, or when nothing can be drawn): horizontal bars,
    one group per row, or lines over the months."""
    if table.chart is None or not table.rows:
        return None
    labels, series = _series(table, masked)
    if not any(value is not None for values in series for value in values):
        return None
    if table.chart.kind == "line":
        return _line(table, labels, series, width, paired)
    return _bars(table, labels, series, width, paired)


LABELS = 200  # points left of the bars for the row labels


def _top(series) -> float:
    top = max((v for values in series for v in values if v is not None), default=0)
    return max(1.0, top * 1.1)


def _bars(table: Table, labels, series, width: float, paired: int) -> Drawing:
    group = 7 * len(series) + 6
    plot_height = group * len(labels)
    legend = 16 if len(series) > 1 else 0
    height = plot_height + 24 + legend
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = LABELS, 14
    chart.width, chart.height = width - LABELS - 20, plot_height
    # reportlab draws from the bottom up: reverse rows and series so that the first row is on
    # top and, within a row, the first series too (as on the page)
    chart.data = [list(reversed(values)) for values in reversed(series)]
    chart.categoryAxis.categoryNames = list(reversed(labels))
    chart.categoryAxis.labels.fontName = "Helvetica"
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _top(series)
    chart.valueAxis.labels.fontName = "Helvetica"
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda value: text(round(value))
    chart.barSpacing = 0.5
    chart.groupSpacing = 5
    count = len(series)
    for index in range(count):
        chart.bars[index].fillColor = colour(count - 1 - index, paired)
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    _legend(table, drawing, LABELS, height - 6, paired)
    return drawing


def _line(table: Table, labels, series, width: float, paired: int) -> Drawing:
    height = 150
    drawing = Drawing(width, height)
    chart = HorizontalLineChart()
    chart.x, chart.y = 36, 24
    chart.width, chart.height = width - 56, height - 50
    chart.data = series
    every = max(1, -(-len(labels) // 12))
    chart.categoryAxis.categoryNames = [
        (label[:3] + label[-2:]) if index % every == 0 else "" for index, label in enumerate(labels)
    ]
    chart.categoryAxis.labels.fontName = "Helvetica"
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _top(series)
    chart.valueAxis.labels.fontName = "Helvetica"
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda value: text(round(value))
    for index in range(len(series)):
        chart.lines[index].strokeColor = colour(index, paired)
        chart.lines[index].strokeWidth = 1.5
    drawing.add(chart)
    _legend(table, drawing, chart.x, height - 6, paired)
    return drawing


def indicator_block(
    table: Table, *, masked: bool, width: float, subtitle: str = "", paired: int = 0
) -> list:
    """Title, table and chart of one indicator, kept together on a page when they fit."""
    css = styles()
    parts: list = [p(table.title, css["h2"])]
    if subtitle:
        parts.append(p(subtitle, css["small"]))
    parts.append(table_flowable(table, masked=masked, width=width))
    if table.note:
        parts.append(p(table.note, css["small"]))
    drawing = chart_drawing(table, masked=masked, width=width, paired=paired)
    if drawing is not None:
        parts += [Spacer(1, 3 * mm), drawing]
    parts.append(Spacer(1, 5 * mm))
    return [KeepTogether(parts)]


def footer(label: str):
    """A page callback writing `label` and the page number at the foot of every page."""

    def draw(canvas, document):
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(document.leftMargin, 10 * mm, text(label))
        canvas.drawRightString(
            document.pagesize[0] - document.rightMargin, 10 * mm, f"page {document.page}"
        )
        canvas.restoreState()

    return draw


def build(document_factory, story: list, **callbacks) -> bytes:
    """Render `story` with a SimpleDocTemplate made by `document_factory(buffer)`."""
    buffer = io.BytesIO()
    document = document_factory(buffer)
    document.build(story, **callbacks)
    return buffer.getvalue()
