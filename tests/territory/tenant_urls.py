"""The territory's routes in the route declarations (tests/tenant_matrix.py)."""

from tests.tenant_matrix import public

public("territory:home")
