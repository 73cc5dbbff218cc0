"""Small-count masking, written once: outside the coordination, a count from 1 to 4 could point
at a person (a GP, a household), so it reads "< 5". Used by every page that masks figures (the
CPTS home's indicators, the GPs' demography). It lives on the ground floor because apps of
several floors mask counts (directory, orientation, reporting)."""

from __future__ import annotations

MASK_BELOW = 5
MASKED = f"< {MASK_BELOW}"


def is_small(count: int) -> bool:
    """True for the counts that are masked: 1 to 4 (zero says nothing about anyone)."""
    return 0 < count < MASK_BELOW


def masked_count(count: int, *, masked: bool = True) -> int | str:
    """`count`, or "< 5" when `masked` and the count is from 1 to 4."""
    return MASKED if masked and is_small(count) else count
