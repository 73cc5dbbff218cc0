"""Reporting settings of a CPTS.

- `ReportingSettings` — the start date of the CPTS's ACI contract (its anniversaries open the
  contract years that the indicator pages show by default and the yearly ACI report covers),
  and whether its public monthly report is published. `ReportingSettings.for_cpts(cpts)` returns
  the stored row or unsaved defaults (a contract starting on 1 January).
- `SatisfactionInvitation` / `SatisfactionAnswer` — the satisfaction survey sent at closing
  (`satisfaction.py`): who was invited, and the anonymous answers."""

from __future__ import annotations

import datetime
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


def default_contract_start() -> datetime.date:
    return datetime.date(2024, 1, 1)


class ReportingSettings(models.Model):
    cpts = models.OneToOneField(
        "territory.CPTS", on_delete=models.CASCADE, related_name="reporting_settings"
    )
    aci_contract_start = models.DateField(
        "date de signature du contrat ACI",
        default=default_contract_start,
        help_text="Les indicateurs sont présentés par année de contrat, d'un anniversaire à "
        "l'autre.",
    )
    public_report = models.BooleanField(
        "publier le rapport mensuel public",
        default=False,
        help_text="Chiffres agrégés par mois et par commune, petits effectifs masqués, sur une "
        "page publique.",
    )
    # The projection of departures (indicators/projection.py, decision 0016).
    senior_departure_rate = models.PositiveSmallIntegerField(
        "taux annuel de départ à 67 ans et plus (%)",
        default=20,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Part des patients des médecins de 67 ans et plus sans date de départ déclarée "
        "qui perdent leur médecin traitant chaque année.",
    )
    default_patient_count = models.PositiveSmallIntegerField(
        "patients médecin traitant d'un médecin, à défaut de déclaration",
        default=1000,
        validators=[MinValueValidator(0), MaxValueValidator(5000)],
        help_text="Utilisé quand un médecin n'a pas indiqué son nombre approximatif de patients.",
    )

    class Meta:
        verbose_name = "réglages des indicateurs"
        verbose_name_plural = "réglages des indicateurs"

    def __str__(self) -> str:
        return f"Réglages des indicateurs — {self.cpts}"

    @classmethod
    def for_cpts(cls, cpts) -> ReportingSettings:
        found = cls.objects.filter(cpts=cpts).first()
        return found if found is not None else cls(cpts=cpts)


# --- the satisfaction survey (see satisfaction.py) ------------------------------------------------


class SurveyOutcome(models.TextChoices):
    """How the request ended, the only thing an answer keeps of it (with its CPTS and month)."""

    MT_FOUND = "mt_found", "médecin traitant trouvé"
    WITHDRAWN = "withdrawn", "demande retirée"


class Ease(models.TextChoices):
    VERY_EASY = "very_easy", "très facile"
    EASY = "easy", "plutôt facile"
    HARD = "hard", "plutôt difficile"
    VERY_HARD = "very_hard", "très difficile"


class Delay(models.TextChoices):
    SHORT = "short", "court"
    REASONABLE = "reasonable", "raisonnable"
    LONG = "long", "long"
    TOO_LONG = "too_long", "beaucoup trop long"


class SatisfactionInvitation(models.Model):
    """One request closed as "MT found" or withdrawn, invited (or not: no e-mail nor mobile) to
    the survey. One per request, ever (the database says so: two workers cannot both invite).
    `answered` says that the link was used, never what was answered: the answer is a separate,
    unlinked row. The request may be deleted later (right to erasure): the invitation stays,
    without it, so that the response rate holds."""

    cpts = models.ForeignKey(
        "territory.CPTS", on_delete=models.CASCADE, related_name="satisfaction_invitations"
    )
    request = models.ForeignKey(
        "intake.Request", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField("issue de la demande", max_length=12, choices=SurveyOutcome.choices)
    month = models.DateField("mois de la clôture")  # its first day
    sent_at = models.DateTimeField("envoyée le", null=True, blank=True)  # None: nobody to write to
    answered = models.BooleanField("répondu", default=False)
    created_at = models.DateTimeField("créée le", default=timezone.now)

    class Meta:
        verbose_name = "invitation à l'enquête de satisfaction"
        verbose_name_plural = "invitations à l'enquête de satisfaction"
        constraints = [
            models.UniqueConstraint(
                fields=["request"], name="reporting_one_satisfaction_invitation_per_request"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=SurveyOutcome.values),
                name="reporting_invitation_outcome_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(answered=False) | models.Q(sent_at__isnull=False),
                name="reporting_invitation_answered_only_if_sent",
            ),
        ]
        indexes = [models.Index(fields=["cpts", "month"], name="reporting_invitation_month")]

    def __str__(self) -> str:
        return f"Invitation {self.pk} — {self.cpts}"


class SatisfactionAnswer(models.Model):
    """The answers of one person, anonymous: the CPTS, the month of the closing and how the
    request ended, nothing else (no link to the request nor to the invitation, no time of day;
    a random key, so that the order of the rows says nothing either)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cpts = models.ForeignKey(
        "territory.CPTS", on_delete=models.CASCADE, related_name="satisfaction_answers"
    )
    month = models.DateField("mois de la clôture")
    outcome = models.CharField("issue de la demande", max_length=12, choices=SurveyOutcome.choices)
    ease = models.CharField("facilité de l'inscription", max_length=12, choices=Ease.choices)
    delay = models.CharField("délai ressenti", max_length=12, choices=Delay.choices)
    would_recommend = models.BooleanField("recommanderait le service")
    comment = models.TextField("commentaire", max_length=1000, blank=True)

    class Meta:
        verbose_name = "réponse à l'enquête de satisfaction"
        verbose_name_plural = "réponses à l'enquête de satisfaction"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=SurveyOutcome.values),
                name="reporting_answer_outcome_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(ease__in=Ease.values), name="reporting_answer_ease_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(delay__in=Delay.values), name="reporting_answer_delay_valid"
            ),
        ]
        indexes = [models.Index(fields=["cpts", "month"], name="reporting_answer_month")]

    def __str__(self) -> str:
        return f"Réponse — {self.cpts}"


class IndicatorSnapshot(models.Model):
    """The tables of one indicator section computed by the worker for the region (see
    `snapshots.py`): aggregates only, never a row about a person."""

    key = models.CharField("section et période", max_length=80, unique=True)
    computed_at = models.DateTimeField("calculé le")
    tables = models.JSONField("tableaux")

    class Meta:
        verbose_name = "indicateurs précalculés"
        verbose_name_plural = "indicateurs précalculés"

    def __str__(self) -> str:
        return self.key
