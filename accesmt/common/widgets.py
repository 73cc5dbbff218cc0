"""Form widgets shared by every app (ground floor: the forms of every app use them)."""

from django import forms


class DateInput(forms.DateInput):
    """`<input type="date">` whose value is always ISO (2028-05-20): the only format a date input
    accepts. Django's localised format (20/05/2028 in French) would be rejected by the browser,
    which would show the field empty and submit it empty. Every date field of the product uses
    this widget (tests/core/test_date_inputs.py)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
