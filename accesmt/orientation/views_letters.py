"""The coordination's page "Courriers à imprimer" (`espace/<slug>/courriers/`): the letters for
households with neither e-mail nor mobile, each downloadable as a PDF and marked once posted,
and the messages that could not be delivered ("à contacter par téléphone ou courrier"). The
lists show the purpose and the request reference, never a text; the requests listed are audited
(read), each PDF too (export). The outbox (models, lists, marking a message handled) stays in
notifications; this page sits here, a floor up, because it names the request of each message,
found through a GP solicitation or a "still needed?" check, and prints orientation letters."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import access_record, cpts_role_required
from accesmt.accounts.models import AuditAction, Role
from accesmt.accounts.services import audit_record, audit_record_many
from accesmt.intake.models import Request
from accesmt.notifications import selectors as outbox
from accesmt.notifications.models import Channel, OutboxMessage
from accesmt.notifications.services import letter_mark_sent, undeliverable_mark_handled

from .letter import render_message_letter
from .letters_selectors import requests_of

COORDINATOR = (Role.COORDINATOR,)
LIST_LIMIT = 300


def _rows(queryset, cpts):
    shown = list(queryset[:LIST_LIMIT])
    requests = requests_of(shown, cpts)
    return [{"message": m, "r": requests.get(m.pk)} for m in shown]


@cpts_role_required(*COORDINATOR)
@require_http_methods(["GET", "POST"])
def letters(http_request, cpts_slug: str):
    cpts, user = http_request.cpts, http_request.user
    if http_request.method == "POST":
        message_id = http_request.POST.get("message", "")
        action = http_request.POST.get("action", "")
        message = (
            OutboxMessage.objects.for_user(user, COORDINATOR)
            .filter(
                cpts=cpts,
                pk=int(message_id) if message_id.isascii() and message_id.isdigit() else 0,
            )
            .first()
        )
        if message is None or action not in ("sent", "handled"):
            messages.error(http_request, "Message introuvable.")
        else:
            done = (
                letter_mark_sent(message=message)
                if action == "sent"
                else undeliverable_mark_handled(message=message)
            )
            if done:
                audit_record(
                    actor=user,
                    action=AuditAction.UPDATE,
                    obj=message,
                    cpts=cpts,
                    http_request=http_request,
                )
                messages.success(
                    http_request,
                    "Courrier marqué comme envoyé."
                    if action == "sent"
                    else "Message marqué comme traité.",
                )
            else:
                messages.error(http_request, "Ce message a déjà été traité.")
        return redirect("orientation:letters", cpts_slug=cpts.slug)
    to_print = outbox.letters_to_print(cpts, user, COORDINATOR)
    failed = outbox.undeliverable(cpts, user, COORDINATOR)
    letter_rows, failed_rows = _rows(to_print, cpts), _rows(failed, cpts)
    listed = {row["r"].pk: row["r"] for row in letter_rows + failed_rows if row["r"] is not None}
    audit_record_many(
        actor=user,
        action=AuditAction.READ,
        objects=listed.values(),
        cpts=cpts,
        http_request=http_request,
    )
    return render(
        http_request,
        "orientation/letters.html",
        {
            "cpts": cpts,
            "letters": letter_rows,
            "letters_total": to_print.count(),
            "failed": failed_rows,
            "failed_total": failed.count(),
            "limit": LIST_LIMIT,
        },
    )


@cpts_role_required(*COORDINATOR)
def letter_pdf(http_request, cpts_slug: str, pk: int):
    cpts = http_request.cpts
    message = (
        OutboxMessage.objects.for_user(http_request.user, COORDINATOR)
        .filter(cpts=cpts, channel=Channel.LETTER, pk=pk, redacted_at__isnull=True)
        .first()
    )
    if message is None or message.related_type != "intake.request":
        raise Http404("Courrier introuvable.")
    request = access_record(
        http_request,
        Request.objects.filter(cpts=cpts).select_related("cpts", "commune"),
        {"pk": message.related_id},
        COORDINATOR,
        action=AuditAction.EXPORT,
    )
    pdf = render_message_letter(
        request, subject=message.subject, body=message.body, when=message.created_at
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="courrier-{request.reference}-{message.pk}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response
