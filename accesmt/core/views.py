"""The shell's own page: the CSRF failure page. The health check is in notifications
(views_health.py), the public home (finding one's CPTS) in territory, the professionals' space
and the CPTS home in reporting."""

from django.shortcuts import render


def csrf_failure(request, reason=""):
    return render(request, "core/csrf_failure.html", status=403)
