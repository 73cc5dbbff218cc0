"""The shell's own pages: the public home, the health check, the CSRF failure page. The
professionals' space and the CPTS home are in the reporting app."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render


def home(request):
    return render(request, "core/home.html")


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def csrf_failure(request, reason=""):
    return render(request, "core/csrf_failure.html", status=403)
