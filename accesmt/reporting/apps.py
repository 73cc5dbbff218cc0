from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "accesmt.reporting"
    verbose_name = "Tableaux de bord"
