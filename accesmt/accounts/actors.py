"""Who did it: services take `by: User | None`; an anonymous visitor (a signed link, the public
form) or no one (a worker job) is recorded as None."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import User


def actor_or_none(user) -> User | None:
    """The authenticated user, or None for AnonymousUser and None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user
