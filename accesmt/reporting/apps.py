from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "accesmt.reporting"
    verbose_name = "Tableaux de bord"

    def ready(self) -> None:
        from accesmt.notifications import jobs

        from .satisfaction import satisfaction_invite

        jobs.register("reporting.satisfaction_invite", satisfaction_invite, every_seconds=3600)
