"""The professionals' space and the CPTS home (see views.py), the indicator pages of a CPTS and
of the region (the whole platform), their exports, the reporting settings; the public pages:
the satisfaction survey behind its signed link, the public monthly report of a CPTS
(views_public.py)."""

from django.urls import path

from . import (
    views,
    views_demography,
    views_exports,
    views_indicators,
    views_public,
    views_region,
    views_settings,
)

INDICATORS = "espace/<slug:cpts_slug>/indicateurs/"

app_name = "reporting"
urlpatterns = [
    path("espace/", views.espace, name="espace"),
    # Before the CPTS pages; "plateforme" is a reserved CPTS slug
    # (territory.models.RESERVED_CPTS_SLUGS).
    path(
        "espace/plateforme/indicateurs/", views_region.region_indicators, name="region_indicators"
    ),
    path(
        "espace/plateforme/indicateurs/definitions/",
        views_region.region_catalogue,
        name="region_catalogue",
    ),
    path(
        "espace/plateforme/indicateurs/<slug:section_slug>/",
        views_region.region_indicators,
        name="region_indicators_section",
    ),
    path("espace/<slug:cpts_slug>/", views.cpts_home, name="cpts_home"),
    path(
        "espace/<slug:cpts_slug>/indicateurs/",
        views_indicators.indicators,
        name="indicators",
    ),
    path(
        "espace/<slug:cpts_slug>/indicateurs/definitions/",
        views_indicators.indicator_catalogue,
        name="catalogue",
    ),
    # before the section pages: "communes" is not a section
    path(f"{INDICATORS}communes/", views_exports.communes, name="communes"),
    path(
        "espace/<slug:cpts_slug>/indicateurs/reglages/",
        views_settings.reporting_settings,
        name="settings",
    ),
    path(
        "espace/<slug:cpts_slug>/indicateurs/<slug:section_slug>/",
        views_indicators.indicators,
        name="indicators_section",
    ),
    path(
        "espace/<slug:cpts_slug>/demographie/",
        views_demography.demography,
        name="demography",
    ),
    # Public pages (no account).
    path("suivi/<str:token>/avis/", views_public.survey, name="survey"),
    path(
        "<slug:cpts_slug>/rapport-mensuel/",
        views_public.public_monthly_report,
        name="public_report",
    ),
    # exports (views_exports): the fixed names first, then any indicator code ("demand.summary")
    *[
        path(
            f"{INDICATORS}rapport-aci.{fmt}",
            views_exports.aci_report_file,
            {"fmt": fmt},
            name=f"aci_report_{fmt}",
        )
        for fmt in ("xlsx", "pdf")
    ],
    path(f"{INDICATORS}communes/<str:insee>.pdf", views_exports.commune_pdf, name="commune_pdf"),
    *[
        path(
            f"{INDICATORS}<slug:section_slug>/export.{fmt}",
            views_exports.section_export,
            {"fmt": fmt},
            name=f"section_{fmt}",
        )
        for fmt in ("csv", "xlsx")
    ],
    *[
        path(
            f"{INDICATORS}<str:code>.{fmt}",
            views_exports.table_export,
            {"fmt": fmt},
            name=f"table_{fmt}",
        )
        for fmt in ("csv", "xlsx")
    ],
    path(
        "espace/<slug:cpts_slug>/exports/demandes/",
        views_exports.person_export,
        name="person_export",
    ),
    path(
        "espace/<slug:cpts_slug>/exports/acces-aux-droits/",
        views_exports.rights_export,
        name="rights_export",
    ),
]
