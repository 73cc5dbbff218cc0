from django.apps import AppConfig


class OrientationConfig(AppConfig):
    name = "accesmt.orientation"
    verbose_name = "Orientation vers un médecin traitant"

    def ready(self) -> None:
        from accesmt.directory.selectors import gp_choices_of, gp_with_rpps
        from accesmt.intake.personal_data import solicitations_provider_register
        from accesmt.intake.retention import anonymisation_hook_register
        from accesmt.intake.usual_gp import UsualGPDirectory, usual_gp_directory_register
        from accesmt.matching.services import month_counts_register
        from accesmt.notifications import jobs

        from . import allocation_operations, personal_data, still_needed
        from .selectors import gp_month_counts
        from .services import solicitations_follow_up
        from .services.declarations import declarations_check
        from .transfers import operations as transfer_operations
        from .transfers.services import transfer_plans_release_due

        jobs.register("orientation.follow_up", solicitations_follow_up, every_seconds=900)
        jobs.register("orientation.still_needed", still_needed.still_needed_run, every_seconds=3600)
        jobs.register("orientation.declarations", declarations_check, every_seconds=3600)
        jobs.register(
            "orientation.transfer_release", transfer_plans_release_due, every_seconds=3600
        )
        # the send of an allocation run, started from its page as a background task
        allocation_operations.register()
        # the confirmed import of a transfer plan's households, also a background task
        transfer_operations.register()
        # matching cannot import orientation: it receives this month's counts through a hook
        month_counts_register(gp_month_counts)
        # intake and directory never import each other: the GP a person already sees is
        # picked in the directory through this provider (issue 12)
        usual_gp_directory_register(
            UsualGPDirectory(
                choices=gp_choices_of, is_known=lambda rpps: gp_with_rpps(rpps) is not None
            )
        )
        # a person's data (issue 14): the GPs asked in their export; the notes blanked with them
        solicitations_provider_register(personal_data.solicitations_of)
        anonymisation_hook_register(personal_data.solicitations_anonymise)
