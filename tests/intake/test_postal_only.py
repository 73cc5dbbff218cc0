"""A person with neither phone nor e-mail, registered by the coordination during a call: the
postal address is the only contact and every message becomes a letter to print
("Courriers à imprimer"), through HTTP."""

import html
import re

import pytest
from django.urls import reverse

from accesmt.accounts.models import AuditLog
from accesmt.intake.models import Channel, Request
from accesmt.notifications.delivery import deliver_due
from accesmt.notifications.models import OutboxMessage
from tests.accounts.factories import MembershipFactory

from .test_channels import pro_data
from .test_public import form_data, url

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def coordinator(client, territory):
    user = MembershipFactory(cpts=territory["lievin"], role="coordinator").user
    client.force_login(user)
    return user


def _phone_url(cpts):
    return reverse("intake:phone_entry", kwargs={"cpts_slug": cpts.slug})


def _letters_url(cpts):
    return reverse("orientation:letters", kwargs={"cpts_slug": cpts.slug})


def test_phone_entry_with_only_a_postal_address_is_stored_and_its_letter_listed_to_print(
    client, territory, coordinator
):
    cpts = territory["lievin"]
    data = pro_data(oral_consent="on", phone="", email="")
    refused = client.post(_phone_url(cpts), data)
    assert refused.status_code == 200
    assert "contact par courrier postal uniquement" in text(refused)
    assert Request.objects.count() == 0

    response = client.post(_phone_url(cpts), {**data, "postal_only": "on"})
    assert response.status_code == 302
    request = Request.objects.get()
    assert (request.channel, request.phone, request.email) == (Channel.PHONE, "", "")
    assert request.address == "12 rue Jean Jaurès"
    [letter] = OutboxMessage.objects.all()
    assert (letter.channel, letter.topic, letter.status) == (
        "letter",
        "intake.acknowledgment",
        "pending",
    )
    assert request.reference in letter.body and "Lefebvre" not in letter.body
    assert "Contact par courrier postal uniquement" in text(client.get(response["Location"]))

    home = text(client.get(reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})))
    assert "Courriers à imprimer (1)" in home
    page = text(client.get(_letters_url(cpts)))
    assert request.reference in page and "Accusé de réception de la demande" in page
    assert "Lefebvre" not in page and "Jean Jaurès" not in page
    assert AuditLog.objects.filter(
        actor=coordinator, action="read", object_type="intake.request", object_id=str(request.pk)
    ).exists()

    pdf_url = reverse("orientation:letter_pdf", kwargs={"cpts_slug": cpts.slug, "pk": letter.pk})
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf["Cache-Control"] == "no-store"
    assert AuditLog.objects.filter(
        actor=coordinator, action="export", object_id=str(request.pk)
    ).exists()

    assert deliver_due().claimed == 0  # a worker never takes a letter
    done = client.post(_letters_url(cpts), {"message": letter.pk, "action": "sent"}, follow=True)
    assert "Courrier marqué comme envoyé" in text(done)
    assert "Courriers à imprimer (0)" in text(done)
    letter.refresh_from_db()
    assert letter.status == "sent" and letter.sent_at is not None


def test_public_form_still_needs_a_phone_or_an_email(client, territory):
    cpts = territory["lievin"]
    response = client.post(url(cpts), form_data(phone="", email="", postal_only="on"))
    assert response.status_code == 200
    assert "appelez la CPTS" in text(response)
    assert Request.objects.count() == 0


def test_coordinator_edit_keeps_a_postal_only_request(client, territory, coordinator):
    cpts = territory["lievin"]
    data = pro_data(oral_consent="on", phone="", email="", postal_only="on")
    client.post(_phone_url(cpts), data)
    request = Request.objects.get()
    edit_url = reverse(
        "intake_staff:request_edit", kwargs={"cpts_slug": cpts.slug, "reference": request.reference}
    )
    page = text(client.get(edit_url))
    [checkbox] = re.findall(r"<input[^>]*name=\"postal_only\"[^>]*>", page)
    assert "checked" in checkbox
