"""Calls and notes of the coordination about a request (issue 13, point 4).

`contact_note_record()` stores one `ContactNote`: a call with its outcome (joint·e, pas de
réponse, message laissé, mauvais numéro), an optional note and an optional call-back date, or a
note alone. Logging a call settles the call-backs planned by the earlier calls of the request (the
new call is the call-back), so that a request has at most one pending call-back;
`call_back_settle()` settles it by hand (« rappel fait »). Nothing is ever edited: a correction is
a new note. The free text is personal data: it is never logged nor sent, and the retention purge
blanks it (`retention.requests_anonymise_closed`).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none

from .models import CONTACT_TEXT_MAX, CallOutcome, ContactKind, ContactNote, Request
from .services import request_lock

if TYPE_CHECKING:
    from accesmt.accounts.models import User

# How far ahead a call-back may be planned.
CALL_BACK_MAX_DAYS = 365
CLOSED_REFUSED = "Cette demande est clôturée : aucun appel ni note ne peut y être ajouté."


def _check(*, kind, outcome, text, call_back_on, today: datetime.date) -> None:
    errors: dict[str, str] = {}
    if kind not in ContactKind.values:
        errors["kind"] = "Type inconnu."
    elif kind == ContactKind.CALL and outcome not in CallOutcome.values:
        errors["outcome"] = "Choisissez le résultat de l'appel."
    elif kind == ContactKind.NOTE:
        if not text:
            errors["text"] = "Écrivez la note."
        if call_back_on is not None:
            errors["call_back_on"] = "Un rappel se prévoit en notant un appel."
    if len(text) > CONTACT_TEXT_MAX:
        errors["text"] = f"{CONTACT_TEXT_MAX} caractères au plus."
    if call_back_on is not None and "call_back_on" not in errors:
        if call_back_on < today:
            errors["call_back_on"] = (
                "La date de rappel est passée : choisissez aujourd'hui ou plus tard."
            )
        elif call_back_on > today + datetime.timedelta(days=CALL_BACK_MAX_DAYS):
            errors["call_back_on"] = "La date de rappel doit être dans l'année qui vient."
    if errors:
        raise ValidationError(errors)


def contact_note_record(
    *,
    request: Request,
    kind: str,
    outcome: str = "",
    text: str = "",
    call_back_on: datetime.date | None = None,
    by: User | None = None,
    now: datetime.datetime | None = None,
) -> ContactNote:
    """Store a call or a note (see the module). Raises ValidationError (French messages keyed by
    field: kind, outcome, text, call_back_on) and stores nothing when the input is inconsistent or
    the request is closed."""
    now = now or timezone.now()
    text = text.strip()
    if kind == ContactKind.NOTE:
        outcome = ""
    _check(
        kind=kind,
        outcome=outcome,
        text=text,
        call_back_on=call_back_on,
        today=timezone.localdate(now),
    )
    by = actor_or_none(by)
    with transaction.atomic():
        locked = request_lock(request.pk)
        if locked.is_closed:
            raise ValidationError(CLOSED_REFUSED)
        if kind == ContactKind.CALL:
            ContactNote.objects.filter(
                request=locked, call_back_on__isnull=False, call_back_done=False
            ).update(call_back_done=True)
        note = ContactNote(
            cpts_id=locked.cpts_id,
            request=locked,
            kind=kind,
            outcome=outcome,
            text=text,
            call_back_on=call_back_on,
            by=by,
            at=now,
        )
        note.full_clean()
        note.save()
    return note


def call_back_settle(*, note: ContactNote) -> bool:
    """Tick a planned call-back done; False when there was none pending."""
    return bool(
        ContactNote.objects.filter(
            pk=note.pk, call_back_on__isnull=False, call_back_done=False
        ).update(call_back_done=True)
    )
