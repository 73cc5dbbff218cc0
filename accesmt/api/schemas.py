"""The shapes of the JSON API (they make the OpenAPI schema). Values of the choice fields are
the codes of `accesmt.intake.models`; their French labels are in the descriptions."""

from __future__ import annotations

import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from accesmt.intake.cpam_lists import MAX_LINES
from accesmt.intake.forms import MAX_MEMBERS
from accesmt.intake.models import ClosedReason, Coverage, HomeVisits, Reason, Status


def _labels(choices) -> str:
    return "; ".join(f"`{value}` : {label}" for value, label in choices.choices)


TRUE_ONLY = {"const": True}  # a consent: `false` is refused (422 naming the field)

CoverageCode = Literal[tuple(Coverage.values)]  # type: ignore[valid-type]
ReasonCode = Literal[tuple(Reason.values)]  # type: ignore[valid-type]
HomeVisitsCode = Literal[tuple(HomeVisits.values)]  # type: ignore[valid-type]


class MemberIn(Schema):
    model_config = ConfigDict(extra="forbid")

    first_name: str = Field(..., max_length=100, description="Prénom.")
    last_name: str = Field(..., max_length=100, description="Nom.")
    birth_date: datetime.date = Field(..., description="Date de naissance (AAAA-MM-JJ).")
    sex: Literal["", "F", "M"] = Field("", description="`F`, `M` ou vide.")
    nir: str = Field(
        "", max_length=30, description="Numéro de sécurité sociale (15 caractères), facultatif."
    )
    has_ald: bool = Field(False, description="Affection de longue durée.")
    has_disability: bool = Field(False, description="Situation de handicap.")
    conditions: str = Field("", max_length=1000, description="Pathologies ou handicap.")
    home_visits: HomeVisitsCode = Field(  # type: ignore[valid-type]
        "never", description=f"Visites à domicile : {_labels(HomeVisits)}."
    )


class RequestIn(Schema):
    """One household. Give a phone number or an e-mail address (or both)."""

    model_config = ConfigDict(extra="forbid")

    address: str = Field(..., max_length=250, description="Numéro et rue.")
    postcode: str = Field(..., max_length=10, description="Code postal (5 chiffres).")
    commune_name: str = Field(
        "", max_length=120, description="Commune, utile quand le code postal en dessert plusieurs."
    )
    phone: str = Field("", max_length=30, description="Téléphone (fixe ou mobile).")
    email: str = Field("", max_length=254, description="Adresse e-mail.")
    coverage: CoverageCode = Field(  # type: ignore[valid-type]
        "unknown", description=f"Couverture sociale : {_labels(Coverage)}."
    )
    needs_rights_help: bool = Field(False, description="Besoin d'aide pour l'accès aux droits.")
    reason: ReasonCode = Field(  # type: ignore[valid-type]
        ..., description=f"Motif de la demande : {_labels(Reason)}."
    )
    reason_other: str = Field("", max_length=200, description="Précision si `reason` = `other`.")
    urgent_follow_up: bool = Field(False, description="Suivi médical à débuter dans le mois.")
    former_gp_name: str = Field("", max_length=150)
    former_gp_commune: str = Field("", max_length=120)
    usual_gp_rpps: str = Field(
        "",
        max_length=20,
        description="Médecin que la personne consulte déjà sans l'avoir déclaré comme médecin "
        "traitant : son numéro RPPS (11 chiffres), s'il figure dans l'annuaire. Il sera "
        "sollicité en premier.",
    )
    usual_gp_name: str = Field(
        "",
        max_length=150,
        description="Le même médecin, par son nom et sa commune, à défaut de numéro RPPS.",
    )
    other_professionals: str = Field("", max_length=1000)
    comment: str = Field("", max_length=2000)
    # Typed bool so that false reaches validate_payload and gets its French message naming the
    # field (422); the schema says the one value accepted.
    consent_processing: bool = Field(
        ...,
        description="La personne a accepté le traitement de ses données (doit valoir true).",
        json_schema_extra=TRUE_ONLY,
    )
    consent_sharing: bool = Field(
        ...,
        description="La personne a accepté le partage avec les médecins contactés (true).",
        json_schema_extra=TRUE_ONLY,
    )
    members: list[MemberIn] = Field(
        ..., min_length=1, max_length=MAX_MEMBERS, description="Les personnes du foyer."
    )


class RequestStatusOut(Schema):
    reference: str = Field(..., examples=["MT-7K4P-Q2XZ"])
    status: str = Field(..., description=f"État : {_labels(Status)}.")
    status_label: str
    closed_reason: str = Field("", description=f"Motif de clôture : {_labels(ClosedReason)}.")
    closed_reason_label: str = ""
    created_at: datetime.datetime
    updated_at: datetime.datetime


class FieldError(Schema):
    field: str = Field(..., examples=["members[0].birth_date"])
    message: str = Field(..., examples=["La date de naissance ne peut pas être dans le futur."])


class ErrorsOut(Schema):
    errors: list[FieldError]


# Indicators (accesmt.reporting): the catalogue and one table, as an observer sees it.

CellValue = int | float | str | None


class IndicatorOut(Schema):
    code: str = Field(..., examples=["demand.summary"])
    section: str = Field(..., description="Thème : demand, outcomes, offer, aci, satisfaction.")
    section_title: str = Field(..., examples=["Demande"])
    title: str
    formula: str = Field(..., description="Ce qui est compté, et comment.")
    unit: str
    population: str = Field(..., description="La population comptée.")


class PeriodOut(Schema):
    kind: str = Field(..., description="aci, month, quarter, year ou custom.")
    label: str = Field(..., examples=["mai 2026"])
    start: datetime.date = Field(..., description="Premier jour.")
    end: datetime.date = Field(..., description="Dernier jour (inclus).")


class IndicatorTableOut(Schema):
    indicator: IndicatorOut
    period: PeriodOut
    previous_period: PeriodOut = Field(..., description="La période de comparaison.")
    masked: bool = Field(
        ...,
        description="Toujours vrai : un effectif de 1 à 4 vaut « < 5 » et un taux calculé sur "
        "un tel effectif « — ».",
    )
    columns: list[str]
    rows: list[list[CellValue]] = Field(
        ..., description="Une ligne par libellé : le libellé puis les valeurs, colonne par colonne."
    )
    total: list[CellValue] | None = Field(None, description="La ligne de total, s'il y en a une.")
    note: str = ""


# CPAM lists (accesmt.intake.cpam_lists): the same columns as the file (docs/cpam-list-format.md).


class CpamRowIn(Schema):
    """One person of the list (one request). A phone, an e-mail, or neither (told by letter)."""

    model_config = ConfigDict(extra="forbid")

    last_name: str = Field(..., max_length=100, description="Nom.")
    first_name: str = Field(..., max_length=100, description="Prénom.")
    birth_date: str = Field(
        ..., max_length=10, description="Date de naissance : AAAA-MM-JJ ou JJ/MM/AAAA."
    )
    sex: str = Field("", max_length=10, description="`F`, `M` ou vide.")
    address: str = Field(..., max_length=250, description="Numéro et rue.")
    postcode: str = Field("", max_length=10, description="Code postal (sans code INSEE).")
    commune_name: str = Field("", max_length=120, description="Commune.")
    insee_code: str = Field("", max_length=5, description="Code INSEE de la commune.")
    phone: str = Field("", max_length=30, description="Téléphone.")
    email: str = Field("", max_length=254, description="Adresse e-mail.")
    nir: str = Field("", max_length=30, description="NIR (15 caractères), facultatif.")
    ald: bool = Field(False, description="Affection de longue durée.")
    css: bool = Field(False, description="Complémentaire santé solidaire.")
    usual_gp: str = Field(
        "",
        max_length=150,
        description="Médecin consulté habituellement : numéro RPPS (11 chiffres) ou nom et "
        "commune.",
    )


class CpamListIn(Schema):
    model_config = ConfigDict(extra="forbid")

    campaign_name: str = Field(..., min_length=1, max_length=150, examples=["Plan ALD 2026"])
    list_date: datetime.date = Field(..., description="Date d'édition de la liste (AAAA-MM-JJ).")
    opt_out_days: int = Field(
        30, ge=7, le=92, description="Délai pour refuser, en jours (un mois par défaut)."
    )
    rows: list[CpamRowIn] = Field(..., min_length=1, max_length=MAX_LINES)


class CpamDuplicateOut(Schema):
    row: int = Field(..., description="Rang de la personne dans `rows` (à partir de 0).")
    message: str
    reference: str = Field("", description="La demande déjà ouverte, s'il y en a une.")


class CpamListOut(Schema):
    id: int
    campaign_name: str
    list_date: datetime.date
    opt_out_ends_at: datetime.datetime = Field(..., description="Fin de la période d'opposition.")
    rows: int = Field(..., description="Personnes reçues.")
    imported: int = Field(..., description="Personnes importées (une demande chacune).")
    duplicates: list[CpamDuplicateOut] = Field(
        ..., description="Personnes non importées : déjà en attente, ou deux fois dans la liste."
    )
