from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "accesmt.intake"
    verbose_name = "Demandes"

    def ready(self) -> None:
        from accesmt.notifications import jobs

        from .cpam_lists import operations as cpam_list_operations
        from .cpam_lists.optout import cpam_lists_release_due
        from .retention import pending_uploads_purge, requests_anonymise_closed
        from .services import intake_attempts_forget, requests_geocode_retry

        jobs.register("intake.geocode_retry", requests_geocode_retry, every_seconds=1800)
        jobs.register("intake.anonymise_closed", requests_anonymise_closed, every_seconds=86400)
        # The public form's per-address counts, kept a day (hashed addresses).
        jobs.register("intake.attempts_forget", intake_attempts_forget, every_seconds=3600)
        # CPAM lists whose opt-out period ended: their requests enter the queue.
        jobs.register("intake.cpam_lists_release", cpam_lists_release_due, every_seconds=3600)
        # Raw CPAM-list and transfer-plan files left by a preview never confirmed.
        jobs.register("intake.pending_uploads_purge", pending_uploads_purge, every_seconds=3600)
        # the confirmed import of a CPAM list, run as a background task
        cpam_list_operations.register()
