import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from accesmt.common.links import public_url
from accesmt.demo.loader import ACCOUNTS, DEMO_PASSWORD, HISTORY_HOUSEHOLDS, demo_load


class Command(BaseCommand):
    help = "Charge le territoire de démonstration (CPTS de Liévin) et affiche les comptes."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=62510)
        parser.add_argument("--households", type=int, default=240)
        parser.add_argument(
            "--history",
            type=int,
            default=HISTORY_HOUSEHOLDS,
            help="foyers inscrits au fil des deux années de contrat ACI (placés, clos, en attente)",
        )

    def handle(self, *args, seed, households, history, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError(
                "load_demo refuse de s'exécuter avec les réglages de production : les données "
                "de démonstration (personnes fictives, comptes au mot de passe publié) ne vont "
                "que dans une base de développement (DJANGO_SETTINGS_MODULE=config.settings.dev)."
            )
        started = time.monotonic()

        def progress(line: str) -> None:
            self.stdout.write(f"  [{time.monotonic() - started:4.0f} s] {line}")
            self.stdout.flush()

        if demo_load(seed=seed, households=households, history=history, progress=progress):
            self.stdout.write(
                self.style.SUCCESS(
                    f"Territoire de démonstration chargé ({time.monotonic() - started:.0f} s)."
                )
            )
        else:
            self.stdout.write("Territoire de démonstration déjà présent : rien à charger.")
        self.stdout.write(f"\nComptes de démonstration (mot de passe : {DEMO_PASSWORD})")
        for account in ACCOUNTS:
            self.stdout.write(f"  {account.email:45} {account.label}")
        register = reverse("intake:register", kwargs={"cpts_slug": "cpts-lievin"})
        self.stdout.write(
            f"\nAccueil (trouver sa CPTS) : {public_url(reverse('territory:home'))}"
            f"\nFormulaire public : {public_url(register)}"
            f"\nEspace professionnels : {public_url(reverse('accounts:login'))}"
        )
        if not settings.ACCESMT_OTP_REQUIRED:
            self.stdout.write(
                "\nDouble authentification NON exigée (réglages de développement) : les comptes "
                "se connectent avec le seul mot de passe. OTP_REQUIRED=1 l'exige comme en "
                "production."
            )
        if settings.DEBUG:  # the page exists only then (config/urls.py)
            self.stdout.write(
                "E-mails et SMS envoyés (liens des médecins et des personnes, cliquables) : "
                f"{public_url(reverse('dev:messages'))}"
            )
        self.stdout.write("")
