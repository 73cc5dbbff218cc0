import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accesmt.territory.services import COMMUNES_FILE, communes_load


class Command(BaseCommand):
    help = "Charge (ou met à jour) les communes et codes postaux du fichier de référence."

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", type=Path, default=COMMUNES_FILE, help="fichier communes.csv.gz à charger"
        )

    def handle(self, *args, file: Path, **options):
        if not file.exists():
            raise CommandError(
                f"Fichier introuvable : {file}. Reconstruisez-le avec "
                "`python scripts/build_communes.py`."
            )
        started = time.monotonic()
        result = communes_load(path=file)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Communes : {result.created} créées, {result.updated} mises à jour"
                + (
                    f", {result.not_in_file} absentes du fichier (conservées)"
                    if result.not_in_file
                    else ""
                )
                + f". Codes postaux : {result.postal_codes_created} créés, "
                f"{result.postal_codes_deleted} supprimés. ({elapsed:.1f} s)"
            )
        )
