"""Declaration pages: the GP's own (`ma-disponibilite/`) and the coordinator's
(`medecins/<pk>/declaration/`). Thin views over forms.declaration_save."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role

from .forms import DeclarationForm, declaration_save
from .models import AvailabilityDeclaration, DeclarationSource, Practitioner
from .selectors import practitioner_of_user


def _current(practitioner, cpts):
    return (
        AvailabilityDeclaration.objects.current()
        .filter(practitioner=practitioner, cpts=cpts)
        .first()
    )


def _declaration_page(request, *, practitioner, cpts, source):
    current = _current(practitioner, cpts)
    if request.method == "POST":
        form = DeclarationForm(request.POST)
        if form.is_valid() and declaration_save(
            form, practitioner=practitioner, cpts=cpts, source=source, recorded_by=request.user
        ):
            return redirect(f"{request.path}?enregistre=1")
    else:
        form = DeclarationForm(initial=DeclarationForm.initial_from(current))
    return render(
        request,
        "directory/declaration.html",
        {
            "form": form,
            "cpts": cpts,
            "practitioner": practitioner,
            "current": current,
            "saved": request.GET.get("enregistre") == "1",
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@cpts_role_required(Role.GP)
def my_declaration(request, cpts_slug):
    practitioner = practitioner_of_user(request.user, request.cpts)
    if practitioner is None:
        return render(request, "directory/no_practitioner.html", {"cpts": request.cpts})
    return _declaration_page(
        request, practitioner=practitioner, cpts=request.cpts, source=DeclarationSource.GP
    )


@require_http_methods(["GET", "POST"])
@cpts_role_required(Role.COORDINATOR)
def coordinator_declaration(request, cpts_slug, pk):
    practitioner = Practitioner.objects.in_cpts(request.cpts).filter(pk=pk).first()
    if practitioner is None:
        raise Http404("Page introuvable.")
    return _declaration_page(
        request,
        practitioner=practitioner,
        cpts=request.cpts,
        source=DeclarationSource.COORDINATOR,
    )
