from django.apps import AppConfig


class OrientationConfig(AppConfig):
    name = "accesmt.orientation"
    verbose_name = "Orientation vers un médecin traitant"

    def ready(self) -> None:
        from accesmt.matching.services import month_counts_register
        from accesmt.notifications import jobs

        from . import still_needed
        from .selectors import gp_month_counts
        from .services import solicitations_follow_up
        from .services.declarations import declarations_check

        jobs.register("orientation.follow_up", solicitations_follow_up, every_seconds=900)
        jobs.register("orientation.still_needed", still_needed.still_needed_run, every_seconds=3600)
        jobs.register("orientation.declarations", declarations_check, every_seconds=3600)
        # matching cannot import orientation: it receives this month's counts through a hook
        month_counts_register(gp_month_counts)
