"""Matching settings of a CPTS.

`MatchingSettings` — the distance limit used to rank candidates and to allocate the queue (a CPTS
of dense towns keeps it short, a rural one widens it) and how many candidates to show.
`MatchingSettings.for_cpts(cpts)` returns the stored row or unsaved defaults.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

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
