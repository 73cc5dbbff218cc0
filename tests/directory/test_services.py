"""Manual practitioners, corrections, tenant scoping and age bands."""

import pytest
from django.core.exceptions import ValidationError

from accesmt.directory.models import AgeBand, GeocodeSource, PracticeSite, Practitioner, Source
from accesmt.directory.services import (
    practice_site_correct,
    practitioner_correct,
    practitioner_create_manual,
    practitioner_mark_gone,
)
from tests.accounts.factories import MembershipFactory, UserFactory

from .factories import PracticeSiteFactory, PractitionerFactory

pytestmark = pytest.mark.django_db


def test_manual_practitioner_with_site_at_commune_centre(communes):
    gp = practitioner_create_manual(
        last_name="NOUVEAU",
        first_name="Paul",
        site={"commune": communes["lievin"], "postcode": "62800", "label": "MSP"},
    )
    assert gp.source == Source.MANUAL and gp.rpps is None
    site = gp.sites.get()
    assert site.source == Source.MANUAL
    assert (site.latitude, site.geocode_source) == (50.4228, GeocodeSource.COMMUNE_CENTRE)


def test_manual_practitioner_refuses_a_known_rpps_and_bad_values(communes):
    PractitionerFactory(rpps="10000000001")
    with pytest.raises(ValidationError) as excinfo:
        practitioner_create_manual(last_name="X", rpps="10000000001")
    assert "rpps" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        practitioner_create_manual(last_name="X", rpps="123")
    assert "rpps" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        practitioner_create_manual(last_name="X", site={"commune": communes["lens"], "nope": 1})
    assert Practitioner.objects.count() == 1


def test_correction_refuses_fields_the_import_owns():
    gp = PractitionerFactory()
    with pytest.raises(ValidationError):
        practitioner_correct(practitioner=gp, fields={"rpps": "10000000009"})
    with pytest.raises(ValidationError):
        practitioner_correct(practitioner=gp, fields={"birth_year": 1800})
    gp.refresh_from_db()
    assert gp.corrections == {}


def test_correction_records_who_and_when():
    user = UserFactory()
    gp = practitioner_correct(practitioner=PractitionerFactory(), fields={"is_msu": True}, by=user)
    assert gp.is_msu and gp.corrections["is_msu"]["by"] == user.pk


def test_site_commune_correction_moves_it_to_the_new_centre(communes):
    site = PracticeSiteFactory(commune=communes["lievin"])
    site = practice_site_correct(site=site, fields={"commune": communes["avion"]})
    assert (site.latitude, site.longitude) == (50.4102, 2.8342)
    assert set(site.corrections) == {"commune"}


def test_mark_gone():
    gp = practitioner_mark_gone(practitioner=PractitionerFactory())
    assert gp.is_gone and gp.gone_since is not None


def test_for_user_scopes_practitioners_and_sites_to_the_territory(cpts, communes):
    inside = PracticeSiteFactory(commune=communes["lievin"])
    PracticeSiteFactory(commune=communes["lens"])
    coordinator = UserFactory()
    MembershipFactory(user=coordinator, cpts=cpts)
    assert list(Practitioner.objects.for_user(coordinator)) == [inside.practitioner]
    assert list(PracticeSite.objects.for_user(coordinator)) == [inside]
    assert not Practitioner.objects.for_user(UserFactory()).exists()
    assert Practitioner.objects.for_user(UserFactory(platform_admin=True)).count() == 2


@pytest.mark.parametrize(
    ("birth_year", "band"),
    [(1990, AgeBand.UNDER_40), (1978, AgeBand.FROM_40_TO_49), (1961, AgeBand.FROM_60_TO_64)],
)
def test_age_band_from_birth_year(birth_year, band):
    import datetime

    gp = PractitionerFactory.build(birth_year=birth_year)
    assert gp.age_band_on(datetime.date(2025, 6, 1)) == band


def test_age_band_entered_when_birth_year_unknown():
    assert PractitionerFactory.build(age_band=AgeBand.FROM_65).age_band_on() == AgeBand.FROM_65
