"""Intake URLs. Public per-CPTS pages start with `<cpts_slug>/<fixed word>/`, professional pages
with `espace/<cpts_slug>/`, the person's follow-up page with `suivi/`."""

from django.urls import path

from .views import cpam_lists, followup, personal_data, phone, public, referral

app_name = "intake"
urlpatterns = [
    path("suivi/<str:token>/", followup.followup, name="followup"),
    # The person's rights (issue 14): see, download, correct, erase.
    path("suivi/<str:token>/mes-donnees/", personal_data.my_data, name="my_data"),
    path("suivi/<str:token>/mes-donnees.pdf", personal_data.my_data_pdf, name="my_data_pdf"),
    path("suivi/<str:token>/mes-donnees.json", personal_data.my_data_json, name="my_data_json"),
    path("suivi/<str:token>/corriger/", personal_data.correct, name="correct"),
    path("suivi/<str:token>/effacer/", personal_data.erase, name="erase"),
    # A person of a CPAM list refuses the CPTS's help (link of the information message).
    path("suivi/<str:token>/refus/", cpam_lists.cpam_opt_out, name="cpam_opt_out"),
    path("espace/<slug:cpts_slug>/orienter/", referral.refer, name="refer"),
    path("espace/<slug:cpts_slug>/mes-orientations/", referral.my_referrals, name="my_referrals"),
    path("espace/<slug:cpts_slug>/saisie-telephone/", phone.phone_entry, name="phone_entry"),
    path("<slug:cpts_slug>/inscription/", public.register, name="register"),
    path("<slug:cpts_slug>/inscription/merci/", public.acknowledgment, name="acknowledgment"),
    path("<slug:cpts_slug>/confidentialite/", public.privacy, name="privacy"),
]
