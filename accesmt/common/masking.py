"""Small-count masking, written once: outside the coordination, a count from 1 to 4 could point
at a person (a GP, a household), so it reads "< 5". The indicators apply it through the typed
cells of `accesmt.reporting.cells` (which also hide rates and medians over such counts); it
lives on the ground floor so that any app can say what "small" means the same way."""

from __future__ import annotations

MASK_BELOW = 5
MASKED = f"< {MASK_BELOW}"


def is_small(count: int) -> bool:
    """True for the counts that are masked: 1 to 4 (zero says nothing about anyone)."""
    return 0 < count < MASK_BELOW


def masked_count(count: int, *, masked: bool = True) -> int | str:
    """`count`, or "< 5" when `masked` and the count is from 1 to 4."""
    return MASKED if masked and is_small(count) else count
