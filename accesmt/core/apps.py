from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "accesmt.core"
    verbose_name = "Socle"
