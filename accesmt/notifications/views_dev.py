"""Development only: the e-mails and SMS the platform sent or queued, with their links clickable,
so that a newcomer to the demo follows a GP's or a person's link without opening .eml files.
The route exists only when DEBUG is on (config/urls.py) and the view checks DEBUG again."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from .models import Channel, OutboxMessage

SHOWN = 200


def dev_messages(request):
    if not settings.DEBUG:
        raise Http404("Page de développement.")
    messages = (
        OutboxMessage.objects.exclude(channel=Channel.LETTER)
        .select_related("cpts")
        .order_by("-created_at", "-id")[:SHOWN]
    )
    return render(request, "notifications/dev_messages.html", {"outbox": messages, "shown": SHOWN})
