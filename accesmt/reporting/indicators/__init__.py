"""Indicator definitions, one module per section; importing this package registers them all in
the catalogue (`reporting.catalogue`)."""

from . import (
    demand,  # noqa: F401
    offer,  # noqa: F401
    satisfaction,  # noqa: F401
)
