"""`manage.py geocode_sites [--per-second 10] [--limit N] [--retry]`."""

import time

from django.core.management.base import BaseCommand, CommandError

from ...site_geocoding import geocode_sites, sites_to_geocode


class Command(BaseCommand):
    help = (
        "Géocode à l'adresse (BAN) les lieux d'exercice placés au centre de leur commune par "
        "l'import RPPS. Reprend là où un passage précédent s'est arrêté ; ne touche jamais aux "
        "coordonnées corrigées par la coordination."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--per-second",
            type=float,
            default=10.0,
            help="lieux par seconde au plus (1 à 2 requêtes BAN chacun ; 10 par défaut)",
        )
        parser.add_argument("--limit", type=int, default=None, help="s'arrêter après N lieux")
        parser.add_argument(
            "--retry",
            action="store_true",
            help="réessayer aussi les lieux déjà tentés sans réponse précise",
        )

    def handle(self, *args, per_second, limit, retry, **options):
        if per_second <= 0:
            raise CommandError("--per-second doit être positif.")
        if limit is not None and limit < 1:
            raise CommandError("--limit doit valoir au moins 1.")
        due = sites_to_geocode(retry=retry).count()
        self.stdout.write(f"{due} lieu(x) à géocoder.")
        started = time.monotonic()
        last = [started]

        def progress(report, total):
            now = time.monotonic()
            if report.done < total and now - last[0] < 2.0:
                return
            last[0] = now
            self.stdout.write(f"  {report.done} / {total}")

        report = geocode_sites(per_second=per_second, limit=limit, retry=retry, progress=progress)
        reasons = ", ".join(f"{k} : {v}" for k, v in sorted(report.reasons.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.placed} placé(s) à l'adresse, {report.unchanged} laissé(s) au centre de "
                f"la commune{f' ({reasons})' if reasons else ''}, {report.skipped} ignoré(s) "
                f"(modifié(s) entre-temps) en {time.monotonic() - started:.1f} s."
            )
        )
        left = sites_to_geocode().count()
        if left:
            self.stdout.write(f"Reste {left} lieu(x) : relancez la commande pour continuer.")
