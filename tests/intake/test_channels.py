"""Referral, phone entry, follow-up link and duplicate detection, through HTTP."""

import html
import time

import pytest
from django.core import signing
from django.urls import reverse

from accesmt.accounts.models import AuditLog
from accesmt.intake.models import (
    Channel,
    DuplicateFlag,
    DuplicateReason,
    IntakeSettings,
    Request,
    RequestTransition,
    Status,
)
from accesmt.intake.services import FOLLOWUP_SALT, followup_path
from tests.accounts.factories import MembershipFactory

from .factories import HouseholdMemberFactory, RequestFactory
from .test_public import form_data

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def pro_data(**overrides):
    data = form_data(**overrides)
    for key in ("consent_processing", "consent_sharing", "website"):
        data.pop(key, None)
    return data


# --- referral ------------------------------------------------------------------------------


def test_referrer_refers_a_patient_and_sees_the_status(client, territory):
    cpts = territory["lievin"]
    referrer = MembershipFactory(cpts=cpts, role="referrer").user
    client.force_login(referrer)
    refer_url = reverse("intake:refer", kwargs={"cpts_slug": cpts.slug})
    page = text(client.get(refer_url))
    assert "J'atteste être le professionnel" in page
    refused = client.post(refer_url, pro_data())
    assert "Cochez l'attestation" in text(refused)
    assert Request.objects.count() == 0
    response = client.post(refer_url, pro_data(attestation="on"), follow=True)
    request = Request.objects.get()
    assert request.channel == Channel.REFERRAL
    assert request.referrer == referrer and request.referrer_attested_consent
    assert request.created_by == referrer
    assert AuditLog.objects.filter(action="create", object_id=str(request.pk)).exists()
    page = text(response)
    assert request.reference in page and "Nouvelle" in page.title()
    assert "Lefebvre" not in page  # the list shows the status, not the person


def test_referrals_list_shows_only_own_referrals(client, territory):
    cpts = territory["lievin"]
    me = MembershipFactory(cpts=cpts, role="referrer").user
    colleague = MembershipFactory(cpts=cpts, role="referrer").user
    mine = RequestFactory(
        cpts=cpts, channel=Channel.REFERRAL, referrer=me, referrer_attested_consent=True
    )
    theirs = RequestFactory(
        cpts=cpts, channel=Channel.REFERRAL, referrer=colleague, referrer_attested_consent=True
    )
    client.force_login(me)
    page = text(client.get(reverse("intake:my_referrals", kwargs={"cpts_slug": cpts.slug})))
    assert mine.reference in page and theirs.reference not in page


def test_gp_cannot_refer(client, territory):
    cpts = territory["lievin"]
    client.force_login(MembershipFactory(cpts=cpts, role="gp").user)
    assert client.get(reverse("intake:refer", kwargs={"cpts_slug": cpts.slug})).status_code == 404


# --- phone entry -----------------------------------------------------------------------------


def test_coordinator_phone_entry_records_oral_consent(client, territory):
    cpts = territory["lievin"]
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    client.force_login(coordinator)
    url = reverse("intake:phone_entry", kwargs={"cpts_slug": cpts.slug})
    page = text(client.get(url))
    assert "autofocus" in page and "accord oral" in page
    assert client.post(url, pro_data()).status_code == 200  # oral consent not ticked
    assert Request.objects.count() == 0
    data = pro_data(oral_consent="on", email="josiane@exemple.fr", phone="")
    response = client.post(url, data)
    assert response.status_code == 302
    assert client.post(url, data).status_code == 302  # re-sent: still one request
    request = Request.objects.get()
    assert request.channel == Channel.PHONE and request.consent_oral
    assert request.created_by == coordinator and request.referrer is None
    assert response["Location"] == reverse(
        "intake_staff:request_detail",
        kwargs={"cpts_slug": cpts.slug, "reference": request.reference},
    )


def test_referrer_cannot_use_phone_entry(client, territory):
    cpts = territory["lievin"]
    client.force_login(MembershipFactory(cpts=cpts, role="referrer").user)
    url = reverse("intake:phone_entry", kwargs={"cpts_slug": cpts.slug})
    assert client.get(url).status_code == 404


# --- follow-up link --------------------------------------------------------------------------


@pytest.fixture
def waiting_request(territory):
    request = RequestFactory(
        cpts=territory["lievin"], commune=territory["communes"]["Liévin"], status=Status.WAITING
    )
    HouseholdMemberFactory(request=request)
    return request


def test_followup_shows_status(client, waiting_request):
    page = text(client.get(followup_path(waiting_request)))
    assert waiting_request.reference in page
    assert "en attente d'un médecin" in page
    assert "06 12 34 56 78" in page


def test_followup_corrects_contact_details(client, territory, waiting_request):
    url = followup_path(waiting_request)
    data = {
        "contact-phone": "07 81 22 33 44",
        "contact-email": "nouvelle@exemple.fr",
        "contact-address": "5 place de la République",
        "contact-postcode": "62143",
        "contact-commune_name": "",
        "update": "1",
    }
    assert client.post(url, data).status_code == 302
    waiting_request.refresh_from_db()
    assert waiting_request.phone == "+33781223344"
    assert waiting_request.commune == territory["communes"]["Angres"]
    assert waiting_request.status == Status.WAITING
    assert AuditLog.objects.filter(action="update", object_id=str(waiting_request.pk)).exists()


def test_followup_refuses_bad_details_and_commune_outside(client, waiting_request):
    url = followup_path(waiting_request)
    base = {
        "contact-phone": "12",
        "contact-email": "",
        "contact-address": "1 rue X",
        "contact-postcode": "62800",
        "contact-commune_name": "Liévin",
        "update": "1",
    }
    assert "n'est pas valide" in text(client.post(url, base))
    moved = {
        **base,
        "contact-phone": "0611223344",
        "contact-postcode": "62300",
        "contact-commune_name": "",
    }
    assert "n'est pas couverte par la CPTS" in text(client.post(url, moved))
    waiting_request.refresh_from_db()
    assert waiting_request.phone == "+33612345678"


def test_followup_withdraw(client, waiting_request):
    url = followup_path(waiting_request)
    assert "Cochez la case" in text(client.post(url, {"withdraw": "1"}))
    response = client.post(url, {"withdraw": "1", "retrait-confirm": "on"}, follow=True)
    waiting_request.refresh_from_db()
    assert waiting_request.status == Status.CLOSED
    assert waiting_request.closed_reason == "withdrawn"
    line = RequestTransition.objects.get(request=waiting_request)
    assert line.by_patient and line.by is None
    assert "retirée" in text(response)
    assert "Retirer ma demande" not in text(client.get(url))


def test_tampered_or_expired_followup_link(client, waiting_request, settings):
    token = followup_path(waiting_request).split("/")[2]
    response = client.get(reverse("intake:followup", kwargs={"token": token[:-2] + "xx"}))
    assert response.status_code == 404 and "a été modifié" in text(response)
    forged = signing.dumps({"r": waiting_request.pk}, salt="autre-sel")
    assert client.get(reverse("intake:followup", kwargs={"token": forged})).status_code == 404
    IntakeSettings.objects.create(cpts=waiting_request.cpts, follow_up_link_days=5)

    class SignedSixDaysAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 6 * 86400)

    old = SignedSixDaysAgo(salt=FOLLOWUP_SALT).sign_object({"r": waiting_request.pk}, compress=True)
    response = client.get(reverse("intake:followup", kwargs={"token": old}))
    assert response.status_code == 404 and "a expiré" in text(response)


# --- duplicates ------------------------------------------------------------------------------


def test_duplicate_same_name_and_birth_date_in_other_cpts(client, territory):
    other = RequestFactory(cpts=territory["lens"], commune=territory["communes"]["Lens"])
    HouseholdMemberFactory(
        request=other, first_name="Josiane", last_name="LEFÈBVRE", birth_date="1947-03-12"
    )
    client.post(reverse("intake:register", kwargs={"cpts_slug": "lievin"}), form_data())
    new = Request.objects.get(cpts=territory["lievin"])
    flag = DuplicateFlag.objects.get(request=new)
    assert flag.other_request == other and not flag.same_cpts
    assert flag.reason == DuplicateReason.NAME_BIRTH_DATE


def test_duplicate_same_nir_and_closed_requests_ignored(client, territory):
    from stdnum.fr import nir

    number = "2470362510123" + nir.calc_check_digits("2470362510123")
    same = RequestFactory(cpts=territory["lievin"], commune=territory["communes"]["Liévin"])
    HouseholdMemberFactory(request=same, first_name="J.", last_name="Autre", nir=number)
    closed = RequestFactory(
        cpts=territory["lievin"], commune=territory["communes"]["Liévin"], closed=True
    )
    HouseholdMemberFactory(
        request=closed, first_name="Josiane", last_name="Lefebvre", birth_date="1947-03-12"
    )
    client.post(
        reverse("intake:register", kwargs={"cpts_slug": "lievin"}),
        form_data(**{"membres-0-nir": number[:5] + " " + number[5:]}),
    )
    new = Request.objects.exclude(pk__in=[same.pk, closed.pk]).get()
    flags = list(DuplicateFlag.objects.filter(request=new))
    assert [(f.other_request, f.reason, f.same_cpts) for f in flags] == [(same, "nir", True)]
