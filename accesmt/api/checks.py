"""System checks of the API settings (`manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register

PER_PROCESS_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.caches, Tags.security, deploy=True)
def shared_cache_check(app_configs=None, **kwargs):
    """The API's limit of failed authentications per address counts in the default cache: in
    production it must be shared (the calls per key count in the database)."""
    if settings.DEBUG:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PER_PROCESS_BACKENDS:
        return []
    return [
        Warning(
            f"Le cache par défaut ({backend.rsplit('.', 1)[-1]}) n'est pas partagé : la limite "
            "de l'API des clés invalides par adresse est alors comptée par processus, et "
            "multipliée par le nombre de processus.",
            hint="Définissez CACHE_URL (par exemple dbcache://accesmt_cache puis "
            "`manage.py createcachetable`, ou une URL Redis) : voir .env.example.",
            id="accesmt.api.W001",
        )
    ]
