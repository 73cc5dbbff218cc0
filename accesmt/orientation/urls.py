"""Orientation URLs: the coordinator's page of a request, the GP's signed link and their list of
households to take, the person's choice and "still needed?" answer (behind their follow-up
token), the coordinator's list of households to call again, the coordination's letters to print
and undeliverable messages (views_letters)."""

from django.urls import path

from . import views, views_allocation, views_declaration, views_letters, views_upkeep
from .transfers import views as views_transfers

app_name = "orientation"
REQUEST = "espace/<slug:cpts_slug>/demandes/<str:reference>/"
TRANSFERS = "espace/<slug:cpts_slug>/transferts/"
urlpatterns = [
    path(f"{REQUEST}orientation/", views.request_orientation, name="request"),
    path(f"{REQUEST}orientation/exclus/", views.request_exclusions, name="request_exclusions"),
    path(f"{REQUEST}lettre.pdf", views.request_letter, name="letter"),
    path("espace/<slug:cpts_slug>/foyers-a-prendre/", views.gp_households, name="gp_households"),
    path("orientation/<str:token>/", views.answer, name="answer"),
    path("enquete/<str:token>/foyers/", views.gp_households_by_link, name="gp_households_link"),
    path("suivi/<str:token>/choix/", views.patient_choice, name="patient_choice"),
    # Keeping the list true (views_upkeep): the person's one-click answer, the coordinator's list.
    path(
        "suivi/<str:token>/toujours-besoin/",
        views_upkeep.still_needed_answer_view,
        name="still_needed_answer",
    ),
    # The declaration of the médecin traitant found (views_declaration).
    path(
        "suivi/<str:token>/declaration/",
        views_declaration.declaration_answer_view,
        name="declaration_answer",
    ),
    path(
        "espace/<slug:cpts_slug>/a-relancer/", views_upkeep.still_needed_list, name="still_needed"
    ),
    # Sending an allocation run of the matching app (its review pages stay under matching:).
    path(
        "espace/<slug:cpts_slug>/repartition/<int:pk>/envoyer/",
        views_allocation.allocation_run_send_view,
        name="allocation_run_send",
    ),
    # The coordination's letters to print and undeliverable messages (views_letters).
    path("espace/<slug:cpts_slug>/courriers/", views_letters.letters, name="letters"),
    path(
        "espace/<slug:cpts_slug>/courriers/<int:pk>.pdf",
        views_letters.letter_pdf,
        name="letter_pdf",
    ),
    # Transfer plans of departing GPs (transfers/views.py, issue 11).
    path(TRANSFERS, views_transfers.plans, name="transfer_plans"),
    path(f"{TRANSFERS}<int:pk>/", views_transfers.plan_detail, name="transfer_plan"),
    path(f"{TRANSFERS}<int:pk>/import/", views_transfers.plan_import, name="transfer_import"),
    path(
        f"{TRANSFERS}<int:pk>/modele.csv", views_transfers.plan_template, name="transfer_template"
    ),
    path(f"{TRANSFERS}<int:pk>/lettre.pdf", views_transfers.plan_letter, name="transfer_letter"),
]
