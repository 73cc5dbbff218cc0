"""The JSON API (django-ninja, ADR 0008): create a request, read its status, import a CPAM list
(all or nothing, ADR 0013), read the
indicators of the CPTS of the key (aggregates, small counts masked as an observer sees them).

- Authentication: `Authorization: Bearer amt_…`, one key per CPTS (`models.ApiKey`); every
  operation acts on the CPTS of its key only. No cookie is read, so CSRF does not apply here
  (django-ninja marks its views csrf_exempt); every other middleware (security headers, CSP…)
  does.
- Validation: the same forms as the public page (`accesmt.intake.forms`) and the same service
  (`accesmt.intake.services.request_create`), so the same French messages.
- Errors: `{"errors": [{"field": "members[0].birth_date", "message": "…"}]}` with 400 (body
  that is not JSON), 401 (key missing, unknown or revoked), 404 (unknown reference for this
  CPTS), 409 (idempotency key already used for another request), 422 (invalid fields).
- Idempotency: an `Idempotency-Key` header makes a repeated call return the first request
  (200 instead of 201) instead of storing it twice.
"""

from __future__ import annotations

import math
import threading
import time
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Header, NinjaAPI, Query
from ninja import Status as Answer
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle

from accesmt.accounts.ip import client_ip
from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record
from accesmt.intake.cpam_lists import RawRow, cpam_list_apply
from accesmt.intake.cpam_lists import check_rows as cpam_check_rows
from accesmt.intake.models import Channel, CpamList, Request
from accesmt.intake.services import NotEligible, SubmissionKeyReused, request_create
from accesmt.reporting import catalogue
from accesmt.reporting.models import ReportingSettings
from accesmt.reporting.periods import PeriodError, period_from_query
from accesmt.reporting.tables import Scope

from .intake_bridge import ApiInvalid, validate_payload
from .messages import pydantic_errors
from .schemas import (
    CpamListIn,
    CpamListOut,
    ErrorsOut,
    IndicatorOut,
    IndicatorTableOut,
    RequestIn,
    RequestStatusOut,
)
from .services import (
    api_call_count,
    api_key_authenticate,
    failed_auth_failures,
    failed_auth_record,
)

IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1f3c52-3b1e-4a8e-9d2a-3f6e0c1d2a77")


class FailedAuthThrottled(Exception):
    """Too many failed authentications from one address: 429 before any key is checked."""

    def __init__(self, wait: int):
        super().__init__(wait)
        self.wait = wait


def _parse_rate(rate: str) -> tuple[int, int]:
    """ "20/m" -> (20, 60): a count per s, m, h or d (same form as API_RATE_LIMIT)."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip().lower()[:1] or "m"]


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _failed_auth_window(request: HttpRequest) -> tuple[str, int, int, float]:
    """(address, limit, duration, now): a fixed window of API_FAILED_AUTH_LIMIT, counted per
    address seen by the trusted proxy (accounts.ip) in `FailedAuthCount`. Cut to the column's 45
    characters, which any address holds: only an IPv6 zone ("%eth0") could pass them."""
    limit, duration = _parse_rate(settings.API_FAILED_AUTH_LIMIT)
    return (client_ip(request) or "unknown")[:45], limit, duration, time.time()


def failed_auth_wait(request: HttpRequest) -> int | None:
    """Seconds to wait when the address already reached API_FAILED_AUTH_LIMIT, else None."""
    address, limit, duration, now = _failed_auth_window(request)
    failures, left = failed_auth_failures(address=address, duration=duration, now=now)
    return left if failures >= limit else None


def failed_auth_count(request: HttpRequest) -> None:
    address, _, duration, now = _failed_auth_window(request)
    failed_auth_record(address=address, duration=duration, now=now)


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer <key>`; sets `request.api_key` (and returns it).

    Ninja authenticates before throttling, so the key throttle never sees a wrong key: an
    address with API_FAILED_AUTH_LIMIT failed authentications is refused (429) before its key
    is even looked at; every 401 counts (see `_unauthorized`)."""

    openapi_description = "Clé d'API de la CPTS (`amt_…`), créée par un administrateur."

    def __call__(self, request: HttpRequest):
        wait = failed_auth_wait(request)
        if wait is not None:
            raise FailedAuthThrottled(wait)
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str):
        key = api_key_authenticate(token)
        if key is not None:
            request.api_key = key
        return key


class ApiKeyRateThrottle(AuthRateThrottle):
    """At most API_RATE_LIMIT calls per API key (e.g. "300/m") in each fixed window of the
    period, counted in the database by one atomic statement (`services.api_call_count`): shared
    by every worker, never passed by concurrent calls (docs/decisions/0029). Beyond: 429 with
    Retry-After, the seconds left in the window.

    One instance serves every thread (it is given to the module-level NinjaAPI): nothing of a
    call is kept on `self` but in a thread-local, read back by `wait()` which ninja calls right
    after `allow_request()` in the same thread."""

    def __init__(self):
        super().__init__(settings.API_RATE_LIMIT)
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        num_requests, duration = self.parse_rate(settings.API_RATE_LIMIT)
        self._local.wait = None
        key = getattr(request, "auth", None)
        if key is None:  # ninja throttles after authentication: an API call always has a key
            return True
        calls, left = api_call_count(key_id=key.pk, duration=duration, now=self.timer())
        if calls > num_requests:
            self._local.wait = float(max(1, left))
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


class FrenchSwagger(Swagger):
    """Swagger UI in French (`lang`) with readable colours (api/swagger.html, ADR 0018)."""

    template = "api/swagger.html"


api = NinjaAPI(
    title="AccèsMT",
    version="1",
    description=(
        "API des demandes de médecin traitant d'une CPTS : création d'une demande (site web de "
        "la CPTS, outil d'orientation) et lecture de son état ; import d'une liste de la CPAM "
        "(personnes sans médecin traitant, avec période d'opposition) ; indicateurs agrégés de "
        "la CPTS (petits effectifs masqués). Authentification par clé d'API "
        "propre à chaque CPTS (`Authorization: Bearer amt_…`). Les erreurs nomment le champ "
        'en cause : `{"errors": [{"field": "members[0].birth_date", "message": "…"}]}`.'
    ),
    urls_namespace="api",
    auth=ApiKeyBearer(),
    throttle=[ApiKeyRateThrottle()],
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=FrenchSwagger(settings={"deepLinking": False}),  # no link nested in each button
)


# The answers every operation may give besides its own (documented in the OpenAPI schema, checked
# by tests/fuzz): 401 without a valid key, 429 beyond a rate limit (with Retry-After). An operation
# with a JSON body adds 400 (body that is not JSON) and 422 (invalid fields, each one named).
ALWAYS = {401: ErrorsOut, 429: ErrorsOut}
WITH_BODY = {**ALWAYS, 400: ErrorsOut, 422: ErrorsOut}
ANSWER_HEADERS = {
    "responses": {
        401: {
            "headers": {
                "WWW-Authenticate": {
                    "description": "Schéma d'authentification attendu (Bearer).",
                    "schema": {"type": "string"},
                }
            }
        },
        429: {
            "headers": {
                "Retry-After": {
                    "description": "Secondes à attendre avant un nouvel appel.",
                    "schema": {"type": "integer", "minimum": 1},
                    "required": True,
                }
            }
        },
    }
}


def errors_response(request, status: int, errors: list[tuple[str, str]], **headers) -> HttpResponse:
    response = api.create_response(
        request,
        {"errors": [{"field": field, "message": message} for field, message in errors]},
        status=status,
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    failed_auth_count(request)
    return errors_response(
        request,
        401,
        [("Authorization", "Clé d'API absente, inconnue ou révoquée.")],
        WWW_Authenticate='Bearer realm="accesmt"',
    )


@api.exception_handler(FailedAuthThrottled)
def _failed_auth_throttled(request, exc):
    return errors_response(
        request,
        429,
        [
            (
                "Authorization",
                "Trop de tentatives avec une clé d'API absente, inconnue ou révoquée depuis "
                f"cette adresse : réessayez dans {exc.wait} s.",
            )
        ],
        Retry_After=str(exc.wait),
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc):
    return errors_response(request, 422, pydantic_errors(exc.errors))


@api.exception_handler(Throttled)
def _throttled(request, exc):
    wait = max(1, math.ceil(exc.wait or 1))
    return errors_response(
        request,
        429,
        [("", f"Trop de requêtes avec cette clé : réessayez dans {wait} s.")],
        Retry_After=str(wait),
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE: the JSON error of the API, not Django's HTML
    page (found by tests/fuzz)."""
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    return errors_response(
        request,
        400,
        [
            (
                "",
                f"Corps de la requête trop volumineux (au plus {size} Mo) : "
                "envoyez moins de lignes.",
            )
        ],
    )


@api.exception_handler(HttpError)
def _http_error(request, exc):
    if exc.status_code == 400:
        message = "Le corps de la requête doit être un objet JSON valide (UTF-8)."
    else:
        message = str(exc)
    return errors_response(request, exc.status_code, [("", message)])


def _status_body(request: Request) -> dict:
    return {
        "reference": request.reference,
        "status": request.status,
        "status_label": request.get_status_display(),
        "closed_reason": request.closed_reason,
        "closed_reason_label": request.get_closed_reason_display() if request.closed_reason else "",
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    }


@api.post(
    "/v1/requests",
    response={201: RequestStatusOut, 200: RequestStatusOut, 409: ErrorsOut, **WITH_BODY},
    openapi_extra=ANSWER_HEADERS,
    summary="Créer une demande",
    description=(
        "Enregistre la demande d'un foyer pour la CPTS de la clé, avec les mêmes contrôles que "
        "le formulaire public. Le consentement de la personne (deux accords) doit avoir été "
        "recueilli par l'appelant. Avec un en-tête `Idempotency-Key`, un nouvel envoi identique "
        "renvoie la demande déjà créée (200) ; un envoi différent avec la même clé est refusé "
        "(409)."
    ),
)
def create_request(
    request,
    payload: RequestIn,
    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=200),
):
    key = request.api_key
    cpts = key.cpts
    try:
        household, members = validate_payload(payload, cpts=cpts)
    except ApiInvalid as invalid:
        return errors_response(request, 422, invalid.errors)
    submission_key = (
        uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{key.pk}:{idempotency_key}")
        if idempotency_key
        else None
    )
    try:
        # A replay with the same content (even at the same instant) answers the stored one.
        creation = request_create(
            cpts=cpts,
            channel=Channel.API,
            household=household,
            members=members,
            submission_key=submission_key,
        )
    except SubmissionKeyReused:
        return errors_response(
            request,
            409,
            [("Idempotency-Key", "Cette clé d'idempotence a déjà servi pour une autre demande.")],
        )
    except NotEligible as refusal:
        message = f"{refusal.commune.name} n'est pas sur le territoire de {cpts.name}."
        if refusal.covering is not None:
            message += f" Cette commune est couverte par {refusal.covering.name}."
        return errors_response(request, 422, [("postcode", message)])
    if not creation.created:
        response = api.create_response(request, _status_body(creation.request), status=200)
        response["Idempotent-Replayed"] = "true"
        return response
    audit_record(actor=None, action=AuditAction.CREATE, obj=creation.request, cpts=cpts)
    return Answer(201, _status_body(creation.request))


@api.get(
    "/v1/requests/{reference}",
    response={200: RequestStatusOut, 404: ErrorsOut, **ALWAYS},
    openapi_extra=ANSWER_HEADERS,
    summary="État d'une demande",
    description="L'état d'une demande de la CPTS de la clé, par sa référence (MT-XXXX-XXXX).",
)
def request_status(request, reference: str):
    found = Request.objects.filter(cpts=request.api_key.cpts, reference=reference.upper()).first()
    if found is None:
        return errors_response(
            request, 404, [("reference", "Aucune demande de cette CPTS ne porte cette référence.")]
        )
    return Answer(200, _status_body(found))


@api.post(
    "/v1/listes-cpam",
    response={201: CpamListOut, **WITH_BODY},
    openapi_extra=ANSWER_HEADERS,
    summary="Importer une liste de la CPAM",
    description=(
        "Importe une liste de personnes sans médecin traitant transmise par l'Assurance Maladie "
        "(campagne ALD…) pour la CPTS de la clé : une demande par personne, avec les mêmes "
        "contrôles qu'une inscription (les colonnes du fichier décrit dans "
        "docs/cpam-list-format.md). Tout ou rien : si une seule personne est refusée, rien "
        "n'est enregistré et la réponse 422 nomme chaque champ en cause "
        "(`rows[3].birth_date`). Les personnes déjà en attente (même NIR, ou mêmes nom, prénom "
        "et date de naissance) ou deux fois dans la liste ne sont pas importées et sont "
        "listées dans `duplicates`. Chaque personne importée est informée (e-mail, SMS ou "
        "courrier) et peut refuser pendant `opt_out_days` jours ; ensuite sa demande entre dans "
        "la file avec la date de la liste comme ancienneté."
    ),
)
def import_cpam_list(request, payload: CpamListIn):
    cpts = request.api_key.cpts
    if payload.list_date > timezone.localdate():
        return errors_response(
            request, 422, [("list_date", "La date de la liste ne peut pas être dans le futur.")]
        )
    rows = [
        RawRow(
            line=index,
            values={
                name: ("oui" if value else "non") if isinstance(value, bool) else value
                for name, value in row.dict().items()
            },
        )
        for index, row in enumerate(payload.rows)
    ]
    checked = cpam_check_rows(rows, cpts=cpts, campaign_name=payload.campaign_name)
    report = checked.report
    if report.refused:
        errors = [
            (f"rows[{note.line}].{field}" if field else f"rows[{note.line}]", message)
            for note in report.refused
            for field, message in note.reasons
        ]
        return errors_response(request, 422, errors)
    cpam_list = cpam_list_apply(
        checked,
        cpts=cpts,
        campaign_name=payload.campaign_name,
        list_date=payload.list_date,
        opt_out_days=payload.opt_out_days,
        source=CpamList.Source.API,
    )
    return Answer(
        201,
        {
            "id": cpam_list.pk,
            "campaign_name": cpam_list.campaign_name,
            "list_date": cpam_list.list_date,
            "opt_out_ends_at": cpam_list.opt_out_ends_at,
            "rows": report.line_count,
            "imported": report.accepted_count,
            "duplicates": [
                {"row": note.line, "message": note.reasons[0][1], "reference": note.reference}
                for note in report.duplicates
            ],
        },
    )


def _indicator_body(item) -> dict:
    return {
        "code": item.code,
        "section": item.section,
        "section_title": catalogue.SECTIONS[item.section],
        "title": item.title,
        "formula": item.formula,
        "unit": item.unit,
        "population": item.population,
    }


def _period_body(period) -> dict:
    return {
        "kind": period.kind,
        "label": period.label,
        "start": period.start,
        "end": period.last_day,
    }


def _shared_indicators() -> list:
    """What a key may read: every indicator but those kept for the coordination (a key is not
    the coordination: it reads the CPTS's figures as an observer does)."""
    return [item for item in catalogue.all_indicators() if not item.coordination_only]


@api.get(
    "/v1/indicateurs",
    response={200: list[IndicatorOut], **ALWAYS},
    openapi_extra=ANSWER_HEADERS,
    summary="Catalogue des indicateurs",
    description="Chaque indicateur avec sa définition : formule, unité, population comptée.",
)
def indicator_list(request):
    return Answer(200, [_indicator_body(item) for item in _shared_indicators()])


@api.get(
    "/v1/indicateurs/{code}",
    response={200: IndicatorTableOut, 404: ErrorsOut, 422: ErrorsOut, **ALWAYS},
    openapi_extra=ANSWER_HEADERS,
    summary="Un indicateur sur une période",
    description=(
        "Le tableau d'un indicateur pour la CPTS de la clé, sur la période demandée (par "
        "défaut l'année en cours du contrat ACI de la CPTS), avec la période précédente. "
        "Comme pour un observateur, un effectif de 1 à 4 vaut « < 5 » et un taux calculé sur "
        "un tel effectif « — »."
    ),
)
def indicator_table(
    request,
    code: str,
    periode: str = Query(
        "aci", description="aci (année du contrat), month, quarter, year ou custom."
    ),
    debut: str = Query(
        "", description="Un jour de la période (AAAA-MM-JJ) ; pour custom, le premier."
    ),
    fin: str = Query("", description="Pour custom : le dernier jour (AAAA-MM-JJ)."),
):
    item = next((i for i in _shared_indicators() if i.code == code), None)
    if item is None:
        return errors_response(request, 404, [("code", "Aucun indicateur ne porte ce code.")])
    cpts = request.api_key.cpts
    settings = ReportingSettings.for_cpts(cpts)
    try:
        period = period_from_query(
            {"periode": periode, "debut": debut, "fin": fin},
            contract_start=settings.aci_contract_start,
        )
    except PeriodError as error:
        return errors_response(request, 422, [(error.field, error.message)])
    table = item.compute(Scope(cpts=cpts, masked=True), period)
    return Answer(
        200,
        {
            "indicator": _indicator_body(item),
            "period": _period_body(period),
            "previous_period": _period_body(period.previous()),
            "masked": True,
            "columns": table.columns,
            "rows": [[cell.shown(True) for cell in row] for row in table.rows],
            "total": [cell.shown(True) for cell in table.total] if table.total else None,
            "note": table.note,
        },
    )
