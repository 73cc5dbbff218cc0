"""Orientation's share of a person's data (issue 14): the GPs asked for a request and their
answers, for the export of `intake.personal_data`, and the blanking of the solicitations' notes
when a request is anonymised (retention job or erasure). Registered in `OrientationConfig.ready()`:
intake cannot import orientation."""

from __future__ import annotations

import datetime

from .models import Solicitation


def solicitations_of(request) -> list[dict]:
    return [
        {
            "gp": s.practitioner.display_name,
            "asked_at": s.asked_at,
            "status": s.status,
            "status_label": s.get_status_display(),
            "answered_at": s.answered_at,
        }
        for s in Solicitation.objects.filter(request=request)
        .select_related("practitioner")
        .order_by("asked_at", "pk")
    ]


def solicitations_anonymise(request_ids: list[int], now: datetime.datetime) -> None:
    """The coordinator's notes may name the person: blanked with the rest of the request."""
    Solicitation.objects.filter(request_id__in=request_ids).exclude(note="").update(note="")
