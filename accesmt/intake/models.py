"""Intake: the requests (demandes) of people looking for a médecin traitant.

- `Request` — one household (foyer) asking for a GP, owned by one CPTS (`cpts`, the tenant:
  `Request.objects.for_user(user, roles)`). It carries the contact details, the address (commune
  + geocoded point), coverage, reason, consent (text version + time), the channel it came through
  (online / referral / phone / api), its life-cycle `status` and, when closed, `closed_reason`.
  `reference` ("MT-7K4P-Q2XZ") is the short code shown to the person; `submission_key` makes a
  re-sent form idempotent (unique per CPTS) when `submission_fingerprint` (a keyed hash of the
  household sent) matches too. `waiting_since` is the date the wait started (the
  queue sorts on priority, then on it). Priority is never typed: `is_priority` and
  `priority_rule_count` are written by `services.request_recompute_priority` from the rules of
  `priority.py`, each fired rule being one `RequestPriorityReason` row (queryable: filter the
  queue with `priority_reasons__rule_code="ald"`).
- `HouseholdMember` — one person of the household without a GP: identity, birth date, optional
  NIR (normalised, never logged), ALD, disability, home-visit need. `normalised_name` (casefold,
  no accents, no spaces or hyphens) + `birth_date`, and `nir`, are what duplicate detection
  compares.
- `RequestTransition` — the append-only history of status changes: from, to, by whom, when, a
  reason code and a short note without health data. Written only by `lifecycle.request_transition`.
- `DuplicateFlag` — "this request's member looks like someone already waiting in `other_request`"
  (same NIR, or same normalised name + birth date), possibly in another CPTS: never show the other
  CPTS's data to this one's coordinator. Resolution (merge/dismiss) belongs to the merge feature.
- `IntakeSettings` — per-CPTS configuration: which priority rules are on and their age
  thresholds (70 or 75…), the texts "where to get care while you wait", the rate limit of the
  public form and the lifetime of the follow-up link. `IntakeSettings.for_cpts(cpts)` returns the
  stored row or unsaved defaults.
- `IntakeAttempt` — one request stored through the public form from a hashed IP address (never
  the IP itself), for the rate limit kept in the database (works across web processes).
- `Erasure` — the proof that a household's data were erased at the person's request (when, by
  the person or by whom on their behalf, and why); see `personal_data.py`.

The life cycle is in `lifecycle.py` (allowed transitions table, one function to move a request).
The database backs it: CheckConstraints (status in the known set; closed ⇔ closed_reason and
closed_at set; an anonymised request stays closed; a referral has a referrer who attested
consent; consent recorded) and a trigger
(migration 0002) that refuses an UPDATE of `status` not listed in the transitions table.
"""

from __future__ import annotations

import secrets
import unicodedata

from django.conf import settings
from django.db import models
from django.utils import timezone

from accesmt.accounts.access import TenantQuerySet
from accesmt.territory.geocoding import GeocodeSource  # noqa: F401 (re-exported)

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read over the phone


def new_reference() -> str:
    """'MT-XXXX-XXXX': 31^8 ≈ 8.5 × 10^11 codes, drawn with `secrets` (not guessable in bulk)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"MT-{chars[:4]}-{chars[4:]}"


NORMALISED_NAME_LENGTH = 220


def normalise_name(*parts: str) -> str:
    """'Jean-Loïc', 'de la Tour' → 'jeanloicdelatour': casefold, accents, spaces, hyphens,
    apostrophes removed. Used to compare people across requests. Normalisation can make a text
    longer ("ﷺ" gives 18 letters, a Hangul syllable 2 or 3): the key is cut to the length of
    its column, which is enough to compare."""
    text = " ".join(p for p in parts if p)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    key = "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))
    return key[:NORMALISED_NAME_LENGTH]


class Status(models.TextChoices):
    NEW = "new", "nouvelle"
    TO_VERIFY = "to_verify", "à vérifier"
    WAITING = "waiting", "en attente d'un médecin"
    # Orientation (accesmt.orientation): GPs are being asked, then the person chooses.
    PROPOSING = "proposing", "médecins sollicités"
    AWAITING_CHOICE = "awaiting_choice", "choix du médecin par la personne"
    CLOSED = "closed", "clôturée"
    # Imported from a CPAM list (issue 12): the person was told and may refuse until the end of
    # the list's opt-out period; not in the queue, never oriented, until then (cpam_lists.optout).
    OPT_OUT_PENDING = "opt_out_pending", "période d'opposition (liste de la CPAM)"


OPEN_STATUSES = (
    Status.OPT_OUT_PENDING,
    Status.NEW,
    Status.TO_VERIFY,
    Status.WAITING,
    Status.PROPOSING,
    Status.AWAITING_CHOICE,
)
# The open states the coordinator's queue shows by default: not those in their opt-out period.
QUEUE_STATUSES = tuple(s for s in OPEN_STATUSES if s != Status.OPT_OUT_PENDING)
# The states of the orientation flow (accesmt.orientation): GPs may be asked; GPs were asked and
# answers may come.
ASKABLE_STATUSES = (Status.WAITING, Status.PROPOSING, Status.AWAITING_CHOICE)
ORIENTING_STATUSES = (Status.PROPOSING, Status.AWAITING_CHOICE)


class ClosedReason(models.TextChoices):
    MT_FOUND = "mt_found", "médecin traitant trouvé"
    WITHDRAWN = "withdrawn", "retirée par la personne"
    MOVED_AWAY = "moved_away", "a déménagé hors du territoire"
    UNREACHABLE = "unreachable", "personne injoignable"
    NOT_ELIGIBLE = "not_eligible", "hors critères (hors territoire…)"
    DUPLICATE = "duplicate", "doublon d'une autre demande"
    # The GP the person already sees accepted to become their médecin traitant (issue 12).
    USUAL_GP = "usual_gp", "suivi habituel officialisé"
    # The person refused the CPTS's help within the opt-out period of a CPAM list (issue 12).
    OPTED_OUT = "opted_out", "refus de la personne (liste de la CPAM)"


# A GP became the médecin traitant: found through the CPTS, or the usual GP who accepted to be
# declared (issue 12). Both are "solved" in the indicators.
SOLVED_REASONS = (ClosedReason.MT_FOUND, ClosedReason.USUAL_GP)


class Channel(models.TextChoices):
    ONLINE = "online", "formulaire en ligne"
    REFERRAL = "referral", "orientation par un professionnel"
    PHONE = "phone", "saisie téléphonique"
    API = "api", "API"
    CPAM_LIST = "cpam_list", "liste de la CPAM"
    # Patients of a departing GP registered by the practice (orientation.transfers, issue 11).
    TRANSFER = "transfer", "plan de transfert d'un médecin partant"


REFERRED_BY_CPAM_LABEL = "orientation par l'Assurance Maladie (CPAM)"


class Coverage(models.TextChoices):
    GENERAL = "regime_general", "assurance maladie (régime général ou autre régime)"
    CSS = "css", "complémentaire santé solidaire (CSS)"
    AME = "ame", "aide médicale de l'État (AME)"
    NONE = "none", "aucune couverture"
    UNKNOWN = "unknown", "je ne sais pas"


class Reason(models.TextChoices):
    RETIRED = "mt_retired", "mon médecin traitant est parti à la retraite ou a cessé son activité"
    MOVED_IN = "moved_in", "je viens d'emménager sur le territoire"
    TOO_FAR = "mt_too_far", "mon médecin est trop loin"
    NO_HOME_VISITS = "no_home_visits", "mon médecin ne fait pas de visites à domicile"
    DISAGREEMENT = "disagreement", "désaccord avec mon médecin"
    NEVER_HAD = "never_had", "je n'ai jamais eu de médecin traitant"
    OTHER = "other", "autre raison"


class HomeVisits(models.TextChoices):
    NEVER = "never", "non"
    OCCASIONALLY = "occasionally", "oui, de temps en temps"
    EXCLUSIVELY = "exclusively", "oui, uniquement à domicile"


class Sex(models.TextChoices):
    FEMALE = "F", "femme"
    MALE = "M", "homme"


# The "consent" version of a request imported from a CPAM list: the information text sent
# (cpam_lists.optout), its legal basis being the opt-out (see the constraint below).
CPAM_LIST_BASIS_PREFIX = "cpam-liste-"


class RequestQuerySet(TenantQuerySet):
    def open(self):
        return self.exclude(status=Status.CLOSED)


class HouseholdMemberQuerySet(TenantQuerySet):
    tenant_field = "request__cpts"


class Request(models.Model):
    cpts = models.ForeignKey(
        "territory.CPTS", verbose_name="CPTS", on_delete=models.PROTECT, related_name="requests"
    )
    reference = models.CharField("référence", max_length=12, unique=True, default=new_reference)
    channel = models.CharField("canal", max_length=10, choices=Channel.choices)
    status = models.CharField("état", max_length=20, choices=Status.choices, default=Status.NEW)
    closed_reason = models.CharField(
        "motif de clôture", max_length=20, choices=ClosedReason.choices, blank=True
    )
    closed_at = models.DateTimeField("clôturée le", null=True, blank=True)

    # Address and eligibility
    address = models.CharField("adresse", max_length=250)
    postcode = models.CharField("code postal", max_length=5)
    # Empty only on an anonymised request whose commune was generalised to the CPTS's level
    # (k-anonymity, coarsening.py); every live request has one (forms and services require it).
    commune = models.ForeignKey(
        "territory.Commune",
        verbose_name="commune",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    geocode_source = models.CharField(
        "géocodage", max_length=20, choices=GeocodeSource.choices, blank=True
    )
    geocode_score = models.FloatField("score du géocodage", null=True, blank=True)
    geocode_message = models.CharField("message du géocodage", max_length=250, blank=True)
    geocode_attempted_at = models.DateTimeField(
        "dernier essai de géocodage en tâche de fond",
        null=True,
        blank=True,
        help_text="Posé à chaque essai (requests_geocode_retry) : chacune son tour.",
    )

    # Contact (E.164 phone, lower-case e-mail)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("e-mail", blank=True)

    # Situation
    coverage = models.CharField(
        "couverture sociale", max_length=20, choices=Coverage.choices, default=Coverage.UNKNOWN
    )
    needs_rights_help = models.BooleanField("besoin d'aide pour l'accès aux droits", default=False)
    reason = models.CharField("motif de la demande", max_length=20, choices=Reason.choices)
    reason_other = models.CharField("autre motif", max_length=200, blank=True)
    former_gp_name = models.CharField("ancien médecin traitant", max_length=150, blank=True)
    former_gp_commune = models.CharField("commune de l'ancien médecin", max_length=120, blank=True)
    # The GP the person already sees without having declared them (issue 12): asked first.
    usual_gp_rpps = models.CharField(
        "médecin consulté habituellement (RPPS)", max_length=11, blank=True
    )
    usual_gp_name = models.CharField(
        "médecin consulté habituellement (nom, commune)", max_length=150, blank=True
    )
    other_professionals = models.TextField("autres professionnels qui suivent le foyer", blank=True)
    comment = models.TextField("commentaire", blank=True)
    urgent_follow_up = models.BooleanField("suivi médical à débuter dans le mois", default=False)

    # Consent
    consent_processing = models.BooleanField("accord pour le traitement des données")
    consent_sharing = models.BooleanField("accord pour le partage avec les médecins contactés")
    consent_text_version = models.CharField("version du texte de consentement", max_length=40)
    consent_oral = models.BooleanField("consentement recueilli oralement", default=False)
    consented_at = models.DateTimeField("consentement recueilli le")

    # Who brought it in
    cpam_list = models.ForeignKey(
        "intake.CpamList",
        verbose_name="liste de la CPAM",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="professionnel orienteur",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_requests",
    )
    referrer_attested_consent = models.BooleanField(
        "le professionnel atteste l'accord de la personne", default=False
    )
    # Set at creation when the referrer held a CPAM role in the CPTS (agent, mediator): the
    # source shown in the queue and counted by the indicators, kept if the membership changes.
    referred_by_cpam = models.BooleanField("orientée par l'Assurance Maladie (CPAM)", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisie par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    # Priority (computed by services, never typed)
    is_priority = models.BooleanField("prioritaire", default=False)
    priority_rule_count = models.PositiveSmallIntegerField("critères de priorité", default=0)

    submission_key = models.UUIDField("clé de soumission", null=True, blank=True, editable=False)
    submission_fingerprint = models.CharField(
        "empreinte du contenu envoyé",
        max_length=64,
        blank=True,
        editable=False,
        help_text="HMAC du foyer envoyé (commune, contacts, personnes) : un envoi répété avec la "
        "même clé n'est reconnu que si le contenu est le même.",
    )
    created_at = models.DateTimeField("créée le", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)
    waiting_since = models.DateTimeField("en attente depuis", default=timezone.now)
    # A household of a departing GP's transfer plan (orientation.transfers, issue 11): out of the
    # queue and of queue-wide allocations while the plan runs; the plan releases it into the
    # queue (with its `waiting_since`) at the departure date. A flag rather than a status: the
    # household goes through the ordinary orientation states (waiting, proposing, choice).
    held_for_transfer = models.BooleanField("réservée à un plan de transfert", default=False)
    anonymised_at = models.DateTimeField(
        "anonymisée le",
        null=True,
        blank=True,
        help_text="Données personnelles effacées après la durée de conservation (retention.py).",
    )

    objects = RequestQuerySet.as_manager()

    class Meta:
        verbose_name = "demande"
        ordering = ["-is_priority", "waiting_since"]
        indexes = [
            models.Index(
                fields=["cpts", "status", "-is_priority", "waiting_since"],
                name="intake_request_queue",
            ),
            # The queue's orders (intake.queue.SORTS), each read from an index whatever the
            # queue's length (issue 15): the default, by wait, by reference, and one commune's
            # requests (the commune sort walks the communes by name).
            models.Index(
                fields=["cpts", "-is_priority", "waiting_since", "reference"],
                name="intake_request_queue_order",
            ),
            models.Index(
                fields=["cpts", "waiting_since", "reference"], name="intake_request_queue_wait"
            ),
            models.Index(fields=["cpts", "reference"], name="intake_request_queue_ref"),
            # The queue's search by phone number (intake.queue.QueueSearch).
            models.Index(fields=["cpts", "phone"], name="intake_request_phone"),
            models.Index(
                fields=["cpts", "commune", "-is_priority", "waiting_since", "reference"],
                name="intake_request_queue_commune",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cpts", "submission_key"], name="intake_request_one_per_submission_key"
            ),
            models.CheckConstraint(
                name="intake_request_status_known",
                condition=models.Q(status__in=Status.values),
            ),
            models.CheckConstraint(
                name="intake_request_channel_known",
                condition=models.Q(channel__in=Channel.values),
            ),
            models.CheckConstraint(
                name="intake_request_closed_iff_reason_and_date",
                condition=(
                    models.Q(
                        status=Status.CLOSED,
                        closed_reason__in=ClosedReason.values,
                        closed_at__isnull=False,
                    )
                    | (
                        ~models.Q(status=Status.CLOSED)
                        & models.Q(closed_reason="", closed_at__isnull=True)
                    )
                ),
            ),
            # Consent given (both accords and the text's version), or, for a person of a CPAM
            # list, the opt-out basis: told, free to refuse within the period (no accord yet,
            # the version names the information text sent; docs/decisions/0015-cpam-lists.md).
            models.CheckConstraint(
                name="intake_request_consent_recorded",
                condition=(
                    models.Q(consent_processing=True, consent_sharing=True)
                    & ~models.Q(consent_text_version="")
                )
                | models.Q(
                    channel=Channel.CPAM_LIST,
                    cpam_list__isnull=False,
                    consent_text_version__startswith=CPAM_LIST_BASIS_PREFIX,
                ),
            ),
            models.CheckConstraint(
                name="intake_request_cpam_list_iff_channel",
                condition=models.Q(channel=Channel.CPAM_LIST, cpam_list__isnull=False)
                | (~models.Q(channel=Channel.CPAM_LIST) & models.Q(cpam_list__isnull=True)),
            ),
            models.CheckConstraint(
                name="intake_request_opt_out_only_cpam_list",
                condition=~models.Q(status=Status.OPT_OUT_PENDING)
                | models.Q(channel=Channel.CPAM_LIST),
            ),
            models.CheckConstraint(
                name="intake_request_referral_has_attesting_referrer",
                condition=~models.Q(channel=Channel.REFERRAL)
                | models.Q(referrer__isnull=False, referrer_attested_consent=True),
            ),
            models.CheckConstraint(
                name="intake_request_priority_consistent",
                condition=models.Q(is_priority=True, priority_rule_count__gt=0)
                | models.Q(is_priority=False, priority_rule_count=0),
            ),
            models.CheckConstraint(
                name="intake_request_coordinates_all_or_none",
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
            ),
            # An anonymised request is never reopened (lifecycle.request_transition says why).
            models.CheckConstraint(
                name="intake_request_anonymised_stays_closed",
                condition=models.Q(anonymised_at__isnull=True) | models.Q(status=Status.CLOSED),
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    # Named states read by templates and views (instead of comparing `status` to strings).
    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    @property
    def is_opt_out_pending(self) -> bool:
        """Imported from a CPAM list, within its opt-out period: not in the queue yet."""
        return self.status == Status.OPT_OUT_PENDING

    @property
    def is_awaiting_choice(self) -> bool:
        return self.status == Status.AWAITING_CHOICE

    @property
    def is_soliciting(self) -> bool:
        """GPs are being asked, or have answered and the person chooses: answers still count."""
        return self.status in (Status.PROPOSING, Status.AWAITING_CHOICE)

    @property
    def has_orientation(self) -> bool:
        """The orientation page (candidates, solicitations) is relevant: the request is in the
        queue or being oriented, or was closed because a GP took the household."""
        return self.status in (
            Status.WAITING,
            Status.PROPOSING,
            Status.AWAITING_CHOICE,
        ) or (self.is_closed and self.closed_reason in SOLVED_REASONS)

    @property
    def source_label(self) -> str:
        """Where the request came from, as the queue and the request page show it."""
        if self.referred_by_cpam:
            return REFERRED_BY_CPAM_LABEL
        return self.get_channel_display()

    @property
    def can_be_reopened(self) -> bool:
        """Closed and not anonymised (an anonymised request stays closed: a new one is made)."""
        return self.is_closed and self.anonymised_at is None


class HouseholdMember(models.Model):
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="members")
    # The request's CPTS, copied (a request never changes CPTS: a transfer makes a new request),
    # so that a search by name starts from the CPTS's members, not from every member of the
    # platform with that name (intake_member_cpts_name; migration 0020 filled it in).
    cpts = models.ForeignKey(
        "territory.CPTS", on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    position = models.PositiveSmallIntegerField("rang", default=0)
    first_name = models.CharField("prénom", max_length=100)
    last_name = models.CharField("nom", max_length=100)
    normalised_name = models.CharField(
        max_length=NORMALISED_NAME_LENGTH, editable=False, db_index=True
    )
    # An anonymised member has no birth date: only its year, or the first year of a 5- or 10-year
    # band (`birth_year_span`), or nothing at all (k-anonymity, coarsening.py).
    birth_date = models.DateField("date de naissance", null=True)
    birth_year = models.PositiveSmallIntegerField(
        "année de naissance (anonymisée)", null=True, blank=True
    )
    birth_year_span = models.PositiveSmallIntegerField(
        "largeur de la tranche d'années (anonymisée)", null=True, blank=True
    )
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices, blank=True)
    nir = models.CharField("numéro de sécurité sociale", max_length=15, blank=True, db_index=True)
    # None only on an anonymised member whose attribute was withheld (k-anonymity, coarsening.py).
    has_ald = models.BooleanField("affection de longue durée (ALD)", default=False, null=True)
    has_disability = models.BooleanField("situation de handicap", default=False, null=True)
    conditions = models.TextField("pathologies particulières ou handicap", blank=True)
    home_visits = models.CharField(
        "visites à domicile", max_length=15, choices=HomeVisits.choices, default=HomeVisits.NEVER
    )
    is_contact_person = models.BooleanField("personne à contacter", default=False)

    objects = HouseholdMemberQuerySet.as_manager()

    class Meta:
        verbose_name = "membre du foyer"
        verbose_name_plural = "membres du foyer"
        ordering = ["request", "position", "pk"]
        indexes = [
            models.Index(fields=["normalised_name", "birth_date"], name="intake_member_identity"),
            # PostgreSQL: the pattern operator class serves `LIKE 'prefix%'` whatever the
            # database's collation (SQLite ignores operator classes).
            models.Index(
                fields=["cpts", "normalised_name"],
                name="intake_member_cpts_name",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="intake_member_home_visits_known",
                condition=models.Q(home_visits__in=HomeVisits.values),
            ),
            models.CheckConstraint(
                name="intake_member_birth_year_band_known",
                condition=models.Q(birth_year_span__isnull=True)
                | models.Q(birth_year_span__in=[1, 5, 10], birth_year__isnull=False),
            ),
        ]

    def __str__(self) -> str:  # never the NIR
        return f"{self.first_name} {self.last_name}"

    def save(self, *args, **kwargs):
        self.normalised_name = normalise_name(self.last_name, self.first_name)
        if self.cpts_id is None:
            self.cpts_id = self.request.cpts_id
        super().save(*args, **kwargs)

    def age_on(self, day) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class RequestPriorityReason(models.Model):
    """One priority rule that fired for a request (and the member it fired for, if any)."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="priority_reasons")
    member = models.ForeignKey(
        HouseholdMember, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    rule_code = models.CharField("critère", max_length=20, db_index=True)
    label = models.CharField("raison", max_length=150)

    class Meta:
        verbose_name = "critère de priorité"
        verbose_name_plural = "critères de priorité"
        ordering = ["request", "pk"]

    def __str__(self) -> str:
        return self.label


class RequestTransition(models.Model):
    """Append-only history of a request's status. `from_status` is "" for the creation."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField("de", max_length=20, blank=True)
    to_status = models.CharField("vers", max_length=20)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    by_patient = models.BooleanField("par la personne (lien de suivi)", default=False)
    at = models.DateTimeField("le", default=timezone.now)
    reason = models.CharField("motif", max_length=40, blank=True)
    note = models.CharField("note", max_length=300, blank=True)

    class Meta:
        verbose_name = "changement d'état"
        verbose_name_plural = "changements d'état"
        ordering = ["request", "at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="intake_transition_changes_status",
                condition=~models.Q(from_status=models.F("to_status")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status or '∅'} → {self.to_status}"


class CpamList(models.Model):
    """A list of people without a médecin traitant sent by the CPAM (an ALD campaign…), imported
    by the coordination (upload) or by the CPAM (API) in one go: one request per person, channel
    `cpam_list`, status `opt_out_pending` until `opt_out_ends_at`, then in the queue with the
    list's date as seniority (`cpam_lists`). The counts are the import report's; refusals and
    releases are counted from the requests."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "fichier envoyé par la coordination"
        API = "api", "API"

    cpts = models.ForeignKey(
        "territory.CPTS", verbose_name="CPTS", on_delete=models.PROTECT, related_name="cpam_lists"
    )
    campaign_name = models.CharField("campagne", max_length=150)
    list_date = models.DateField("date de la liste")
    opt_out_days = models.PositiveSmallIntegerField("délai pour refuser (jours)", default=30)
    opt_out_ends_at = models.DateTimeField("fin de la période d'opposition")
    source = models.CharField("origine", max_length=10, choices=Source.choices)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="importée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    imported_at = models.DateTimeField("importée le", default=timezone.now)
    line_count = models.PositiveIntegerField("lignes lues", default=0)
    imported_count = models.PositiveIntegerField("personnes importées", default=0)
    duplicate_count = models.PositiveIntegerField("doublons écartés", default=0)
    refused_count = models.PositiveIntegerField("lignes refusées", default=0)
    released_at = models.DateTimeField("mise en file le", null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "liste de la CPAM"
        verbose_name_plural = "listes de la CPAM"
        ordering = ["-imported_at", "-pk"]
        indexes = [models.Index(fields=["released_at", "opt_out_ends_at"], name="intake_cpam_due")]
        constraints = [
            models.CheckConstraint(
                name="intake_cpam_list_opt_out_days_sensible",
                condition=models.Q(opt_out_days__gte=7, opt_out_days__lte=92),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_name} ({self.list_date:%d/%m/%Y})"


class DuplicateReason(models.TextChoices):
    NIR = "nir", "même numéro de sécurité sociale"
    NAME_BIRTH_DATE = "name_birth_date", "mêmes nom, prénom et date de naissance"


class DuplicateFlag(models.Model):
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="duplicate_flags")
    other_request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField("motif", max_length=20, choices=DuplicateReason.choices)
    same_cpts = models.BooleanField("dans la même CPTS", default=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField("traité le", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField("décision", max_length=20, blank=True)

    class Meta:
        verbose_name = "doublon possible"
        verbose_name_plural = "doublons possibles"
        constraints = [
            models.UniqueConstraint(
                fields=["request", "other_request"], name="intake_duplicate_once_per_pair"
            ),
            models.CheckConstraint(
                name="intake_duplicate_not_itself",
                condition=~models.Q(request=models.F("other_request")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} ~ {self.other_request_id} ({self.reason})"


DEFAULT_CARE_UNSCHEDULED = (
    "Pour un besoin de soins dans la journée, appelez un cabinet de médecine générale proche "
    "de chez vous : beaucoup gardent des créneaux de soins non programmés."
)
DEFAULT_CARE_ON_CALL = (
    "Le soir, la nuit, le week-end et les jours fériés, appelez le 116 117 (médecin de garde, "
    "appel gratuit). En cas d'urgence vitale, appelez le 15 ou le 112."
)
DEFAULT_CARE_PHARMACY = (
    "Votre pharmacien peut vous conseiller et, dans certains cas, vous délivrer un traitement. "
    "Pharmacie de garde : appelez le 32 37 ou consultez 3237.fr."
)
DEFAULT_CARE_TELECONSULTATION = (
    "La téléconsultation est remboursée même sans médecin traitant lorsque vous n'en avez pas "
    "et qu'aucun médecin n'est disponible rapidement."
)


RETENTION_MONTHS_MIN = 1
RETENTION_MONTHS_MAX = 36


def default_closed_retention_months() -> int:
    """The deployment's CLOSED_REQUEST_RETENTION_DAYS (365 by default) in months, within bounds:
    the default of a CPTS that has not chosen its own period."""
    days = int(getattr(settings, "CLOSED_REQUEST_RETENTION_DAYS", 365))
    return max(RETENTION_MONTHS_MIN, min(RETENTION_MONTHS_MAX, round(days / 30.4375)))


class IntakeSettings(models.Model):
    """Per-CPTS intake configuration (a missing row means the defaults below)."""

    cpts = models.OneToOneField(
        "territory.CPTS", on_delete=models.CASCADE, related_name="intake_settings"
    )
    rule_senior = models.BooleanField("priorité : personnes âgées", default=True)
    senior_age = models.PositiveSmallIntegerField(
        "âge à partir duquel on est prioritaire", default=70
    )
    rule_young_child = models.BooleanField("priorité : jeunes enfants", default=True)
    child_age_below = models.PositiveSmallIntegerField(
        "âge en dessous duquel on est prioritaire", default=6
    )
    rule_ald = models.BooleanField("priorité : ALD", default=True)
    rule_coverage = models.BooleanField("priorité : CSS, AME ou sans couverture", default=True)
    rule_urgent = models.BooleanField("priorité : suivi à débuter dans le mois", default=True)
    rule_home_visits = models.BooleanField("priorité : visites à domicile", default=True)
    rule_disability = models.BooleanField("priorité : handicap", default=True)

    care_unscheduled = models.TextField("soins non programmés", default=DEFAULT_CARE_UNSCHEDULED)
    care_on_call = models.TextField("médecin de garde", default=DEFAULT_CARE_ON_CALL)
    care_pharmacy = models.TextField("pharmacies", default=DEFAULT_CARE_PHARMACY)
    care_teleconsultation = models.TextField(
        "téléconsultation", default=DEFAULT_CARE_TELECONSULTATION
    )

    submissions_per_hour = models.PositiveSmallIntegerField(
        "inscriptions en ligne par heure et par adresse IP",
        default=30,
        help_text="Seules les demandes enregistrées comptent. Une adresse peut être partagée "
        "(accueil, famille, opérateur mobile) : ne baissez pas trop ce nombre.",
    )
    follow_up_link_days = models.PositiveSmallIntegerField(
        "durée de validité du lien de suivi (jours)", default=400
    )
    closed_retention_months = models.PositiveSmallIntegerField(
        "durée de conservation après clôture (mois)",
        default=default_closed_retention_months,
        help_text="Une demande close est anonymisée après cette durée (de 1 à 36 mois).",
    )

    class Meta:
        verbose_name = "réglages des demandes"
        verbose_name_plural = "réglages des demandes"
        constraints = [
            models.CheckConstraint(
                name="intake_settings_ages_sensible",
                condition=models.Q(
                    senior_age__gte=50, senior_age__lte=100, child_age_below__lte=18
                ),
            ),
            models.CheckConstraint(
                name="intake_settings_retention_bounds",
                condition=models.Q(
                    closed_retention_months__gte=RETENTION_MONTHS_MIN,
                    closed_retention_months__lte=RETENTION_MONTHS_MAX,
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Réglages des demandes — {self.cpts}"

    @classmethod
    def for_cpts(cls, cpts) -> IntakeSettings:
        found = cls.objects.filter(cpts=cpts).first()
        return found if found is not None else cls(cpts=cpts)

    @property
    def care_texts(self) -> list[str]:
        return [
            text
            for text in (
                self.care_unscheduled,
                self.care_on_call,
                self.care_pharmacy,
                self.care_teleconsultation,
            )
            if text.strip()
        ]


class IntakeAttempt(models.Model):
    """A request stored through the public form from a (hashed) IP address, for the per-address
    rate limit (refused or corrected sends are not recorded)."""

    ip_digest = models.CharField(max_length=64, db_index=True)
    cpts = models.ForeignKey("territory.CPTS", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "tentative d'inscription"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.ip_digest[:8]}"


class RightsOutcomeKind(models.TextChoices):
    CONTACTED = "contacted", "personne contactée"
    UNREACHABLE = "unreachable", "personne injoignable"
    RIGHTS_OPENED = "rights_opened", "droits ouverts"


# The rights a mediator may record as opened (several at once): field name → label.
OPENED_RIGHTS = {
    "opened_css": "complémentaire santé solidaire (CSS)",
    "opened_ame": "aide médicale de l'État (AME)",
    "opened_complementary": "complémentaire santé",
    "opened_vitale": "carte Vitale",
}


class RightsOutcome(models.Model):
    """What the CPAM mediator (or the coordination) did about a household's "accès aux droits"
    need, on a date: contacted, unreachable, or rights opened (one or several of
    OPENED_RIGHTS). Rights opened settle the need (`intake.rights.rights_outcome_record`); the
    note says what was done, never health data."""

    cpts = models.ForeignKey(
        "territory.CPTS", verbose_name="CPTS", on_delete=models.PROTECT, related_name="+"
    )
    request = models.ForeignKey(
        Request, verbose_name="demande", on_delete=models.CASCADE, related_name="rights_outcomes"
    )
    kind = models.CharField("suite", max_length=20, choices=RightsOutcomeKind.choices)
    opened_css = models.BooleanField(OPENED_RIGHTS["opened_css"], default=False)
    opened_ame = models.BooleanField(OPENED_RIGHTS["opened_ame"], default=False)
    opened_complementary = models.BooleanField(OPENED_RIGHTS["opened_complementary"], default=False)
    opened_vitale = models.BooleanField(OPENED_RIGHTS["opened_vitale"], default=False)
    on = models.DateField("le")
    note = models.CharField(
        "note",
        max_length=300,
        blank=True,
        help_text="Ce qui a été fait ; jamais de donnée de santé.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="enregistrée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField("enregistrée le", default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "suite de la médiation (accès aux droits)"
        verbose_name_plural = "suites de la médiation (accès aux droits)"
        ordering = ["request", "-on", "-pk"]
        indexes = [
            models.Index(fields=["request", "-on", "-id"], name="intake_rights_latest"),
            models.Index(fields=["cpts", "on"], name="intake_rights_period"),
        ]
        constraints = [
            models.CheckConstraint(
                name="intake_rights_kind_known",
                condition=models.Q(kind__in=RightsOutcomeKind.values),
            ),
            # Rights opened name at least one right; the other outcomes name none.
            models.CheckConstraint(
                name="intake_rights_opened_iff_named",
                condition=(
                    models.Q(kind=RightsOutcomeKind.RIGHTS_OPENED)
                    & (
                        models.Q(opened_css=True)
                        | models.Q(opened_ame=True)
                        | models.Q(opened_complementary=True)
                        | models.Q(opened_vitale=True)
                    )
                )
                | (
                    ~models.Q(kind=RightsOutcomeKind.RIGHTS_OPENED)
                    & models.Q(
                        opened_css=False,
                        opened_ame=False,
                        opened_complementary=False,
                        opened_vitale=False,
                    )
                ),
            ),
            # CSS and AME are for different people (residence status): never both.
            models.CheckConstraint(
                name="intake_rights_not_css_and_ame",
                condition=~models.Q(opened_css=True, opened_ame=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.kind} ({self.on})"

    @property
    def settles_need(self) -> bool:
        return self.kind == RightsOutcomeKind.RIGHTS_OPENED

    @property
    def opened_labels(self) -> list[str]:
        return [label for name, label in OPENED_RIGHTS.items() if getattr(self, name)]


class ContactKind(models.TextChoices):
    CALL = "call", "appel"
    NOTE = "note", "note"


class CallOutcome(models.TextChoices):
    REACHED = "reached", "joint·e"
    NO_ANSWER = "no_answer", "pas de réponse"
    MESSAGE_LEFT = "message_left", "message laissé"
    WRONG_NUMBER = "wrong_number", "mauvais numéro"


CONTACT_TEXT_MAX = 1000


class ContactNote(models.Model):
    """A call to the household (with its outcome) or a note, typed by the coordination on the
    request page (issue 13): append-only in spirit (a correction is a new note), written by
    `intake.calls.contact_note_record`. A call may plan a call-back (`call_back_on`); a later
    call, or the coordinator ticking it done, settles it (`call_back_done`), so that a request
    has at most one pending call-back: the call-back list reads them. `text` is free text,
    personal data: never in logs or notifications, blanked by the retention purge."""

    cpts = models.ForeignKey(
        "territory.CPTS", verbose_name="CPTS", on_delete=models.PROTECT, related_name="+"
    )
    request = models.ForeignKey(
        Request, verbose_name="demande", on_delete=models.CASCADE, related_name="contact_notes"
    )
    kind = models.CharField("type", max_length=10, choices=ContactKind.choices)
    outcome = models.CharField(
        "résultat de l'appel", max_length=20, choices=CallOutcome.choices, blank=True
    )
    text = models.TextField("note", max_length=CONTACT_TEXT_MAX, blank=True)
    call_back_on = models.DateField("rappeler le", null=True, blank=True)
    call_back_done = models.BooleanField("rappel fait", default=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField("le", default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "appel ou note"
        verbose_name_plural = "appels et notes"
        ordering = ["request", "-at", "-pk"]
        indexes = [
            models.Index(fields=["request", "-at", "-id"], name="intake_contact_latest"),
            models.Index(
                fields=["cpts", "call_back_on"],
                name="intake_contact_call_back_due",
                condition=models.Q(call_back_on__isnull=False, call_back_done=False),
            ),
        ]
        constraints = [
            # A call has an outcome among CallOutcome; a note has none and plans no call-back
            # (its text, required when typed, is blanked by the retention purge).
            models.CheckConstraint(
                name="intake_contact_call_or_note",
                condition=models.Q(kind=ContactKind.CALL, outcome__in=CallOutcome.values)
                | models.Q(kind=ContactKind.NOTE, outcome="", call_back_on__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.kind} {self.outcome} ({self.at:%Y-%m-%d})"

    @property
    def is_call(self) -> bool:
        return self.kind == ContactKind.CALL


class Erasure(models.Model):
    """The proof that a household's data were erased at the person's request (issue 14): when,
    through the follow-up link or by whom on their behalf, and why (the coordinator writes how
    the request came, e.g. « demande reçue par téléphone le … », never a name)."""

    request = models.OneToOneField(Request, on_delete=models.CASCADE, related_name="erasure")
    at = models.DateTimeField("effacée le", default=timezone.now)
    by_patient = models.BooleanField("par la personne (lien de suivi)", default=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField("motif", max_length=300, blank=True)

    class Meta:
        verbose_name = "effacement"
        verbose_name_plural = "effacements"

    def __str__(self) -> str:
        return f"effacement de la demande n° {self.request_id}"
