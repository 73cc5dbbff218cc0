from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accesmt.territory.codes import format_codes
from accesmt.territory.services import cpts_create


class Command(BaseCommand):
    help = (
        "Crée une CPTS et son territoire : liste de codes INSEE, département, "
        "ou communes à moins de N km d'une commune centre."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="nom de la CPTS")
        parser.add_argument("--slug", required=True, help="identifiant d'URL (ex. cpts-lievin)")
        parser.add_argument("--insee", default="", help="codes INSEE séparés par des virgules")
        parser.add_argument("--departement", default="", help="code du département (ex. 62)")
        parser.add_argument("--center", default="", help="code INSEE de la commune centre")
        parser.add_argument("--radius", type=float, default=None, help="rayon en km")
        parser.add_argument("--phone", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args, **o):
        try:
            cpts = cpts_create(
                name=o["name"],
                slug=o["slug"],
                insee_codes=o["insee"],
                departement=o["departement"],
                center_insee=o["center"],
                radius_km=o["radius"],
                phone=o["phone"],
                email=o["email"],
            )
        except ValidationError as exc:
            lines = [
                f"{field} : {message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
            raise CommandError("\n".join(lines)) from None
        selection = cpts.territory_selection
        self.stdout.write(
            self.style.SUCCESS(
                f"CPTS « {cpts.name} » créée : {len(selection.communes)} communes, "
                f"{selection.population} habitants."
            )
        )
        if selection.without_coordinates:
            codes = [c.insee_code for c in selection.without_coordinates]
            self.stdout.write(
                self.style.WARNING(
                    f"Position inconnue, non sélectionnables par rayon : {format_codes(codes)}."
                )
            )
