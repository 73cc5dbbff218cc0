"""The shell's own pages: the health check, the CSRF failure page. The public home (finding
one's CPTS) is in the territory app, the professionals' space and the CPTS home in reporting."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def csrf_failure(request, reason=""):
    return render(request, "core/csrf_failure.html", status=403)
