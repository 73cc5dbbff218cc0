"""The directory pages of `espace/<cpts_slug>/` in the tenant matrix (tests/tenant_matrix.py)."""

from django.urls import reverse

from tests.tenant_matrix import (
    COORDINATION,
    COORDINATOR,
    CPAM_AGENT,
    CPAM_MEDIATOR,
    GP,
    MAIRIE,
    OBSERVER,
    PLATFORM_ADMIN,
    REFERRER,
    TenantURL,
    admin_route,
    public,
    register,
    register_page,
    signed_link,
)


def _practitioner_in(cpts) -> dict:
    from tests.territory.factories import CommuneFactory

    from .factories import PracticeSiteFactory, territory_with

    commune = CommuneFactory()
    territory_with(cpts, commune)
    site = PracticeSiteFactory(commune=commune, practitioner__last_name=f"TEMOIN-{cpts.slug}")
    return {"practitioner": site.practitioner, "secrets": [site.practitioner.last_name]}


register(
    TenantURL(
        name="directory:coordinator_declaration",
        url=lambda cpts, objs: reverse(
            "directory:coordinator_declaration",
            kwargs={"cpts_slug": cpts.slug, "pk": objs["practitioner"].pk},
        ),
        allowed=COORDINATION,
        setup=_practitioner_in,
    )
)
register_page(
    "directory:my_declaration",
    allowed=frozenset({GP, PLATFORM_ADMIN}),
    setup=_practitioner_in,
)


def _campaign_in(cpts) -> dict:
    from accesmt.directory.survey import survey_campaign_launch

    objs = _practitioner_in(cpts)
    objs["practitioner"].email = f"temoin-{cpts.slug}@exemple.fr"
    objs["practitioner"].save()
    objs["campaign"] = survey_campaign_launch(cpts=cpts, title=f"Enquête-{cpts.slug}")
    objs["secrets"].append(objs["campaign"].title)
    return objs


register_page(
    "directory:campaigns",
    allowed=COORDINATION,
    setup=_campaign_in,
)
register_page(
    "directory:campaign",
    pk="campaign",
    allowed=COORDINATION,
    setup=_campaign_in,
)
register_page(
    "directory:campaign_rate",
    pk="campaign",
    allowed=COORDINATION,
    setup=_campaign_in,
)

PROFESSIONALS = frozenset({COORDINATOR, REFERRER, GP, CPAM_MEDIATOR, CPAM_AGENT, PLATFORM_ADMIN})


def _available_in(cpts) -> dict:
    from .factories import AvailabilityDeclarationFactory

    objs = _practitioner_in(cpts)
    AvailabilityDeclarationFactory(
        practitioner=objs["practitioner"], cpts=cpts, listing="professionals"
    )
    return objs


for _name in ("directory:professional_list", "directory:professional_markers"):
    register(
        TenantURL(
            name=_name,
            url=lambda cpts, objs, _name=_name: reverse(_name, kwargs={"cpts_slug": cpts.slug}),
            allowed=PROFESSIONALS,
            setup=_available_in,
        )
    )

register_page(
    "reporting:demography",  # a reporting page about the directory's GPs (a mairie: its communes)
    allowed=frozenset({COORDINATOR, OBSERVER, MAIRIE, PLATFORM_ADMIN}),
    setup=_practitioner_in,
)
register_page(
    "directory:coordinator_directory",
    allowed=COORDINATION,
    setup=_practitioner_in,
)


def _installation_in(cpts) -> dict:
    from accesmt.directory.models import PlannedInstallation

    objs = _practitioner_in(cpts)
    installation = PlannedInstallation.objects.create(
        cpts=cpts,
        name=f"INSTALLATION-{cpts.slug}",
        kind="new_practice",
        date="2030-01-01",
        monthly_capacity=5,
        certainty="probable",
    )
    objs["installation"] = installation
    objs["secrets"].append(installation.name)
    return objs


register_page("directory:installation_list", allowed=COORDINATION, setup=_installation_in)
register_page("directory:installation_create", allowed=COORDINATION, setup=_installation_in)
register_page(
    "directory:installation_edit", pk="installation", allowed=COORDINATION, setup=_installation_in
)
register(
    TenantURL(
        name="directory:installation_remove",
        url=lambda cpts, objs: reverse(
            "directory:installation_remove",
            kwargs={"cpts_slug": cpts.slug, "pk": objs["installation"].pk},
        ),
        method="post",
        allowed=COORDINATION,
        setup=_installation_in,
        ok_statuses=(302,),
    )
)


# The public map and list (GPs who agreed to be listed publicly), the GP's survey link and the
# RPPS import page of the admin.
public("directory:public_list", "directory:public_markers")
admin_route("admin:directory_practitioner_import", "admin:directory_practitioner_import_operation")


def survey_link(name: str):
    """make(cpts) for the GP's survey link page `name` (enquete/<token>/…)."""

    def make(cpts) -> dict:
        from accesmt.directory.models import SurveyInvitation
        from accesmt.directory.survey import invitation_token

        objs = _campaign_in(cpts)
        invitation = SurveyInvitation.objects.get(campaign=objs["campaign"])
        url = reverse(name, kwargs={"token": invitation_token(invitation)})
        return {"url": url, "secrets": objs["secrets"]}

    return make


signed_link("directory:survey_answer", make=survey_link("directory:survey_answer"))
