from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accesmt.accounts.otp import VerifiedAdminSite

# The admin requires a verified second factor (docs/decisions/0025-authentication.md), and its
# login goes through the site's, which counts failures and asks for the code.
admin.site.__class__ = VerifiedAdminSite
admin.site.site_header = "AccèsMT — administration"
admin.site.site_title = "AccèsMT"


def _platform_admins_only(request) -> bool:
    """The admin is the platform administrators' tool (decision 0022): its ModelAdmins are not
    scoped by CPTS, so `is_staff` alone (a CPTS member given it) opens nothing there."""
    user = request.user
    return user.is_active and (user.is_superuser or user.is_platform_admin)


admin.site.has_permission = _platform_admins_only

# Each app's patterns start with a fixed word ("compte/", "espace/", "api/", "enquete/"…) or with
# "<cpts_slug>/<fixed word>/"; intake comes last because its public pages are the most generic.
urlpatterns = [
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="accounts:login", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("compte/", include("accesmt.accounts.urls")),
    path("", include("accesmt.accounts.urls_staff")),
    path("", include("accesmt.territory.urls")),
    path("", include("accesmt.reporting.urls")),
    path("", include("accesmt.directory.urls")),
    path("", include("accesmt.matching.urls")),
    path("", include("accesmt.notifications.urls")),
    path("api/", include("accesmt.api.urls")),
    path("", include("accesmt.orientation.urls")),
    path("", include("accesmt.intake.urls_staff")),
    path("", include("accesmt.intake.urls")),
]

# Development only (never in production): the e-mails and SMS sent, links clickable.
if settings.DEBUG:
    urlpatterns.insert(0, path("", include("accesmt.notifications.dev_urls")))
