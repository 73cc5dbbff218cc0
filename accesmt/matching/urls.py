"""The coordinator's queue-wide allocation pages (see views.py); the send of a run,
`RUNS<pk>/envoyer/`, is in orientation/urls.py (`orientation:allocation_run_send`)."""

from django.urls import path

from . import views

app_name = "matching"
RUNS = "espace/<slug:cpts_slug>/repartition/"
urlpatterns = [
    path(RUNS, views.runs, name="runs"),
    path(f"{RUNS}<int:pk>/", views.run_detail, name="run"),
    path(f"{RUNS}<int:pk>/ecarter/", views.run_discard, name="run_discard"),
]
