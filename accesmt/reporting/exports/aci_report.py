"""The yearly ACI report of a CPTS: every indicator of every section of the catalogue for a
contract year, the previous year beside, and the charts — as an XLSX workbook (a cover sheet,
then one sheet per section with openpyxl native charts) and as a PDF (a title page, then the
sections with platypus tables and reportlab charts).

Nothing here knows an indicator: the report walks `catalogue.of_section()`, so an indicator
added to the catalogue appears in the report. A table that already compares with the previous
period (a column named "… précédente") is shown as it is; any other table gets the previous
year's table beside it (same rows: its columns appended, "(année précédente)"; otherwise the
previous year's table below it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

from accesmt.common.formats import long_date

from .. import catalogue
from ..cells import Text
from ..periods import Period
from ..tables import Chart, Scope, Table
from . import pdf
from .tables import (
    MUTED,
    TITLE,
    Placed,
    _put,
    fit_columns,
    masking_note,
    sheet_title,
    workbook_bytes,
    write_table,
)

PREVIOUS = "année précédente"
PDF_TYPE = "application/pdf"


@dataclass
class ReportItem:
    indicator: catalogue.Indicator
    tables: list[Table]  # the year's table (with the previous year beside), or two tables
    paired: int = 0  # series of the year in a chart that also draws the previous year's


@dataclass
class ReportSection:
    code: str
    title: str
    items: list[ReportItem] = field(default_factory=list)


def compares_previous(table: Table) -> bool:
    return any("précédente" in column.lower() for column in table.columns)


def with_previous(now: Table, before: Table) -> tuple[list[Table], int]:
    """`now` with the previous year beside it: one table when both have the same number of rows
    (columns of the previous year appended, its chart series too), else both tables."""
    if len(now.rows) != len(before.rows) or not now.rows:
        before.title = f"{before.title} — {PREVIOUS}"
        return [now, before], 0
    width = len(now.columns)
    chart, paired = now.chart, 0
    if chart is not None:
        paired = len(chart.columns)
        chart = Chart(
            chart.kind, chart.columns + tuple(width + c for c in chart.columns), chart.label
        )
    total = None
    if now.total is not None or before.total is not None:
        total = (now.total or [Text("")] * width) + (
            before.total or [Text("")] * len(before.columns)
        )
    merged = Table(
        code=now.code,
        title=now.title,
        columns=now.columns + [f"{name or 'libellé'} ({PREVIOUS})" for name in before.columns],
        rows=[a + b for a, b in zip(now.rows, before.rows, strict=True)],
        chart=chart,
        note=now.note,
        total=total,
    )
    return [merged], paired


def report_sections(scope: Scope, period: Period) -> list[ReportSection]:
    """Every section of the catalogue with the tables of its indicators for `period` (those for
    the coordination only are left out of a masked report)."""
    sections = []
    for code, title in catalogue.SECTIONS.items():
        section = ReportSection(code, title)
        for item in catalogue.of_section(code, scope):
            table = item.compute(scope, period)
            if compares_previous(table):
                section.items.append(ReportItem(item, [table]))
                continue
            tables, paired = with_previous(table, item.compute(scope, period.previous()))
            section.items.append(ReportItem(item, tables, paired))
        sections.append(section)
    return sections


def report_title(cpts) -> str:
    name = cpts.name if cpts is not None else "toutes les CPTS"
    return f"Rapport annuel ACI — {name}"


def filename(cpts, period: Period, extension: str) -> str:
    slug = cpts.slug if cpts is not None else "region"
    return f"rapport-aci-{slug}-{period.slug}.{extension}"


# --- XLSX ------------------------------------------------------------------------------------

CHART_ROWS = 16  # rows an openpyxl chart of the default height covers


def _native_chart(sheet, table: Table, placed: Placed):
    spec = table.chart
    if spec.kind == "line":
        chart = LineChart()
    else:
        chart = BarChart()
        chart.type = "bar"  # horizontal bars, as on the page
        chart.x_axis.scaling.orientation = "maxMin"  # first row on top
        chart.height = max(7.5, 0.55 * (placed.last_row - placed.first_row + 1) * len(spec.columns))
    chart.title = table.title
    chart.width = 18
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    for column in spec.columns:
        data = Reference(
            sheet,
            min_col=placed.column + column,
            min_row=placed.header_row,
            max_row=placed.last_row,
        )
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(
        Reference(
            sheet,
            min_col=placed.column + spec.label,
            min_row=placed.first_row,
            max_row=placed.last_row,
        )
    )
    return chart


def _cover_sheet(sheet, scope: Scope, period: Period, sections: list[ReportSection]) -> None:
    _put(sheet, 1, 1, report_title(scope.cpts), font=TITLE)
    _put(sheet, 2, 1, "Mission « faciliter l'accès à un médecin traitant »")
    _put(sheet, 3, 1, f"Année du contrat : {period.label}")
    _put(sheet, 4, 1, f"Comparée à : {period.previous().label}")
    _put(sheet, 5, 1, f"Produit le {long_date(timezone.localdate())}", font=MUTED)
    _put(sheet, 6, 1, masking_note(scope.masked), font=MUTED)
    row = 8
    _put(sheet, row, 1, "Contenu", font=TITLE)
    for section in sections:
        row += 1
        count = len(section.items)
        _put(sheet, row, 1, section.title)
        _put(sheet, row, 2, f"{count} indicateur{'s' if count > 1 else ''}" if count else "aucun")
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 16


def report_xlsx(scope: Scope, period: Period) -> bytes:
    sections = report_sections(scope, period)
    workbook = Workbook()
    cover = workbook.active
    taken = {"rapport"}
    cover.title = "Rapport"
    _cover_sheet(cover, scope, period, sections)
    for section in sections:
        if not section.items:
            continue
        sheet = workbook.create_sheet(sheet_title(section.title, taken))
        row = 1
        for item in section.items:
            for table in item.tables:
                placed = write_table(
                    sheet, table, masked=scope.masked, row=row, subtitle=period.label
                )
                row = placed.next_row
                if table.chart is not None and table.rows:
                    chart = _native_chart(sheet, table, placed)
                    anchor_column = len(table.columns) + 2
                    sheet.add_chart(
                        chart, sheet.cell(row=placed.header_row, column=anchor_column).coordinate
                    )
                    chart_rows = round(chart.height / 0.5)
                    row = max(row, placed.header_row + chart_rows + 2)
        fit_columns(sheet)
    workbook.properties.title = report_title(scope.cpts)
    return workbook_bytes(workbook)


# --- PDF -------------------------------------------------------------------------------------

PAGE = landscape(A4)
MARGIN = 15 * mm


def _cover(scope: Scope, period: Period, sections: list[ReportSection]) -> list:
    css = pdf.styles()
    name = scope.cpts.name if scope.cpts is not None else "Toutes les CPTS de la plateforme"
    story: list = [
        Spacer(1, 35 * mm),
        pdf.p("Rapport annuel ACI", css["cover"]),
        pdf.p(name, css["cover_sub"]),
        Spacer(1, 6 * mm),
        pdf.p("Mission « faciliter l'accès à un médecin traitant »", css["body"]),
        pdf.p(f"Année du contrat : {period.label}", css["body"]),
        pdf.p(f"Comparée à : {period.previous().label}", css["body"]),
        Spacer(1, 6 * mm),
        pdf.p(f"Produit le {long_date(timezone.localdate())}", css["body"]),
        pdf.p(masking_note(scope.masked), css["small"]),
        Spacer(1, 10 * mm),
        pdf.p("Contenu", css["h2"]),
    ]
    for section in sections:
        titles = ", ".join(item.indicator.title for item in section.items) or "aucun indicateur"
        story.append(
            Paragraph(f"<b>{pdf.escaped(section.title)}</b> : {pdf.escaped(titles)}", css["body"])
        )
    return story


def report_pdf(scope: Scope, period: Period) -> bytes:
    sections = report_sections(scope, period)
    css = pdf.styles()
    width = PAGE[0] - 2 * MARGIN
    story = _cover(scope, period, sections)
    for section in sections:
        if not section.items:
            continue
        story += [PageBreak(), pdf.p(section.title, css["h1"])]
        for item in section.items:
            for table in item.tables:
                story += pdf.indicator_block(
                    table, masked=scope.masked, width=width, paired=item.paired
                )
    produced = long_date(timezone.localdate())
    label = f"{report_title(scope.cpts)} — {period.label} — produit le {produced}"

    def document(buffer):
        return SimpleDocTemplate(
            buffer,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=18 * mm,
            title=pdf.text(report_title(scope.cpts)),
            author=pdf.text(scope.cpts.name if scope.cpts is not None else "AccèsMT"),
        )

    footer = pdf.footer(label)
    return pdf.build(document, story, onFirstPage=footer, onLaterPages=footer)
