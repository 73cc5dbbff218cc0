from django.core.management.base import BaseCommand

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
        if demo_load(seed=seed, households=households, history=history):
            self.stdout.write(self.style.SUCCESS("Territoire de démonstration chargé."))
        else:
            self.stdout.write("Territoire de démonstration déjà présent : rien à charger.")
        self.stdout.write(f"\nComptes de démonstration (mot de passe : {DEMO_PASSWORD})")
        for account in ACCOUNTS:
            self.stdout.write(f"  {account.email:45} {account.label}")
        self.stdout.write(
            "\nFormulaire public : http://127.0.0.1:8000/cpts-lievin/inscription/"
            "\nEspace professionnels : http://127.0.0.1:8000/compte/connexion/\n"
        )
