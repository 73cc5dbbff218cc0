"""The key under which form.html caches the fields of an unbound public form (`{% cache %}`).

What those fields show depends only on the CPTS (its name in the consent text, its slug in the
privacy link, its communes in the datalist), the channel, the commune chosen on the home page and
the code (templates, forms, labels). The CSRF token and the submission key are rendered outside
the cached fragment; a bound form (data or errors) never uses it. Renaming a commune is not in the
key: the fragment lives `TIMEOUT` seconds, so that shows within five minutes."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.db.models import Count, Max, Min

from accesmt.territory.models import TerritoryCommune

TIMEOUT = 300

_PACKAGE = Path(__file__).resolve().parent.parent  # accesmt/
# What the fragment's HTML is made of: a deploy that changes any of it changes the key.
_CODE = ("intake", "core/templates", "core/templatetags", "common")


@functools.cache
def code_version() -> str:
    digest = hashlib.sha256()
    for folder in _CODE:
        for path in sorted((_PACKAGE / folder).rglob("*")):
            if path.suffix in (".py", ".html") and "migrations" not in path.parts:
                digest.update(str(path.relative_to(_PACKAGE)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def communes_version(cpts) -> str:
    """Changes when a commune joins or leaves the territory (one small aggregate query)."""
    row = TerritoryCommune.objects.filter(cpts=cpts).aggregate(
        n=Count("id"), last=Max("id"), low=Min("commune_id"), high=Max("commune_id")
    )
    return f"{row['n']}-{row['last']}-{row['low']}-{row['high']}"


def fragment_key(*, cpts, channel: str, place: dict) -> str:
    return ":".join(
        [
            str(cpts.pk),
            cpts.slug,
            hashlib.sha256(cpts.name.encode()).hexdigest()[:16],
            channel,
            place.get("postcode", ""),
            place.get("commune_name", ""),
            communes_version(cpts),
            code_version(),
        ]
    )
