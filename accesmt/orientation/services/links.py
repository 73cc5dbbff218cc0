"""Signed links of the solicitations (the GP's answer page without an account)."""

from __future__ import annotations

import datetime

from django.urls import reverse

from accesmt.common.links import public_url
from accesmt.common.signing import INVALID, LinkError, make_link_token, read_link_token

from ..models import Solicitation

TOKEN_SALT = "accesmt.orientation.solicitation"  # noqa: S105 - a signing salt
TOKEN_MAX_AGE = datetime.timedelta(days=30)


# --- links ---------------------------------------------------------------------------------------


def solicitation_token(solicitation: Solicitation) -> str:
    return make_link_token(solicitation.pk, salt=TOKEN_SALT, key="s")


def solicitation_url(solicitation: Solicitation) -> str:
    return public_url(
        reverse("orientation:answer", kwargs={"token": solicitation_token(solicitation)})
    )


def solicitation_from_token(token: str) -> Solicitation:
    pk = read_link_token(token, salt=TOKEN_SALT, key="s", max_age=TOKEN_MAX_AGE)
    found = (
        Solicitation.objects.select_related("request", "cpts", "practitioner", "site")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise LinkError(INVALID)
    return found
