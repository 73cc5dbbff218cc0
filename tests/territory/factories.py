import csv
import gzip
import io
import itertools

import factory

from accesmt.territory.models import (
    CPTS,
    Commune,
    CoordinatesQuality,
    PostalCode,
    TerritoryCommune,
)
from accesmt.territory.services import COMMUNES_FILE

COLUMNS = [
    "insee",
    "name",
    "departement",
    "region",
    "population",
    "postal_codes",
    "latitude",
    "longitude",
    "quality",
]


_artois_numbers = itertools.count()


class CommuneFactory(factory.django.DjangoModelFactory):
    """A placed commune (80xxx by default); `artois=True` gives the Pas-de-Calais commune
    (62xxx, near Liévin) that the accounts and intake tests always used."""

    class Meta:
        model = Commune
        django_get_or_create = ("insee_code",)
        skip_postgeneration_save = True

    insee_code = factory.Sequence(lambda n: f"{80000 + n:05d}")
    name = factory.Sequence(lambda n: f"Commune {n}")
    departement = factory.LazyAttribute(lambda o: o.insee_code[:2])
    region = "32"
    population = 1000
    latitude = 50.0
    longitude = 2.5
    coordinates_quality = CoordinatesQuality.EXACT

    class Params:
        unplaced = factory.Trait(
            latitude=None, longitude=None, coordinates_quality=CoordinatesQuality.UNKNOWN
        )
        artois = factory.Trait(
            insee_code=factory.LazyFunction(lambda: f"{62000 + next(_artois_numbers):05d}"),
            departement="62",
            latitude=50.42,
            longitude=2.78,
        )

    @factory.post_generation
    def postcodes(self, create, extracted, **kwargs):
        for code in extracted or ():
            PostalCode.objects.create(code=code, commune=self)


class CPTSFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CPTS
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"CPTS Territoire {n}")
    slug = factory.Sequence(lambda n: f"cpts-territoire-{n}")


class TerritoryCommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TerritoryCommune

    cpts = factory.SubFactory(CPTSFactory)
    commune = factory.SubFactory(CommuneFactory, artois=True)


def real_rows(predicate=lambda row: True) -> list[dict]:
    """Rows of the committed reference file that satisfy predicate."""
    with gzip.open(COMMUNES_FILE, "rt", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if predicate(row)]


def write_communes_file(path, rows: list[dict]):
    """A communes.csv.gz in the format of the committed file."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in COLUMNS})
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(text.getvalue())
    return path


def load_departements(tmp_path, *departements: str) -> None:
    """Load the real communes of some départements (fast: a few hundred rows each)."""
    from accesmt.territory.services import communes_load

    rows = real_rows(lambda row: row["departement"] in departements)
    communes_load(path=write_communes_file(tmp_path / "communes.csv.gz", rows))
