"""`manage.py import_rpps FICHIER [--departement 62 …] [--dry-run] [--accept-partial]
[--confirm-absences]`."""

import time

from django.core.management.base import BaseCommand, CommandError

from accesmt.territory.codes import normalise_departement

from ...rpps import (
    RppsAbsencesNeedConfirmation,
    RppsFormatError,
    RppsTruncatedFile,
    rpps_import,
)


class Command(BaseCommand):
    help = (
        "Importe les médecins généralistes de l'extraction PS_LibreAcces_Personne_activite de "
        "l'Annuaire Santé (RPPS), pour les communes des CPTS de la plateforme ou des "
        "départements donnés. Réimporter met à jour, et marque comme partis ceux qui ne "
        "figurent plus dans le fichier."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="fichier ps-libreacces-personne-activite.txt")
        parser.add_argument(
            "--departement",
            action="append",
            default=[],
            help="importer tout un département (répétable) au lieu des communes des CPTS",
        )
        parser.add_argument(
            "--all-platform-communes",
            action="store_true",
            help="communes de tous les territoires des CPTS de la plateforme (par défaut)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="lire et contrôler le fichier sans rien écrire"
        )
        parser.add_argument(
            "--accept-partial",
            action="store_true",
            help="importer un fichier coupé (dernière ligne sans fin de ligne ou incomplète) : "
            "les médecins des lignes manquantes seront marqués absents",
        )
        parser.add_argument(
            "--confirm-absences",
            action="store_true",
            help="confirmer un import qui marque absents plus de RPPS_MAX_ABSENT_SHARE "
            "(10 %% par défaut) des médecins d'une CPTS",
        )

    def handle(
        self,
        *args,
        path,
        departement,
        all_platform_communes,
        dry_run,
        accept_partial,
        confirm_absences,
        **options,
    ):
        departements = _departements(departement, all_platform_communes)
        started = time.monotonic()
        progress = self._progress_printer()
        self.stdout.write("Lecture du fichier…")
        try:
            report = rpps_import(
                path,
                departements=departements,
                progress=progress,
                dry_run=dry_run,
                accept_partial=accept_partial,
                confirm_absences=confirm_absences,
            )
        except FileNotFoundError:
            raise CommandError(f"Fichier introuvable : {path}") from None
        except RppsTruncatedFile as exc:
            raise CommandError(
                f"Import refusé : {exc} (option --accept-partial pour un import partiel)"
            ) from None
        except RppsAbsencesNeedConfirmation as exc:
            self._write_report(exc.report, summary_lines=2)  # what was read (nothing written)
            for line in exc.lines()[1:]:
                self.stdout.write(line)
            raise CommandError(
                f"Import arrêté : {exc.headline()} Relancez avec --confirm-absences pour confirmer."
            ) from None
        except RppsFormatError as exc:
            raise CommandError(f"Import refusé : {exc}") from None
        self._write_report(report)
        if dry_run:
            self.stdout.write("Essai à blanc : rien n'a été enregistré.")
        self.stdout.write(
            self.style.SUCCESS(f"Import terminé en {time.monotonic() - started:.1f} s.")
        )

    def _progress_printer(self):
        last = [0.0]

        def progress(lines: int, done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last[0] < 1.0:
                return
            last[0] = now
            percent = 100 * done / total if total else 100
            shown = f"{lines:>10,}".replace(",", "\u202f")
            self.stdout.write(f"  {shown} lignes lues ({percent:5.1f} %)".replace(".", ","))

        return progress

    def _write_report(self, report, *, summary_lines: int | None = None) -> None:
        """The summary lines (only the first `summary_lines` if given), then the refused lines."""
        for line in report.summary_lines()[:summary_lines]:
            self.stdout.write(line)
        for error in report.errors:
            self.stdout.write(f"  {error}")
        if summary_lines is None and report.rejected > len(report.errors):
            self.stdout.write(
                f"  … et {report.rejected - len(report.errors)} autres lignes refusées"
            )


def _departements(departement: list[str], all_platform_communes: bool) -> list[str]:
    if departement and all_platform_communes:
        raise CommandError("Choisissez --departement ou --all-platform-communes, pas les deux.")
    departements = []
    for value in departement:
        code = normalise_departement(value)
        if code is None:
            raise CommandError(f"Département invalide : « {value} ».")
        departements.append(code)
    return departements
