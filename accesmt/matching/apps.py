from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "accesmt.matching"
    verbose_name = "Mise en relation"

    def ready(self) -> None:
        from . import operations

        operations.register()  # the allocation run, started from its page as a background task
