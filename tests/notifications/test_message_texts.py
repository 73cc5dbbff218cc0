"""The message texts moved to templates read word for word as the former f-strings did, for a
fixed context (a template change that alters a word fails here)."""

import pytest

from accesmt.notifications.messages import render_message

CPTS = "CPTS du Val"
LINK = "https://accesmt.example/suivi/abc/"
REFERENCE = "AMT-2026-0042"
OFFER = "- Dr Anne Martin, 1 rue Haute, tél. 01 02 03 04 05"


@pytest.mark.parametrize("reminder", [False, True])
def test_survey_email_reads_as_before(reminder):
    first = (
        "Petit rappel : vous n'avez pas encore répondu à l'enquête de disponibilité de "
        if reminder
        else "Votre CPTS vous demande de mettre à jour vos disponibilités pour de nouveaux "
        "patients, en une minute, auprès de "
    )
    subject, body = render_message(
        "directory/messages/survey_email.txt",
        {"cpts_name": CPTS, "days": 30, "link": LINK, "reminder": reminder},
        subject_template="directory/messages/survey_subject.txt",
    )
    assert subject == (
        f"Rappel : vos disponibilités – {CPTS}" if reminder else f"Vos disponibilités – {CPTS}"
    )
    assert body == (
        f"Bonjour,\n\n{first}{CPTS}.\n\n"
        f"Votre lien personnel (valable 30 jours, ne le transférez pas) :\n"
        f"{LINK}\n\n"
        "Vous choisissez d'apparaître ou non sur la carte publique ; votre capacité n'est "
        "jamais publiée.\n\nMerci."
    )


@pytest.mark.parametrize("cpts_phone", ["", "01 23 45 67 89"])
def test_offer_letter_reads_as_before(cpts_phone):
    subject, body = render_message(
        "orientation/messages/offer_letter.txt",
        {"offer": OFFER, "reference": REFERENCE, "cpts_phone": cpts_phone},
        subject_template="orientation/messages/request_subject.txt",
    )
    phone = f" au {cpts_phone}" if cpts_phone else ""
    assert subject == f"Votre demande de médecin traitant — référence {REFERENCE}"
    assert body == (
        "Madame, Monsieur,\n\nCes médecins ont accepté de vous accueillir comme nouveau patient :"
        f"\n\n{OFFER}\n\n"
        "Choisissez librement l'un d'eux et appelez son cabinet pour un premier rendez-vous, "
        f"en donnant votre référence {REFERENCE}. Lors de ce rendez-vous, vous pourrez "
        "déclarer ce médecin comme votre médecin traitant.\n\n"
        f"Prévenez ensuite la coordination de votre choix{phone}. Si aucun de ces médecins ne "
        "peut vous recevoir, appelez-nous également : nous reprendrons la recherche."
    )


def test_restarted_message_reads_as_before():
    context = {"cpts_name": CPTS, "reference": REFERENCE, "link": LINK}
    text = (
        f"La {CPTS} reprend la recherche d'un médecin traitant pour vous ; "
        "vous gardez votre ancienneté. Suivi :"
    )
    letter_text = (
        f"La {CPTS} reprend la recherche d'un médecin traitant pour vous ; "
        "vous gardez votre ancienneté. Nous vous écrirons dès que des médecins "
        "pourront vous accueillir."
    )
    subject, email = render_message(
        "orientation/messages/restarted_email.txt",
        context,
        subject_template="orientation/messages/request_subject.txt",
    )
    assert subject == f"Votre demande de médecin traitant — référence {REFERENCE}"
    assert email == f"Bonjour,\n\n{text}\n{LINK}\n\nLa coordination de la {CPTS}"
    sms = render_message("orientation/messages/restarted_sms.txt", context)[1]
    assert sms == f"{CPTS} : {text} {LINK}"
    letter = render_message("orientation/messages/restarted_letter.txt", context)[1]
    assert letter == f"Madame, Monsieur,\n\n{letter_text}"


@pytest.mark.parametrize("cpts_phone", ["", "01 23 45 67 89"])
def test_letter_footer_reads_as_before(cpts_phone):
    footer = render_message(
        "intake/messages/letter_footer.txt", {"cpts_phone": cpts_phone, "reference": REFERENCE}
    )[1]
    phone = f" au {cpts_phone}" if cpts_phone else ""
    assert footer == (
        "Pour toute question, pour corriger vos coordonnées ou retirer votre "
        f"demande, appelez la coordination{phone} en donnant votre référence "
        f"{REFERENCE}."
    )
