"""Staff pages of the intake app: the coordinator's queue and request page, the CPAM mediator's
list, the printable flyer, the CPAM lists (import with preview, counts). All under
`espace/<cpts_slug>/`; requests are named by reference."""

from django.urls import path

from .views import (
    calls,
    coordinator,
    coordinator_rights,
    cpam_lists,
    flyer,
    mediator,
    queue_actions,
)

app_name = "intake_staff"
REQUEST = "espace/<slug:cpts_slug>/demandes/<str:reference>/"
urlpatterns = [
    path("espace/<slug:cpts_slug>/demandes/", queue_actions.queue, name="queue"),
    path(REQUEST, coordinator.request_detail, name="request_detail"),
    path(f"{REQUEST}modifier/", coordinator.request_edit, name="request_edit"),
    # The person's rights, on their behalf (issue 14).
    path(f"{REQUEST}donnees/", coordinator_rights.request_data, name="request_data"),
    path(
        f"{REQUEST}donnees.pdf",
        coordinator_rights.request_data_export,
        {"kind": "pdf"},
        name="request_data_pdf",
    ),
    path(
        f"{REQUEST}donnees.json",
        coordinator_rights.request_data_export,
        {"kind": "json"},
        name="request_data_json",
    ),
    path(f"{REQUEST}effacer/", coordinator_rights.request_erase_view, name="request_erase"),
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
    path("espace/<slug:cpts_slug>/listes-cpam/", cpam_lists.cpam_lists, name="cpam_lists"),
    path(
        "espace/<slug:cpts_slug>/listes-cpam/importer/",
        cpam_lists.cpam_list_upload,
        name="cpam_list_upload",
    ),
    path(
        "espace/<slug:cpts_slug>/listes-cpam/modele.csv",
        cpam_lists.cpam_list_template,
        name="cpam_list_template",
    ),
    path(
        "espace/<slug:cpts_slug>/listes-cpam/<int:pk>/",
        cpam_lists.cpam_list_detail,
        name="cpam_list_detail",
    ),
    path(f"{REQUEST}appels/", calls.contact_note_add, {"kind": "appel"}, name="call_add"),
    path(f"{REQUEST}notes/", calls.contact_note_add, {"kind": "note"}, name="note_add"),
    path(
        f"{REQUEST}appels/<int:pk>/rappel-fait/",
        calls.call_back_done,
        name="call_back_done",
    ),
    path("espace/<slug:cpts_slug>/a-rappeler/", calls.call_back_list, name="call_backs"),
    path(
        "espace/<slug:cpts_slug>/demandes-cochees/verifier/",
        queue_actions.queue_verify,
        name="queue_verify",
    ),
]
