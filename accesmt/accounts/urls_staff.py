"""Members and roles of a CPTS under `espace/` (namespace "members"); config/urls.py includes
these before reporting's CPTS pages."""

from django.urls import path

from . import views_members as views

MEMBERS = "espace/<slug:cpts_slug>/membres/"

app_name = "members"
urlpatterns = [
    # "plateforme" is a reserved CPTS slug (territory.models.RESERVED_CPTS_SLUGS).
    path("espace/plateforme/membres/", views.platform_members, name="platform"),
    path(MEMBERS, views.member_list, name="list"),
    path(f"{MEMBERS}inviter/", views.member_invite, name="invite"),
    path(f"{MEMBERS}<int:pk>/", views.member_edit, name="edit"),
    path(f"{MEMBERS}<int:pk>/retirer/", views.member_remove, name="remove"),
    path(f"{MEMBERS}<int:pk>/desactiver/", views.member_deactivate, name="deactivate"),
    path(f"{MEMBERS}<int:pk>/reactiver/", views.member_reactivate, name="reactivate"),
    path(f"{MEMBERS}<int:pk>/renvoyer-invitation/", views.member_resend, name="resend"),
]
