from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "accesmt.intake"
    verbose_name = "Demandes"
