from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "accesmt.reporting"
    verbose_name = "Tableaux de bord"

    def ready(self) -> None:
        from accesmt.notifications import jobs

        from . import export_operations
        from .departure_alerts import departure_alerts_send
        from .satisfaction import satisfaction_comments_blank, satisfaction_invite
        from .snapshots import region_snapshots_refresh

        jobs.register("reporting.satisfaction_invite", satisfaction_invite, every_seconds=3600)
        # Free comments older than SATISFACTION_COMMENT_RETENTION_DAYS (ADR 0027).
        jobs.register(
            "reporting.satisfaction_comments_blank",
            satisfaction_comments_blank,
            every_seconds=86400,
        )
        jobs.register("reporting.region_snapshots", region_snapshots_refresh, every_seconds=3600)
        jobs.register("reporting.departure_alerts", departure_alerts_send, every_seconds=6 * 3600)
        # the exports of requests, started from their page as background tasks
        export_operations.register()
