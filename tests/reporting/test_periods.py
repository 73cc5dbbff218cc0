"""Periods of the indicator pages: contract years from the CPTS's contract date, months,
quarters, custom dates, and the previous period each is compared with."""

import datetime

import pytest

from accesmt.reporting.periods import Period, PeriodError, aci_year, add_months, period_from_query

D = datetime.date


def test_contract_year_runs_from_the_last_anniversary():
    assert aci_year(D(2023, 3, 15), D(2026, 12, 3)) == Period("aci", D(2026, 3, 15), D(2027, 3, 15))
    assert aci_year(D(2023, 3, 15), D(2026, 3, 14)) == Period("aci", D(2025, 3, 15), D(2026, 3, 15))
    # before the contract starts: its first year
    assert aci_year(D(2027, 1, 1), D(2026, 6, 1)) == Period("aci", D(2027, 1, 1), D(2028, 1, 1))


def test_previous_periods():
    year = Period("aci", D(2026, 3, 15), D(2027, 3, 15))
    assert year.previous() == Period("aci", D(2025, 3, 15), D(2026, 3, 15))
    assert Period("month", D(2026, 3, 1), D(2026, 4, 1)).previous().start == D(2026, 2, 1)
    assert Period("quarter", D(2026, 1, 1), D(2026, 4, 1)).previous() == Period(
        "quarter", D(2025, 10, 1), D(2026, 1, 1)
    )
    custom = Period("custom", D(2026, 5, 10), D(2026, 5, 20))
    assert custom.previous() == Period("custom", D(2026, 4, 30), D(2026, 5, 10))


def test_months_touched_and_end_of_month_clamping():
    assert Period("aci", D(2026, 3, 15), D(2027, 3, 15)).months()[0] == D(2026, 3, 1)
    assert len(Period("aci", D(2026, 3, 15), D(2027, 3, 15)).months()) == 13
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)


def test_query_string_default_is_the_contract_year():
    got = period_from_query({}, contract_start=D(2024, 9, 1), today=D(2026, 12, 3))
    assert got == Period("aci", D(2026, 9, 1), D(2027, 9, 1))
    got = period_from_query(
        {"periode": "quarter", "debut": "2026-05-17"}, contract_start=D(2024, 9, 1)
    )
    assert got == Period("quarter", D(2026, 4, 1), D(2026, 7, 1))
    got = period_from_query(
        {"periode": "custom", "debut": "2026-01-01", "fin": "2026-01-31"},
        contract_start=D(2024, 9, 1),
    )
    assert got == Period("custom", D(2026, 1, 1), D(2026, 2, 1))
    assert period_from_query(got.as_query(), contract_start=D(2024, 9, 1)) == got


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"periode": "decade"}, "periode"),
        ({"periode": "month", "debut": "03/12/2026"}, "debut"),
        ({"periode": "custom", "debut": "2026-01-01"}, "fin"),
        ({"periode": "custom", "debut": "2026-02-01", "fin": "2026-01-01"}, "fin"),
        ({"periode": "custom", "debut": "2020-01-01", "fin": "2026-01-01"}, "fin"),
    ],
)
def test_bad_period_names_its_field(query, field):
    with pytest.raises(PeriodError) as error:
        period_from_query(query, contract_start=D(2024, 1, 1))
    assert error.value.field == field
    assert error.value.message
