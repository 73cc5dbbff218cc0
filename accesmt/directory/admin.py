"""Admin of the GP directory, with the upload of an RPPS file (synchronous for now: the import of
a national file takes a few seconds, see docs/decisions/0004-rpps-import.md)."""

import os
import secrets
import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path

from accesmt.common.pending_files import pending_delete, pending_keep, pending_path, pending_purge
from accesmt.territory.codes import normalise_departement

from .models import AvailabilityDeclaration, PracticeSite, Practitioner
from .rpps import RppsAbsencesNeedConfirmation, RppsFormatError, rpps_import
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
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not (request.user.is_platform_admin or request.user.is_superuser):
            raise PermissionDenied
        report = pending = None
        if request.method == "POST" and ("confirm" in request.POST or "cancel" in request.POST):
            form = RppsUploadForm()
            report = self._confirm_import(request)
        else:
            form = RppsUploadForm(request.POST or None, request.FILES or None)
            if request.method == "POST" and form.is_valid():
                report, pending = self._run_import(request, form)
        context = {
            **self.admin_site.each_context(request),
            "title": "Importer l'annuaire national (RPPS)",
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "pending": pending,
        }
        return TemplateResponse(request, "admin/directory/practitioner/import_rpps.html", context)

    def _run_import(self, request, form):
        """(report, None) once imported; (None, the question) when absences need a
        confirmation: the file is then kept server-side for the "Confirmer" step."""
        _forget_pending(request)
        upload = form.cleaned_data["file"]
        own_copy = None
        if hasattr(upload, "temporary_file_path"):
            path = upload.temporary_file_path()  # large uploads are already on disk
        else:
            with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
                own_copy = path = fh.name
        options = {
            "departements": form.cleaned_data["departements"],
            "accept_partial": form.cleaned_data["accept_partial"],
        }
        try:
            report = rpps_import(path, dry_run=form.cleaned_data["dry_run"], **options)
        except RppsFormatError as exc:
            form.add_error("file", str(exc))
            return None, None
        except RppsAbsencesNeedConfirmation as exc:
            return None, _keep_pending(request, path, options, exc)
        finally:
            if own_copy and os.path.exists(own_copy):
                os.unlink(own_copy)
        if form.cleaned_data["dry_run"]:
            messages.info(request, "Essai à blanc : rien n'a été enregistré.")
        else:
            messages.success(request, "Import terminé.")
        return report, None

    def _confirm_import(self, request):
        """Second step: import the file kept at the first step, absences confirmed (or drop
        it). The file is the one of this session only: its name never comes from the form."""
        pending = request.session.get(PENDING_SESSION_KEY)
        token = request.POST.get("confirm") or request.POST.get("cancel") or ""
        if not pending or not secrets.compare_digest(pending["token"], token):
            messages.error(
                request,
                "Cet import n'est plus en attente de confirmation : envoyez à nouveau le fichier.",
            )
            return None
        if "cancel" in request.POST:
            _forget_pending(request)
            messages.info(request, "Import annulé : rien n'a été enregistré.")
            return None
        path = pending_path(_pending_dir(), pending["token"])
        if path is None:
            _forget_pending(request)
            messages.error(
                request, "Le fichier envoyé n'est plus disponible : envoyez-le à nouveau."
            )
            return None
        try:
            report = rpps_import(path, confirm_absences=True, **pending["options"])
        except RppsFormatError as exc:  # the directory changed since (no commune left…)
            messages.error(request, f"Import refusé : {exc}")
            return None
        finally:
            _forget_pending(request)
        messages.success(request, "Import terminé : absences confirmées.")
        return report


def _pending_dir() -> Path:
    return Path(settings.RPPS_PENDING_DIR)


def _keep_pending(request, path: str, options: dict, question: RppsAbsencesNeedConfirmation):
    """Move the uploaded file to the private pending directory under a random name held in the
    session (and the confirmation form), sweeping the files older than a day."""
    pending_purge(_pending_dir())
    token = pending_keep(_pending_dir(), move_from=path)
    request.session[PENDING_SESSION_KEY] = {"token": token, "options": options}
    return {"token": token, "question": question}


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
