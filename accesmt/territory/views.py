"""The public home: a person types their commune or postal code and finds the CPTS of the
platform that covers it (its registration form), or learns that none does yet and what to do
meanwhile. GET only: a commune is not personal data, the result page can be bookmarked."""

from __future__ import annotations

import re

from django.shortcuts import render

from .forms import CommuneSearchForm
from .models import CPTS
from .selectors import communes_search

INSEE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def home(request):
    insee = request.GET.get("commune", "")
    form = CommuneSearchForm(request.GET if "q" in request.GET else None)
    search = None
    if INSEE_CODE.match(insee):
        search = communes_search(insee=insee)
    elif form.is_valid():
        search = communes_search(form.cleaned_data["q"])
        if not search.communes:
            form.add_error(
                "q",
                f"Aucune commune ne correspond à « {form.cleaned_data['q']} ». Vérifiez "
                "l'orthographe ou indiquez le code postal (5 chiffres).",
            )
    context = {
        "form": form,
        "search": search,
        "cpts_list": CPTS.objects.filter(is_active=True).order_by("name"),
    }
    return render(request, "territory/home.html", context)
