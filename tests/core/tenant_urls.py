"""The professionals' space pages in the tenant matrix (tests/tenant_matrix.py)."""

from django.urls import reverse

from tests.tenant_matrix import (
    EVERY_MEMBER,
    LOGGED_IN,
    TenantURL,
    public,
    register,
    register_page,
)

register(
    TenantURL(
        name="reporting:espace",
        url=lambda cpts, objs: reverse("reporting:espace"),
        allowed=LOGGED_IN,
        tenant_scoped=False,
    )
)
register_page(
    "reporting:cpts_home",
    allowed=EVERY_MEMBER,
)

public("notifications:healthz")
