"""Kept importable for code written before issue 9: the widgets live in accesmt.common.widgets."""

from accesmt.common.widgets import DateInput

__all__ = ["DateInput"]
