"""Writes of the intake app. Every change of a request goes through a function here (or
`lifecycle.request_transition` for its status)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.actors import actor_or_none
from accesmt.accounts.models import CPAM_ROLES, AuditAction, Membership
from accesmt.accounts.services import audit_record
from accesmt.common.links import public_url
from accesmt.common.phones import is_mobile
from accesmt.common.signing import make_link_token
from accesmt.notifications.messages import render_message
from accesmt.notifications.services import outbox_enqueue, outbox_message_build
from accesmt.territory.geocoding import commune_centre

from . import priority
from .consent import CONSENT_TEXT_VERSION
from .lifecycle import record_creation, request_transition
from .models import (
    OPEN_STATUSES,
    Channel,
    ClosedReason,
    DuplicateFlag,
    DuplicateReason,
    GeocodeSource,
    HouseholdMember,
    IntakeAttempt,
    IntakeSettings,
    Request,
    RequestPriorityReason,
    RequestTransition,
    Status,
    normalise_name,
)
from .selectors import FOLLOWUP_SALT

if TYPE_CHECKING:
    from accesmt.accounts.models import User

logger = logging.getLogger(__name__)


HOUSEHOLD_FIELDS = (
    "address",
    "postcode",
    "commune",
    "phone",
    "email",
    "coverage",
    "needs_rights_help",
    "reason",
    "reason_other",
    "former_gp_name",
    "former_gp_commune",
    "usual_gp_rpps",
    "usual_gp_name",
    "other_professionals",
    "comment",
    "urgent_follow_up",
)
MEMBER_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "sex",
    "nir",
    "has_ald",
    "has_disability",
    "conditions",
    "home_visits",
)


class NotEligible(Exception):
    """The commune is outside the CPTS territory. `covering` is the CPTS (on this platform)
    that covers it, or None."""

    def __init__(self, *, commune, covering):
        super().__init__("commune hors territoire")
        self.commune = commune
        self.covering = covering


class SubmissionKeyReused(Exception):
    """The submission key already names a request whose content differs: another household
    (shared tablet, Back button, another caller of the API). `fresh_key` is the key to store
    this household under instead, derived from both, so that its own re-sends stay idempotent."""

    def __init__(self, *, fresh_key: uuid.UUID):
        super().__init__("clé de soumission déjà utilisée pour un autre contenu")
        self.fresh_key = fresh_key


@dataclass
class Creation:
    request: Request
    created: bool
    duplicates: list[DuplicateFlag] = field(default_factory=list)


# --- eligibility and geocoding -----------------------------------------------------------------


def cpts_covering(commune):
    """The active CPTS whose territory holds `commune`, or None."""
    from accesmt.territory.selectors import cpts_covering as territory_cpts_covering

    covering = territory_cpts_covering(commune)
    return covering if covering is not None and covering.is_active else None


def check_eligibility(*, cpts, commune) -> None:
    """Raise NotEligible when `commune` is not in `cpts`'s territory."""
    covering = cpts_covering(commune)
    if covering is None or covering.pk != cpts.pk:
        raise NotEligible(commune=commune, covering=covering)


def _geocode(*, street: str, commune, postcode: str) -> dict[str, Any]:
    """Geocoding never blocks a submission: any failure falls back to the commune centre."""
    try:
        from accesmt.territory.geocoding import geocode_address

        result = geocode_address(
            street=street, commune=commune, postcode=postcode, interactive=True
        )
        return {
            "latitude": result.latitude,
            "longitude": result.longitude,
            "geocode_source": result.source,
            "geocode_score": result.score,
            "geocode_message": (result.message or "")[:250],
        }
    except Exception as exc:  # the fallback must hold whatever the geocoder does
        # The class only: the error's text may quote the address (docs/decisions/0034).
        logger.error("intake: geocoding failed (%s), commune centre used", type(exc).__name__)
        latitude, longitude, source = commune_centre(commune)
        return {
            "latitude": latitude,
            "longitude": longitude,
            "geocode_source": source,
            "geocode_score": None,
            "geocode_message": "Géocodage indisponible : centre de la commune utilisé",
        }


RETRY_GEOCODING_DAYS = 14
RETRY_GEOCODING_BATCH = 50


def requests_geocode_retry(*, now: datetime.datetime | None = None) -> int:
    """Periodic job: open requests of the last RETRY_GEOCODING_DAYS placed at the commune centre
    because the geocoder was unreachable while the person waited are geocoded again; a precise
    answer replaces the centre. Returns how many were placed.

    One try per request within GEOCODER_TIMEOUT (`interactive=True`: the worker is not held by
    the retries);
    `geocode_attempted_at` is set at each try and the batch takes the never-tried first, then
    the longest-untried, so that while the BAN is down every request gets its turn. The row is
    locked and the answer written only if the address is still the one geocoded (a coordinator
    may have edited it meanwhile)."""
    from accesmt.territory.geocoding import FALLBACK_MESSAGES, Outcome, geocode_address

    now = now or timezone.now()
    unavailable = Q(geocode_message__startswith="Géocodage indisponible")
    for outcome in (Outcome.UNREACHABLE, Outcome.MALFORMED):
        unavailable |= Q(geocode_message__startswith=FALLBACK_MESSAGES[outcome])
    pending = (
        Request.objects.filter(
            status__in=OPEN_STATUSES,
            created_at__gte=now - datetime.timedelta(days=RETRY_GEOCODING_DAYS),
        )
        .exclude(geocode_source=GeocodeSource.ADDRESS)
        .filter(unavailable)
        .select_related("commune")
        .order_by(F("geocode_attempted_at").asc(nulls_first=True), "created_at", "pk")[
            :RETRY_GEOCODING_BATCH
        ]
    )
    placed = 0
    for request in pending:
        geocoded = (request.address, request.postcode, request.commune_id)
        result = geocode_address(
            street=request.address,
            commune=request.commune,
            postcode=request.postcode,
            interactive=True,
            # No person waits here: the service's own timeout, not the registration's budget.
            budget=float(settings.GEOCODER_TIMEOUT),
        )
        with transaction.atomic():
            locked = (
                Request.objects.select_for_update(of=("self",))
                .filter(pk=request.pk)
                .values("address", "postcode", "commune_id")
                .first()
            )
            if locked is None:
                continue
            changes = {"geocode_attempted_at": now}
            unchanged = (locked["address"], locked["postcode"], locked["commune_id"]) == geocoded
            if unchanged and result.precise:
                changes |= {
                    "latitude": result.latitude,
                    "longitude": result.longitude,
                    "geocode_source": result.source,
                    "geocode_score": result.score,
                    "geocode_message": "",
                }
                placed += 1
            Request.objects.filter(pk=request.pk).update(**changes)
    return placed


# --- follow-up link ----------------------------------------------------------------------------


def followup_token(request: Request) -> str:
    """A signed, timestamped token holding only the request id (see selectors for reading)."""
    return make_link_token(request.pk, salt=FOLLOWUP_SALT, key="r")


def followup_path(request: Request) -> str:
    return reverse("intake:followup", kwargs={"token": followup_token(request)})


# --- creation ----------------------------------------------------------------------------------


def submission_fingerprint(*, household: dict[str, Any], members: list[dict[str, Any]]) -> str:
    """A keyed hash (never reversible to the data) of what identifies a submitted household:
    commune, phone, e-mail and each person's normalised name and birth date. Two sends compare
    equal only when these are the same."""
    people = sorted(
        (normalise_name(m["last_name"], m["first_name"]), str(m["birth_date"])) for m in members
    )
    commune = household["commune"]
    content = json.dumps(
        [
            getattr(commune, "pk", commune),
            household.get("phone") or "",
            (household.get("email") or "").lower(),
            people,
        ]
    )
    return hmac.new(settings.SECRET_KEY.encode(), content.encode(), hashlib.sha256).hexdigest()


def _fingerprint_of(request: Request) -> str:
    """The stored fingerprint, or (requests stored before it existed) the one of its fields."""
    if request.submission_fingerprint:
        return request.submission_fingerprint
    members = request.members.values("last_name", "first_name", "birth_date")
    household = {"commune": request.commune_id, "phone": request.phone, "email": request.email}
    return submission_fingerprint(household=household, members=list(members))


def request_replayed(*, cpts, submission_key: uuid.UUID | None, fingerprint: str) -> Request | None:
    """The request already stored under `submission_key` when it holds the same content, None
    when there is none; SubmissionKeyReused when the key names another household's request."""
    if submission_key is None:
        return None
    existing = Request.objects.filter(cpts=cpts, submission_key=submission_key).first()
    if existing is None:
        return None
    if not hmac.compare_digest(_fingerprint_of(existing), fingerprint):
        raise SubmissionKeyReused(fresh_key=uuid.uuid5(submission_key, fingerprint))
    return existing


def referrer_is_cpam(*, user, cpts) -> bool:
    """The referrer holds a CPAM role (agent, mediator) in `cpts`: the request's source is the
    Assurance Maladie, whatever the membership's profession."""
    return Membership.objects.filter(
        user=user, cpts=cpts, role__in=CPAM_ROLES, is_active=True
    ).exists()


def request_create(
    *,
    cpts,
    channel: str,
    household: dict[str, Any],
    members: list[dict[str, Any]],
    by: User | None = None,
    referrer=None,
    referrer_attested_consent: bool = False,
    consent_oral: bool = False,
    submission_key: uuid.UUID | None = None,
    now: datetime.datetime | None = None,
) -> Creation:
    """Store a request with its members, priority, duplicate flags, history line and
    acknowledgment messages — all or nothing. A second call with the same `submission_key`
    for the same CPTS and the same content (`submission_fingerprint`) returns the first request
    (`created=False`) and stores nothing, even when both arrive at the same instant; with other
    content it raises SubmissionKeyReused (never another household's request).

    `household` holds HOUSEHOLD_FIELDS (commune as a Commune), `members` dicts of
    MEMBER_FIELDS, already validated by `forms` or the API. Raises NotEligible when the commune
    is outside the territory, ValidationError when the data are inconsistent."""
    if channel not in Channel.values:
        raise ValueError(f"canal inconnu : {channel}")
    if not members:
        raise ValidationError("Indiquez au moins une personne du foyer.", code="no_member")
    # Typed by the coordination during a call, the postal address may be the only contact (every
    # message then goes by letter); online, by referral or through the API a phone or an e-mail
    # is needed.
    if channel != Channel.PHONE and not (household.get("phone") or household.get("email")):
        raise ValidationError(
            "Indiquez un numéro de téléphone ou une adresse e-mail.", code="no_contact"
        )
    fingerprint = submission_fingerprint(household=household, members=members)
    existing = request_replayed(cpts=cpts, submission_key=submission_key, fingerprint=fingerprint)
    if existing is not None:
        return Creation(existing, created=False)
    commune = household["commune"]
    check_eligibility(cpts=cpts, commune=commune)
    now = now or timezone.now()
    by = actor_or_none(by)
    geocoded = _geocode(
        street=household["address"], commune=commune, postcode=household.get("postcode", "")
    )
    values = {name: household[name] for name in HOUSEHOLD_FIELDS if name in household}
    referred_by_cpam = referrer is not None and referrer_is_cpam(user=referrer, cpts=cpts)
    try:
        with transaction.atomic():
            request = Request(
                cpts=cpts,
                channel=channel,
                status=Status.NEW,
                consent_processing=True,
                consent_sharing=True,
                consent_text_version=CONSENT_TEXT_VERSION,
                consent_oral=consent_oral,
                consented_at=now,
                referrer=referrer,
                referrer_attested_consent=referrer_attested_consent,
                referred_by_cpam=referred_by_cpam,
                created_by=by,
                submission_key=submission_key,
                submission_fingerprint=fingerprint,
                created_at=now,
                waiting_since=now,
                **values,
                **geocoded,
            )
            # The key's uniqueness is left to the database: a same-instant twin is answered below.
            # So are the invariants (Meta.constraints): they hold on values this function sets,
            # and Django would check each one with a query of its own (12 per registration);
            # and so are the foreign keys (the CPTS, commune and users were just read) and the
            # random reference's uniqueness: one query each otherwise.
            request.full_clean(
                exclude=["submission_key", *REQUEST_KEYS_CHECKED_BY_THE_DATABASE],
                validate_unique=False,
                validate_constraints=False,
            )
            request.save()
            for position, member_data in enumerate(members):
                member = HouseholdMember(
                    request=request,
                    position=position,
                    is_contact_person=position == 0,
                    **{name: member_data[name] for name in MEMBER_FIELDS if name in member_data},
                )
                member.full_clean(
                    exclude=["normalised_name", "request", "cpts"], validate_constraints=False
                )
                member.save()
            record_creation(request=request, by=by, note=Channel(channel).label)
            request_recompute_priority(request=request, today=timezone.localdate(now))
            duplicates = request_detect_duplicates(request=request)
            _enqueue_acknowledgment(request=request, now=now)
            if by is not None:
                from accesmt.accounts.services import audit_record

                audit_record(actor=by, action="create", obj=request, cpts=cpts)
    except IntegrityError:
        # Two submissions with the same key raced: the other one won. The atomic block above
        # rolled back to its savepoint, so the winner can be read and compared.
        existing = request_replayed(
            cpts=cpts, submission_key=submission_key, fingerprint=fingerprint
        )
        if existing is not None:
            return Creation(existing, created=False)
        raise
    logger.info("intake: request %s created (channel %s)", request.pk, channel)
    return Creation(request, created=True, duplicates=duplicates)


# Foreign keys of a new request whose targets request_create has in hand: the database's
# constraints check them, without a SELECT each.
REQUEST_KEYS_CHECKED_BY_THE_DATABASE = ("cpts", "commune", "referrer", "created_by")


def request_recompute_priority(*, request: Request, today: datetime.date | None = None) -> list:
    """Evaluate the priority rules of the request's CPTS and store the fired ones."""
    today = today or timezone.localdate()
    config = IntakeSettings.for_cpts(request.cpts)
    members = list(request.members.all())
    fired = priority.evaluate(request=request, members=members, config=config, today=today)
    with transaction.atomic():
        RequestPriorityReason.objects.filter(request=request).delete()
        RequestPriorityReason.objects.bulk_create(
            RequestPriorityReason(request=request, member=f.member, rule_code=f.code, label=f.label)
            for f in fired
        )
        request.is_priority = bool(fired)
        request.priority_rule_count = len(fired)
        Request.objects.filter(pk=request.pk).update(
            is_priority=request.is_priority, priority_rule_count=request.priority_rule_count
        )
    return fired


def request_detect_duplicates(*, request: Request) -> list[DuplicateFlag]:
    """Flag every open request (any CPTS) where one of this request's members already waits:
    same NIR, or same normalised name and birth date. A pair already flagged, either way round
    and resolved or not, is left as it is."""
    flags: dict[int, DuplicateFlag] = {}
    already = set(
        DuplicateFlag.objects.filter(request=request).values_list("other_request_id", flat=True)
    ) | set(
        DuplicateFlag.objects.filter(other_request=request).values_list("request_id", flat=True)
    )
    others = HouseholdMember.objects.filter(request__status__in=OPEN_STATUSES).exclude(
        request=request
    )
    for member in request.members.all():
        query = Q(normalised_name=member.normalised_name, birth_date=member.birth_date)
        if member.nir:
            query |= Q(nir=member.nir)
        for other in others.filter(query).select_related("request"):
            reason = (
                DuplicateReason.NIR
                if member.nir and other.nir == member.nir
                else DuplicateReason.NAME_BIRTH_DATE
            )
            if other.request_id in already:
                continue
            known = flags.get(other.request_id)
            if known is None or reason == DuplicateReason.NIR:
                flags[other.request_id] = DuplicateFlag(
                    request=request,
                    other_request_id=other.request_id,
                    reason=reason,
                    same_cpts=other.request.cpts_id == request.cpts_id,
                )
    created = []
    for flag in flags.values():
        flag.save()
        created.append(flag)
    return created


# --- acknowledgment through the outbox ---------------------------------------------------------


ACKNOWLEDGMENT = "intake/messages/acknowledgment_{}.txt"
LETTER_FOOTER = "intake/messages/letter_footer.txt"


def acknowledgment_texts(*, request: Request, followup_url: str) -> tuple[str, str, str]:
    """(subject, e-mail body, SMS body): reference and link only — no name, no health data."""
    context = _acknowledgment_context(request, followup_url)
    subject, email = render_message(
        ACKNOWLEDGMENT.format("email"), context, subject_template=ACKNOWLEDGMENT.format("subject")
    )
    return subject, email, render_message(ACKNOWLEDGMENT.format("sms"), context)[1]


def _acknowledgment_context(request: Request, followup_url: str) -> dict[str, str]:
    return {
        "cpts_name": request.cpts.name,
        "reference": request.reference,
        "followup_url": followup_url,
    }


def message_channels(request: Request) -> tuple[bool, bool]:
    """(e-mail, SMS) that reach the household: an e-mail address; a mobile, not a landline, for
    SMS. The one reachability rule: with neither, every message goes by printed letter."""
    return bool(request.email), is_mobile(request.phone)


def reachable_by_message(request: Request) -> bool:
    """An e-mail address, or a mobile for SMS: otherwise every message goes by printed letter."""
    return any(message_channels(request))


def letter_enqueue(
    *,
    request: Request,
    topic: str,
    subject: str,
    body: str,
    dedup_key: str | None = None,
    now: datetime.datetime | None = None,
    into: list | None = None,
):
    """A letter to print by the coordination (household with neither e-mail nor mobile): its
    text, no name; the name and address are printed from the request. Ends with how to reach
    the coordination, since the person has no link to follow. With `into`, the message is
    checked and appended there, for the caller to queue in bulk (`outbox_enqueue_many`)."""
    footer = render_message(
        LETTER_FOOTER, {"cpts_phone": request.cpts.phone, "reference": request.reference}
    )[1]
    return _enqueue(
        into,
        now=now,
        channel="letter",
        to="",
        subject=subject,
        body=f"{body}\n\n{footer}",
        topic=topic,
        cpts=request.cpts,
        related=request,
        dedup_key=dedup_key,
    )


def _enqueue(into: list | None, **message):
    """Queue the message now, or (with `into`) check it and append it for a bulk insert."""
    if into is None:
        return outbox_enqueue(**message)
    built = outbox_message_build(check_cpts=False, **message)
    into.append(built)
    return built


def household_tell(
    *,
    request: Request,
    topic: str,
    subject: str = "",
    email_body: str = "",
    sms_body: str = "",
    letter_subject: str | None = None,
    letter_body: str = "",
    related=None,
    dedup_key: str | None = None,
    channels: tuple[bool, bool] | None = None,
    now: datetime.datetime | None = None,
    into: list | None = None,
) -> int:
    """Tell the household of `request`: the e-mail and/or the SMS on the channels that reach it
    (`channels`, by default `message_channels`), or else the letter `letter_body` for the
    coordination to print (none when it is empty). `dedup_key` may hold "{channel}" (email,
    sms, letter). E-mails and SMS are related to `related` (the request by default), letters
    to the request. Returns how many messages were queued. With `into` (a list), the messages
    are checked and appended there instead, for the caller to queue them in bulk
    (`notifications.services.outbox_enqueue_many`: an import telling thousands of people)."""
    by_email, by_sms = message_channels(request) if channels is None else channels

    def key(channel: str) -> str | None:
        return dedup_key.format(channel=channel) if dedup_key else None

    if not (by_email or by_sms):
        if not letter_body:
            return 0
        letter_enqueue(
            now=now,
            request=request,
            topic=topic,
            subject=subject if letter_subject is None else letter_subject,
            body=letter_body,
            dedup_key=key("letter"),
            into=into,
        )
        return 1
    count = 0
    for channel, wanted, to, channel_subject, body in (
        ("email", by_email, request.email, subject, email_body),
        ("sms", by_sms, request.phone, "", sms_body),
    ):
        if wanted and to and body:
            _enqueue(
                into,
                now=now,
                channel=channel,
                to=to,
                subject=channel_subject,
                body=body,
                topic=topic,
                cpts=request.cpts,
                related=related or request,
                dedup_key=key(channel),
            )
            count += 1
    return count


def _enqueue_acknowledgment(*, request: Request, now: datetime.datetime | None = None) -> int:
    """Queue the acknowledgment e-mail and/or SMS in the same transaction as the request, or the
    acknowledgment letter when the household has neither e-mail nor mobile."""
    followup_url = public_url(followup_path(request))
    subject, email_body, sms_body = acknowledgment_texts(request=request, followup_url=followup_url)
    return household_tell(
        now=now,
        request=request,
        topic="intake.acknowledgment",
        subject=subject,
        email_body=email_body,
        sms_body=sms_body,
        letter_body=render_message(
            ACKNOWLEDGMENT.format("letter"), _acknowledgment_context(request, followup_url)
        )[1],
        dedup_key="intake-ack-{channel}-" + str(request.pk),
    )


# --- changes after creation --------------------------------------------------------------------


def request_lock(pk: int, *, related: tuple[str, ...] = ()) -> Request:
    """The request `pk`, its row locked until the end of the current transaction (call it inside
    `transaction.atomic()`), with the `related` relations joined (not locked). Other apps that
    change a request's state lock it through here, request first, then their own rows."""
    rows = Request.objects.select_for_update(of=("self",))
    if related:
        rows = rows.select_related(*related)
    return rows.get(pk=pk)


def request_update_contact(
    *,
    request: Request,
    phone: str,
    email: str,
    address: str,
    postcode: str,
    commune,
    by: User | None = None,
    by_patient: bool = False,
    http_request=None,
) -> Request:
    """Correct the contact details and address (follow-up link or coordinator). The commune
    must stay in the CPTS territory; the address is geocoded again when it changed."""
    from accesmt.accounts.services import audit_record

    if request.status == Status.CLOSED:
        raise ValidationError("Cette demande est clôturée : elle ne peut plus être modifiée.")
    if not (phone or email):
        raise ValidationError(
            "Indiquez un numéro de téléphone ou une adresse e-mail.", code="no_contact"
        )
    check_eligibility(cpts=request.cpts, commune=commune)
    address_changed = (address, postcode, commune.pk) != (
        request.address,
        request.postcode,
        request.commune_id,
    )
    with transaction.atomic():
        locked = Request.objects.select_for_update().get(pk=request.pk)
        locked.phone, locked.email = phone, email
        locked.address, locked.postcode, locked.commune = address, postcode, commune
        if address_changed:
            for name, value in _geocode(street=address, commune=commune, postcode=postcode).items():
                setattr(locked, name, value)
        locked.full_clean()
        locked.save()
        audit_record(
            actor=by if not by_patient else None,
            action="update",
            obj=locked,
            cpts=locked.cpts,
            http_request=http_request,
        )
    return locked


def request_withdraw(*, request: Request, http_request=None) -> RequestTransition:
    """The person withdraws their request through the follow-up link."""
    return request_transition(
        request=request,
        to=Status.CLOSED,
        reason=ClosedReason.WITHDRAWN,
        by_patient=True,
        note="Retrait par la personne (lien de suivi)",
    )


# --- rate limit of the public form -------------------------------------------------------------


def _ip_digest(ip: str | None) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, (ip or "unknown").encode(), hashlib.sha256).hexdigest()


SUBMISSIONS_PER_HOUSEHOLD_PER_HOUR = 3


def intake_limit_reached(
    *,
    cpts,
    ip: str | None,
    submission_key: uuid.UUID | None,
    household: dict[str, Any],
    members: list[dict[str, Any]],
    now: datetime.datetime | None = None,
) -> str:
    """Whether the public form may store this (valid) household: "" when it may, "address" when
    `ip` already stored the CPTS's hourly number of requests (`submissions_per_hour`, high
    enough for a shared connection), "household" when this very household (same fingerprint)
    was stored SUBMISSIONS_PER_HOUSEHOLD_PER_HOUR times in the hour. Only stored requests
    count (see intake_attempt_register): a refused or corrected form costs nothing, and the
    re-send of a stored form is never refused."""
    now = now or timezone.now()
    fingerprint = submission_fingerprint(household=household, members=members)
    try:
        if request_replayed(cpts=cpts, submission_key=submission_key, fingerprint=fingerprint):
            return ""
    except SubmissionKeyReused:
        pass
    hour_ago = now - datetime.timedelta(hours=1)
    limit = IntakeSettings.for_cpts(cpts).submissions_per_hour
    stored = IntakeAttempt.objects.filter(ip_digest=_ip_digest(ip), at__gte=hour_ago).count()
    if stored >= limit:
        return "address"
    same_household = Request.objects.filter(
        cpts=cpts,
        channel=Channel.ONLINE,
        submission_fingerprint=fingerprint,
        created_at__gte=hour_ago,
    ).count()
    if same_household >= SUBMISSIONS_PER_HOUSEHOLD_PER_HOUR:
        return "household"
    return ""


def intake_attempt_register(*, cpts, ip: str | None, now: datetime.datetime | None = None) -> None:
    """Record one request stored through the public form from `ip` (hashed, never stored in
    clear), for the per-address limit. Counted in the database, so the limit holds across web
    processes."""
    IntakeAttempt.objects.create(ip_digest=_ip_digest(ip), cpts=cpts, at=now or timezone.now())


def intake_attempts_forget(*, now: datetime.datetime | None = None) -> int:
    """Periodic job (hourly): delete the attempts older than a day — the limit looks back one
    hour; a hashed address is kept no longer than needed. Was done by every registration (a
    DELETE in a transaction of its own for each person registering)."""
    now = now or timezone.now()
    deleted, _ = IntakeAttempt.objects.filter(at__lt=now - datetime.timedelta(days=1)).delete()
    return deleted


def intake_settings_retention_update(
    *, cpts, by, closed_retention_months: int, http_request=None
) -> IntakeSettings:
    """Store how long the CPTS keeps a closed request before it is anonymised (1 to 36 months;
    the privacy notice shows it). A promise to the people: the change is audited (who, when; the
    value is in the row itself)."""
    with transaction.atomic():
        config, _created = IntakeSettings.objects.select_for_update().get_or_create(cpts=cpts)
        config.closed_retention_months = closed_retention_months
        config.full_clean()
        config.save()
        audit_record(
            actor=by, action=AuditAction.UPDATE, obj=config, cpts=cpts, http_request=http_request
        )
    return config
