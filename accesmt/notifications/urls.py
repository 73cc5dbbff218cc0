"""The progress page of a long operation (views_operations.py) and the health check
(views_health.py)."""

from django.urls import path

from . import views_health, views_operations

app_name = "notifications"
urlpatterns = [
    path("healthz", views_health.healthz, name="healthz"),
    path(
        "espace/<slug:cpts_slug>/operations/<int:pk>/",
        views_operations.operation_detail,
        name="operation",
    ),
    path(
        "espace/<slug:cpts_slug>/operations/<int:pk>/fichier/",
        views_operations.operation_download,
        name="operation_download",
    ),
]
