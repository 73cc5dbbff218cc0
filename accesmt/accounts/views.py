from django.contrib.auth import views as auth_views
from django.urls import reverse, reverse_lazy

from accesmt.common.links import public_url

from .forms import EmailAuthenticationForm, OutboxPasswordResetForm
from .models import Membership


class LoginView(auth_views.LoginView):
    """After login: the page asked for (`next`), else the home of the user's CPTS when they have
    exactly one active membership, else the espace page (LOGIN_REDIRECT_URL), which lists them."""

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        user = self.request.user
        if not user.is_platform_admin:
            slugs = list(
                Membership.objects.filter(user=user, is_active=True, cpts__is_active=True)
                .order_by("cpts__slug")
                .values_list("cpts__slug", flat=True)
                .distinct()[:2]
            )
            if len(slugs) == 1:
                return reverse("reporting:cpts_home", kwargs={"cpts_slug": slugs[0]})
        return super().get_default_redirect_url()


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
