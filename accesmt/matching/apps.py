from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "accesmt.matching"
    verbose_name = "Mise en relation"
