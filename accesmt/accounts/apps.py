from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accesmt.accounts"
    verbose_name = "Comptes et rôles"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the audit receivers)
