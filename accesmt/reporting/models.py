"""Reporting settings of a CPTS.

- `ReportingSettings` — the start date of the CPTS's ACI contract (its anniversaries open the
  contract years that the indicator pages show by default and the yearly ACI report covers),
  and whether its public monthly report is published. `ReportingSettings.for_cpts(cpts)` returns
  the stored row or unsaved defaults (a contract starting on 1 January)."""

from __future__ import annotations

import datetime

from django.db import models


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

    class Meta:
        verbose_name = "réglages des indicateurs"
        verbose_name_plural = "réglages des indicateurs"

    def __str__(self) -> str:
        return f"Réglages des indicateurs — {self.cpts}"

    @classmethod
    def for_cpts(cls, cpts) -> ReportingSettings:
        found = cls.objects.filter(cpts=cpts).first()
        return found if found is not None else cls(cpts=cpts)
