"""Development pages, included by config/urls.py only when DEBUG is on."""

from django.urls import path

from . import views_dev

app_name = "dev"
urlpatterns = [
    path("dev/messages/", views_dev.dev_messages, name="messages"),
]
