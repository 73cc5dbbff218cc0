"""The professionals' space and the CPTS home (see views.py).

These patterns are included by core/urls.py, so their names stay `core:espace`,
`core:cpts_home` and `core:cpts_members`, which templates of every app use; moving them to a
`reporting:` namespace is one sweep to do once the other refactors of issue 9 are merged."""

from django.urls import path

from . import views

urlpatterns = [
    path("espace/", views.espace, name="espace"),
    path("espace/<slug:cpts_slug>/", views.cpts_home, name="cpts_home"),
    path("espace/<slug:cpts_slug>/membres/", views.cpts_members, name="cpts_members"),
]
