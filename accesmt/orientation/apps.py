from django.apps import AppConfig


class OrientationConfig(AppConfig):
    name = "accesmt.orientation"
    verbose_name = "Orientation vers un médecin traitant"

    def ready(self) -> None:
        from accesmt.notifications import jobs

        from . import still_needed
        from .services import solicitations_follow_up

        jobs.register("orientation.follow_up", solicitations_follow_up, every_seconds=900)
        jobs.register("orientation.still_needed", still_needed.still_needed_run, every_seconds=3600)
