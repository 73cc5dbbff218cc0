from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "accesmt.api"
    label = "api"
    verbose_name = "API"
