"""The professionals' space and the CPTS home (see views.py)."""

from django.urls import path

from . import views

app_name = "reporting"
urlpatterns = [
    path("espace/", views.espace, name="espace"),
    path("espace/<slug:cpts_slug>/", views.cpts_home, name="cpts_home"),
    path("espace/<slug:cpts_slug>/membres/", views.cpts_members, name="cpts_members"),
]
