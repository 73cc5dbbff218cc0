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
    public,
    register,
    register_page,
    signed_link,
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
            route="reporting:indicators_section",
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
register(
    TenantURL(
        name="reporting:region_indicators_section",
        url=lambda cpts, objs: reverse(
            "reporting:region_indicators_section", kwargs={"section_slug": "offre"}
        ),
        allowed=frozenset({PLATFORM_ADMIN}),
        tenant_scoped=False,
    )
)


def _commune_in(cpts) -> dict:
    from tests.directory.factories import territory_with
    from tests.territory.factories import CommuneFactory

    commune = CommuneFactory(name=f"COMMUNE-{cpts.slug}")
    territory_with(cpts, commune)
    return {"commune": commune, "secrets": [commune.name]}


# A mairie sees the sheets of its own communes only; the matrix's mairie has none.
register(
    TenantURL(
        name="reporting:commune_pdf",
        url=lambda cpts, objs: reverse(
            "reporting:commune_pdf", kwargs={"cpts_slug": cpts.slug, "insee": objs["commune"].pk}
        ),
        allowed=frozenset({COORDINATOR, OBSERVER, PLATFORM_ADMIN}),
        setup=_commune_in,
    )
)


def _public_report_on(cpts) -> str:
    from accesmt.reporting.models import ReportingSettings

    settings = ReportingSettings.for_cpts(cpts)
    settings.public_report = True
    settings.save()
    return reverse("reporting:public_report", kwargs={"cpts_slug": cpts.slug})


def _satisfaction_link(cpts) -> dict:
    from django.utils import timezone

    from accesmt.reporting.models import SatisfactionInvitation
    from accesmt.reporting.satisfaction import invitation_token
    from tests.intake.factories import RequestFactory

    request = RequestFactory(cpts=cpts)
    invitation = SatisfactionInvitation.objects.create(
        cpts=cpts,
        request=request,
        outcome="mt_found",
        month=timezone.localdate().replace(day=1),
        sent_at=timezone.now(),
    )
    url = reverse("reporting:survey", kwargs={"token": invitation_token(invitation)})
    return {"url": url, "secrets": [request.reference]}


public("reporting:public_report", url=_public_report_on)
signed_link("reporting:survey", make=_satisfaction_link)

# The coordination's own pages: settings, exports of person rows.
register_page("reporting:settings", allowed=COORDINATION)
register_page("reporting:person_export", allowed=COORDINATION)
