"""`/healthz`: the health check of the load balancer and the monitoring (see health.py)."""

import logging
import time

from django.db import DatabaseError, connection
from django.http import JsonResponse

from .health import background_health

logger = logging.getLogger(__name__)


def healthz(request):
    """For the load balancer and the monitoring, public, counts and ages only: 200 while the
    database answers ("ok", or "degraded" when messages wait too long or no worker is alive:
    the web still serves, an alert should go out); 503 when the database does not answer."""
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database_ms = round((time.monotonic() - started) * 1000, 1)
        background = background_health()
    except DatabaseError:
        logger.exception("healthz : la base de données ne répond pas")
        return JsonResponse({"status": "down", "database": {"ok": False}}, status=503)
    ok = background.pop("ok")
    return JsonResponse(
        {
            "status": "ok" if ok else "degraded",
            "database": {"ok": True, "ms": database_ms},
            **background,
        },
        headers={"Cache-Control": "no-store"},
    )
