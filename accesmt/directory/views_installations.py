"""Planned installations (`espace/<slug>/installations/`): the coordinator's list, form to record
one and to correct or remove it. Thin views over `installations.installation_save`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role
from accesmt.territory.models import Commune

from .forms import InstallationForm
from .installations import installation_delete, installation_save, installations_of
from .models import PlannedInstallation, Practitioner


@cpts_role_required(Role.COORDINATOR)
def installation_list(request, cpts_slug):
    return render(
        request,
        "directory/installations.html",
        {"cpts": request.cpts, "installations": installations_of(request.cpts)},
    )


def _form(request, cpts, installation):
    practitioners = Practitioner.objects.present().in_cpts(cpts)
    if installation is not None and installation.practitioner_id:
        practitioners = practitioners | Practitioner.objects.filter(pk=installation.practitioner_id)
    return InstallationForm(
        request.POST if request.method == "POST" else None,
        initial=InstallationForm.initial_from(installation) if installation else None,
        practitioners=practitioners.distinct(),
        communes=Commune.objects.filter(territory__cpts=cpts).order_by("name"),
    )


def _installation_page(request, installation):
    cpts = request.cpts
    form = _form(request, cpts, installation)
    if request.method == "POST" and form.is_valid():
        try:
            installation_save(
                cpts=cpts,
                installation=installation,
                recorded_by=request.user,
                http_request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Installation enregistrée.")
            return redirect("directory:installation_list", cpts_slug=cpts.slug)
    return render(
        request,
        "directory/installation.html",
        {"cpts": cpts, "form": form, "installation": installation},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@cpts_role_required(Role.COORDINATOR)
def installation_create(request, cpts_slug):
    return _installation_page(request, None)


def _installation(request, pk) -> PlannedInstallation:
    found = PlannedInstallation.objects.filter(cpts=request.cpts, pk=pk).first()
    if found is None:
        raise Http404("Page introuvable.")
    return found


@require_http_methods(["GET", "POST"])
@cpts_role_required(Role.COORDINATOR)
def installation_edit(request, cpts_slug, pk):
    return _installation_page(request, _installation(request, pk))


@require_POST
@cpts_role_required(Role.COORDINATOR)
def installation_remove(request, cpts_slug, pk):
    installation_delete(
        installation=_installation(request, pk), by=request.user, http_request=request
    )
    messages.success(request, "Installation retirée.")
    return redirect("directory:installation_list", cpts_slug=request.cpts.slug)
