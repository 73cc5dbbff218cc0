"""Indicator definitions, one module per section; importing this package registers them all in
the catalogue (`reporting.catalogue`)."""

from . import (  # noqa: F401
    aci,
    demand,
    offer,
    outcomes,
    satisfaction,
)
