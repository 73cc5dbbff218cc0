from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_members, views_otp, views_psc

app_name = "accounts"
urlpatterns = [
    path("connexion/", views.LoginView.as_view(), name="login"),
    # Django's LogoutView only accepts POST: a link or an image cannot log someone out.
    path("deconnexion/", views_psc.LogoutView.as_view(), name="logout"),
    path("double-authentification/", views_otp.otp_setup, name="otp_setup"),
    path("verification/", views_otp.otp_verify, name="otp_verify"),
    path("psc/", views_psc.psc_start, name="psc_start"),
    path("psc/retour/", views_psc.psc_callback, name="psc_callback"),
    path("mot-de-passe/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "mot-de-passe/modifie/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("mot-de-passe-oublie/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "mot-de-passe-oublie/envoye/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe-oublie/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe-oublie/termine/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path(
        "invitation/<uidb64>/<token>/",
        views_members.InvitationAcceptView.as_view(),
        name="invitation",
    ),
]
