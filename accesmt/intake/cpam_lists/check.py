"""Check each line of a CPAM list as a registration is checked: the intake forms (`HouseholdForm`,
`MemberForm`: the same validators and French messages as the public form), the territory of the
CPTS, then duplicates — within the file, and against the open requests of the CPTS (same NIR,
or same normalised name and birth date, as `services.request_detect_duplicates` compares).

The number of queries does not grow with the lines: communes are resolved once per distinct
postcode and name (or INSEE code), the territory is read once, duplicates are looked up in
chunks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from ..forms import HouseholdForm, MemberForm
from ..models import (
    OPEN_STATUSES,
    Coverage,
    HomeVisits,
    HouseholdMember,
    Reason,
    normalise_name,
)
from ..services import cpts_covering
from ..validation import resolve_commune
from .reader import RawRow
from .report import CpamListReport, LineNote

# The coordinator's form (no consent fields; "postal address only" allowed): the person of a
# CPAM list has not consented yet, and may have neither phone nor e-mail (told by letter).
FORM_CHANNEL = "edit"
CHUNK = 500
YES = {"oui", "o", "1", "x", "vrai", "true", "yes", "y"}
NO = {"non", "n", "0", "", "faux", "false", "no"}
SEXES = {"f": "F", "femme": "F", "2": "F", "m": "M", "h": "M", "homme": "M", "1": "M", "": ""}
RPPS_LENGTH = 11


@dataclass
class Person:
    """A line accepted: what the apply phase writes."""

    line: int
    name: str
    household: dict[str, Any]
    member: dict[str, Any]
    usual_gp_rpps: str = ""
    usual_gp_name: str = ""


@dataclass
class Checked:
    report: CpamListReport
    people: list[Person] = field(default_factory=list)


class _Communes:
    """Commune look-ups of one import, each done once."""

    def __init__(self, cpts):
        from accesmt.territory.models import Commune, TerritoryCommune

        self._commune_model = Commune
        self.in_territory = set(
            TerritoryCommune.objects.filter(cpts=cpts).values_list("commune_id", flat=True)
        )
        self._resolved: dict[tuple[str, str], Any] = {}
        self._insee: dict[str, Any] = {}
        self._covering: dict[str, Any] = {}

    def resolve(self, *, postcode: str, name: str):
        key = (postcode, normalise_name(name))
        if key not in self._resolved:
            try:
                self._resolved[key] = resolve_commune(postcode=postcode, name=name)
            except ValidationError as error:
                self._resolved[key] = error
        found = self._resolved[key]
        if isinstance(found, ValidationError):
            raise found
        return found

    def by_insee(self, code: str):
        if code not in self._insee:
            self._insee[code] = (
                self._commune_model.objects.filter(pk=code).prefetch_related("postal_codes").first()
            )
        return self._insee[code]

    def covering(self, commune):
        if commune.pk not in self._covering:
            self._covering[commune.pk] = cpts_covering(commune)
        return self._covering[commune.pk]


class _HouseholdForm(HouseholdForm):
    """The registration's household form and checks, without the fields a list does not give
    (coverage and reason are set from the line; fewer fields to copy per line)."""

    coverage = reason = reason_other = needs_rights_help = urgent_follow_up = None
    former_gp_name = former_gp_commune = other_professionals = comment = None
    submission_key = None


class _MemberForm(MemberForm):
    """The registration's member form and checks, without what a list does not give."""

    home_visits = conditions = has_disability = None


def _yes_no(value: str) -> bool | None:
    text = value.strip().casefold()
    return True if text in YES else False if text in NO else None


def _form_errors(form) -> list[tuple[str, str]]:
    return [
        ("" if name == "__all__" else name, str(message))
        for name, messages in form.errors.items()
        for message in messages
    ]


def check_row(raw: RawRow, *, cpts, campaign_name: str, communes: _Communes) -> Person | LineNote:
    """The person of one line, or the note refusing it with every reason (column, message)."""
    v = raw.values
    name = f"{v.get('last_name', '').upper()} {v.get('first_name', '')}".strip()[:120]
    errors: list[tuple[str, str]] = []
    flags = {}
    for key in ("ald", "css"):
        flags[key] = _yes_no(v.get(key, ""))
        if flags[key] is None:
            errors.append((key, "Écrivez « oui » ou « non » (ou laissez vide pour non)."))
    sex = SEXES.get(v.get("sex", "").strip().casefold())
    if sex is None:
        errors.append(("sex", "Sexe non reconnu : écrivez F ou M, ou laissez vide."))
    member_form = _MemberForm(
        {
            "first_name": v.get("first_name", ""),
            "last_name": v.get("last_name", ""),
            "birth_date": v.get("birth_date", ""),
            "sex": sex or "",
            "nir": v.get("nir", ""),
            **({"has_ald": "on"} if flags["ald"] else {}),
        }
    )
    if not member_form.is_valid():
        errors += _form_errors(member_form)

    postcode, commune_name = v.get("postcode", ""), v.get("commune_name", "")
    insee = v.get("insee_code", "").upper()
    if insee:
        commune = communes.by_insee(insee)
        if commune is None:
            errors.append(("insee_code", "Code INSEE inconnu : vérifiez-le."))
        else:
            commune_name = commune.name
            codes = sorted(p.code for p in commune.postal_codes.all())
            if not postcode and codes:
                postcode = codes[0]
    phone, email = v.get("phone", ""), v.get("email", "")
    household_form = _HouseholdForm(
        {
            "address": v.get("address", ""),
            "postcode": postcode,
            "commune_name": commune_name,
            "phone": phone,
            "email": email,
            **({} if phone.strip() or email.strip() else {"postal_only": "on"}),
        },
        cpts=cpts,
        channel=FORM_CHANNEL,
    )
    household_form.commune_resolver = communes.resolve
    if household_form.is_valid():
        commune = household_form.cleaned_data["commune"]
        if commune.pk not in communes.in_territory:
            message = f"{commune.name} n'est pas sur le territoire de {cpts.name}."
            covering = communes.covering(commune)
            if covering is not None:
                message += f" Cette commune est couverte par {covering.name}."
            errors.append(("insee_code" if insee else "postcode", message))
    else:
        errors += _form_errors(household_form)

    usual_gp = " ".join(v.get("usual_gp", "").split())
    rpps, gp_name = "", ""
    if usual_gp.replace(" ", "").isdigit():
        rpps = usual_gp.replace(" ", "")
        if len(rpps) != RPPS_LENGTH:
            errors.append(
                (
                    "usual_gp",
                    "Le numéro RPPS compte 11 chiffres ; sinon écrivez le nom et la commune du "
                    "médecin.",
                )
            )
    else:
        gp_name = usual_gp[:150]

    if errors:
        return LineNote(line=raw.line, name=name, reasons=errors)
    data = household_form.cleaned_data
    household = {
        **{key: data[key] for key in ("address", "postcode", "commune", "phone", "email")},
        "coverage": Coverage.CSS if flags["css"] else Coverage.GENERAL,
        "reason": Reason.OTHER,
        "reason_other": f"Liste de la CPAM : {campaign_name}"[:200],
    }
    member = {**member_form.cleaned_data, "home_visits": HomeVisits.NEVER}
    return Person(
        line=raw.line,
        name=name,
        household=household,
        member=member,
        usual_gp_rpps=rpps,
        usual_gp_name=gp_name,
    )


def _keys(person: Person) -> list[tuple]:
    member = person.member
    keys: list[tuple] = []
    if member.get("nir"):
        keys.append(("nir", member["nir"]))
    keys.append(
        ("name", normalise_name(member["last_name"], member["first_name"]), member["birth_date"])
    )
    return keys


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _open_requests_by_key(cpts, people: list[Person]) -> dict[tuple, str]:
    """{key: reference} of the open requests of `cpts` holding one of these people."""
    names = sorted({key[1] for p in people for key in _keys(p) if key[0] == "name"})
    nirs = sorted({key[1] for p in people for key in _keys(p) if key[0] == "nir"})
    members = HouseholdMember.objects.filter(request__cpts=cpts, request__status__in=OPEN_STATUSES)
    found: dict[tuple, str] = {}
    for chunk in _chunks(names):
        rows = members.filter(normalised_name__in=chunk).values_list(
            "normalised_name", "birth_date", "request__reference"
        )
        for normalised, birth_date, reference in rows:
            found.setdefault(("name", normalised, birth_date), reference)
    for chunk in _chunks(nirs):
        for nir, reference in members.filter(nir__in=chunk).values_list(
            "nir", "request__reference"
        ):
            found.setdefault(("nir", nir), reference)
    return found


DUPLICATE_TEXTS = {
    "nir": "même numéro de sécurité sociale",
    "name": "mêmes nom, prénom et date de naissance",
}


def check_rows(
    rows: list[RawRow],
    *,
    cpts,
    campaign_name: str,
    unknown_columns: list[str] | None = None,
) -> Checked:
    """Every line checked; the people to write (accepted) and the report."""
    report = CpamListReport(line_count=len(rows), unknown_columns=list(unknown_columns or []))
    communes = _Communes(cpts)
    valid: list[Person] = []
    for raw in rows:
        outcome = check_row(raw, cpts=cpts, campaign_name=campaign_name, communes=communes)
        if isinstance(outcome, LineNote):
            report.refused.append(outcome)
        else:
            valid.append(outcome)
    existing = _open_requests_by_key(cpts, valid)
    seen: dict[tuple, int] = {}
    checked = Checked(report=report)
    for person in valid:
        keys = _keys(person)
        known = next(((k, existing[k]) for k in keys if k in existing), None)
        earlier = next(((k, seen[k]) for k in keys if k in seen), None)
        if known is not None:
            key, reference = known
            text = f"Déjà en attente : {DUPLICATE_TEXTS[key[0]]} que la demande {reference}."
            report.duplicates.append(LineNote(person.line, person.name, [("", text)], reference))
            continue
        if earlier is not None:
            key, line = earlier
            text = f"Deux fois dans la liste : {DUPLICATE_TEXTS[key[0]]} que la ligne {line}."
            report.duplicates.append(LineNote(person.line, person.name, [("", text)]))
            continue
        for key in keys:
            seen[key] = person.line
        checked.people.append(person)
        report.accepted.append(LineNote(person.line, person.name))
    return checked
