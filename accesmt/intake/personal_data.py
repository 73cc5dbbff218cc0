"""A person's rights over their household's data (issue 14, point 1): everything held, as a
readable list of sections (page and PDF) and as JSON with stable keys (docs/personal-data.md),
and the erasure they ask for.

Orientation's part (the GPs asked and their answers) comes through a provider that orientation
registers at start-up (`OrientationConfig.ready()`), as its anonymisation hook does: intake never
imports orientation.

`request_erase()` anonymises the household at once (`retention.requests_anonymise`: names, NIR,
contacts, address, free texts and notes; the birth date keeps its year), closes the request if
it is open (« retrait »), blanks the messages sent to the person, records an `Erasure` and an
audit line `erasure`, and queues a confirmation to the contact given before, holding only the
reference and blanked once delivered (`notifications.models.REDACT_ONCE_DELIVERED`). The row of
the request stays, without a name, for the counts (CPTS, commune, dates, status, reasons).
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record
from accesmt.common.formats import long_date
from accesmt.common.phones import format_phone_for_display
from accesmt.notifications.messages import render_message
from accesmt.notifications.models import OutboxMessage
from accesmt.notifications.services import outbox_redact

from .coarsening import anonymised_coarsen
from .lifecycle import request_transition
from .models import ClosedReason, Erasure, Request, Status
from .retention import requests_anonymise
from .services import household_tell

if TYPE_CHECKING:
    from accesmt.accounts.models import User

MARGIN = 20 * mm
FORMAT = "accesmt.donnees-personnelles/1"
ERASURE_TOPIC = "intake.erasure_confirmed"

# What the person may do, shown on the page and in the PDF (RGPD articles 15 to 21).
RIGHTS = [
    "Accès : voir et télécharger toutes vos données (cette page, le PDF et le fichier JSON).",
    "Rectification : corriger toute information depuis votre lien de suivi, ou en appelant "
    "la CPTS.",
    "Effacement : faire effacer vos données depuis votre lien de suivi, ou en appelant la CPTS ; "
    "l'effacement est immédiat et définitif.",
    "Opposition et retrait : retirer votre demande à tout moment.",
    "Réclamation : si vous estimez que vos droits ne sont pas respectés, vous pouvez saisir la "
    "CNIL (www.cnil.fr).",
]

# orientation registers `provider(request) -> [{"gp", "asked_at", "status", "status_label",
# "answered_at"}]`.
_solicitations_provider: Callable[[Request], list[dict]] | None = None


def solicitations_provider_register(provider: Callable[[Request], list[dict]]) -> None:
    global _solicitations_provider
    _solicitations_provider = provider


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _yes(value: bool | None) -> str:
    if value is None:  # withheld at anonymisation (coarsening.py)
        return "non conservé"
    return "oui" if value else "non"


def _text(value) -> str:
    return value if value not in (None, "") else "—"


def _when(value) -> str:
    return long_date(value, with_time=True) if value else "—"


# --- export ------------------------------------------------------------------------------------


def personal_data(request: Request) -> dict[str, Any]:
    """Everything held about the household of `request`: (key, label, value, shown) rows grouped
    in sections. `as_json()` and `as_sections()` turn it into the download and the page."""
    r = request
    household = [
        ("reference", "Référence", r.reference, r.reference),
        ("cpts", "CPTS", r.cpts.name, r.cpts.name),
        ("channel", "Reçue par", r.channel, r.get_channel_display()),
        ("status", "État", r.status, r.get_status_display()),
        (
            "closed_reason",
            "Motif de clôture",
            r.closed_reason,
            _text(r.get_closed_reason_display()),
        ),
        ("created_at", "Envoyée le", _iso(r.created_at), _when(r.created_at)),
        ("closed_at", "Clôturée le", _iso(r.closed_at), _when(r.closed_at)),
        ("phone", "Téléphone", r.phone, _text(format_phone_for_display(r.phone))),
        ("email", "Adresse e-mail", r.email, _text(r.email)),
        ("address", "Adresse", r.address, _text(r.address)),
        ("postcode", "Code postal", r.postcode, r.postcode),
        # An anonymised request may have its commune withheld (coarsening.py).
        ("commune", "Commune", *([r.commune.name] * 2 if r.commune_id else [None, ""])),
        ("coverage", "Couverture sociale", r.coverage, r.get_coverage_display()),
        (
            "needs_rights_help",
            "Besoin d'aide pour l'accès aux droits",
            r.needs_rights_help,
            _yes(r.needs_rights_help),
        ),
        ("reason", "Motif de la demande", r.reason, r.get_reason_display()),
        ("reason_other", "Autre motif", r.reason_other, _text(r.reason_other)),
        (
            "urgent_follow_up",
            "Suivi médical à débuter dans le mois",
            r.urgent_follow_up,
            _yes(r.urgent_follow_up),
        ),
        ("former_gp_name", "Ancien médecin traitant", r.former_gp_name, _text(r.former_gp_name)),
        (
            "former_gp_commune",
            "Commune de l'ancien médecin",
            r.former_gp_commune,
            _text(r.former_gp_commune),
        ),
        ("usual_gp_name", "Médecin consulté", r.usual_gp_name, _text(r.usual_gp_name)),
        ("usual_gp_rpps", "RPPS du médecin consulté", r.usual_gp_rpps, _text(r.usual_gp_rpps)),
        (
            "other_professionals",
            "Autres professionnels qui vous suivent",
            r.other_professionals,
            _text(r.other_professionals),
        ),
        ("comment", "Commentaire", r.comment, _text(r.comment)),
        ("is_priority", "Prioritaire", r.is_priority, _yes(r.is_priority)),
        (
            "priority_reasons",
            "Critères de priorité",
            [p.label for p in r.priority_reasons.order_by("pk")],
            ", ".join(p.label for p in r.priority_reasons.order_by("pk")) or "—",
        ),
        ("consented_at", "Accord donné le", _iso(r.consented_at), _when(r.consented_at)),
        (
            "consent_text_version",
            "Version du texte d'accord",
            r.consent_text_version,
            r.consent_text_version,
        ),
    ]
    members = []
    for m in r.members.order_by("position", "pk"):
        members.append(
            [
                ("first_name", "Prénom", m.first_name, _text(m.first_name)),
                ("last_name", "Nom", m.last_name, _text(m.last_name)),
                ("birth_date", "Date de naissance", _iso(m.birth_date), long_date(m.birth_date)),
                ("sex", "Sexe", m.sex, _text(m.get_sex_display())),
                ("nir", "Numéro de sécurité sociale", m.nir, _text(m.nir)),
                ("has_ald", "Affection de longue durée (ALD)", m.has_ald, _yes(m.has_ald)),
                (
                    "has_disability",
                    "Situation de handicap",
                    m.has_disability,
                    _yes(m.has_disability),
                ),
                (
                    "conditions",
                    "Pathologies particulières ou handicap",
                    m.conditions,
                    _text(m.conditions),
                ),
                ("home_visits", "Visites à domicile", m.home_visits, m.get_home_visits_display()),
                (
                    "is_contact_person",
                    "Personne à contacter",
                    m.is_contact_person,
                    _yes(m.is_contact_person),
                ),
            ]
        )
    history = [
        [
            ("at", "Le", _iso(t.at), _when(t.at)),
            (
                "from",
                "De",
                t.from_status,
                _text(Status(t.from_status).label if t.from_status else ""),
            ),
            ("to", "Vers", t.to_status, Status(t.to_status).label),
            ("by_patient", "Par vous", t.by_patient, _yes(t.by_patient)),
        ]
        for t in r.transitions.order_by("at", "pk")
    ]
    gps = [
        [
            ("gp", "Médecin", s["gp"], s["gp"]),
            ("asked_at", "Sollicité le", _iso(s["asked_at"]), _when(s["asked_at"])),
            ("status", "Réponse", s["status"], s["status_label"]),
            ("answered_at", "Répondu le", _iso(s["answered_at"]), _when(s["answered_at"])),
        ]
        for s in (_solicitations_provider(r) if _solicitations_provider else [])
    ]
    messages = [
        [
            ("at", "Le", _iso(m.created_at), _when(m.created_at)),
            ("channel", "Canal", m.channel, m.get_channel_display()),
            ("subject", "Objet", m.purpose, m.purpose),
        ]
        for m in messages_of(r).order_by("created_at", "pk")
    ]
    return {
        "household": household,
        "members": members,
        "status_history": history,
        "gps_asked": gps,
        "messages": messages,
    }


def messages_of(request: Request):
    """The messages sent to the household: related to the request, or to its phone or e-mail."""
    match = Q(related_type="intake.request", related_id=str(request.pk))
    contacts = [c for c in (request.phone, request.email) if c]
    if contacts:
        match |= Q(recipient__in=contacts)
    return OutboxMessage.objects.filter(match)


def as_json(data: dict, *, cpts, now: datetime.datetime | None = None) -> dict[str, Any]:
    def rows(items):
        return {key: value for key, _label, value, _shown in items}

    return {
        "format": FORMAT,
        "generated_at": (now or timezone.now()).isoformat(),
        "controller": {"name": cpts.name, "email": cpts.email, "phone": cpts.phone},
        "household": rows(data["household"]),
        "members": [rows(m) for m in data["members"]],
        "status_history": [rows(t) for t in data["status_history"]],
        "gps_asked": [rows(s) for s in data["gps_asked"]],
        "messages": [rows(m) for m in data["messages"]],
    }


def as_sections(data: dict) -> list[tuple[str, list[list[tuple[str, str]]]]]:
    """(title, [rows of (label, shown)]) for the page and the PDF: one block per item."""

    def shown(items):
        return [(label, str(text)) for _key, label, _value, text in items]

    sections = [("Votre demande", [shown(data["household"])])]
    sections.append(
        ("Les personnes du foyer", [shown(m) for m in data["members"]]),
    )
    for title, key in (
        ("Historique de la demande", "status_history"),
        ("Médecins sollicités et réponses", "gps_asked"),
        ("Messages envoyés", "messages"),
    ):
        sections.append((title, [shown(item) for item in data[key]]))
    return sections


def as_pdf(request: Request, sections, *, rights: list[str]) -> bytes:
    """The same sections as the page, on A4 pages (reportlab, as the letters)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"Vos données — demande {request.reference}")
    pdf.setAuthor(request.cpts.name)
    width, height = A4
    y = height - MARGIN

    def write(text: str, *, font: str = "Helvetica", size: float = 10, gap: float = 2) -> None:
        nonlocal y
        for line in simpleSplit(text, font, size, width - 2 * MARGIN) or [""]:
            if y < MARGIN:
                pdf.showPage()
                y = height - MARGIN
            pdf.setFont(font, size)
            pdf.drawString(MARGIN, y, line)
            y -= size * 1.35
        y -= gap

    write(f"{request.cpts.name} — vos données", font="Helvetica-Bold", size=14, gap=4)
    write(f"Demande {request.reference}, au {long_date(timezone.localdate())}", gap=6 * mm)
    for title, items in sections:
        write(title, font="Helvetica-Bold", size=12, gap=3)
        if not items:
            write("Aucun.", gap=4)
        for index, rows in enumerate(items, start=1):
            if len(items) > 1:
                write(f"{index}.", font="Helvetica-Bold")
            for label, shown in rows:
                write(f"{label} : {shown}", gap=0)
            y -= 3 * mm
    write("Vos droits", font="Helvetica-Bold", size=12, gap=3)
    for line in rights:
        write(f"• {line}", gap=1)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- erasure -----------------------------------------------------------------------------------


def request_erase(
    *,
    request: Request,
    by: User | None = None,
    reason: str = "",
    http_request=None,
    now: datetime.datetime | None = None,
) -> Request:
    """Erase the household's personal data now (by the person when `by` is None, else by a
    coordinator who must give `reason`). Raises ValidationError when already erased or when a
    coordinator gives no reason."""
    reason = reason.strip()
    if by is not None and not reason:
        raise ValidationError({"reason": "Indiquez comment la personne a demandé l'effacement."})
    now = now or timezone.now()
    with transaction.atomic():
        locked = Request.objects.select_for_update().select_related("cpts").get(pk=request.pk)
        if locked.anonymised_at is not None:
            raise ValidationError("Les données de cette demande sont déjà effacées.")
        if locked.status != Status.CLOSED:
            request_transition(
                request=locked,
                to=Status.CLOSED,
                reason=ClosedReason.WITHDRAWN,
                by=by,
                by_patient=by is None,
                now=now,
            )
            locked.refresh_from_db()
        outbox_redact(messages=messages_of(locked), now=now)
        _confirm(locked, now=now)
        requests_anonymise([locked.pk], now=now)
        # The erased household's statistics join a group of at least 5 at once (k-anonymity).
        anonymised_coarsen(locked.cpts)
        Erasure.objects.create(
            request=locked, at=now, by=by, by_patient=by is None, reason=reason[:300]
        )
        audit_record(
            actor=by,
            action=AuditAction.ERASURE,
            obj=locked,
            cpts=locked.cpts,
            http_request=http_request,
        )
    locked.refresh_from_db()
    return locked


def _confirm(request: Request, *, now) -> int:
    """Tell the contact given before the erasure (e-mail and/or SMS; nobody to write to by post
    once the address is gone): the reference and the CPTS, nothing else."""
    context = {"cpts_name": request.cpts.name, "reference": request.reference}
    subject, email_body = render_message(
        "intake/messages/erasure_email.txt",
        context,
        subject_template="intake/messages/erasure_subject.txt",
    )
    return household_tell(
        request=request,
        topic=ERASURE_TOPIC,
        subject=subject,
        email_body=email_body,
        sms_body=render_message("intake/messages/erasure_sms.txt", context)[1],
        now=now,
    )
