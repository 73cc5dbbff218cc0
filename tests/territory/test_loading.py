import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accesmt.territory.models import Commune, CoordinatesQuality, PostalCode
from accesmt.territory.selectors import communes_within_radius
from accesmt.territory.services import communes_load

from .factories import CPTSFactory, real_rows, write_communes_file

pytestmark = pytest.mark.django_db


def test_the_committed_file_loads_every_commune_and_covers_the_demo_area(capsys):
    call_command("load_communes")
    out = capsys.readouterr().out
    total = Commune.objects.count()
    assert total > 34_000
    assert f"{total} créées, 0 mises à jour" in out
    assert PostalCode.objects.count() >= total
    # coordinates: never 0,0; unknown ⇔ no coordinates; most of the population placed exactly
    assert not Commune.objects.filter(latitude=0, longitude=0).exists()
    unknown = Commune.objects.filter(coordinates_quality=CoordinatesQuality.UNKNOWN)
    assert not unknown.filter(latitude__isnull=False).exists()
    assert not Commune.objects.exclude(coordinates_quality="unknown").filter(latitude=None).exists()
    assert unknown.count() < total * 0.01
    exact = Commune.objects.filter(coordinates_quality=CoordinatesQuality.EXACT).count()
    assert exact > total * 0.4
    # metropolitan France and DROM only; Paris/Lyon/Marseille as single communes
    assert Commune.objects.filter(insee_code="75056", name="Paris").exists()
    assert not Commune.objects.filter(insee_code="75101").exists()
    assert Commune.objects.filter(insee_code__startswith="2A").exists()
    assert Commune.objects.filter(departement="974").exists()
    assert not Commune.objects.filter(departement="987").exists()  # Polynésie (COM)
    assert set(
        Commune.objects.get(insee_code="75056").postal_codes.values_list("code", flat=True)
    ) >= {
        "75001",
        "75116",
    }
    # the demo territory: communes within 12 km of Liévin, placed, > 100 000 inhabitants
    lievin = Commune.objects.get(insee_code="62510")
    assert lievin.coordinates_quality == CoordinatesQuality.EXACT
    assert 50.3 < lievin.latitude < 50.5 and 2.7 < lievin.longitude < 2.9
    around = communes_within_radius(lievin, 12)
    assert {"62498", "62065"} <= {c.insee_code for c in around}  # Lens, Avion
    assert sum(c.population for c in around) > 100_000

    # a second run updates in place
    call_command("load_communes")
    assert "0 créées, " in capsys.readouterr().out
    assert Commune.objects.count() == total


def test_reload_updates_names_populations_coordinates_and_postal_codes(tmp_path):
    first = write_communes_file(
        tmp_path / "v1.csv.gz",
        [
            {"insee": "62510", "name": "Lievin", "departement": "62", "region": "32",
             "population": "30000", "postal_codes": "62800 62801", "latitude": "50.4",
             "longitude": "2.7", "quality": "approximate"},
            {"insee": "2A004", "name": "Ajaccio", "departement": "2A", "region": "94",
             "population": "70000", "postal_codes": "20000", "quality": "unknown"},
        ],
    )  # fmt: skip
    result = communes_load(path=first)
    assert (result.created, result.updated, result.postal_codes_created) == (2, 0, 3)
    second = write_communes_file(
        tmp_path / "v2.csv.gz",
        [
            {"insee": "62510", "name": "Liévin", "departement": "62", "region": "32",
             "population": "30063", "postal_codes": "62800", "latitude": "50.4198",
             "longitude": "2.78068", "quality": "exact"},
        ],
    )  # fmt: skip
    result = communes_load(path=second)
    assert (result.created, result.updated, result.not_in_file) == (0, 1, 1)
    assert (result.postal_codes_created, result.postal_codes_deleted) == (0, 1)
    lievin = Commune.objects.get(insee_code="62510")
    assert (lievin.name, lievin.population, lievin.latitude) == ("Liévin", 30063, 50.4198)
    assert lievin.coordinates_quality == CoordinatesQuality.EXACT
    assert list(lievin.postal_codes.values_list("code", flat=True)) == ["62800"]
    ajaccio = Commune.objects.get(insee_code="2A004")  # kept: a CPTS may still list it
    assert ajaccio.latitude is None and ajaccio.coordinates_quality == CoordinatesQuality.UNKNOWN


def test_reload_keeps_territories_and_uses_a_bounded_number_of_queries(tmp_path):
    rows = real_rows(lambda row: row["departement"] == "62")
    path = write_communes_file(tmp_path / "62.csv.gz", rows)
    communes_load(path=path)
    cpts = CPTSFactory()
    cpts.communes.add("62510")
    with CaptureQueriesContext(connection) as queries:
        result = communes_load(path=path)
    assert result.updated == len(rows) > 800
    assert len(queries) < 20  # bulk operations, not one query per commune
    assert list(cpts.communes.values_list("insee_code", flat=True)) == ["62510"]


def test_quality_without_coordinates_is_loaded_as_unknown(tmp_path):
    path = write_communes_file(
        tmp_path / "odd.csv.gz",
        [{"insee": "01001", "name": "A", "departement": "01", "region": "84",
          "population": "", "postal_codes": "", "quality": "exact"}],
    )  # fmt: skip
    communes_load(path=path)
    commune = Commune.objects.get(insee_code="01001")
    assert commune.coordinates_quality == CoordinatesQuality.UNKNOWN
    assert commune.latitude is None and commune.population == 0


def test_load_communes_reports_a_missing_file(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("load_communes", file=tmp_path / "absent.csv.gz")
