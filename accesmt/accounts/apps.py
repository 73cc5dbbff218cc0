from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accesmt.accounts"
    verbose_name = "Comptes et rôles"

    def ready(self) -> None:
        from accesmt.notifications import jobs

        from . import signals  # noqa: F401  (connects the audit receivers)
        from .retention import audit_log_purge

        # Audit lines older than AUDIT_LOG_RETENTION_DAYS (ADR 0027).
        jobs.register("accounts.audit_log_purge", audit_log_purge, every_seconds=86400)
