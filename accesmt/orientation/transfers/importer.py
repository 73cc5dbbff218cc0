"""The practice registers the departing GP's patients in bulk: a CSV file (docs/transfer-plan-
format.md), one line per person, `foyer` grouping the persons of one household.

Preview (`transfer_import_preview`) then confirm (`transfer_import_confirm`), as a CPAM list:
every line is checked by the intake forms through `intake.cpam_lists.check_rows` (the same
validators and French messages as a registration, the CPTS's territory, duplicates within the
file and against the open requests). Nothing partial: the confirm writes every household in one
transaction, and only when no line is refused (the practice corrects the file and sends it
again). A household is one request (channel `transfer`, status waiting, `waiting_since` = the
plan's creation, `held_for_transfer`): out of the queue while the plan runs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none
from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record_many
from accesmt.intake import priority
from accesmt.intake.cpam_lists import (
    CpamListFormatError,
    CpamListReport,
    LineNote,
    RawRow,
    check_rows,
    normalise_header,
)
from accesmt.intake.models import (
    Channel,
    HomeVisits,
    HouseholdMember,
    IntakeSettings,
    Reason,
    Request,
    RequestPriorityReason,
    RequestTransition,
    Status,
    normalise_name,
)
from accesmt.territory.geocoding import commune_centre

from .models import TransferHousehold

MAX_LINES = 10_000
MAX_BYTES = 5 * 1024 * 1024
BATCH_SIZE = 500
# The consent of a transferred patient: the practice gave the letter and collected the accord.
TRANSFER_CONSENT_VERSION = "transfert-2026-12"
TransferFormatError = CpamListFormatError

# (key, header of the template, accepted aliases, required, example)
COLUMNS = (
    ("household", "foyer", ("cle foyer", "numero foyer"), True, "F001"),
    ("last_name", "nom", ("nom de naissance",), True, "Martin"),
    ("first_name", "prénom", ("prenoms",), True, "Jeanne"),
    ("birth_date", "date de naissance", ("date naissance", "ddn"), True, "17/05/1948"),
    ("sex", "sexe", (), False, "F"),
    ("address", "adresse", (), True, "12 rue des Lilas"),
    ("postcode", "code postal", ("cp",), True, "62800"),
    ("commune_name", "commune", ("ville",), False, "Liévin"),
    ("phone", "téléphone", ("tel", "portable", "mobile"), False, "06 12 34 56 78"),
    ("email", "e-mail", ("email", "courriel"), False, ""),
    ("ald", "ALD", ("affection de longue duree",), False, "oui"),
    ("home_visits", "visites à domicile", ("visites", "visite a domicile"), False, "non"),
)
_LOOKUP = {
    normalise_header(name): key
    for key, title, aliases, _required, _example in COLUMNS
    for name in (title, *aliases)
}
VISITS = {
    "": HomeVisits.NEVER,
    "non": HomeVisits.NEVER,
    "oui": HomeVisits.OCCASIONALLY,
    "parfois": HomeVisits.OCCASIONALLY,
    "uniquement": HomeVisits.EXCLUSIVELY,
    "exclusivement": HomeVisits.EXCLUSIVELY,
}


def template_csv() -> str:
    return (
        ";".join(c[1] for c in COLUMNS)
        + "\r\n"
        + ";".join(c[4] for c in COLUMNS)
        + "\r\n"
        + ";".join(("F001", "Martin", "Paul", "02/03/1946", "M", "12 rue des Lilas", "62800"))
        + ";Liévin;;;non;oui\r\n"
    )


@dataclass
class Household:
    key: str
    lines: list[int]
    household: dict
    members: list[dict]


@dataclass
class Preview:
    report: CpamListReport
    households: list[Household] = field(default_factory=list)

    @property
    def can_confirm(self) -> bool:
        return bool(self.households) and not self.report.refused and not self.report.duplicates

    @property
    def person_count(self) -> int:
        return sum(len(h.members) for h in self.households)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_rows(data: bytes) -> list[RawRow]:
    if len(data) > MAX_BYTES:
        raise TransferFormatError("Fichier trop gros (5 Mo au plus).")
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    if not first.count(delimiter):
        raise TransferFormatError(
            "La première ligne doit donner les noms des colonnes, séparés par des "
            "points-virgules : téléchargez le modèle."
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        numbered = [(reader.line_num, row) for row in reader]
    except csv.Error:
        raise TransferFormatError(
            f"Ligne {reader.line_num} illisible (guillemet non fermé ?) : corrigez le fichier."
        ) from None
    if not numbered:
        raise TransferFormatError("Le fichier est vide.")
    found: dict[str, int] = {}
    for position, header in enumerate(numbered[0][1]):
        key = _LOOKUP.get(normalise_header(header))
        if key and key not in found:
            found[key] = position
    missing = [c[1] for c in COLUMNS if c[3] and c[0] not in found]
    if missing:
        raise TransferFormatError(
            "Colonnes obligatoires absentes : " + ", ".join(missing) + ". Téléchargez le modèle."
        )
    rows = []
    for line, cells in numbered[1:]:
        if not any(c.strip() for c in cells):
            continue
        values = {k: (cells[p].strip() if p < len(cells) else "") for k, p in found.items()}
        if values.get("phone", "").isdigit() and len(values["phone"]) == 9:
            values["phone"] = "0" + values["phone"]
        if values.get("postcode", "").isdigit() and len(values["postcode"]) == 4:
            values["postcode"] = "0" + values["postcode"]
        rows.append(RawRow(line=line, values=values))
    if len(rows) > MAX_LINES:
        raise TransferFormatError(f"Plus de {MAX_LINES} personnes : découpez le fichier.")
    if not rows:
        raise TransferFormatError("Le fichier ne contient aucune personne (seulement l'en-tête).")
    return rows


def transfer_import_preview(data: bytes, *, plan) -> Preview:
    """Every line checked; the households that would be written. Nothing is written."""
    rows = read_rows(data)
    refused: list[LineNote] = []
    visits: dict[int, str] = {}
    keys: dict[int, str] = {}
    for raw in rows:
        v = raw.values
        reasons = []
        key = v.get("household", "").strip()[:40]
        if not key:
            reasons.append(("household", "Indiquez la clé du foyer (la même pour tout le foyer)."))
        visit = VISITS.get(v.get("home_visits", "").strip().casefold())
        if visit is None:
            reasons.append(
                ("home_visits", "Écrivez « non », « oui » ou « uniquement » (visites à domicile).")
            )
        if reasons:
            name = f"{v.get('last_name', '').upper()} {v.get('first_name', '')}".strip()[:120]
            refused.append(LineNote(line=raw.line, name=name, reasons=reasons))
        visits[raw.line], keys[raw.line] = visit or HomeVisits.NEVER, key
    checked = check_rows(rows, cpts=plan.cpts, campaign_name="plan de transfert")
    report = checked.report
    merged: dict[int, LineNote] = {}
    for note in sorted(report.refused + refused, key=lambda n: n.line):
        if note.line in merged:
            merged[note.line].reasons += note.reasons
        else:
            merged[note.line] = note
    report.refused = list(merged.values())
    refused_lines = {note.line for note in report.refused}
    report.accepted = [n for n in report.accepted if n.line not in refused_lines]
    existing = set(plan.households.values_list("household_key", flat=True))
    grouped: dict[str, Household] = {}
    for person in checked.people:
        if person.line in refused_lines:
            continue
        key = keys[person.line]
        if key in existing:
            report.refused.append(
                LineNote(person.line, person.name, [("household", f"Foyer {key} déjà importé.")])
            )
            continue
        member = {**person.member, "home_visits": visits[person.line]}
        if key not in grouped:
            household = {**person.household, "reason": Reason.RETIRED, "reason_other": ""}
            grouped[key] = Household(key, [person.line], household, [member])
        else:
            grouped[key].lines.append(person.line)
            grouped[key].members.append(member)
    preview = Preview(report=report, households=list(grouped.values()))
    report.refused.sort(key=lambda n: n.line)
    return preview


def transfer_import_confirm(data: bytes, *, plan, consent_attested: bool, by=None, now=None):
    """Check the file again and write every household, all or nothing. Returns the Preview;
    raises ValueError (French) when something refuses the file."""
    if not consent_attested:
        raise ValueError(
            "Confirmez que le cabinet a remis la lettre d'information et recueilli l'accord "
            "des patients."
        )
    preview = transfer_import_preview(data, plan=plan)
    if not preview.can_confirm:
        raise ValueError("Le fichier contient des lignes refusées : corrigez-les d'abord.")
    now = now or timezone.now()
    by = actor_or_none(by)
    config = IntakeSettings.for_cpts(plan.cpts)
    today = timezone.localdate(now)
    with transaction.atomic():
        requests, members, reasons = [], [], []
        for household in preview.households:
            data_h = household.household
            latitude, longitude, source = commune_centre(data_h["commune"])
            request = Request(
                cpts=plan.cpts,
                channel=Channel.TRANSFER,
                status=Status.WAITING,
                held_for_transfer=True,
                consent_processing=True,
                consent_sharing=True,
                consent_text_version=TRANSFER_CONSENT_VERSION,
                consented_at=now,
                created_by=by,
                created_at=now,
                waiting_since=plan.created_at,
                latitude=latitude,
                longitude=longitude,
                geocode_source=source,
                **{k: data_h[k] for k in ("address", "postcode", "commune", "phone", "email")},
                coverage=data_h["coverage"],
                reason=Reason.RETIRED,
            )
            household_members = [
                HouseholdMember(
                    request=request,
                    cpts_id=request.cpts_id,
                    position=position,
                    is_contact_person=position == 0,
                    normalised_name=normalise_name(m["last_name"], m["first_name"]),
                    **{
                        k: m[k]
                        for k in (
                            "first_name",
                            "last_name",
                            "birth_date",
                            "sex",
                            "has_ald",
                            "home_visits",
                        )
                        if k in m
                    },
                )
                for position, m in enumerate(household.members)
            ]
            fired = priority.evaluate(
                request=request, members=household_members, config=config, today=today
            )
            request.is_priority, request.priority_rule_count = bool(fired), len(fired)
            requests.append(request)
            members += household_members
            reasons.append((request, fired))
        Request.objects.bulk_create(requests, batch_size=BATCH_SIZE)
        for member in members:
            member.request_id = member.request.pk
        HouseholdMember.objects.bulk_create(members, batch_size=BATCH_SIZE)
        RequestPriorityReason.objects.bulk_create(
            (
                RequestPriorityReason(request=r, member=f.member, rule_code=f.code, label=f.label)
                for r, fired in reasons
                for f in fired
            ),
            batch_size=BATCH_SIZE,
        )
        RequestTransition.objects.bulk_create(
            (
                RequestTransition(
                    request=r,
                    from_status="",
                    to_status=Status.WAITING,
                    by=by,
                    at=now,
                    reason="created",
                    note=Channel.TRANSFER.label,
                )
                for r in requests
            ),
            batch_size=BATCH_SIZE,
        )
        TransferHousehold.objects.bulk_create(
            (
                TransferHousehold(plan=plan, request=r, household_key=h.key)
                for r, h in zip(requests, preview.households, strict=True)
            ),
            batch_size=BATCH_SIZE,
        )
        audit_record_many(actor=by, action=AuditAction.CREATE, objects=requests, cpts=plan.cpts)
    return preview
