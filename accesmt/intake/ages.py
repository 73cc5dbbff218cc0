"""The age bands that describe a household wherever its members are not named (the GP's pages,
the allocation review): one list, so that the same household reads the same on every page.
The bands match the GPs' declared profiles ("enfants de moins de 6 ans", "70 ans et plus")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# (first age *not* in the band, label); the last band has no upper bound.
AGE_BANDS: tuple[tuple[int | None, str], ...] = (
    (6, "moins de 6 ans"),
    (18, "6 à 17 ans"),
    (60, "18 à 59 ans"),
    (70, "60 à 69 ans"),
    (None, "70 ans et plus"),
)


def age_band(age: int) -> str:
    return next(label for below, label in AGE_BANDS if below is None or age < below)


def age_band_counts(ages: Iterable[int]) -> list[tuple[str, int]]:
    """[(label, number of people)], youngest band first, empty bands left out."""
    counts = Counter(age_band(age) for age in ages)
    return [(label, counts[label]) for _, label in AGE_BANDS if counts[label]]


def age_bands_text(ages: Iterable[int]) -> str:
    """ "2 × 18 à 59 ans, moins de 6 ans" (the count only when more than one)."""
    return ", ".join(
        f"{count} × {label}" if count > 1 else label for label, count in age_band_counts(ages)
    )
