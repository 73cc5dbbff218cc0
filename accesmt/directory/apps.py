from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "accesmt.directory"
    verbose_name = "Annuaire des médecins"

    def ready(self):
        from accesmt.notifications import jobs

        from . import checks  # noqa: F401 (registers the deploy check of PUBLIC_BASE_URL)
        from .survey import survey_send_reminders

        jobs.register("directory.survey_reminders", survey_send_reminders, every_seconds=3600)
