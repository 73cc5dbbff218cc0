from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "accesmt.api"
    label = "api"
    verbose_name = "API"

    def ready(self):
        from . import checks  # noqa: F401 (registers the deploy check of the shared cache)
