from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "accesmt.notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from . import jobs
        from .health import tasks_heartbeat
        from .operations import operation_files_purge, task_results_prune
        from .services import outbox_redact_old

        jobs.register("notifications.redact_old", outbox_redact_old, every_seconds=6 * 3600)
        jobs.register("notifications.task_results_prune", task_results_prune, every_seconds=86400)
        jobs.register("notifications.tasks_heartbeat", tasks_heartbeat, every_seconds=60)
        # the files of exports run as operations (kept a day at most)
        jobs.register(
            "notifications.operation_files_purge", operation_files_purge, every_seconds=3600
        )
