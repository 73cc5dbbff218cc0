"""The professionals' space, the CPTS home (see views.py), the indicator pages of a CPTS and
of the region (the whole platform)."""

from django.urls import path

from . import views, views_indicators, views_region

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
    path("espace/<slug:cpts_slug>/membres/", views.cpts_members, name="cpts_members"),
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
    path(
        "espace/<slug:cpts_slug>/indicateurs/<slug:section_slug>/",
        views_indicators.indicators,
        name="indicators_section",
    ),
]
