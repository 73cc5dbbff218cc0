"""`manage.py geocode "12 rue Jean Jaurès" --insee 62510 [--postcode 62800]`."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accesmt.territory import geocoding
from accesmt.territory.geocoding import Outcome, geocode_address
from accesmt.territory.models import Commune


def _decimal(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


class Command(BaseCommand):
    help = "Place une adresse avec la BAN (GEOCODER_URL) et affiche la position retenue."

    def add_arguments(self, parser):
        parser.add_argument("street", help="numéro et voie, par exemple « 12 rue Jean Jaurès »")
        parser.add_argument("--insee", required=True, help="code INSEE de la commune")
        parser.add_argument("--postcode", default="", help="code postal (facultatif)")

    def handle(self, *args, street: str, insee: str, postcode: str, **options):
        insee = insee.strip().upper()
        commune = Commune.objects.filter(insee_code=insee).first()
        if commune is None:
            raise CommandError(
                f"Commune inconnue : le code INSEE {insee} n'est pas dans le référentiel "
                "(chargez les communes avec « manage.py load_communes »)."
            )
        # The outcome is printed below: the log line would only repeat it on stderr.
        geocoding.logger.disabled = True
        try:
            result = geocode_address(street=street, commune=commune, postcode=postcode)
        finally:
            geocoding.logger.disabled = False
        if result.outcome == Outcome.UNREACHABLE:
            raise CommandError(
                f"Service de géocodage injoignable à {settings.GEOCODER_URL} : vérifiez "
                "GEOCODER_URL (ou GEOCODER_TIMEOUT) et la connexion réseau, puis réessayez."
            )
        if result.latitude is None:
            self.stdout.write(f"Position inconnue : {result.message}")
            return
        position = f"{_decimal(result.latitude, 6)} ; {_decimal(result.longitude, 6)}"
        if result.precise:
            self.stdout.write(f"Adresse : {result.label}")
            self.stdout.write(f"Position (lat ; lon) : {position}")
            self.stdout.write(f"Score BAN : {_decimal(result.score, 2)}")
        else:
            self.stdout.write(f"Commune : {result.label}")
            self.stdout.write(f"Position (lat ; lon) : {position}")
            self.stdout.write(result.message)
