"""The project's URLs plus a view that fails with personal data in its exception, as a database
error quoting a row would (PostgreSQL's "DETAIL: Key (email)=(…) already exists")."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

SECRET_IN_ERROR = "josiane.lefebvre@exemple.fr 06 12 34 56 78 247036251012345"


def _broken(request):
    raise RuntimeError(f"duplicate key: {SECRET_IN_ERROR}")


urlpatterns = [path("test-erreur/500/", _broken), *project_urlpatterns]
