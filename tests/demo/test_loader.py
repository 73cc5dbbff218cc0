import pytest
from django.core.management import call_command

from accesmt.accounts.models import Membership, Role, User
from accesmt.demo.loader import ACCOUNTS, DEMO_PASSWORD
from accesmt.intake.models import DuplicateFlag, Request, Status
from accesmt.notifications.models import OutboxMessage
from accesmt.territory.models import CPTS, TerritoryCommune


@pytest.mark.django_db
def test_load_demo_builds_the_lievin_territory_accounts_and_requests(client):
    # One test on purpose: loading every French commune takes a few seconds.
    call_command("load_demo", households=40)

    lievin = CPTS.objects.get(slug="cpts-lievin")
    links = TerritoryCommune.objects.filter(cpts=lievin).select_related("commune")
    population = sum(link.commune.population for link in links)
    assert 85_000 < population < 115_000
    assert links.filter(commune_id="62510").exists()  # Liévin itself
    lens = CPTS.objects.get(slug="cpts-lens-henin")
    assert TerritoryCommune.objects.filter(cpts=lens, commune_id="62498").exists()  # Lens

    for account in ACCOUNTS:
        user = User.objects.get(email=account.email)
        assert user.check_password(DEMO_PASSWORD)
        if account.role:
            assert Membership.objects.filter(user=user, role=account.role).exists()
    assert Membership.objects.filter(role=Role.COORDINATOR).count() == 2
    response = client.post(
        "/compte/connexion/",
        {"username": "coordination@cpts-lievin.example.org", "password": DEMO_PASSWORD},
    )
    assert response.status_code == 302

    requests = Request.objects.filter(cpts=lievin)
    assert requests.count() == 42  # 40 households, one of them registered twice, one by post
    postal_only = requests.get(phone="", email="")
    assert OutboxMessage.objects.filter(channel="letter", related_id=str(postal_only.pk)).exists()
    assert DuplicateFlag.objects.filter(request__cpts=lievin).exists()
    assert set(requests.values_list("status", flat=True)) == set(Status.values)
    assert set(requests.values_list("channel", flat=True)) >= {"online", "referral", "phone"}
    assert requests.filter(is_priority=True).exists()
    assert requests.filter(is_priority=False).exists()
    assert not requests.filter(latitude__isnull=True).exists()

    call_command("load_demo", households=40)  # a second run changes nothing
    assert Request.objects.count() == 42


@pytest.mark.django_db
def test_load_demo_declares_gps_in_every_state():
    from accesmt.directory.models import AvailabilityDeclaration, Practitioner

    call_command("load_demo", households=0)
    gps = Practitioner.objects.all()
    assert 55 <= gps.count() <= 80  # 95,195 inhabitants / 1,407 per GP ≈ 68
    declarations = AvailabilityDeclaration.objects.all()
    states = set(declarations.values_list("accepting", flat=True))
    assert states == {"yes", "on_request", "no"}
    assert set(declarations.values_list("listing", flat=True)) == {
        "public",
        "professionals",
        "not_listed",
    }
    assert declarations.current().count() < declarations.count()  # some have expired
    assert gps.exclude(pk__in=declarations.values("practitioner")).exists()  # some never answered
