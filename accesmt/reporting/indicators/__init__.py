"""Indicator definitions, one module per section; importing this package registers them all in
the catalogue (`reporting.catalogue`)."""

from . import aci, demand, outcomes  # noqa: F401
