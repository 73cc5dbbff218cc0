"""The indicator pages in the tenant matrix (tests/tenant_matrix.py): aggregates, for the
coordination, the observer and the mairie of the CPTS; the region's, for the platform admin."""

from django.urls import reverse

from accesmt.reporting.catalogue import SECTION_SLUGS
from tests.tenant_matrix import (
    COORDINATION,
    COORDINATOR,
    MAIRIE,
    OBSERVER,
    PLATFORM_ADMIN,
    TenantURL,
    register,
    register_page,
)

AGGREGATES = frozenset({COORDINATOR, OBSERVER, MAIRIE, PLATFORM_ADMIN})

register_page("reporting:indicators", allowed=AGGREGATES)
register_page("reporting:catalogue", allowed=AGGREGATES)
for _slug in SECTION_SLUGS.values():
    register(
        TenantURL(
            name=f"reporting:indicators_section:{_slug}",
            url=lambda cpts, objs, _slug=_slug: reverse(
                "reporting:indicators_section",
                kwargs={"cpts_slug": cpts.slug, "section_slug": _slug},
            ),
            allowed=AGGREGATES,
        )
    )
for _name in ("reporting:region_indicators", "reporting:region_catalogue"):
    register(
        TenantURL(
            name=_name,
            url=lambda cpts, objs, _name=_name: reverse(_name),
            allowed=frozenset({PLATFORM_ADMIN}),
            tenant_scoped=False,
        )
    )


def _cpts_url(name: str, **kwargs):
    return lambda cpts, objs: reverse(name, kwargs={"cpts_slug": cpts.slug, **kwargs})


# Exports of aggregates: the same people as the pages (masked for all but the coordination).
for _name, _kwargs in (
    ("reporting:table_csv", {"code": "demand.summary"}),
    ("reporting:table_xlsx", {"code": "outcomes.solved"}),
    ("reporting:section_csv", {"section_slug": "offre"}),
    ("reporting:section_xlsx", {"section_slug": "aci"}),
    ("reporting:aci_report_xlsx", {}),
    ("reporting:aci_report_pdf", {}),
    ("reporting:communes", {}),
):
    register(TenantURL(name=_name, url=_cpts_url(_name, **_kwargs), allowed=AGGREGATES))
# The coordination's own pages: settings, exports of person rows.
register_page("reporting:settings", allowed=COORDINATION)
register_page("reporting:person_export", allowed=COORDINATION)
