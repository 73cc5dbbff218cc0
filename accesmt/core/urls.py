from django.urls import include, path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # The professionals' space lives in the reporting app; its URL names stay under "core:".
    path("", include("accesmt.reporting.urls")),
]
