"""Admin of the GP directory, with the upload of an RPPS file: the import runs as a background
operation of the whole platform (rpps_operations; docs/decisions/0004-rpps-import.md and
0030-background-tasks.md), followed on its own admin page."""

import secrets
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path

from accesmt.common.pending_files import pending_delete, pending_keep, pending_path, pending_purge
from accesmt.notifications.models import Operation
from accesmt.notifications.operation_pages import operation_context
from accesmt.notifications.operations import OperationRefused, operation_active, operation_start
from accesmt.territory.codes import normalise_departement

from . import rpps_operations
from .models import AvailabilityDeclaration, PracticeSite, Practitioner
from .rpps_operations import RPPS_IMPORT
from .services import CORRECTABLE_PRACTITIONER_FIELDS, practitioner_correct

PENDING_SESSION_KEY = "rpps_pending_import"


class RppsUploadForm(forms.Form):
    file = forms.FileField(
        label="Fichier de l'Annuaire Santé",
        help_text="Extraction PS_LibreAcces_Personne_activite (.txt, champs séparés par « | »).",
    )
    departements = forms.CharField(
        label="Départements",
        required=False,
        help_text="Facultatif : codes séparés par des espaces (p. ex. « 62 59 »). Par défaut, "
        "les communes des territoires des CPTS de la plateforme.",
    )
    dry_run = forms.BooleanField(
        label="Essai à blanc (contrôler le fichier sans rien enregistrer)", required=False
    )
    accept_partial = forms.BooleanField(
        label="Accepter un import partiel (fichier coupé : les médecins des lignes manquantes "
        "seront marqués absents)",
        required=False,
    )

    def clean_departements(self):
        codes = []
        for value in self.cleaned_data["departements"].replace(",", " ").split():
            code = normalise_departement(value)
            if code is None:
                raise ValidationError(f"Département invalide : « {value} ».")
            codes.append(code)
        return codes


class PracticeSiteInline(admin.StackedInline):
    model = PracticeSite
    extra = 0
    fields = (
        ("label", "practice_type"),
        ("address_line1", "address_line2", "address_line3"),
        ("postcode", "commune_name", "commune"),
        ("latitude", "longitude", "geocode_source"),
        ("phone", "email"),
        ("source", "is_gone", "gone_since", "imported_at"),
        "corrections",
    )
    readonly_fields = [
        name for row in fields for name in (row if isinstance(row, tuple) else (row,))
    ]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    change_list_template = "admin/directory/practitioner/change_list.html"
    list_display = ("last_name", "first_name", "rpps", "source", "is_msu", "is_gone")
    list_filter = ("source", "is_gone", "is_msu")
    search_fields = ("rpps", "last_name", "first_name", "sites__commune__name")
    show_full_result_count = False
    inlines = [PracticeSiteInline]
    fields = (
        "rpps",
        ("civility", "first_name", "last_name"),
        "email",
        ("birth_year", "age_band"),
        "is_msu",
        "specialty_codes",
        ("source", "is_gone", "gone_since", "imported_at"),
        "corrections",
    )
    readonly_fields = (
        "rpps",
        "specialty_codes",
        "source",
        "is_gone",
        "gone_since",
        "imported_at",
        "corrections",
    )

    def has_add_permission(self, request):
        return False  # a GP missing from the file is added by the coordination (services)

    def save_model(self, request, obj, form, change):
        """Edits go through `practitioner_correct`, so later imports keep them."""
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in CORRECTABLE_PRACTITIONER_FIELDS
        }
        if fields:
            practitioner_correct(practitioner=obj, fields=fields, by=request.user)

    def get_urls(self):
        return [
            path(
                "importer/",
                self.admin_site.admin_view(self.import_view),
                name="directory_practitioner_import",
            ),
            path(
                "importer/operations/<int:pk>/",
                self.admin_site.admin_view(self.operation_view),
                name="directory_practitioner_import_operation",
            ),
            *super().get_urls(),
        ]

    def _check_platform_admin(self, request) -> None:
        if not (request.user.is_platform_admin or request.user.is_superuser):
            raise PermissionDenied

    def import_view(self, request):
        """Upload (or confirm) an RPPS file: the import runs as a background operation
        (rpps_operations), followed on `operation_view`."""
        self._check_platform_admin(request)
        if request.method == "POST" and ("confirm" in request.POST or "cancel" in request.POST):
            return self._confirm_import(request)
        form = RppsUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            return self._start_import(request, form)
        context = {
            **self.admin_site.each_context(request),
            "title": "Importer l'annuaire national (RPPS)",
            "opts": self.model._meta,
            "form": form,
            "pending": _pending_question(request),
            "active": operation_active(kind=RPPS_IMPORT, cpts=None),
        }
        return TemplateResponse(request, "admin/directory/practitioner/import_rpps.html", context)

    def operation_view(self, request, pk: int):
        """The progress page of an RPPS import (an operation of the whole platform)."""
        self._check_platform_admin(request)
        operation = get_object_or_404(Operation, pk=pk, kind=RPPS_IMPORT, cpts__isnull=True)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import de l'annuaire national n° {operation.pk}",
            "opts": self.model._meta,
            "cpts": None,
            **operation_context(request, operation),
        }
        return TemplateResponse(
            request, "admin/directory/practitioner/import_rpps_operation.html", context
        )

    def _start(self, request, params: dict):
        """Start the import of the waiting file `params["token"]`; the redirect to its page, or
        None when one already runs (the French refusal is in the messages)."""
        try:
            operation = operation_start(kind=RPPS_IMPORT, cpts=None, by=request.user, params=params)
        except OperationRefused as exc:
            messages.error(request, str(exc))
            return None
        request.session[PENDING_SESSION_KEY] = {**params, "operation": operation.pk}
        return redirect("admin:directory_practitioner_import_operation", pk=operation.pk)

    def _start_import(self, request, form):
        """Keep the upload server-side under a random name (the operation reads it there), then
        start the import. Refused at once while one runs (whose file must stay)."""
        if operation_active(kind=RPPS_IMPORT, cpts=None) is not None:
            messages.error(request, rpps_operations.BUSY)
            return redirect("admin:directory_practitioner_import")
        _forget_pending(request)
        pending_purge(_pending_dir())
        upload = form.cleaned_data["file"]
        if hasattr(upload, "temporary_file_path"):  # large uploads are already on disk
            token = pending_keep(_pending_dir(), move_from=upload.temporary_file_path())
        else:
            token = pending_keep(_pending_dir(), data=upload.read())
        params = {
            "token": token,
            "departements": form.cleaned_data["departements"],
            "accept_partial": form.cleaned_data["accept_partial"],
            "dry_run": form.cleaned_data["dry_run"],
        }
        started = self._start(request, params)
        if started is None:
            pending_delete(_pending_dir(), token)
            request.session.pop(PENDING_SESSION_KEY, None)
            return redirect("admin:directory_practitioner_import")
        return started

    def _confirm_import(self, request):
        """Second step: import the file kept at the first step, absences confirmed (or drop
        it). The file is the one of this session only: its name never comes from the form."""
        back = redirect("admin:directory_practitioner_import")
        pending = _pending_question(request)
        token = request.POST.get("confirm") or request.POST.get("cancel") or ""
        if not pending or not secrets.compare_digest(pending["token"], token):
            messages.error(
                request,
                "Cet import n'est plus en attente de confirmation : envoyez à nouveau le fichier.",
            )
            return back
        if "cancel" in request.POST:
            _forget_pending(request)
            messages.info(request, "Import annulé : rien n'a été enregistré.")
            return back
        params = {k: v for k, v in request.session[PENDING_SESSION_KEY].items() if k != "operation"}
        return self._start(request, {**params, "confirm_absences": True}) or back


def _pending_dir() -> Path:
    return rpps_operations.pending_dir()


def _pending_question(request) -> dict | None:
    """The absences question of this session's last import, when it waits for an answer (its
    operation ended on it and the file is still there): {"token", "lines"}."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if not pending:
        return None
    operation = Operation.objects.filter(
        pk=pending.get("operation"), kind=RPPS_IMPORT, cpts__isnull=True
    ).first()
    if operation is not None and operation.is_active:
        return None  # still running: nothing to answer yet
    if (
        operation is None
        or not (operation.is_done and operation.params.get("question"))
        or pending.get("confirm_absences")
        or pending_path(_pending_dir(), pending["token"]) is None
    ):
        _forget_pending(request)
        return None
    return {"token": pending["token"], "lines": operation.summary.splitlines()}


def _forget_pending(request) -> None:
    pending = request.session.pop(PENDING_SESSION_KEY, None)
    if pending:
        pending_delete(_pending_dir(), pending["token"])


@admin.register(AvailabilityDeclaration)
class AvailabilityDeclarationAdmin(admin.ModelAdmin):
    """Read-only: declarations are made through the survey, the GP's page or the coordination."""

    list_display = (
        "practitioner",
        "cpts",
        "accepting",
        "monthly_capacity",
        "listing",
        "declared_at",
        "valid_until",
    )
    list_filter = ("cpts", "accepting", "listing", "source")
    search_fields = ("practitioner__last_name", "practitioner__rpps")
    list_select_related = ("practitioner", "cpts")
    date_hierarchy = "declared_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
