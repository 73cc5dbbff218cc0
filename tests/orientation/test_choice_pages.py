"""After the GP's "yes" and the person's choice (issue 13, point 5): the GP's « Et maintenant ? »,
the distance from home on the person's choice page, the chosen GP and the next step, and the
confirmation before « Aucun n'a pu me recevoir »."""

import html
import re

import pytest
from django.urls import reverse

from accesmt.intake.models import Status
from accesmt.intake.services import followup_path
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.models import AnswerChannel, Placement
from accesmt.orientation.services import solicitation_answer, solicitation_token
from tests.accounts.factories import MembershipFactory, UserFactory


def words(response) -> str:
    page = html.unescape(response.content.decode())
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def answer_url(s):
    return reverse("orientation:answer", kwargs={"token": solicitation_token(s)})


@pytest.fixture
def choice_url(o):
    token = followup_path(o.request).rstrip("/").split("/")[-1]
    return reverse("orientation:patient_choice", kwargs={"token": token})


@pytest.fixture
def offered(o):
    """Three GPs (1, 2 and 3 km away) accepted: the person chooses."""
    created = o.ask(*o.gps[:3])
    for s in created:
        solicitation_answer(solicitation=s, accept=True, channel=AnswerChannel.LINK)
    o.request.refresh_from_db()
    assert o.request.status == Status.AWAITING_CHOICE
    return created


# --- the GP, after their "yes" ------------------------------------------------------------------


def test_the_gp_who_accepts_reads_what_happens_next(client, o):
    first, second, _ = o.ask(*o.gps[:3])
    assert "Et maintenant ?" not in words(client.get(answer_url(first)))
    page = words(client.post(answer_url(first), {"choice": "accept"}, follow=True))
    assert "Merci : vous avez accepté ce foyer." in page
    assert "Et maintenant ?" in page
    assert "Dès que 3 médecins auront accepté (ou qu'il n'en restera plus à solliciter)" in page
    assert f"en donnant la référence {o.request.reference} : ses coordonnées ne vous" in page
    assert "vous recevez un e-mail et cette page l'affiche" in page
    assert "déclaration de choix du médecin traitant" in page and "carte Vitale" in page
    assert "Voir les autres foyers en attente" not in page  # no account
    # A GP with an account is sent back to their list; once the person has the list, it says so.
    MembershipFactory(cpts=o.cpts, user=UserFactory(email=o.gps[1].email), role="gp")
    client.post(answer_url(second), {"choice": "accept"})
    page = words(client.get(answer_url(second)))
    households = reverse("orientation:gp_households", kwargs={"cpts_slug": o.cpts.slug})
    assert "Voir les autres foyers en attente près de chez vous" in page
    assert f'href="{households}"' in client.get(answer_url(second)).content.decode()


def test_once_the_person_has_the_list_the_gp_reads_so(client, o, offered):
    page = words(client.get(answer_url(offered[0])))
    assert "La personne a reçu les coordonnées de votre cabinet" in page
    assert "Ce patient est désormais le mien" in page


# --- the person -------------------------------------------------------------------------------


def test_the_distance_from_home_is_shown_only_from_a_geocoded_address(
    client, o, offered, choice_url
):
    o.request.geocode_source = "address"
    o.request.save(update_fields=["geocode_source"])
    page = words(client.get(choice_url))
    for km in ("1,0", "2,0", "3,0"):
        assert f"À {km} km de chez vous" in page
    o.request.geocode_source = "commune_centre"  # the centre of the commune is not the home
    o.request.save(update_fields=["geocode_source"])
    assert "de chez vous" not in words(client.get(choice_url))


def test_after_the_choice_the_page_shows_the_gp_and_the_next_step(client, o, offered, choice_url):
    response = client.post(choice_url, {"practitioner": o.gps[2].pk})
    assert response.status_code == 302 and response["Location"] == choice_url
    response = client.get(choice_url)
    page = words(response)
    assert "Merci ! Votre choix est enregistré." in page
    assert "Votre médecin traitant" in page
    assert "MEDECIN3" in page and "3 rue du Marché" in page
    assert "MEDECIN2" not in page  # the others are no longer offered
    assert 'href="tel:03 21 44 55 03"' in response.content.decode()
    assert "prenez rendez-vous" in page
    assert "déclarez ensemble ce médecin comme votre médecin traitant" in page
    assert "Dites-nous quand la déclaration est faite" in page
    assert "Enregistrer mon choix" not in page
    assert Placement.objects.get().practitioner == o.gps[2]


def test_none_could_see_me_asks_for_confirmation_and_changes_nothing_until_then(
    client, o, offered, choice_url
):
    transitions = o.request.transitions.count()
    response = client.post(choice_url, {"none": "1"})
    assert response.status_code == 200
    page = words(response)
    assert "Aucun de ces médecins n'a pu vous recevoir ?" in page
    assert "Oui, reprendre la recherche" in page and "Non, revenir aux médecins proposés" in page
    o.request.refresh_from_db()
    assert o.request.status == Status.AWAITING_CHOICE
    assert o.request.transitions.count() == transitions
    assert not OutboxMessage.objects.filter(topic="orientation.none_suited").exists()
    assert o.request.solicitations.filter(status="accepted").count() == 3
    # confirmed: back to the queue
    client.post(choice_url, {"none": "1", "confirm": "1"})
    o.request.refresh_from_db()
    assert o.request.status == Status.WAITING
    assert OutboxMessage.objects.filter(topic="orientation.none_suited").count() == 1
