"""The professionals' space and the CPTS home (see views.py)."""

from django.urls import path

from . import views, views_demography, views_indicators

app_name = "reporting"
urlpatterns = [
    path("espace/", views.espace, name="espace"),
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
    path(
        "espace/<slug:cpts_slug>/demographie/",
        views_demography.demography,
        name="demography",
    ),
]
