from django.urls import path

from . import views_declaration, views_installations, views_map, views_survey

app_name = "directory"
urlpatterns = [
    path("enquete/<str:token>/", views_survey.survey_answer_page, name="survey_answer"),
    path(
        "espace/<slug:cpts_slug>/ma-disponibilite/",
        views_declaration.my_declaration,
        name="my_declaration",
    ),
    path(
        "espace/<slug:cpts_slug>/medecins/<int:pk>/declaration/",
        views_declaration.coordinator_declaration,
        name="coordinator_declaration",
    ),
    path("espace/<slug:cpts_slug>/enquetes/", views_survey.campaigns, name="campaigns"),
    path("espace/<slug:cpts_slug>/enquetes/<int:pk>/", views_survey.campaign, name="campaign"),
    path(
        "espace/<slug:cpts_slug>/enquetes/<int:pk>/taux.json",
        views_survey.campaign_rate,
        name="campaign_rate",
    ),
    path(
        "espace/<slug:cpts_slug>/medecins-disponibles/",
        views_map.professional_list,
        name="professional_list",
    ),
    path(
        "espace/<slug:cpts_slug>/medecins-disponibles/carte.json",
        views_map.professional_markers,
        name="professional_markers",
    ),
    path(
        "espace/<slug:cpts_slug>/annuaire/",
        views_map.coordinator_directory,
        name="coordinator_directory",
    ),
    path(
        "espace/<slug:cpts_slug>/installations/",
        views_installations.installation_list,
        name="installation_list",
    ),
    path(
        "espace/<slug:cpts_slug>/installations/nouvelle/",
        views_installations.installation_create,
        name="installation_create",
    ),
    path(
        "espace/<slug:cpts_slug>/installations/<int:pk>/",
        views_installations.installation_edit,
        name="installation_edit",
    ),
    path(
        "espace/<slug:cpts_slug>/installations/<int:pk>/retirer/",
        views_installations.installation_remove,
        name="installation_remove",
    ),
    path("<slug:cpts_slug>/medecins/", views_map.public_list, name="public_list"),
    path("<slug:cpts_slug>/medecins/carte.json", views_map.public_markers, name="public_markers"),
]
