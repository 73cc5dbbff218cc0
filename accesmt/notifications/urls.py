"""The progress page of a long operation (see views_operations.py)."""

from django.urls import path

from . import views_operations

app_name = "notifications"
urlpatterns = [
    path(
        "espace/<slug:cpts_slug>/operations/<int:pk>/",
        views_operations.operation_detail,
        name="operation",
    ),
]
