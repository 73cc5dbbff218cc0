"""API keys: one CPTS each, stored as a SHA-256 hash (the key itself is shown once, at creation).

A key reads "amt_<prefix>_<secret>": `prefix` (8 characters, stored in clear) lets an admin tell
keys apart in lists and logs; the 256-bit secret makes a slow hash useless, so SHA-256 of the
whole key is enough and lets authentication look the key up by its hash. A revoked key
(`revoked_at` set) never authenticates again; `last_used_at` tells which keys are still in use.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, cpts__is_active=True)


class ApiKey(models.Model):
    cpts = models.ForeignKey(
        "territory.CPTS", verbose_name="CPTS", on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(
        "nom", max_length=100, help_text="Qui l'utilise, par exemple « site web de la CPTS »."
    )
    prefix = models.CharField("préfixe", max_length=8, unique=True, editable=False)
    key_hash = models.CharField("empreinte", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("créée le", default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="créée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    revoked_at = models.DateTimeField("révoquée le", null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(
        "dernière utilisation", null=True, blank=True, editable=False
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "clé d'API"
        verbose_name_plural = "clés d'API"
        ordering = ["cpts", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (amt_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiCallCount(models.Model):
    """The calls of one key in one fixed window of API_RATE_LIMIT's period (issue 15): counted
    by one atomic statement (`services.api_call_count`), so that concurrent calls from every
    worker never pass the limit. Rows of past windows are deleted as the next window opens."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    window_start = models.BigIntegerField("début de la fenêtre (secondes depuis 1970)")
    calls = models.PositiveIntegerField("appels", default=0)

    class Meta:
        verbose_name = "appels d'une clé d'API dans une fenêtre"
        verbose_name_plural = "appels des clés d'API par fenêtre"
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "window_start"], name="api_one_call_count_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id} @ {self.window_start}: {self.calls}"


class FailedAuthCount(models.Model):
    """The failed API authentications from one address (`accounts.ip.client_ip`, "unknown" when
    none) in one fixed window of API_FAILED_AUTH_LIMIT's period, counted like `ApiCallCount`
    (`services.window_count`). The unique index leads with `window_start`: it serves the count,
    the check before each key and the delete of every address's past windows."""

    address = models.CharField("adresse", max_length=45)
    window_start = models.BigIntegerField("début de la fenêtre (secondes depuis 1970)")
    failures = models.PositiveIntegerField("échecs", default=0)

    class Meta:
        verbose_name = "échecs d'authentification d'une adresse dans une fenêtre"
        verbose_name_plural = "échecs d'authentification par adresse et par fenêtre"
        constraints = [
            models.UniqueConstraint(
                fields=["window_start", "address"], name="api_one_failed_auth_count_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address} @ {self.window_start}: {self.failures}"
