"""The project's URLs plus three views that fail, to see the error pages as a visitor does."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def _forbidden(request):
    raise PermissionDenied


def _missing(request):
    raise Http404("Introuvable")


def _broken(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("test-erreur/403/", _forbidden),
    path("test-erreur/404/", _missing),
    path("test-erreur/500/", _broken),
    *project_urlpatterns,
]
