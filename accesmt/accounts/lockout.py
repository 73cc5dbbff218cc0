"""django-axes key for an account: the e-mail as the login form normalises it, so that
changing letter case or adding spaces does not reset the failure count."""

from django.conf import settings


def lockout_username(request, credentials=None) -> str:
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials and credentials.get(field):
        value = credentials[field]
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get(field, "") if data else ""
    return str(value or "").strip().lower()
