"""The public registration page, through HTTP."""

import datetime
import html
import importlib
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.intake.models import (
    Channel,
    HouseholdMember,
    IntakeAttempt,
    IntakeSettings,
    Request,
    RequestTransition,
    Status,
)

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "submission_key": str(uuid.uuid4()),
        "phone": "06 12 34 56 78",
        "email": "",
        "address": "12 rue Jean Jaurès",
        "postcode": "62800",
        "commune_name": "Liévin",
        "reason": "mt_retired",
        "coverage": "regime_general",
        "consent_processing": "on",
        "consent_sharing": "on",
        "website": "",
        "membres-TOTAL_FORMS": "1",
        "membres-INITIAL_FORMS": "0",
        "membres-MIN_NUM_FORMS": "1",
        "membres-MAX_NUM_FORMS": "12",
        "membres-0-first_name": "Josiane",
        "membres-0-last_name": "Lefebvre",
        "membres-0-birth_date": "1947-03-12",
        "membres-0-home_visits": "never",
    }
    data.update(overrides)
    return data


def url(cpts):
    return reverse("intake:register", kwargs={"cpts_slug": cpts.slug})


def test_page_shows_form_with_consent_and_privacy_link(client, territory):
    response = client.get(url(territory["lievin"]))
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert 'name="consent_processing"' in page and 'name="consent_sharing"' in page
    assert reverse("intake:privacy", kwargs={"cpts_slug": "lievin"}) in page
    assert 'name="submission_key"' in page
    assert "Ajouter une personne du foyer" in page


def test_unknown_cpts_is_404(client, territory):
    assert client.get("/inconnue/inscription/").status_code == 404


def test_success_stores_request_and_shows_acknowledgment(client, territory):
    response = client.post(url(territory["lievin"]), form_data(), follow=True)
    request = Request.objects.get()
    assert request.channel == Channel.ONLINE and request.status == Status.NEW
    assert request.phone == "+33612345678"
    assert request.commune == territory["communes"]["Liévin"]
    assert request.is_priority  # born 1947: 70+
    assert list(request.priority_reasons.values_list("rule_code", flat=True)) == ["senior"]
    assert request.consent_text_version and request.consented_at
    assert request.geocode_source  # fallback when the BAN is unreachable
    member = HouseholdMember.objects.get()
    assert member.is_contact_person and member.normalised_name == "lefebvrejosiane"
    assert RequestTransition.objects.get(request=request).from_status == ""
    page = html.unescape(response.content.decode())
    assert request.reference in page
    assert "/suivi/" in page
    assert "116 117" in page


def test_double_submit_creates_one_request(client, territory):
    data = form_data()
    first = client.post(url(territory["lievin"]), data)
    second = client.post(url(territory["lievin"]), data)
    assert first.status_code == second.status_code == 302
    assert Request.objects.count() == 1
    page = client.get(second["Location"]).content.decode()
    assert Request.objects.get().reference in page


def test_honeypot_stores_nothing(client, territory):
    response = client.post(url(territory["lievin"]), form_data(website="http://spam.example"))
    assert response.status_code == 200
    assert Request.objects.count() == 0
    assert "MT-" not in html.unescape(response.content.decode())


def test_rate_limit_per_address(client, territory):
    IntakeSettings.objects.create(cpts=territory["lievin"], submissions_per_hour=2)
    for name in ("Un", "Deux"):
        data = form_data(**{"membres-0-last_name": name})
        assert client.post(url(territory["lievin"]), data).status_code == 302
    assert client.post(url(territory["lievin"]), data).status_code == 302  # re-sent: same ack
    response = client.post(url(territory["lievin"]), form_data(address="3 rue Gambetta"))
    assert response.status_code == 429
    assert Request.objects.count() == 2
    page = html.unescape(response.content.decode())
    assert "Trop de demandes envoyées depuis cette connexion" in page
    assert "3 rue Gambetta" in page  # what was typed is kept
    assert IntakeAttempt.objects.count() == 2  # stored requests only
    assert all(
        len(a.ip_digest) == 64 and "127.0.0.1" not in a.ip_digest
        for a in IntakeAttempt.objects.all()
    )
    other = client.post(url(territory["lievin"]), form_data(), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_refused_submissions_do_not_count_against_the_limit(client, territory):
    IntakeSettings.objects.create(cpts=territory["lievin"], submissions_per_hour=2)
    data = form_data(phone="12")
    for _ in range(6):  # corrected again and again
        assert client.post(url(territory["lievin"]), data).status_code == 200
    ineligible = form_data(postcode="62300", commune_name="Lens")
    assert client.post(url(territory["lievin"]), ineligible).status_code == 200
    assert IntakeAttempt.objects.count() == 0
    assert client.post(url(territory["lievin"]), form_data()).status_code == 302
    assert Request.objects.count() == 1


def test_default_limit_fits_a_shared_connection(client, territory):
    """A help desk, a family or a mobile operator's shared address registers many households."""
    for index in range(12):
        data = form_data(**{"membres-0-last_name": f"Foyer{index}"})
        assert client.post(url(territory["lievin"]), data).status_code == 302
    assert Request.objects.count() == 12


def test_the_same_household_is_limited_whatever_the_address(client, territory):
    for index in range(3):  # the page reloaded and sent again: a new key each time
        response = client.post(url(territory["lievin"]), form_data(), REMOTE_ADDR=f"10.0.1.{index}")
        assert response.status_code == 302
    response = client.post(url(territory["lievin"]), form_data(), REMOTE_ADDR="10.0.2.1")
    assert response.status_code == 429
    assert "Cette demande a déjà été enregistrée" in html.unescape(response.content.decode())
    assert Request.objects.count() == 3
    other = form_data(**{"membres-0-first_name": "Lucie"})
    assert client.post(url(territory["lievin"]), other, REMOTE_ADDR="10.0.2.1").status_code == 302


def test_ineligible_commune_points_to_covering_cpts(client, territory):
    response = client.post(
        url(territory["lievin"]), form_data(postcode="62300", commune_name="Lens")
    )
    page = html.unescape(response.content.decode())
    assert Request.objects.count() == 0
    assert "CPTS Lens Hénin" in page
    assert reverse("intake:register", kwargs={"cpts_slug": "lens"}) in page
    assert "Lefebvre" in page  # input kept


def test_commune_covered_by_no_cpts_gets_a_kind_answer(client, territory):
    response = client.post(
        url(territory["lievin"]), form_data(postcode="62000", commune_name="Arras")
    )
    assert "Aucune CPTS de cette plateforme" in html.unescape(response.content.decode())
    assert Request.objects.count() == 0


def test_errors_are_listed_and_tied_to_fields_and_input_is_kept(client, territory):
    data = form_data(
        phone="12",
        **{"membres-0-birth_date": "2090-01-01", "membres-0-nir": "123"},
        comment="Merci beaucoup",
    )
    del data["consent_sharing"]
    response = client.post(url(territory["lievin"]), data)
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert Request.objects.count() == 0
    assert 'class="error-summary"' in page
    assert 'href="#id_phone"' in page
    assert (
        'aria-invalid="true"' in page and 'aria-describedby="id_phone-hint id_phone-error"' in page
    )
    assert "Ce numéro de téléphone n'est pas valide" in page
    assert "La date de naissance ne peut pas être dans le futur." in page
    assert "Votre accord est nécessaire pour que la CPTS puisse contacter" in page
    assert "Merci beaucoup" in page and "Lefebvre" in page


def test_no_contact_is_refused_with_a_way_out(client, territory):
    response = client.post(url(territory["lievin"]), form_data(phone="", email=""))
    assert "appelez la CPTS" in html.unescape(response.content.decode())
    assert Request.objects.count() == 0


def test_postcode_shared_by_two_communes_needs_the_name(client, territory):
    response = client.post(url(territory["lievin"]), form_data(commune_name=""))
    assert "Plusieurs communes ont ce code postal" in html.unescape(response.content.decode())
    response = client.post(url(territory["lievin"]), form_data(commune_name="eleu dit leauwette"))
    assert response.status_code == 302
    assert Request.objects.get().commune.name == "Éleu-dit-Leauwette"


def test_add_member_without_javascript_then_submit_household(client, territory):
    data = form_data(add_member="1")
    response = client.post(url(territory["lievin"]), data)
    page = html.unescape(response.content.decode())
    assert Request.objects.count() == 0
    assert 'name="membres-1-first_name"' in page
    assert 'value="Lefebvre"' in page
    assert "error-summary" not in page
    data = form_data(
        **{
            "submission_key": data["submission_key"],
            "membres-TOTAL_FORMS": "3",
            "membres-1-first_name": "Lou",
            "membres-1-last_name": "Lefebvre",
            "membres-1-birth_date": "22/08/2022",
            "membres-1-home_visits": "never",
            "membres-2-first_name": "",
            "membres-2-last_name": "",
            "membres-2-birth_date": "",
            "membres-2-home_visits": "never",
        }
    )
    assert client.post(url(territory["lievin"]), data).status_code == 302
    request = Request.objects.get()
    assert request.members.count() == 2
    assert sorted(request.priority_reasons.values_list("rule_code", flat=True)) == [
        "senior",
        "young_child",
    ]


def test_privacy_notice(client, territory):
    response = client.get(reverse("intake:privacy", kwargs={"cpts_slug": "lievin"}))
    page = html.unescape(response.content.decode())
    assert "CPTS Liévin Pays d'Artois" in page
    assert "lien de suivi" in page and "CNIL" in page


def test_acknowledgment_without_submission_goes_back_to_form(client, territory):
    response = client.get(reverse("intake:acknowledgment", kwargs={"cpts_slug": "lievin"}))
    assert response.status_code == 302


def test_acknowledgment_link_uses_public_base_url_never_the_host_header(
    client, territory, settings
):
    from accesmt.notifications.models import OutboxMessage

    settings.PUBLIC_BASE_URL = "https://accesmt.example.org"
    settings.ALLOWED_HOSTS = ["*"]
    client.post(url(territory["lievin"]), form_data(), HTTP_HOST="evil.example")
    messages = OutboxMessage.objects.filter(topic="intake.acknowledgment")
    assert messages.exists()
    for message in messages:
        assert "https://accesmt.example.org/suivi/" in message.body
        assert "evil.example" not in message.body


def test_acknowledgment_shows_followup_link_from_public_base_url(client, territory, settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example.org"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]
    response = client.post(
        url(territory["lievin"]), form_data(), follow=True, HTTP_HOST="evil.example"
    )
    page = html.unescape(response.content.decode())
    assert "https://accesmt.example.org/" in page
    assert "evil.example" not in page


def test_stored_settings_at_the_old_limit_are_raised_by_the_migration(territory):
    from django.apps import apps

    migration = importlib.import_module(
        "accesmt.intake.migrations.0007_intakesettings_higher_limit_per_address"
    )
    old = IntakeSettings.objects.create(cpts=territory["lievin"], submissions_per_hour=5)
    chosen = IntakeSettings.objects.create(cpts=territory["lens"], submissions_per_hour=12)
    migration.raise_old_default(apps, None)
    old.refresh_from_db()
    chosen.refresh_from_db()
    assert (old.submissions_per_hour, chosen.submissions_per_hour) == (30, 12)


def test_cpts_phone_is_a_tel_link(client, territory):
    page = client.get(url(territory["lievin"])).content.decode()
    assert '<a href="tel:+33321000000">03 21 00 00 00</a>' in page


def test_added_person_is_focused_with_the_household_name_and_ignored_if_left_empty(
    client, territory
):
    data = form_data(add_member="1")
    page = html.unescape(client.post(url(territory["lievin"]), data).content.decode())
    # The response lands on the new person: the next add points at them, their field autofocus.
    assert 'formaction="#id_membres-2-first_name"' in page
    first_name = re.search(r'<input[^>]*name="membres-1-first_name"[^>]*>', page).group()
    assert "autofocus" in first_name
    last_name = re.search(r'<input[^>]*name="membres-1-last_name"[^>]*>', page).group()
    assert 'value="Lefebvre"' in last_name
    # Sent as is (nothing typed but the name filled in for them): one person is stored.
    data = form_data(
        **{
            "membres-TOTAL_FORMS": "2",
            "membres-1-last_name": "Lefebvre",
            "membres-1-home_visits": "never",
        }
    )
    assert client.post(url(territory["lievin"]), data).status_code == 302
    assert Request.objects.get().members.count() == 1


def test_remove_a_person_without_javascript(client, territory):
    three = {
        "membres-TOTAL_FORMS": "3",
        "membres-1-first_name": "Lou",
        "membres-1-last_name": "Lefebvre",
        "membres-2-first_name": "Jules",
        "membres-2-last_name": "Lefebvre",
    }
    page = client.post(url(territory["lievin"]), form_data(remove_member="1", **three))
    page = html.unescape(page.content.decode())
    assert Request.objects.count() == 0
    assert 'value="Jules"' in page and 'value="Lou"' not in page
    assert 'name="membres-TOTAL_FORMS" value="2"' in page
    assert "Retirer la personne" in page and "error-summary" not in page
    # The contact person cannot be removed, nor a person who is not there.
    for index in ("0", "7", "x"):
        page = client.post(url(territory["lievin"]), form_data(remove_member=index, **three))
        page = html.unescape(page.content.decode())
        assert 'value="Lou"' in page and 'value="Jules"' in page


def test_optional_situation_opens_when_given(client, territory):
    page = html.unescape(client.get(url(territory["lievin"])).content.decode())
    assert "<details>\n      <summary>Préciser la situation (facultatif)" in page
    response = client.post(url(territory["lievin"]), form_data(phone="", comment="Merci"))
    page = html.unescape(response.content.decode())
    assert "<details open>\n      <summary>Préciser la situation (facultatif)" in page


def test_the_hourly_job_forgets_attempts_older_than_a_day_and_the_limit_still_holds(
    client, territory
):
    """The per-address counts of the public form are purged by a periodic job, not by each
    registration: a day-old attempt goes, one of the last hour stays and still counts."""
    from accesmt.intake.services import intake_attempts_forget
    from accesmt.notifications import jobs

    IntakeSettings.objects.create(cpts=territory["lievin"], submissions_per_hour=1)
    assert client.post(url(territory["lievin"]), form_data()).status_code == 302
    recent = IntakeAttempt.objects.get()
    old = IntakeAttempt.objects.create(
        ip_digest=recent.ip_digest,
        cpts=territory["lievin"],
        at=timezone.now() - datetime.timedelta(days=1, minutes=1),
    )
    assert "intake.attempts_forget" in jobs.registered()
    assert intake_attempts_forget() == 1
    assert list(IntakeAttempt.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not IntakeAttempt.objects.filter(pk=old.pk).exists()
    refused = client.post(url(territory["lievin"]), form_data(address="3 rue Gambetta"))
    assert refused.status_code == 429
