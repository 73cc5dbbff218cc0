"""Messages of the orientation flow: to the GP asked, to the person, to the referrer (no name of
the person, no health data)."""

from __future__ import annotations

from collections.abc import Iterable

from accesmt.common.formats import long_date
from accesmt.common.links import public_url
from accesmt.common.phones import format_phone_for_display
from accesmt.intake.models import Request
from accesmt.intake.services import (
    followup_path,
    household_tell,
)
from accesmt.notifications.messages import render_message
from accesmt.notifications.services import outbox_enqueue

from ..models import Solicitation
from .links import solicitation_url

# --- messages (no name of the person, no health data) ------------------------------------------

MESSAGES = "orientation/messages/{}.txt"


def _ask_gp_message(solicitation: Solicitation, *, now, reminder: bool = False) -> dict | None:
    """The outbox fields (`outbox_enqueue`'s arguments) of the e-mail asking the GP of
    `solicitation`, None when the GP has no e-mail."""
    email = solicitation.practitioner.email
    if not email:
        return None  # the coordinator calls: the solicitation shows "à appeler"
    subject, body = render_message(
        MESSAGES.format("ask_gp_email"),
        {
            "cpts_name": solicitation.cpts.name,
            "link": solicitation_url(solicitation),
            "due": long_date(solicitation.answer_due_at, with_time=True),
            "reminder": reminder,
            "usual_gp": solicitation.is_usual_gp,
        },
        subject_template=MESSAGES.format("ask_gp_subject"),
    )
    return {
        "now": now,
        "channel": "email",
        "to": email,
        "subject": subject,
        "body": body,
        "topic": "orientation.reminder" if reminder else "orientation.ask",
        "cpts": solicitation.cpts,
        "related": solicitation,
        "dedup_key": f"orientation.{'reminder' if reminder else 'ask'}.{solicitation.pk}",
    }


def _ask_gp(solicitation: Solicitation, *, now, reminder: bool = False) -> None:
    if message := _ask_gp_message(solicitation, now=now, reminder=reminder):
        outbox_enqueue(**message)


def offer_text(request: Request, solicitations: Iterable[Solicitation]) -> str:
    """The list of GPs who accepted, for the person (e-mail, SMS and letter)."""
    lines = []
    for s in solicitations:
        site = s.site
        address = ""
        phone = ""
        if site is not None:
            address = ", ".join(site.address_lines)
            phone = (
                format_phone_for_display(site.phone) if site.phone.startswith("+") else site.phone
            )
        entry = f"- Dr {s.practitioner.first_name} {s.practitioner.last_name}".replace("  ", " ")
        if address:
            entry += f", {address}"
        if phone:
            entry += f", tél. {phone}"
        lines.append(entry)
    return "\n".join(lines)


def offer_letter(request: Request, accepted: Iterable[Solicitation]) -> tuple[str, str]:
    """(subject, body) of the letter listing the GPs who accepted, for a person with neither
    e-mail nor mobile."""
    return render_message(
        MESSAGES.format("offer_letter"),
        {
            "offer": offer_text(request, accepted),
            "reference": request.reference,
            "cpts_phone": request.cpts.phone,
        },
        subject_template=MESSAGES.format("request_subject"),
    )


def _tell_person(request: Request, *, now, topic: str, message: str) -> int:
    """The message `message` to the person (orientation/messages/<message>_email.txt, _sms.txt
    and _letter.txt, subject request_subject.txt): e-mail and/or SMS to a mobile ending with
    their follow-up link, or a letter (no link) when they have neither; returns how many were
    queued."""
    context = {
        "cpts_name": request.cpts.name,
        "reference": request.reference,
        "link": public_url(followup_path(request)),
    }
    subject, email_body = render_message(
        MESSAGES.format(f"{message}_email"),
        context,
        subject_template=MESSAGES.format("request_subject"),
    )
    return household_tell(
        now=now,
        request=request,
        topic=topic,
        subject=subject,
        email_body=email_body,
        sms_body=render_message(MESSAGES.format(f"{message}_sms"), context)[1],
        letter_body=render_message(MESSAGES.format(f"{message}_letter"), context)[1],
    )


def _tell_person_offer(request: Request, accepted: list[Solicitation], *, now) -> None:
    """The GPs who accepted, to the person: names, addresses and phones by e-mail, the link to
    them by SMS. Without e-mail or mobile, a letter for the coordination to print."""
    context = {
        "cpts_name": request.cpts.name,
        "reference": request.reference,
        "offer": offer_text(request, accepted),
        "link": public_url(followup_path(request)),
    }
    subject, email_body = render_message(
        MESSAGES.format("offer_email"), context, subject_template=MESSAGES.format("offer_subject")
    )
    letter_subject, letter_body = offer_letter(request, accepted)
    household_tell(
        now=now,
        request=request,
        topic="orientation.offer",
        subject=subject,
        email_body=email_body,
        sms_body=render_message(MESSAGES.format("offer_sms"), context)[1],
        letter_subject=letter_subject,
        letter_body=letter_body,
    )


def _tell_person_usual_gp(request: Request, solicitation: Solicitation, *, now) -> None:
    """The GP the person already sees accepts to become their médecin traitant: the person is
    asked to confirm on their follow-up page (e-mail and/or SMS; a letter asks them to call)."""
    context = {
        "cpts_name": request.cpts.name,
        "reference": request.reference,
        "offer": offer_text(request, [solicitation]),
        "link": public_url(followup_path(request)),
        "cpts_phone": request.cpts.phone,
    }
    subject, email_body = render_message(
        MESSAGES.format("usual_gp_accepted_email"),
        context,
        subject_template=MESSAGES.format("usual_gp_accepted_subject"),
    )
    household_tell(
        now=now,
        request=request,
        topic="orientation.usual_gp_accepted",
        subject=subject,
        email_body=email_body,
        sms_body=render_message(MESSAGES.format("usual_gp_accepted_sms"), context)[1],
        letter_subject=subject,
        letter_body=render_message(MESSAGES.format("usual_gp_accepted_letter"), context)[1],
    )


def email_professional(
    *, to: str, message: str, request: Request, topic: str, related, now, **context
) -> None:
    """The e-mail `message` (orientation/messages/<message>.txt and <message>_subject.txt) to a
    GP, a referrer or the coordination, about `request` (reference and CPTS name in the
    context; no name of the person, no health data)."""
    context.update(reference=request.reference, cpts_name=request.cpts.name)
    subject, body = render_message(
        MESSAGES.format(message), context, subject_template=MESSAGES.format(f"{message}_subject")
    )
    outbox_enqueue(
        now=now,
        channel="email",
        to=to,
        subject=subject,
        body=body,
        topic=topic,
        cpts=request.cpts,
        related=related,
    )


def _tell_referrer_found(request: Request, *, now) -> None:
    referrer = request.referrer
    if referrer is None or not referrer.email:
        return
    email_professional(
        to=referrer.email,
        message="referrer_found",
        request=request,
        topic="orientation.referrer_found",
        related=request,
        now=now,
    )
