import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Membership, Role, User
from accesmt.demo.loader import ACCOUNTS, DEMO_PASSWORD
from accesmt.intake.models import (
    OPEN_STATUSES,
    CpamList,
    DuplicateFlag,
    Request,
    RightsOutcome,
    Status,
)
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.models import Placement, Solicitation
from accesmt.reporting.models import ReportingSettings
from accesmt.reporting.periods import add_months, period_from_query
from accesmt.territory.models import CPTS, TerritoryCommune

HISTORY = 16  # households of the two contract years (70 in `make demo`)


@pytest.mark.django_db
def test_load_demo_builds_the_lievin_territory_accounts_and_requests(client, settings):
    # One test on purpose: loading every French commune takes a few seconds.
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8010"  # `make demo PORT=8010`
    out = io.StringIO()
    call_command("load_demo", households=40, history=HISTORY, stdout=out)
    printed = out.getvalue()
    assert "agent@cpam-artois.example.org" in printed  # printed with the others
    # one line per stage while it loads, then addresses that follow PUBLIC_BASE_URL
    stages = [line for line in printed.splitlines() if line.startswith("  [")]
    assert len(stages) >= 8 and "s] Communes de France" in stages[0]
    assert "40 foyers en attente" in printed
    assert "Formulaire public : http://127.0.0.1:8010/cpts-lievin/inscription/" in printed
    assert "127.0.0.1:8000" not in printed

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
    # 40 households, one of them registered twice, one by post, the history, and the
    # Assurance Maladie's stories (4 settled by their usual GP, 2 more CPAM referrals, 5 on
    # the mediator's worklist); the transfer plan's 400 households are tested in
    # test_transfer_demo.py
    assert requests.exclude(channel__in=("cpam_list", "transfer")).count() == 42 + HISTORY + 11
    # The CPAM list of 60 people in ALD, in its opt-out month (two refused, one said yes).
    cpam_list = CpamList.objects.get(cpts=lievin)
    assert cpam_list.imported_count == cpam_list.requests.count() == 60
    assert cpam_list.requests.filter(status=Status.OPT_OUT_PENDING).count() == 57
    assert cpam_list.requests.filter(closed_reason="opted_out").count() == 2
    assert cpam_list.opt_out_ends_at > timezone.now()
    postal_only = requests.exclude(channel__in=("cpam_list", "transfer")).get(phone="", email="")
    assert OutboxMessage.objects.filter(channel="letter", related_id=str(postal_only.pk)).exists()
    assert DuplicateFlag.objects.filter(request__cpts=lievin).exists()
    assert set(requests.values_list("status", flat=True)) == set(Status.values)
    assert set(requests.values_list("channel", flat=True)) >= {"online", "referral", "phone"}
    assert requests.filter(is_priority=True).exists()
    assert requests.filter(is_priority=False).exists()
    assert not requests.filter(latitude__isnull=True).exists()

    call_command("load_demo", households=40, history=HISTORY)  # a second run changes nothing
    assert Request.objects.count() == 42 + HISTORY + 11 + 60 + 400

    _assert_assurance_maladie(lievin, cpam_list)

    _assert_two_contract_years(client, lievin)
    _assert_the_mairie_sees_lievin_only(client, lievin)
    _assert_satisfaction_and_public_report(client, lievin)


def _assert_assurance_maladie(lievin, cpam_list):
    """Issue 12: households settled by their usual GP through the real flow, the CPAM agent's
    referrals, the CPAM list naming usual GPs, the mediator's worklist with outcomes."""
    requests = Request.objects.filter(cpts=lievin)
    settled = requests.filter(closed_reason="usual_gp")
    assert settled.count() == 4
    for request in settled:
        placement = Placement.objects.get(request=request)
        assert placement.practitioner.rpps == request.usual_gp_rpps
        asked_first = Solicitation.objects.get(request=request)
        assert asked_first.origin == "usual_gp" and asked_first.status == "accepted"
    assert {p.recorded_by for p in Placement.objects.filter(request__in=settled)} == {
        "patient",
        "coordinator",
    }
    assert Placement.objects.filter(request__in=settled, declared_by="gp").count() == 1
    # nothing of these past stories waits in the outbox
    old = timezone.now() - datetime.timedelta(days=1)
    stories = [str(pk) for pk in settled.values_list("pk", flat=True)]
    assert not OutboxMessage.objects.filter(
        status="pending", created_at__lt=old, related_id__in=stories
    ).exists()
    assert not OutboxMessage.objects.filter(
        status="pending", created_at__lt=old, topic__startswith="orientation."
    ).exists()

    agent = Membership.objects.get(user__email="agent@cpam-artois.example.org")
    assert agent.role == Role.CPAM_AGENT and agent.profession == "cpam"
    referred = requests.filter(referred_by_cpam=True)
    assert referred.count() == 3
    assert set(referred.values_list("referrer", flat=True)) == {agent.user_id}
    assert set(referred.values_list("status", flat=True)) == {"closed", "waiting", "new"}

    assert cpam_list.requests.exclude(usual_gp_rpps="").count() >= 10
    assert cpam_list.requests.exclude(usual_gp_name="").exists()

    outcomes = RightsOutcome.objects.filter(cpts=lievin)
    assert sorted(outcomes.values_list("kind", flat=True)) == sorted(
        ["contacted", "unreachable", "rights_opened", "rights_opened"]
    )
    assert set(outcomes.values_list("recorded_by__email", flat=True)) == {
        "mediation@cpam-artois.example.org"
    }
    assert outcomes.filter(opened_css=True).count() == 1
    assert outcomes.filter(opened_vitale=True).count() == 1
    opened = outcomes.filter(kind="rights_opened").values("request")
    assert not requests.filter(pk__in=opened, needs_rights_help=True).exists()
    followed = outcomes.exclude(kind="rights_opened").values("request")
    assert requests.filter(pk__in=followed, needs_rights_help=True).count() == 2
    # the worklist goes on: more households wait for the mediation
    flagged = requests.filter(needs_rights_help=True, status__in=OPEN_STATUSES)
    assert flagged.exclude(pk__in=followed).exists()


def _assert_satisfaction_and_public_report(client, lievin):
    """The survey has answers and the public monthly report is on, with figures."""
    from accesmt.reporting.models import SatisfactionAnswer, SatisfactionInvitation

    invited = SatisfactionInvitation.objects.filter(cpts=lievin)
    assert invited.filter(answered=True).count() == SatisfactionAnswer.objects.count() > 0
    assert invited.filter(answered=False).exists()
    assert not OutboxMessage.objects.filter(topic="reporting.satisfaction", status="pending")
    client.logout()
    response = client.get(reverse("reporting:public_report", kwargs={"cpts_slug": lievin.slug}))
    assert response.status_code == 200
    assert "<svg" in response.content.decode()


def _assert_two_contract_years(client, lievin):
    """The contract started 21 months ago: the previous contract year is complete and holds
    registrations, placements (with their solicitations) and closings."""
    today = timezone.localdate()
    start = ReportingSettings.objects.get(cpts=lievin).aci_contract_start
    assert start == add_months(today.replace(day=1), -21)
    current = period_from_query({}, contract_start=start, today=today)
    previous = current.previous()
    assert previous.start == start
    begin, end = previous.bounds()
    old = Request.objects.filter(cpts=lievin, created_at__gte=begin, created_at__lt=end)
    assert old.count() >= HISTORY // 2
    assert Placement.objects.filter(cpts=lievin, at__gte=begin, at__lt=end).exists()
    assert Solicitation.objects.filter(request__in=old).exists()
    assert old.filter(status=Status.CLOSED).exclude(closed_reason="mt_found").exists()
    # …and nothing of that past is waiting in the outbox.
    assert not OutboxMessage.objects.filter(
        cpts=lievin, status="pending", created_at__lt=end
    ).exists()
    # The first months of the contract have registrations, month after month.
    months = {
        timezone.localtime(at).date().replace(day=1)
        for at in old.values_list("created_at", flat=True)
    }
    assert len(months) >= 6

    client.force_login(User.objects.get(email="coordination@cpts-lievin.example.org"))
    response = client.get(reverse("reporting:indicators", kwargs={"cpts_slug": lievin.slug}))
    assert response.status_code == 200
    summary = response.context["results"][0]
    assert summary["indicator"].code == "demand.summary"
    households_row = summary["rows"][0]
    assert households_row[0] == "Foyers inscrits"
    assert (
        households_row[2]
        == Request.objects.filter(cpts=lievin, created_at__gte=begin, created_at__lt=end)
        .exclude(closed_reason="duplicate")
        .count()
    )


def _assert_the_mairie_sees_lievin_only(client, lievin):
    mairie = Membership.objects.get(user__email="mairie@lievin.example.org")
    assert mairie.role == Role.MAIRIE and mairie.cpts == lievin
    assert list(mairie.communes.values_list("pk", flat=True)) == ["62510"]
    client.force_login(mairie.user)
    response = client.get(reverse("reporting:indicators", kwargs={"cpts_slug": lievin.slug}))
    assert response.status_code == 200
    assert response.context["masked"] is True
    begin, end = response.context["period"].bounds()  # the current contract year
    in_period = Request.objects.filter(
        cpts=lievin, created_at__gte=begin, created_at__lt=end
    ).exclude(closed_reason="duplicate")
    expected = in_period.filter(commune_id="62510").count()
    shown = response.context["results"][0]["rows"][0][1]
    assert shown == (expected if expected >= 5 else "< 5")
    assert expected < in_period.count()


@pytest.mark.django_db
def test_load_demo_declares_gps_in_every_state():
    from accesmt.directory.models import AvailabilityDeclaration, Practitioner

    call_command("load_demo", households=0, history=0)
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
    # Issue 11: a GP leaving in five months with about 900 patients, two installations, and a
    # projection that flags at least one commune.
    from accesmt.directory.models import PlannedInstallation
    from accesmt.directory.selectors import planned_departures
    from accesmt.reporting.indicators.projection import project
    from accesmt.reporting.tables import Scope

    lievin = CPTS.objects.get(slug="cpts-lievin")
    today = timezone.localdate()
    leaving = planned_departures([lievin.pk]).get(
        planned_departure_date=add_months(today, 5), approx_patient_count=900
    )
    assert (leaving.departure_certainty, leaving.departure_scope) == ("certain", "full")
    assert PlannedInstallation.objects.filter(cpts=lievin).count() == 2
    found = project(Scope(cpts=lievin))
    assert any(c.first_negative() is not None for c in found.communes.values())
