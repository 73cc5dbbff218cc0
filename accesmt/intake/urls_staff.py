"""Staff pages of the intake app: the coordinator's queue and request page, the CPAM mediator's
list, the printable flyer. All under `espace/<cpts_slug>/`; requests are named by reference."""

from django.urls import path

from .views import coordinator, flyer, mediator

app_name = "intake_staff"
REQUEST = "espace/<slug:cpts_slug>/demandes/<str:reference>/"
urlpatterns = [
    path("espace/<slug:cpts_slug>/demandes/", coordinator.queue, name="queue"),
    path(REQUEST, coordinator.request_detail, name="request_detail"),
    path(f"{REQUEST}modifier/", coordinator.request_edit, name="request_edit"),
    path(f"{REQUEST}etat/", coordinator.request_status, name="request_status"),
    path(f"{REQUEST}fusionner/", coordinator.request_merge_view, name="request_merge"),
    path(f"{REQUEST}separer/", coordinator.request_split_view, name="request_split"),
    path(
        f"{REQUEST}doublons/<int:flag_id>/ecarter/",
        coordinator.duplicate_dismiss_view,
        name="duplicate_dismiss",
    ),
    path(
        "espace/<slug:cpts_slug>/acces-aux-droits/",
        mediator.rights_help_list,
        name="rights_help",
    ),
    path(
        "espace/<slug:cpts_slug>/acces-aux-droits/<str:reference>/",
        mediator.rights_file,
        name="rights_file",
    ),
    path("espace/<slug:cpts_slug>/affiche.pdf", flyer.flyer, name="flyer"),
]
