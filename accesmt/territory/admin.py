from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Sum

from accesmt.common.admin import ReadOnlyAdmin

from .codes import format_codes
from .models import CPTS, Commune, PostalCode, TerritoryCommune
from .selectors import cpts_territory_summary
from .services import MAX_RADIUS_KM, cpts_add_communes, territory_select


class PostalCodeInline(admin.TabularInline):
    model = PostalCode
    fields = ("code",)
    readonly_fields = ("code",)
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Commune)
class CommuneAdmin(ReadOnlyAdmin):
    """Reference data, loaded by `manage.py load_communes`: read-only here."""

    list_display = ("insee_code", "name", "departement", "population", "coordinates_quality")
    list_filter = ("coordinates_quality",)
    search_fields = ("insee_code", "name", "postal_codes__code")
    inlines = [PostalCodeInline]
    show_full_result_count = False


class TerritoryCommuneInline(admin.TabularInline):
    model = TerritoryCommune
    fields = ("commune", "population")
    readonly_fields = ("commune", "population")
    extra = 0
    verbose_name_plural = "communes du territoire (cocher « supprimer » pour en retirer)"

    def has_add_permission(self, request, obj=None):
        return False  # communes are added through the three fields of the form

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("commune").order_by("commune__name")

    @admin.display(description="population")
    def population(self, obj):
        return obj.commune.population


def _formfield(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class CPTSAdminForm(forms.ModelForm):
    insee_codes = forms.CharField(
        label="Codes INSEE à ajouter",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Collez une colonne Excel ou une liste séparée par des virgules, "
        "points-virgules ou espaces (ex. 62510, 62498). Corse : 2A004.",
    )
    departement = forms.CharField(
        label="Ajouter toutes les communes du département",
        required=False,
        max_length=3,
        help_text="Code du département (ex. 62, 2A, 974).",
    )
    center_insee = forms.CharField(
        label="Ajouter les communes autour de (code INSEE)",
        required=False,
        max_length=10,
        help_text="Commune centre du rayon, par son code INSEE (ex. 62510 pour Liévin).",
    )
    radius_km = forms.FloatField(
        label="Rayon (km)",
        required=False,
        min_value=0.1,
        max_value=MAX_RADIUS_KM,
        help_text="Distance à vol d'oiseau depuis le centre de la commune.",
    )

    class Meta:
        model = CPTS
        fields = ("name", "slug", "phone", "email", "website", "is_active")
        formfield_callback = _formfield

    def territory_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "insee_codes": data.get("insee_codes") or "",
            "departement": data.get("departement") or "",
            "center_insee": data.get("center_insee") or "",
            "radius_km": data.get("radius_km"),
        }

    def clean(self):
        cleaned = super().clean()
        territory_fields = ("insee_codes", "departement", "center_insee", "radius_km")
        if any(name in self.errors for name in territory_fields):
            return cleaned
        try:
            self.territory_selection = territory_select(
                **self.territory_kwargs(),
                cpts=self.instance if self.instance.pk else None,
                required=False,
            )
        except ValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return cleaned


@admin.register(CPTS)
class CPTSAdmin(admin.ModelAdmin):
    form = CPTSAdminForm
    list_display = ("name", "slug", "is_active", "commune_count", "population")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("territory_summary",)
    inlines = [TerritoryCommuneInline]
    fieldsets = (
        (None, {"fields": ("name", "slug", "phone", "email", "website", "is_active")}),
        (
            "Territoire",
            {
                "description": "Trois façons, cumulables, de définir ou d'étendre le territoire. "
                "Une commune ne peut appartenir qu'à une seule CPTS.",
                "fields": (
                    "territory_summary",
                    "insee_codes",
                    "departement",
                    ("center_insee", "radius_km"),
                ),
            },
        ),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _commune_count=Count("territory", distinct=True),
                _population=Sum("territory__commune__population"),
            )
        )

    @admin.display(description="communes", ordering="_commune_count")
    def commune_count(self, obj):
        return obj._commune_count

    @admin.display(description="population", ordering="_population")
    def population(self, obj):
        return obj._population or 0

    @admin.display(description="territoire actuel")
    def territory_summary(self, obj):
        if obj is None or not obj.pk:
            return "aucune commune pour l'instant"
        summary = cpts_territory_summary(obj)
        population = f"{summary['population']:,}".replace(",", "\u202f")
        return f"{summary['communes']} communes, {population} habitants"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        selection = getattr(form, "territory_selection", None)
        if selection is None or not selection.communes:
            return
        result = cpts_add_communes(cpts=form.instance, **form.territory_kwargs())
        self.message_user(
            request,
            f"{result.added} commune(s) ajoutée(s) au territoire ({result.population} habitants "
            "dans la sélection).",
            messages.SUCCESS,
        )
        if result.without_coordinates:
            codes = [c.insee_code for c in result.without_coordinates]
            self.message_user(
                request,
                "Position inconnue, donc non sélectionnées par le rayon (ajoutez-les par leur "
                f"code INSEE si elles font partie du territoire) : {format_codes(codes)}.",
                messages.WARNING,
            )
