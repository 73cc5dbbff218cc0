"""The project's URLs with the development pages, as config/urls.py builds them when DEBUG."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("", include("accesmt.notifications.dev_urls")), *project_urlpatterns]
