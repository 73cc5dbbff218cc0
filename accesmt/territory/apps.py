from django.apps import AppConfig


class TerritoryConfig(AppConfig):
    name = "accesmt.territory"
    verbose_name = "Territoire"
