from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accesmt.accounts"
    verbose_name = "Comptes et rôles"

    def ready(self) -> None:
        from accesmt.notifications import jobs

        from . import signals  # noqa: F401  (connects the audit receivers)
        from .lockout import login_failures_forget
        from .retention import audit_log_purge

        jobs.register("accounts.login_failures_forget", login_failures_forget, every_seconds=3600)
        # Audit lines older than AUDIT_LOG_RETENTION_DAYS (ADR 0027).
        jobs.register("accounts.audit_log_purge", audit_log_purge, every_seconds=86400)
