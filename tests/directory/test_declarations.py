import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accesmt.directory import selectors
from accesmt.directory.models import (
    Accepting,
    AvailabilityDeclaration,
    DeclarationSource,
    Listing,
)
from accesmt.directory.services import declaration_create
from tests.territory.factories import CommuneFactory, CPTSFactory

from .factories import AvailabilityDeclarationFactory, PracticeSiteFactory, territory_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def commune():
    return CommuneFactory(insee_code="62510", name="Liévin")


@pytest.fixture
def cpts(commune):
    return territory_with(CPTSFactory(name="CPTS Liévin"), commune)


@pytest.fixture
def gp(commune):
    return PracticeSiteFactory(commune=commune).practitioner


def declare(gp, cpts, **kwargs):
    values = {
        "practitioner": gp,
        "cpts": cpts,
        "accepting": Accepting.YES,
        "listing": Listing.PUBLIC,
        "source": DeclarationSource.SURVEY,
        "monthly_capacity": 3,
    }
    values.update(kwargs)
    return declaration_create(**values)


def test_declaration_is_valid_for_the_configured_days(gp, cpts, settings):
    settings.DECLARATION_VALIDITY_DAYS = 30
    declaration = declare(gp, cpts)
    assert declaration.valid_until - declaration.declared_at == datetime.timedelta(days=30)


def test_default_validity_is_six_months(gp, cpts):
    declaration = declare(gp, cpts)
    assert (declaration.valid_until - declaration.declared_at).days == 183


def test_latest_declaration_is_current_and_older_ones_are_not(gp, cpts):
    now = timezone.now()
    old = declare(gp, cpts, declared_at=now - datetime.timedelta(days=10))
    new = declare(gp, cpts, accepting=Accepting.NO, monthly_capacity=None)
    assert list(AvailabilityDeclaration.objects.current()) == [new]
    assert selectors.current_declaration(gp, cpts) == new
    assert old not in AvailabilityDeclaration.objects.accepting()
    assert not AvailabilityDeclaration.objects.accepting().exists()


def test_expired_declaration_stops_counting_as_accepting(gp, cpts):
    declared = timezone.now() - datetime.timedelta(days=184)
    declaration = declare(gp, cpts, declared_at=declared)
    assert declaration.is_expired()
    assert not AvailabilityDeclaration.objects.current().exists()
    assert not AvailabilityDeclaration.objects.accepting().exists()
    assert selectors.current_declaration(gp, cpts) is None
    assert selectors.latest_declaration(gp, cpts) == declaration
    # It was accepting while valid.
    while_valid = declared + datetime.timedelta(days=100)
    assert list(AvailabilityDeclaration.objects.accepting(while_valid)) == [declaration]


def test_expired_latest_does_not_revive_an_older_one(gp, cpts, settings):
    now = timezone.now()
    settings.DECLARATION_VALIDITY_DAYS = 400
    declare(gp, cpts, declared_at=now - datetime.timedelta(days=300))  # still valid (400 d)
    settings.DECLARATION_VALIDITY_DAYS = 183
    declare(gp, cpts, declared_at=now - datetime.timedelta(days=200))  # latest, expired
    assert not AvailabilityDeclaration.objects.current().exists()


def test_accepting_semantics(gp, cpts, commune):
    other = PracticeSiteFactory(commune=commune).practitioner
    third = PracticeSiteFactory(commune=commune).practitioner
    yes = declare(gp, cpts)
    on_request = declare(other, cpts, accepting=Accepting.ON_REQUEST)
    declare(third, cpts, accepting=Accepting.NO, monthly_capacity=None)
    assert set(AvailabilityDeclaration.objects.accepting()) == {yes, on_request}
    assert list(AvailabilityDeclaration.objects.accepting(include_on_request=False)) == [yes]


def test_gone_practitioner_is_not_accepting(gp, cpts):
    declare(gp, cpts)
    gp.is_gone, gp.gone_since = True, timezone.now()
    gp.save()
    assert AvailabilityDeclaration.objects.current().exists()
    assert not AvailabilityDeclaration.objects.accepting().exists()


def test_current_is_per_cpts(gp, cpts, commune):
    other_commune = CommuneFactory(insee_code="62498", name="Lens")
    other_cpts = territory_with(CPTSFactory(), other_commune)
    PracticeSiteFactory(practitioner=gp, commune=other_commune)
    here = declare(gp, cpts)
    there = declare(gp, other_cpts, accepting=Accepting.NO, monthly_capacity=None)
    assert set(AvailabilityDeclaration.objects.current()) == {here, there}
    assert list(AvailabilityDeclaration.objects.accepting()) == [here]
    assert set(selectors.cpts_of(gp)) == {cpts, other_cpts}


def test_practitioner_outside_the_territory_is_refused(cpts):
    stranger = PracticeSiteFactory(commune=CommuneFactory(insee_code="59350")).practitioner
    with pytest.raises(ValidationError) as excinfo:
        declare(stranger, cpts)
    assert "practitioner" in excinfo.value.message_dict


def test_refusing_gp_cannot_declare_capacity(gp, cpts):
    with pytest.raises(ValidationError) as excinfo:
        declare(gp, cpts, accepting=Accepting.NO, monthly_capacity=5)
    assert "monthly_capacity" in excinfo.value.message_dict


def test_home_visits_need_a_zone(gp, cpts, commune):
    with pytest.raises(ValidationError) as excinfo:
        declare(gp, cpts, accepts_home_visits=True)
    assert "home_visit_radius_km" in excinfo.value.message_dict
    by_radius = declare(gp, cpts, accepts_home_visits=True, home_visit_radius_km=5)
    assert by_radius.home_visit_radius_km == 5
    by_communes = declare(gp, cpts, accepts_home_visits=True, home_visit_communes=[commune])
    assert list(by_communes.home_visit_communes.all()) == [commune]


@pytest.mark.parametrize(
    ("field", "value"),
    [("monthly_capacity", 201), ("home_visit_radius_km", 0), ("approx_patient_count", 20001)],
)
def test_out_of_range_values_are_refused(gp, cpts, field, value):
    kwargs = {field: value}
    if field == "home_visit_radius_km":
        kwargs["accepts_home_visits"] = True
    with pytest.raises(ValidationError) as excinfo:
        declare(gp, cpts, **kwargs)
    assert field in excinfo.value.message_dict
    assert not AvailabilityDeclaration.objects.exists()


def test_database_refuses_validity_before_declaration(gp, cpts):
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        AvailabilityDeclarationFactory(practitioner=gp, cpts=cpts, declared_at=now, valid_until=now)


def test_database_refuses_capacity_for_refusing_gp(gp, cpts):
    with pytest.raises(IntegrityError), transaction.atomic():
        AvailabilityDeclarationFactory(
            practitioner=gp, cpts=cpts, accepting=Accepting.NO, monthly_capacity=3
        )


def test_for_user_scopes_declarations_to_memberships(gp, cpts):
    from tests.accounts.factories import MembershipFactory, UserFactory

    declaration = AvailabilityDeclarationFactory(practitioner=gp, cpts=cpts)
    AvailabilityDeclarationFactory(cpts=CPTSFactory())
    coordinator = UserFactory()
    MembershipFactory(user=coordinator, cpts=cpts, role="coordinator")
    assert list(AvailabilityDeclaration.objects.for_user(coordinator)) == [declaration]
    assert not AvailabilityDeclaration.objects.for_user(coordinator, roles=["observer"]).exists()


def test_gp_account_finds_its_practitioner_by_rpps_before_e_mail(gp, cpts, commune):
    """The RPPS number stored at the first Pro Santé Connect login (decision 0026) designates
    the practitioner even when the account's e-mail is another one, or shared by two records."""
    from tests.accounts.factories import UserFactory

    other = PracticeSiteFactory(commune=commune).practitioner
    other.email = "cabinet@exemple.fr"
    other.save()
    user = UserFactory(email="cabinet@exemple.fr")
    assert selectors.practitioner_of_user(user, cpts) == other
    user.rpps = gp.rpps
    assert selectors.practitioner_of_user(user, cpts) == gp
    user.rpps = "19999999999"  # no such practitioner here: the e-mail still decides
    assert selectors.practitioner_of_user(user, cpts) == other
