"""The coordination's letters to print and undeliverable messages (views.py)."""

from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("espace/<slug:cpts_slug>/courriers/", views.letters, name="letters"),
    path("espace/<slug:cpts_slug>/courriers/<int:pk>.pdf", views.letter_pdf, name="letter_pdf"),
]
