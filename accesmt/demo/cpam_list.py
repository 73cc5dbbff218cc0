"""The demo's CPAM list (issue 12): 60 people in ALD without a médecin traitant, sent by the CPAM
ten days ago and imported by the coordination through the real import (checks, opt-out
messages), now in their opt-out month; two of them have already refused (one by the link, one by
phone) and one already said yes. A third of them name the GP they see most often, as the CPAM
lists do: most by RPPS number (a GP of the directory), some by a typed name."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from accesmt.directory.models import Practitioner
from accesmt.intake.cpam_lists import RawRow, check_rows, cpam_list_apply, cpam_opt_out_record
from accesmt.intake.lifecycle import request_transition
from accesmt.intake.models import CpamList, GeocodeSource, Request, Status

from .generator import Place, generate

USUAL_GP_NAME = "Dr Leclercq, Liévin"


def _usual_gp(index: int, gps: list[str]) -> str:
    """The "médecin consulté habituellement" column: every third person, by RPPS twice out of
    three (a GP of the territory), else by name."""
    if index % 3:
        return ""
    if gps and index % 9:
        return gps[(index * 7) % len(gps)]
    return USUAL_GP_NAME


CAMPAIGN = "Plan ALD — patients sans médecin traitant (1er envoi)"


def demo_cpam_list_create(cpts, places: list[Place], *, coordinator, seed: int, people: int = 60):
    territory = generate(places, seed=seed + 12, households=people)
    rng = random.Random(seed + 12)
    gps = list(
        Practitioner.objects.in_cpts(cpts).present().order_by("rpps").values_list("rpps", flat=True)
    )
    rows, points = [], {}
    for index, household in enumerate(territory.households):
        member = household.members[0]
        phone = household.phone if index % 5 else ""  # a fifth by letter
        rows.append(
            RawRow(
                line=index + 2,
                values={
                    "last_name": member.last_name,
                    "first_name": member.first_name,
                    "birth_date": member.birth_date.strftime("%d/%m/%Y"),
                    "sex": member.sex,
                    "address": household.street,
                    "postcode": household.place.postcode,
                    "commune_name": household.place.name,
                    "phone": phone,
                    "email": household.email if phone else "",
                    "ald": "oui",
                    "css": "oui" if rng.random() < 0.15 else "non",
                    "usual_gp": _usual_gp(index, gps),
                },
            )
        )
        points[index + 2] = (household.latitude, household.longitude)
    checked = check_rows(rows, cpts=cpts, campaign_name=CAMPAIGN)
    imported_at = timezone.now() - dt.timedelta(days=8)
    cpam_list = cpam_list_apply(
        checked,
        cpts=cpts,
        campaign_name=CAMPAIGN,
        list_date=timezone.localdate() - dt.timedelta(days=10),
        opt_out_days=30,
        source=CpamList.Source.UPLOAD,
        by=coordinator,
        now=imported_at,
    )
    requests = list(cpam_list.requests.order_by("pk"))
    for request, person in zip(requests, checked.people, strict=True):
        latitude, longitude = points[person.line]
        Request.objects.filter(pk=request.pk).update(
            latitude=latitude,
            longitude=longitude,
            geocode_source=GeocodeSource.ADDRESS,
            geocode_message="Adresse fictive de démonstration",
        )
    if len(requests) >= 3:
        cpam_opt_out_record(request=requests[0], by_patient=True)
        cpam_opt_out_record(request=requests[1], by=coordinator, note="Appel de la personne")
        request_transition(
            request=requests[2],
            to=Status.WAITING,
            by=coordinator,
            note="La personne a appelé : elle accepte d'être aidée",
        )
    return cpam_list
