"""Transfer plans (issue 11, point 3): the patients of a GP leaving at a date, spread month by
month over the GPs nearby who accept transfers (docs/decisions/0017-transfer-plans.md).

- `TransferPlan` — one departing GP of the directory, in one CPTS (the tenant), leaving on
  `departure_date`; `avoid_summer` keeps July and August free of transfers; `status` open, then
  released (what remained went into the CPTS queue at the departure date).
- `TransferReceiver` — a GP nearby who takes transfers: `monthly_capacity` persons a month, a
  subset of the capacity of their latest declaration in the CPTS.
- `TransferHousehold` — one household registered by the practice: its request (channel
  `transfer`, `held_for_transfer` while the plan runs), the household key of the file, and the
  month and GP the last allocation proposed.

Imported by `orientation/models.py` (Django finds an app's models there).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accesmt.accounts.access import TenantQuerySet


class TransferPlanStatus(models.TextChoices):
    OPEN = "open", "en cours"
    RELEASED = "released", "terminé (le reste est dans la file d'attente)"


class TransferPlan(models.Model):
    cpts = models.ForeignKey(
        "territory.CPTS", verbose_name="CPTS", on_delete=models.PROTECT, related_name="+"
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner",
        verbose_name="médecin partant",
        on_delete=models.PROTECT,
        related_name="transfer_plans",
    )
    departure_date = models.DateField("date de départ")
    avoid_summer = models.BooleanField(
        "éviter juillet et août",
        default=True,
        help_text="Aucun transfert n'est prévu pendant les mois d'été.",
    )
    status = models.CharField(
        "état", max_length=10, choices=TransferPlanStatus.choices, default=TransferPlanStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="ouvert par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("ouvert le", default=timezone.now)
    released_at = models.DateTimeField("terminé le", null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "plan de transfert"
        verbose_name_plural = "plans de transfert"
        ordering = ["departure_date", "pk"]
        constraints = [
            models.CheckConstraint(
                name="orientation_transferplan_status_known",
                condition=models.Q(status__in=TransferPlanStatus.values),
            ),
            models.CheckConstraint(
                name="orientation_transferplan_released_iff_date",
                condition=models.Q(status=TransferPlanStatus.RELEASED, released_at__isnull=False)
                | models.Q(status=TransferPlanStatus.OPEN, released_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Plan de transfert {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == TransferPlanStatus.OPEN


class TransferReceiverQuerySet(TenantQuerySet):
    tenant_field = "plan__cpts"


class TransferReceiver(models.Model):
    plan = models.ForeignKey(TransferPlan, on_delete=models.CASCADE, related_name="receivers")
    practitioner = models.ForeignKey(
        "directory.Practitioner",
        verbose_name="médecin",
        on_delete=models.PROTECT,
        related_name="+",
    )
    monthly_capacity = models.PositiveSmallIntegerField(
        "patients transférés par mois",
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text="Une partie de sa capacité mensuelle déclarée.",
    )

    objects = TransferReceiverQuerySet.as_manager()

    class Meta:
        verbose_name = "médecin receveur"
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "practitioner"], name="orientation_transferreceiver_once"
            ),
            models.CheckConstraint(
                name="orientation_transferreceiver_capacity_positive",
                condition=models.Q(monthly_capacity__gte=1),
            ),
        ]

    def __str__(self) -> str:
        return f"Receveur {self.practitioner_id} du plan {self.plan_id}"


class TransferHouseholdQuerySet(TenantQuerySet):
    tenant_field = "plan__cpts"


class TransferHousehold(models.Model):
    plan = models.ForeignKey(TransferPlan, on_delete=models.CASCADE, related_name="households")
    request = models.OneToOneField(
        "intake.Request", on_delete=models.CASCADE, related_name="transfer_household"
    )
    household_key = models.CharField("foyer (clé du fichier)", max_length=40)
    # The last allocation's proposal: the first day of the month, the GP and the distance.
    month = models.DateField("mois prévu", null=True, blank=True)
    practitioner = models.ForeignKey(
        "directory.Practitioner",
        verbose_name="médecin proposé",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    distance_km = models.FloatField("distance (km)", null=True, blank=True)

    objects = TransferHouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = "foyer d'un plan de transfert"
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "household_key"], name="orientation_transferhousehold_key_once"
            ),
            models.CheckConstraint(
                name="orientation_transferhousehold_month_with_gp",
                condition=models.Q(month__isnull=True, practitioner__isnull=True)
                | models.Q(month__isnull=False, practitioner__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Foyer {self.household_key} du plan {self.plan_id}"
