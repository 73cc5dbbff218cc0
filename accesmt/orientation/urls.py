"""Orientation URLs: the coordinator's page of a request, the GP's signed link and their list of
households to take, the person's choice and "still needed?" answer (behind their follow-up
token), the coordinator's list of households to call again, the coordination's letters to print
and undeliverable messages (views_letters)."""

from django.urls import path

from . import views, views_allocation, views_declaration, views_letters, views_upkeep

app_name = "orientation"
REQUEST = "espace/<slug:cpts_slug>/demandes/<str:reference>/"
urlpatterns = [
    path(f"{REQUEST}orientation/", views.request_orientation, name="request"),
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
]
