from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "accesmt.directory"
    verbose_name = "Annuaire des médecins"

    def ready(self):
        from accesmt.notifications import jobs

        from . import (
            checks,  # noqa: F401 (registers the deploy check of PUBLIC_BASE_URL)
            rpps_operations,
        )
        from .retention import declarations_purge
        from .survey import survey_send_reminders

        jobs.register("directory.survey_reminders", survey_send_reminders, every_seconds=3600)
        # Declarations superseded more than DECLARATION_RETENTION_DAYS ago (ADR 0027).
        jobs.register("directory.declarations_purge", declarations_purge, every_seconds=86400)
        # the RPPS upload from the admin, run as a background task of the whole platform
        rpps_operations.register()
