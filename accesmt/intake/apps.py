from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "accesmt.intake"
    verbose_name = "Demandes"

    def ready(self) -> None:
        from accesmt.notifications import jobs

        from .retention import requests_anonymise_closed
        from .services import requests_geocode_retry

        jobs.register("intake.geocode_retry", requests_geocode_retry, every_seconds=1800)
        jobs.register("intake.anonymise_closed", requests_anonymise_closed, every_seconds=86400)
