"""Orientation: from a waiting request to a patient with a médecin traitant.

- `OrientationSettings` — per CPTS: how long a GP has to answer, how many acceptances to gather
  before the person chooses, how many GPs to ask at once.
- `Solicitation` — one GP asked about one request (by the coordinator, by a queue-wide
  allocation, as the next candidate after a refusal, or a GP taking a household themselves), and
  the answer: accepted, declined with a reason, expired without answer, cancelled.
- `Placement` — the outcome: this household now has this GP as médecin traitant, recorded by the
  GP, the person or the coordinator. It closes the request ("MT found") and counts against the
  GP's capacity this month — or, when the GP is the one the person already saw (a "usual GP"
  solicitation), closes it as "suivi habituel officialisé" and uses none of their places.

The flow lives in `services.py`; the request's own states are in `accesmt.intake.lifecycle`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accesmt.accounts.access import TenantQuerySet
from accesmt.intake.models import ASKABLE_STATUSES, ORIENTING_STATUSES, ClosedReason, Status


class OrientationSettings(models.Model):
    cpts = models.OneToOneField(
        "territory.CPTS",
        verbose_name="CPTS",
        on_delete=models.CASCADE,
        related_name="orientation_settings",
    )
    answer_delay_hours = models.PositiveSmallIntegerField(
        "délai de réponse d'un médecin (heures)",
        default=72,
        validators=[MinValueValidator(4), MaxValueValidator(24 * 14)],
        help_text="Sans réponse dans ce délai, le médecin reçoit un rappel ; après un second "
        "délai, la demande passe au médecin suivant.",
    )
    accepted_target = models.PositiveSmallIntegerField(
        "nombre de médecins proposés à la personne",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    ask_at_once = models.PositiveSmallIntegerField(
        "médecins sollicités à la fois",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    still_needed_after_days = models.PositiveSmallIntegerField(
        "demander « toujours besoin ? » après (jours d'attente)",
        default=90,
        validators=[MinValueValidator(14), MaxValueValidator(730)],
        help_text="Les foyers qui attendent depuis plus longtemps reçoivent un lien pour dire "
        "s'ils ont toujours besoin d'un médecin traitant (3 mois par défaut).",
    )
    still_needed_reminders = models.PositiveSmallIntegerField(
        "rappels sans réponse",
        default=2,
        validators=[MaxValueValidator(5)],
        help_text="Après le dernier rappel resté sans réponse, la demande est clôturée comme "
        "« personne injoignable » (la coordination peut la rouvrir).",
    )
    still_needed_reminder_days = models.PositiveSmallIntegerField(
        "jours entre deux rappels",
        default=14,
        validators=[MinValueValidator(3), MaxValueValidator(60)],
    )
    declaration_check_after_days = models.PositiveSmallIntegerField(
        "demander « déclaration faite ? » après (jours)",
        default=42,
        validators=[MinValueValidator(7), MaxValueValidator(180)],
        help_text="Après un médecin traitant trouvé, la personne reçoit un lien pour dire si la "
        "déclaration de médecin traitant est faite (6 semaines par défaut).",
    )

    class Meta:
        verbose_name = "réglages de l'orientation"
        verbose_name_plural = "réglages de l'orientation"

    def __str__(self) -> str:
        return f"Réglages de l'orientation — {self.cpts}"

    @classmethod
    def for_cpts(cls, cpts) -> OrientationSettings:
        found = cls.objects.filter(cpts=cpts).first()
        return found if found is not None else cls(cpts=cpts)


class Origin(models.TextChoices):
    COORDINATOR = "coordinator", "choisi par la coordination"
    ALLOCATION = "allocation", "répartition de la file d'attente"
    NEXT_CANDIDATE = "next", "médecin suivant (refus ou absence de réponse)"
    GP_PULL = "gp_pull", "le médecin a pris le foyer lui-même"
    # The GP the person already sees, asked first to become their médecin traitant (issue 12):
    # whatever their declared availability and distance, and without using their places.
    USUAL_GP = "usual_gp", "médecin que la personne consulte déjà"
    # A receiving GP of a departing GP's transfer plan, in the month the plan gave (issue 11).
    TRANSFER = "transfer", "plan de transfert d'un médecin partant"


class SolicitationStatus(models.TextChoices):
    PENDING = "pending", "en attente de réponse"
    ACCEPTED = "accepted", "acceptée"
    DECLINED = "declined", "refusée"
    EXPIRED = "expired", "sans réponse"
    CANCELLED = "cancelled", "annulée"


OPEN_SOLICITATION = (SolicitationStatus.PENDING, SolicitationStatus.ACCEPTED)

# Request states of the flow, as intake names them.
ASKABLE = ASKABLE_STATUSES  # GPs may be asked
ORIENTING = ORIENTING_STATUSES  # GPs asked, answers may come


class DeclineReason(models.TextChoices):
    FULL = "full", "plus de place pour le moment"
    PROFILE = "profile", "profil que je ne peux pas suivre"
    TOO_FAR = "too_far", "trop loin de mon cabinet"
    HOME_VISITS = "home_visits", "visites à domicile impossibles"
    OTHER = "other", "autre raison"


class AnswerChannel(models.TextChoices):
    LINK = "link", "lien reçu par e-mail"
    PHONE = "phone", "téléphone (saisi par la coordination)"
    ACCOUNT = "account", "espace professionnel"


class SolicitationQuerySet(TenantQuerySet):
    def pending(self):
        return self.filter(status=SolicitationStatus.PENDING)

    def accepted(self):
        return self.filter(status=SolicitationStatus.ACCEPTED)

    def cancel(self, *, now, note: str) -> int:
        """End these solicitations without an answer from the GP (the note says why)."""
        return self.update(status=SolicitationStatus.CANCELLED, answered_at=now, note=note)


class Solicitation(models.Model):
    cpts = models.ForeignKey(
        "territory.CPTS", verbose_name="CPTS", on_delete=models.PROTECT, related_name="+"
    )
    request = models.ForeignKey(
        "intake.Request",
        verbose_name="demande",
        on_delete=models.CASCADE,
        related_name="solicitations",
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner",
        verbose_name="médecin",
        on_delete=models.PROTECT,
        related_name="solicitations",
    )
    site = models.ForeignKey(
        "directory.PracticeSite",
        verbose_name="lieu d'exercice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    distance_km = models.FloatField("distance (km)", null=True, blank=True)
    origin = models.CharField("origine", max_length=12, choices=Origin.choices)
    status = models.CharField(
        "réponse",
        max_length=10,
        choices=SolicitationStatus.choices,
        default=SolicitationStatus.PENDING,
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="sollicité par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    asked_at = models.DateTimeField("sollicité le", default=timezone.now)
    answer_due_at = models.DateTimeField("réponse attendue avant")
    reminded_at = models.DateTimeField("relancé le", null=True, blank=True)
    answered_at = models.DateTimeField("répondu le", null=True, blank=True)
    answer_channel = models.CharField(
        "réponse reçue par", max_length=10, choices=AnswerChannel.choices, blank=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="réponse saisie par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decline_reason = models.CharField(
        "motif du refus", max_length=12, choices=DeclineReason.choices, blank=True
    )
    note = models.CharField("note", max_length=300, blank=True)

    objects = SolicitationQuerySet.as_manager()

    class Meta:
        verbose_name = "sollicitation d'un médecin"
        verbose_name_plural = "sollicitations de médecins"
        ordering = ["request", "asked_at", "pk"]
        indexes = [
            models.Index(fields=["status", "answer_due_at"], name="orientation_sol_due"),
            models.Index(fields=["practitioner", "asked_at"], name="orientation_sol_month"),
        ]
        constraints = [
            # A GP is asked once about a request: a refusal is not asked again.
            models.UniqueConstraint(
                fields=["request", "practitioner"], name="orientation_one_solicitation_per_gp"
            ),
            models.CheckConstraint(
                name="orientation_solicitation_status_known",
                condition=Q(status__in=SolicitationStatus.values),
            ),
            models.CheckConstraint(
                name="orientation_solicitation_answer_consistent",
                condition=Q(status=SolicitationStatus.PENDING, answered_at__isnull=True)
                | (~Q(status=SolicitationStatus.PENDING) & Q(answered_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="orientation_decline_has_reason",
                condition=~Q(status=SolicitationStatus.DECLINED) | ~Q(decline_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} → {self.practitioner}"

    @property
    def is_pending(self) -> bool:
        return self.status == SolicitationStatus.PENDING

    @property
    def is_accepted(self) -> bool:
        return self.status == SolicitationStatus.ACCEPTED

    @property
    def is_answered(self) -> bool:
        """The GP answered (accepted or declined), as opposed to expired or cancelled."""
        return self.status in (SolicitationStatus.ACCEPTED, SolicitationStatus.DECLINED)

    @property
    def is_expired(self) -> bool:
        return self.status == SolicitationStatus.EXPIRED

    @property
    def is_usual_gp(self) -> bool:
        """The GP the person already sees, asked to become their médecin traitant."""
        return self.origin == Origin.USUAL_GP


class RecordedBy(models.TextChoices):
    GP = "gp", "le médecin"
    PATIENT = "patient", "la personne"
    COORDINATOR = "coordinator", "la coordination"


# Closing reasons after which the household has a médecin traitant to declare to the Assurance
# Maladie: found through the CPTS, or the GP they already saw accepted (issue 12).
DECLARABLE_REASONS = (ClosedReason.MT_FOUND, ClosedReason.USUAL_GP)


class DeclarationAnswer(models.TextChoices):
    """The person's answer to « La déclaration de médecin traitant est-elle faite ? »."""

    DONE = "done", "oui, c'est fait"
    NOT_YET = "not_yet", "pas encore"
    GP_REFUSED = "gp_refused", "le médecin a refusé"


class PlacementQuerySet(TenantQuerySet):
    def current(self):
        """Outcomes that still stand: the request is closed "MT found" (a reopened request's
        placement no longer counts, until the next outcome replaces it)."""
        return self.filter(
            request__status=Status.CLOSED, request__closed_reason=ClosedReason.MT_FOUND
        )


class Placement(models.Model):
    cpts = models.ForeignKey(
        "territory.CPTS", verbose_name="CPTS", on_delete=models.PROTECT, related_name="+"
    )
    request = models.OneToOneField(
        "intake.Request",
        verbose_name="demande",
        on_delete=models.CASCADE,
        related_name="placement",
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner",
        verbose_name="médecin traitant",
        on_delete=models.PROTECT,
        related_name="placements",
    )
    members = models.PositiveSmallIntegerField("personnes du foyer", default=1)
    recorded_by = models.CharField("déclaré par", max_length=12, choices=RecordedBy.choices)
    recorded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisi par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField("le", default=timezone.now, db_index=True)
    # The declaration of the médecin traitant to the Assurance Maladie (issue 12): told at once
    # (`declarations.declaration_info_send`), asked about later (`declarations_check`).
    declaration_asked_at = models.DateTimeField(
        "question « déclaration faite ? » envoyée le", null=True, blank=True
    )
    declaration_answer = models.CharField(
        "réponse de la personne", max_length=12, choices=DeclarationAnswer.choices, blank=True
    )
    declaration_answered_at = models.DateTimeField("répondu le", null=True, blank=True)
    declared_at = models.DateTimeField("déclaration faite le", null=True, blank=True)
    declared_by = models.CharField(
        "déclaration confirmée par", max_length=12, choices=RecordedBy.choices, blank=True
    )

    objects = PlacementQuerySet.as_manager()

    class Meta:
        verbose_name = "médecin traitant trouvé"
        verbose_name_plural = "médecins traitants trouvés"
        ordering = ["-at"]
        indexes = [models.Index(fields=["practitioner", "at"], name="orientation_placement_month")]
        constraints = [
            models.CheckConstraint(
                name="orientation_declared_by_iff_at",
                condition=Q(declared_at__isnull=True, declared_by="")
                | (Q(declared_at__isnull=False) & ~Q(declared_by="")),
            ),
            models.CheckConstraint(
                name="orientation_declaration_answer_consistent",
                condition=Q(declaration_answer="", declaration_answered_at__isnull=True)
                | (~Q(declaration_answer="") & Q(declaration_answered_at__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} → {self.practitioner}"

    @property
    def is_declared(self) -> bool:
        return self.declared_at is not None


class StillNeededAnswer(models.TextChoices):
    STILL_NEEDED = "still_needed", "toujours besoin"
    FOUND_GP = "found_gp", "a trouvé un médecin traitant"
    NO_LONGER_NEEDED = "no_longer_needed", "plus besoin"


class CheckChannel(models.TextChoices):
    EMAIL = "email", "e-mail"
    SMS = "sms", "SMS"
    BOTH = "both", "e-mail et SMS"
    CALL = "call", "à appeler (ni e-mail ni mobile)"


class StillNeededCheck(models.Model):
    """ "Avez-vous toujours besoin d'un médecin traitant ?" asked of a household waiting for long.

    Open while it has no answer, is not closed as unreachable and is not cancelled (the request
    left the queue otherwise); one open check at a time per request. See `still_needed.py`."""

    cpts = models.ForeignKey(
        "territory.CPTS", verbose_name="CPTS", on_delete=models.PROTECT, related_name="+"
    )
    request = models.ForeignKey(
        "intake.Request",
        verbose_name="demande",
        on_delete=models.CASCADE,
        related_name="still_needed_checks",
    )
    channel = models.CharField("canal", max_length=8, choices=CheckChannel.choices)
    sent_at = models.DateTimeField("demandé le", default=timezone.now)
    reminders_sent = models.PositiveSmallIntegerField("rappels envoyés", default=0)
    last_reminder_at = models.DateTimeField("dernier rappel le", null=True, blank=True)
    answered_at = models.DateTimeField("répondu le", null=True, blank=True)
    answer = models.CharField(
        "réponse", max_length=20, choices=StillNeededAnswer.choices, blank=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="réponse saisie par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_unreachable_at = models.DateTimeField("clôturée injoignable le", null=True, blank=True)
    cancelled_at = models.DateTimeField("sans objet depuis le", null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "vérification « toujours besoin »"
        verbose_name_plural = "vérifications « toujours besoin »"
        ordering = ["sent_at", "pk"]
        indexes = [
            models.Index(fields=["cpts", "sent_at"], name="orientation_check_cpts"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(
                    answered_at__isnull=True,
                    closed_unreachable_at__isnull=True,
                    cancelled_at__isnull=True,
                ),
                name="orientation_one_open_check_per_request",
            ),
            models.CheckConstraint(
                name="orientation_check_answer_consistent",
                condition=Q(answer="", answered_at__isnull=True)
                | (~Q(answer="") & Q(answered_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="orientation_check_answer_known",
                condition=Q(answer__in=["", *StillNeededAnswer.values]),
            ),
        ]

    def __str__(self) -> str:
        return f"Toujours besoin ? — {self.request}"

    @property
    def is_open(self) -> bool:
        return (
            self.answered_at is None
            and self.closed_unreachable_at is None
            and self.cancelled_at is None
        )


# Transfer plans of departing GPs (issue 11): their own module, registered here.
from .transfers.models import (  # noqa: E402, F401
    TransferHousehold,
    TransferPlan,
    TransferPlanStatus,
    TransferReceiver,
)
