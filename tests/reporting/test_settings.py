"""The coordinator's reporting settings: contract start and public report, coordinators only,
errors next to the fields, the change audited."""

import datetime

import pytest
from django.urls import reverse

from accesmt.accounts.models import AuditAction, AuditLog, Role
from accesmt.reporting.models import ReportingSettings
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cpts():
    return CPTSFactory()


def url(cpts):
    return reverse("reporting:settings", kwargs={"cpts_slug": cpts.slug})


def public(cpts):
    return reverse("reporting:public_report", kwargs={"cpts_slug": cpts.slug})


def as_coordinator(client, cpts):
    membership = MembershipFactory(cpts=cpts, role=Role.COORDINATOR)
    client.force_login(membership.user)
    return membership.user


def test_coordinator_sets_the_contract_start_and_publishes_the_report(client, cpts):
    user = as_coordinator(client, cpts)
    home = client.get(reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug}))
    assert url(cpts) in home.content.decode()
    page = client.get(url(cpts))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'type="date"' in body and 'name="public_report"' in body
    assert 'for="id_aci_contract_start"' in body
    assert client.get(public(cpts)).status_code == 404

    done = client.post(url(cpts), {"aci_contract_start": "2025-04-15", "public_report": "on"})
    assert done.status_code == 302
    stored = ReportingSettings.objects.get(cpts=cpts)
    assert stored.aci_contract_start == datetime.date(2025, 4, 15)
    assert stored.public_report
    line = AuditLog.objects.get(action=AuditAction.UPDATE)
    assert (line.actor, line.cpts, line.object_type, line.object_id) == (
        user,
        cpts,
        "reporting.reportingsettings",
        str(stored.pk),
    )
    shown = client.get(url(cpts)).content.decode()
    assert "Réglages enregistrés." in shown and public(cpts) in shown
    assert client.get(public(cpts)).status_code == 200

    # the indicator pages now take the contract year from the 15 April
    indicators = client.get(
        reverse("reporting:indicators", kwargs={"cpts_slug": cpts.slug}),
        {"periode": "aci", "debut": "2026-05-01"},
    )
    assert indicators.context["period"].start == datetime.date(2026, 4, 15)

    client.post(url(cpts), {"aci_contract_start": "2025-04-15"})  # box unticked
    assert not ReportingSettings.objects.get(cpts=cpts).public_report
    assert client.get(public(cpts)).status_code == 404
    assert AuditLog.objects.filter(action=AuditAction.UPDATE).count() == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Indiquez la date de signature du contrat ACI."),
        ("15/04/2025x", "Date invalide : utilisez le format AAAA-MM-JJ."),
        ("2018-12-31", "L&#x27;accord conventionnel des CPTS date de 2019"),
        ("2099-01-01", "Indiquez une date d&#x27;ici un an au plus."),
    ],
)
def test_a_bad_date_is_said_next_to_the_field_and_nothing_is_stored(client, cpts, value, message):
    as_coordinator(client, cpts)
    response = client.post(url(cpts), {"aci_contract_start": value, "public_report": "on"})
    assert response.status_code == 400
    body = response.content.decode()
    error = body.index('id="id_aci_contract_start-error"')
    assert message in body[error : error + 300]
    assert 'aria-invalid="true"' in body
    assert not ReportingSettings.objects.filter(cpts=cpts).exists()
    assert not AuditLog.objects.filter(action=AuditAction.UPDATE).exists()


@pytest.mark.parametrize("role", [Role.OBSERVER, Role.REFERRER, Role.GP, Role.CPAM_MEDIATOR])
def test_other_roles_are_refused(client, cpts, role):
    client.force_login(MembershipFactory(cpts=cpts, role=role).user)
    home = client.get(reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug}))
    assert url(cpts) not in home.content.decode()
    assert client.get(url(cpts)).status_code == 404
    response = client.post(url(cpts), {"aci_contract_start": "2025-01-01", "public_report": "on"})
    assert response.status_code == 404
    assert not ReportingSettings.objects.filter(cpts=cpts).exists()


def test_anonymous_goes_to_login_and_another_cpts_coordinator_gets_404(client, cpts):
    assert client.get(url(cpts)).status_code == 302
    as_coordinator(client, CPTSFactory())
    assert client.get(url(cpts)).status_code == 404


def test_platform_admin_may_change_the_settings(client, cpts):
    client.force_login(UserFactory(platform_admin=True))
    response = client.post(url(cpts), {"aci_contract_start": "2024-07-01"})
    assert response.status_code == 302
    assert ReportingSettings.objects.get(cpts=cpts).aci_contract_start == datetime.date(2024, 7, 1)


def test_coordinator_sets_the_projection_rate_and_default_count(client, cpts):
    as_coordinator(client, cpts)
    body = client.get(url(cpts)).content.decode()
    assert 'value="20"' in body and 'value="1000"' in body  # the defaults, shown
    done = client.post(
        url(cpts),
        {
            "aci_contract_start": "2025-01-01",
            "senior_departure_rate": "15",
            "default_patient_count": "850",
        },
    )
    assert done.status_code == 302
    stored = ReportingSettings.objects.get(cpts=cpts)
    assert (stored.senior_departure_rate, stored.default_patient_count) == (15, 850)
    wrong = client.post(
        url(cpts), {"aci_contract_start": "2025-01-01", "senior_departure_rate": "140"}
    )
    assert wrong.status_code == 400
    assert "Saisissez un nombre entier de 0 à 100." in wrong.content.decode()
    assert ReportingSettings.objects.get(cpts=cpts).senior_departure_rate == 15


def test_coordinator_sets_the_retention_of_closed_requests(client, cpts, settings):
    """Issue 14: the CPTS's own period, 1 to 36 months, audited, shown in the privacy notice."""
    from accesmt.intake.models import IntakeSettings

    settings.CLOSED_REQUEST_RETENTION_DAYS = 730
    as_coordinator(client, cpts)
    body = client.get(url(cpts)).content.decode()
    assert 'name="closed_retention_months"' in body and 'value="24"' in body  # the default
    for value, error in (
        ("0", "La durée de conservation est d&#x27;au moins 1 mois."),
        ("37", "La durée de conservation est de 36 mois au plus."),
        ("douze", "Saisissez un nombre entier de mois, de 1 à 36."),
    ):
        wrong = client.post(
            url(cpts), {"aci_contract_start": "2025-01-01", "closed_retention_months": value}
        )
        assert wrong.status_code == 400
        assert error in wrong.content.decode()
    assert not IntakeSettings.objects.filter(cpts=cpts).exists()
    audited = AuditLog.objects.filter(object_type="intake.intakesettings").count()
    done = client.post(
        url(cpts), {"aci_contract_start": "2025-01-01", "closed_retention_months": "18"}
    )
    assert done.status_code == 302
    assert IntakeSettings.objects.get(cpts=cpts).closed_retention_months == 18
    assert (
        AuditLog.objects.filter(
            object_type="intake.intakesettings", action=AuditAction.UPDATE
        ).count()
        == audited + 1
    )
    privacy = client.get(reverse("intake:privacy", kwargs={"cpts_slug": cpts.slug}))
    assert 'data-period="closed_requests">18 mois<' in privacy.content.decode()
    # Left empty: unchanged, and no new audit line.
    client.post(url(cpts), {"aci_contract_start": "2025-01-01", "closed_retention_months": ""})
    assert IntakeSettings.objects.get(cpts=cpts).closed_retention_months == 18
    assert AuditLog.objects.filter(object_type="intake.intakesettings").count() == audited + 1
