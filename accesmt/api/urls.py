"""/api/: the JSON API (v1 operations, /api/openapi.json, /api/docs)."""

from .api import api

urlpatterns = [*api.urls[0]]
app_name = "api"
