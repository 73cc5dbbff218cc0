import time

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy

from accesmt.common.links import public_url

from . import lockout
from .forms import EmailAuthenticationForm, OutboxPasswordResetForm
from .models import Membership
from .otp import confirmed_totp
from .views_otp import PENDING


def landing_url(user) -> str:
    """The home of the user's CPTS when they have exactly one active membership, else the
    espace page (LOGIN_REDIRECT_URL), which lists them."""
    if not user.is_platform_admin:
        slugs = list(
            Membership.objects.filter(user=user, is_active=True, cpts__is_active=True)
            .order_by("cpts__slug")
            .values_list("cpts__slug", flat=True)
            .distinct()[:2]
        )
        if len(slugs) == 1:
            return reverse("reporting:cpts_home", kwargs={"cpts_slug": slugs[0]})
    return reverse(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """After the password: the code of the user's authentication application when they have
    one (views_otp.otp_verify), then the page asked for (`next`), else `landing_url`.
    Failures slow down the pair (account, address) with growing delays (lockout.py)."""

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        wait = lockout.seconds_to_wait(request, request.POST.get("username"))
        if wait:
            return lockout.locked_response(request, wait)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        wait = lockout.record_failure(self.request, self.request.POST.get("username"))
        if wait:
            return lockout.locked_response(self.request, wait)
        return super().form_invalid(form)

    def form_valid(self, form):
        user = form.get_user()
        lockout.clear(self.request, user.email)
        if confirmed_totp(user) is None:
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_redirect_url(),
            "at": time.time(),
        }
        return redirect("accounts:otp_verify")

    def get_default_redirect_url(self):
        return landing_url(self.request.user)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = OutboxPasswordResetForm
    email_template_name = "accounts/emails/password_reset.txt"
    subject_template_name = "accounts/emails/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    @property
    def extra_email_context(self):
        # The e-mail's link comes from PUBLIC_BASE_URL, never from the request's Host header.
        return {"public_base_url": public_url("")}


class LinkConfirmView(auth_views.PasswordResetConfirmView):
    """Django's password-reset confirmation whose unusable link (forged, used, expired) answers
    404, as every other signed link of the site does, instead of 200."""

    def render_to_response(self, context, **kwargs):
        if not context.get("validlink"):
            kwargs["status"] = 404
        return super().render_to_response(context, **kwargs)


class PasswordResetConfirmView(LinkConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
