"""Indicator definitions, one module per section; importing this package registers them all in
the catalogue (`reporting.catalogue`)."""

from . import (  # noqa: F401
    aci,
    demand,
    offer,
    outcomes,
    projection,
    satisfaction,
)

# Issue 12 (Assurance Maladie), in the outcomes section after the indicators of `outcomes`.
from . import rights, declarations  # noqa: E402, F401, I001  isort: skip
