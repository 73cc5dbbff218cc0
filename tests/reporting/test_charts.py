"""The server-drawn SVG charts: labels escaped, masked values not drawn, long tables cut with a
word, legends that wrap inside the chart."""

import re

from accesmt.reporting import charts
from accesmt.reporting.cells import Count, Text
from accesmt.reporting.tables import Chart, Table


def table(rows, columns=("commune", "personnes"), chart=None):
    return Table(code="t", title="Essai", columns=list(columns), rows=rows, chart=chart or Chart())


def test_labels_are_escaped_and_masked_values_not_drawn():
    svg = str(
        charts.render(
            table([[Text("<script>x</script>"), Count(3)], [Text("Lens"), Count(40)]]),
            masked=True,
        )
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<rect") == 1  # the bar of 40; "< 5" has none
    assert "&lt; 5" in svg


def test_long_tables_draw_their_first_rows_and_say_so():
    rows = [[Text(f"Commune {i}"), Count(100 - i)] for i in range(40)]
    svg = str(charts.render(table(rows), masked=False))
    assert svg.count("<rect") == charts.MAX_BARS
    assert "… et 25 autres lignes dans le tableau" in svg


def test_a_long_legend_wraps_inside_the_chart():
    columns = ("mois", "personnes inscrites", "personnes en attente en fin de mois", "trouvé")
    rows = [[Text("mars 2026"), Count(8), Count(40), Count(2)]]
    svg = str(charts.render(table(rows, columns, Chart("line", columns=(1, 2, 3))), masked=False))
    legend_x = [int(x) for x in re.findall(r'<rect x="(\d+)" y="\d+" width="12"', svg)]
    assert len(legend_x) == 3
    for x, name in zip(legend_x, columns[1:], strict=True):
        assert x + 16 + 7 * len(name) <= charts.WIDTH + 8, name
    assert "translate(0 16)" in svg or "translate(0 32)" in svg
