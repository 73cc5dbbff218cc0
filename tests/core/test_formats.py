"""One way to write dates and one set of age bands (issue #8, 7)."""

import datetime
import zoneinfo

import pytest
from django.template import Context, Template

from accesmt.common.formats import long_date, short_date
from accesmt.intake.ages import age_band, age_bands_text

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = datetime.UTC


@pytest.mark.parametrize(
    ("value", "long", "short"),
    [
        (datetime.date(2026, 12, 2), "2 décembre 2026", "02/12/2026"),
        (datetime.date(2026, 3, 6), "6 mars 2026", "06/03/2026"),
        (datetime.date(2027, 8, 1), "1er août 2027", "01/08/2027"),
        # 23:30 UTC on 31 Dec is already the new year in Paris
        (datetime.datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "1er janvier 2027", "01/01/2027"),
        (None, "", ""),
    ],
)
def test_long_and_short_dates(value, long, short):
    assert long_date(value) == long
    assert short_date(value) == short


def test_times_are_local_and_written_the_french_way():
    at = datetime.datetime(2026, 12, 2, 13, 5, tzinfo=UTC)  # 14:05 in Paris (winter)
    assert long_date(at, with_time=True) == "2 décembre 2026 à 14 h 05"
    assert short_date(at, with_time=True) == "02/12/2026 à 14 h 05"
    summer = datetime.datetime(2026, 7, 14, 9, 0, tzinfo=PARIS)
    assert long_date(summer, with_time=True) == "14 juillet 2026 à 9 h 00"


def test_template_filters_use_the_same_formats():
    template = Template(
        "{% load accesmt_format %}{{ d|long_date }}|{{ d|short_date }}|"
        "{{ t|long_datetime }}|{{ t|short_datetime }}"
    )
    rendered = template.render(
        Context(
            {"d": datetime.date(2026, 12, 2), "t": datetime.datetime(2026, 3, 6, 8, 5, tzinfo=UTC)}
        )
    )
    assert rendered == ("2 décembre 2026|02/12/2026|6 mars 2026 à 9 h 05|06/03/2026 à 9 h 05")


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "moins de 6 ans"),
        (5, "moins de 6 ans"),
        (6, "6 à 17 ans"),
        (17, "6 à 17 ans"),
        (18, "18 à 59 ans"),
        (59, "18 à 59 ans"),
        (60, "60 à 69 ans"),
        (69, "60 à 69 ans"),
        (70, "70 ans et plus"),
        (104, "70 ans et plus"),
    ],
)
def test_age_bands(age, band):
    assert age_band(age) == band


def test_household_description_youngest_first_counts_only_above_one():
    assert age_bands_text([40, 3, 45, 65]) == "moins de 6 ans, 2 × 18 à 59 ans, 60 à 69 ans"
    assert age_bands_text([]) == ""


def test_templates_format_dates_only_through_the_shared_filters():
    """One place formats dates: a template's `|date:"…"` is allowed only for the machine-readable
    `datetime="…"` attribute of <time>."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "accesmt"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\|\s*date\b", re.sub(r'datetime="[^"]*"', "", line))
    ]
    assert offenders == []
