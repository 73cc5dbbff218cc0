from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "accesmt.notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from . import jobs
        from .services import outbox_redact_old

        jobs.register("notifications.redact_old", outbox_redact_old, every_seconds=6 * 3600)
