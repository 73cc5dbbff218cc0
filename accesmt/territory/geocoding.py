"""Place an address on the map with the BAN `/search/` API (or a self-hosted addok).

The Base Adresse Nationale answers GeocodeJSON: a FeatureCollection whose features carry
`geometry.coordinates = [lon, lat]` and `properties` (label, score, type, citycode, …).
Whatever goes wrong (service down, slow, refusing, answering garbage, a weak or foreign
match), the caller still gets a usable position: the centre of the commune, with a French
message saying why. See docs/decisions/0003-geocoding.md.

Privacy: addresses are personal data. Nothing here logs the address, the query or the label;
only the kind of outcome, the number of attempts and the duration.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from accesmt.territory.models import Commune

logger = logging.getLogger(__name__)

USER_AGENT = "AccesMT/0.1 (geocodage d'adresses pour les CPTS; +https://github.com/accesmt)"
SEARCH_PATH = "/search/"
MAX_QUERY_LENGTH = 200  # the BAN refuses q longer than 200 characters (HTTP 400)
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_MAX_SECONDS = 2.0

# Paris, Lyon and Marseille: the BAN places addresses in arrondissements, whose own INSEE
# codes differ from the commune's. Filter on the postcode instead and accept the arrondissements.
MUNICIPAL_ARRONDISSEMENTS = {
    "75056": {f"751{n:02d}" for n in range(1, 21)},
    "69123": {f"6938{n}" for n in range(1, 10)},
    "13055": {f"132{n:02d}" for n in range(1, 17)},
}

_HOUSENUMBER = re.compile(r"^\s*\d+\s*(?:[a-zA-Z]\b|bis\b|ter\b|quater\b)?", re.IGNORECASE)
_LEADING_JUNK = re.compile(r"^[^\w]+")
_POSTCODE = re.compile(r"^\d{5}$")


# One HTTP client per process, shared by every thread (httpx.Client is thread-safe): its
# connections to the BAN are kept and reused, and a registration does not pay for a new client
# (about 20 ms of CPU: TLS context, connection) each time. Created on first use, again in a
# forked child (a gunicorn worker must not share the parent's sockets).
_client_lock = threading.Lock()
_client: httpx.Client | None = None
_client_pid = 0
# Below this much time left in the budget, no request is sent (it could not be answered).
MIN_ATTEMPT_SECONDS = 0.05


def shared_client() -> httpx.Client:
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        with _client_lock:
            if _client is None or _client_pid != os.getpid():
                _client = httpx.Client(
                    headers={"User-Agent": USER_AGENT},
                    follow_redirects=True,
                    limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                )
                _client_pid = os.getpid()
    return _client


def close_shared_client() -> None:
    """Close the shared client's connections (tests, between two local servers)."""
    global _client
    with _client_lock:
        if _client is not None:
            _client.close()
        _client = None


class GeocodeSource(models.TextChoices):
    """Where a stored position comes from: the one list for requests and practice sites."""

    ADDRESS = "address", "adresse (Base Adresse Nationale)"
    COMMUNE_CENTRE = "commune_centre", "centre de la commune"
    NONE = "none", "position inconnue"


def commune_centre(commune: Commune | None) -> tuple[float | None, float | None, str]:
    """The fallback position (latitude, longitude, source): the centre of `commune`, or no
    position (source "none") when there is no commune or its coordinates are unknown."""
    if commune is not None and commune.latitude is not None and commune.longitude is not None:
        return commune.latitude, commune.longitude, GeocodeSource.COMMUNE_CENTRE
    return None, None, GeocodeSource.NONE


class Outcome:
    """Why a result is what it is; logged (never the address) and used by the command."""

    FOUND = "found"
    EMPTY_ADDRESS = "empty_address"
    NOT_FOUND = "not_found"
    LOW_SCORE = "low_score"
    CITY_MISMATCH = "city_mismatch"
    REFUSED = "refused"  # 4xx: the service will not answer this query, retrying is useless
    UNREACHABLE = "unreachable"  # connection refused, timeout, 5xx/429 after every retry
    MALFORMED = "malformed"  # not JSON, or not GeocodeJSON


FALLBACK_MESSAGES = {
    Outcome.EMPTY_ADDRESS: "Adresse vide",
    Outcome.NOT_FOUND: "Adresse non trouvée par la BAN",
    Outcome.LOW_SCORE: "Adresse trop imprécise pour la BAN (score {score})",
    Outcome.CITY_MISMATCH: "La BAN a situé l'adresse dans une autre commune ({city})",
    Outcome.REFUSED: "Adresse refusée par le service de géocodage (erreur {status})",
    Outcome.UNREACHABLE: "Service de géocodage injoignable",
    Outcome.MALFORMED: "Réponse illisible du service de géocodage",
}


@dataclass(frozen=True)
class GeocodeResult:
    latitude: float | None
    longitude: float | None
    source: (
        str  # "address" (BAN answered well), "commune_centre" (fallback), "none" (nothing known)
    )
    score: float | None
    label: str  # BAN label, or the commune name for a fallback
    message: str  # French, for the coordinator: why a fallback was used, "" when precise
    outcome: str = Outcome.FOUND  # machine-readable reason, see Outcome

    @property
    def precise(self) -> bool:
        return self.source == GeocodeSource.ADDRESS


@dataclass(frozen=True)
class _Failure:
    outcome: str
    score: float | None = None
    city: str = ""
    status: int | None = None

    def message(self, *, commune_has_coordinates: bool) -> str:
        score = f"{self.score:.2f}".replace(".", ",") if self.score is not None else ""
        reason = FALLBACK_MESSAGES[self.outcome].format(
            score=score, city=self.city, status=self.status
        )
        if commune_has_coordinates:
            return f"{reason} : centre de la commune utilisé"
        return f"{reason} : position inconnue (coordonnées de la commune absentes)"


class _ServiceError(Exception):
    def __init__(self, failure: _Failure, *, attempts: int):
        super().__init__(failure.outcome)
        self.failure = failure
        self.attempts = attempts


def geocode_address(
    *,
    street: str,
    commune: Commune,
    postcode: str = "",
    interactive: bool = False,
    budget: float | None = None,
) -> GeocodeResult:
    """Place `street` (e.g. "12 rue Jean Jaurès") in `commune`; never raises on service trouble.

    Sends q = street + postcode + commune name, filtered on the commune's INSEE code, the
    postcode (when it belongs to the commune) and the type (housenumber when the street starts
    with a number, else street). If no house number matches, the street is tried. The answer
    must lie in the commune and score at least GEOCODER_MIN_SCORE; otherwise the commune
    centre is returned with a French message.

    `interactive=True` (a person waits for the page): no retry, and every request of the call
    (the house number, then the street) within one time budget of GEOCODER_INTERACTIVE_TIMEOUT
    seconds in all (`budget` to give another): when it runs out the answer is "unreachable",
    and the caller's background job (intake.services.requests_geocode_retry) tries again.
    """
    started = time.monotonic()
    if interactive:
        budget = float(settings.GEOCODER_INTERACTIVE_TIMEOUT) if budget is None else budget
    attempts = 0
    street = _LEADING_JUNK.sub("", " ".join((street or "").split()))
    postcode = (postcode or "").strip()
    if not street:
        result = _fallback(commune, _Failure(Outcome.EMPTY_ADDRESS))
        _log(result, attempts=0, started=started)
        return result

    has_number = bool(_HOUSENUMBER.match(street))
    types = ["housenumber", "street"] if has_number else ["street"]
    query = _build_query(street=street, postcode=postcode, commune=commune)
    base_params = _filters(commune=commune, postcode=postcode)

    # The budget counts the time spent waiting for the service, from its first request (the
    # first call of a process builds the shared client before: not counted).
    shared_client()
    deadline = time.monotonic() + budget if budget is not None else None
    first_failure: _Failure | None = None
    for type_ in types:
        params = {"q": query, **base_params, "type": type_, "limit": "1", "autocomplete": "0"}
        try:
            payload, used = _get_with_retries(params, interactive=interactive, deadline=deadline)
        except _ServiceError as error:
            attempts += error.attempts
            result = _fallback(commune, error.failure)
            _log(result, attempts=attempts, started=started)
            return result
        attempts += used
        found = _read_answer(payload, commune=commune)
        if isinstance(found, GeocodeResult):
            _log(found, attempts=attempts, started=started)
            return found
        if found.outcome == Outcome.MALFORMED:
            result = _fallback(commune, found)
            _log(result, attempts=attempts, started=started)
            return result
        # Keep the most telling reason: a weak or foreign match says more than "nothing".
        if first_failure is None or first_failure.outcome == Outcome.NOT_FOUND:
            first_failure = found

    result = _fallback(commune, first_failure or _Failure(Outcome.NOT_FOUND))
    _log(result, attempts=attempts, started=started)
    return result


def _build_query(*, street: str, postcode: str, commune: Commune) -> str:
    parts = [street]
    if postcode and postcode not in street:
        parts.append(postcode)
    if commune.name.casefold() not in street.casefold():
        parts.append(commune.name)
    query = " ".join(parts)
    if len(query) > MAX_QUERY_LENGTH:
        query = query[:MAX_QUERY_LENGTH].rsplit(" ", 1)[0]
    return query


def _filters(*, commune: Commune, postcode: str) -> dict[str, str]:
    params: dict[str, str] = {}
    if commune.insee_code not in MUNICIPAL_ARRONDISSEMENTS:
        params["citycode"] = commune.insee_code
    if _POSTCODE.match(postcode) and _postcode_belongs(commune, postcode):
        params["postcode"] = postcode
    return params


def _postcode_belongs(commune: Commune, postcode: str) -> bool:
    """A mistyped postcode must not hide the address: filter on it only when it is plausible."""
    if commune._state.adding:  # an unsaved commune has no postal codes to compare with
        return True
    known = set(commune.postal_codes.values_list("code", flat=True))
    return not known or postcode in known


def _get_with_retries(
    params: dict[str, str], *, interactive: bool = False, deadline: float | None = None
) -> tuple[Any, int]:
    """GET /search/ with retries on connection errors, timeouts, 5xx and 429 (not other 4xx),
    through the shared client; each try waits at most GEOCODER_TIMEOUT and what is left before
    `deadline` (time.monotonic())."""
    url = search_url()
    retries = 0 if interactive else max(0, int(settings.GEOCODER_RETRIES))
    seconds = float(settings.GEOCODER_TIMEOUT)
    client = shared_client()
    attempts = 0
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS))
        wait = seconds
        if deadline is not None:
            wait = min(wait, deadline - time.monotonic())
            if wait < MIN_ATTEMPT_SECONDS:
                break  # the budget is spent: unreachable for now
        attempts += 1
        try:
            response = client.get(url, params=params, timeout=httpx.Timeout(wait))
        except (httpx.TransportError, httpx.InvalidURL):
            continue  # connection refused, timeout, protocol error: retry
        if response.status_code >= 500 or response.status_code == 429:
            continue
        if response.status_code >= 400:
            failure = _Failure(Outcome.REFUSED, status=response.status_code)
            raise _ServiceError(failure, attempts=attempts)
        try:
            return response.json(), attempts
        except ValueError:
            raise _ServiceError(_Failure(Outcome.MALFORMED), attempts=attempts) from None
    raise _ServiceError(_Failure(Outcome.UNREACHABLE), attempts=attempts)


def search_url() -> str:
    """GEOCODER_URL + "/search/", or GEOCODER_URL itself when it already names the endpoint.

    The BAN documents `/search/`; a bare addok (Falcon) only routes `/search`, so a self-hosted
    addok is configured with GEOCODER_URL=http://addok:7878/search.
    """
    base = settings.GEOCODER_URL.strip()
    if base.rstrip("/").endswith("/search"):
        return base
    return base.rstrip("/") + SEARCH_PATH


def _read_answer(payload: Any, *, commune: Commune) -> GeocodeResult | _Failure:
    """Check the GeocodeJSON answer and turn its first feature into a result (or a failure)."""
    if not isinstance(payload, dict) or payload.get("type") != "FeatureCollection":
        return _Failure(Outcome.MALFORMED)
    features = payload.get("features")
    if not isinstance(features, list):
        return _Failure(Outcome.MALFORMED)
    if not features:
        return _Failure(Outcome.NOT_FOUND)
    feature = features[0]
    try:
        geometry = feature["geometry"]
        properties = feature["properties"]
        if geometry["type"] != "Point":
            return _Failure(Outcome.MALFORMED)
        longitude, latitude = (float(value) for value in geometry["coordinates"])  # [lon, lat]
        score = float(properties["score"])
        citycode = str(properties.get("citycode", ""))
        label = str(properties.get("label", ""))
        city = str(properties.get("city", ""))
    except (KeyError, TypeError, ValueError):
        return _Failure(Outcome.MALFORMED)
    if not all(map(math.isfinite, (latitude, longitude, score))) or not (
        -90 <= latitude <= 90 and -180 <= longitude <= 180
    ):
        return _Failure(Outcome.MALFORMED)
    accepted = MUNICIPAL_ARRONDISSEMENTS.get(commune.insee_code, {commune.insee_code})
    if citycode not in accepted:
        return _Failure(Outcome.CITY_MISMATCH, score=score, city=city or citycode)
    if score < settings.GEOCODER_MIN_SCORE:
        return _Failure(Outcome.LOW_SCORE, score=score)
    return GeocodeResult(
        latitude=latitude,
        longitude=longitude,
        source=GeocodeSource.ADDRESS,
        score=score,
        label=label,
        message="",
        outcome=Outcome.FOUND,
    )


def _fallback(commune: Commune, failure: _Failure) -> GeocodeResult:
    latitude, longitude, source = commune_centre(commune)
    return GeocodeResult(
        latitude=latitude,
        longitude=longitude,
        source=source,
        score=None,  # the score describes the position given, and this one is not BAN's
        label=commune.name,
        message=failure.message(commune_has_coordinates=source == GeocodeSource.COMMUNE_CENTRE),
        outcome=failure.outcome,
    )


def _log(result: GeocodeResult, *, attempts: int, started: float) -> None:
    """Outcome, source, attempts and duration only: never the address, query or label."""
    service_trouble = result.outcome in (Outcome.UNREACHABLE, Outcome.REFUSED, Outcome.MALFORMED)
    logger.log(
        logging.WARNING if service_trouble else logging.INFO,
        "geocoding outcome=%s source=%s attempts=%d duration_ms=%d",
        result.outcome,
        result.source,
        attempts,
        (time.monotonic() - started) * 1000,
    )
