"""Matching settings of a CPTS.

`MatchingSettings` — the distance limit used to rank candidates and to allocate the queue (a CPTS
of dense towns keeps it short, a rural one widens it) and how many candidates to show.
`MatchingSettings.for_cpts(cpts)` returns the stored row or unsaved defaults.

`AllocationRun` / `AllocationLine` — a stored queue-wide allocation proposal and its lines (one
per waiting household: the GP proposed, or the reason there is none), reviewed by the
coordinator and then sent in bulk (docs/decisions/0007-matching-and-allocation.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accesmt.accounts.access import TenantQuerySet
from accesmt.common.formats import short_date

DEFAULT_MAX_DISTANCE_KM = 15


class MatchingSettings(models.Model):
    cpts = models.OneToOneField(
        "territory.CPTS",
        verbose_name="CPTS",
        on_delete=models.CASCADE,
        related_name="matching_settings",
    )
    max_distance_km = models.PositiveSmallIntegerField(
        "distance maximale entre le domicile et le cabinet (km)",
        default=DEFAULT_MAX_DISTANCE_KM,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    candidates_shown = models.PositiveSmallIntegerField(
        "nombre de médecins proposés",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )

    class Meta:
        verbose_name = "réglages de la mise en relation"
        verbose_name_plural = "réglages de la mise en relation"
        constraints = [
            models.CheckConstraint(
                name="matching_settings_distance_range",
                condition=models.Q(max_distance_km__gte=1, max_distance_km__lte=100),
            ),
        ]

    def __str__(self) -> str:
        return f"Réglages de la mise en relation — {self.cpts}"

    @classmethod
    def for_cpts(cls, cpts) -> MatchingSettings:
        found = cls.objects.filter(cpts=cpts).first()
        return found if found is not None else cls(cpts=cpts)


class AllocationMethod(models.TextChoices):
    EXACT = "exact", "exacte (flot à coût minimal)"
    GREEDY = "greedy", "gloutonne (priorité puis médecin le plus proche)"


class AllocationStatus(models.TextChoices):
    DRAFT = "draft", "à relire"
    SENT = "sent", "envoyée"
    DISCARDED = "discarded", "écartée"


class AllocationRunQuerySet(TenantQuerySet):
    pass


class AllocationRun(models.Model):
    """One queue-wide allocation proposal (`services.allocation_run_create`): who should be
    offered to whom, stored for the coordinator to review before sending. `cpts` is None for a
    run over every CPTS of the platform (platform admin); each household is still only matched
    with GPs of its own CPTS."""

    cpts = models.ForeignKey(
        "territory.CPTS",
        verbose_name="CPTS",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="allocation_runs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="lancée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("lancée le", default=timezone.now)
    method = models.CharField(
        "méthode", max_length=10, choices=AllocationMethod.choices, default=AllocationMethod.EXACT
    )
    status = models.CharField(
        "état", max_length=10, choices=AllocationStatus.choices, default=AllocationStatus.DRAFT
    )
    households = models.PositiveIntegerField("foyers en attente", default=0)
    priority_households = models.PositiveIntegerField("foyers prioritaires", default=0)
    gps = models.PositiveIntegerField("médecins ayant de la place", default=0)
    places = models.PositiveIntegerField("places disponibles (une par personne)", default=0)
    assigned = models.PositiveIntegerField("foyers proposés", default=0)
    persons = models.PositiveIntegerField("personnes en attente", default=0)
    assigned_persons = models.PositiveIntegerField("personnes proposées", default=0)
    priority_assigned = models.PositiveIntegerField("foyers prioritaires proposés", default=0)
    mean_distance_km = models.FloatField("distance moyenne (km)", null=True, blank=True)
    objective = models.BigIntegerField("valeur de l'objectif", default=0)
    read_seconds = models.FloatField("lecture (s)", default=0)
    solve_seconds = models.FloatField("calcul (s)", default=0)
    write_seconds = models.FloatField("écriture (s)", default=0)
    sent_at = models.DateTimeField("envoyée le", null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="envoyée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AllocationRunQuerySet.as_manager()

    class Meta:
        verbose_name = "répartition de la file"
        verbose_name_plural = "répartitions de la file"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="allocation_run_method_known",
                condition=models.Q(method__in=AllocationMethod.values),
            ),
            models.CheckConstraint(
                name="allocation_run_status_known",
                condition=models.Q(status__in=AllocationStatus.values),
            ),
        ]

    def __str__(self) -> str:
        return f"Répartition n° {self.pk} du {short_date(self.created_at, with_time=True)}"


class LineOutcome(models.TextChoices):
    """What became of a line when the run was sent."""

    PENDING = "", "non envoyée"
    SENT = "sent", "médecin sollicité"
    SKIPPED = "skipped", "ignorée : la demande n'est plus en attente"
    FAILED = "failed", "échec de l'envoi"


class AllocationLineQuerySet(TenantQuerySet):
    tenant_field = "cpts"

    def assigned(self):
        return self.filter(practitioner__isnull=False)

    def unassigned(self):
        return self.filter(practitioner__isnull=True)


class AllocationLine(models.Model):
    """One household of a run: the GP proposed (practitioner, site, distance) or, when none,
    `unassigned_code` (`allocation.NO_ELIGIBLE_GP` or `allocation.CAPACITY_TAKEN`). `reason` is
    a short French text without health data. `weight` is W_h of the objective (priority, then
    weeks of waiting); the review page lists priority households first, then the longest waiting.
    `outcome` records what sending did with the line (never sent twice)."""

    # A run is a snapshot written in bulk (100,000 lines in a few seconds): only the link to
    # the run is checked by the database; checking the four others row by row at commit time
    # cost more than the whole write (docs/decisions/0007). Deleting a request, a GP or a site
    # through Django still deletes its lines (on_delete=CASCADE is applied by Django).
    run = models.ForeignKey(
        AllocationRun, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    cpts = models.ForeignKey(
        "territory.CPTS",
        verbose_name="CPTS",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    request = models.ForeignKey(
        "intake.Request",
        verbose_name="demande",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the unique (request, run) index serves look-ups by request
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner",
        verbose_name="médecin",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    site = models.ForeignKey(
        "directory.PracticeSite",
        verbose_name="lieu d'exercice",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    distance_km = models.FloatField("distance (km)", null=True, blank=True)
    weight = models.PositiveIntegerField("poids")
    is_priority = models.BooleanField("prioritaire", default=False)
    waiting_days = models.PositiveIntegerField("jours d'attente", default=0)
    unassigned_code = models.CharField("motif sans proposition", max_length=20, blank=True)
    reason = models.CharField("raison", max_length=250)
    outcome = models.CharField(
        "envoi", max_length=10, choices=LineOutcome.choices, blank=True, default=""
    )
    outcome_at = models.DateTimeField("envoyée le", null=True, blank=True)

    objects = AllocationLineQuerySet.as_manager()

    class Meta:
        verbose_name = "ligne de répartition"
        verbose_name_plural = "lignes de répartition"
        ordering = ["run", "-is_priority", "-waiting_days", "pk"]
        indexes = [
            models.Index(
                fields=["run", "cpts", "-is_priority", "-waiting_days"],
                name="allocation_line_review",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["request", "run"], name="allocation_line_one_per_run"),
            models.CheckConstraint(
                name="allocation_line_assigned_or_reason",
                condition=(
                    models.Q(practitioner__isnull=False, site__isnull=False, unassigned_code="")
                    | (
                        models.Q(practitioner__isnull=True, site__isnull=True)
                        & ~models.Q(unassigned_code="")
                    )
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.request_id} → {self.practitioner_id or '—'}"
