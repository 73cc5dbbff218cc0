from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accesmt.common.admin import ReadOnlyAdmin

from .forms import AdminUserChangeForm, AdminUserCreationForm
from .models import (
    CPAM_ROLES,
    AuditLog,
    Membership,
    Profession,
    User,
    clean_mairie_communes,
)


class MembershipForm(forms.ModelForm):
    """A mairie's communes are of its CPTS's territory, and only a mairie has communes. A CPAM
    role (agent, mediator) left without a profession gets "Assurance Maladie (CPAM)"."""

    class Meta:
        model = Membership
        fields = ("cpts", "role", "profession", "is_active", "communes")

    def clean(self):
        cleaned = super().clean()
        if "role" in cleaned and "cpts" in cleaned and "communes" in cleaned:
            clean_mairie_communes(
                role=cleaned["role"], cpts=cleaned["cpts"], communes=cleaned["communes"]
            )
        if cleaned.get("role") in CPAM_ROLES and not cleaned.get("profession"):
            cleaned["profession"] = Profession.CPAM
        return cleaned


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    fields = ("cpts", "role", "profession", "is_active", "communes")
    autocomplete_fields = ("communes",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    inlines = [MembershipInline]
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_active", "is_platform_admin")
    list_filter = ("is_active", "is_platform_admin", "is_staff", "memberships__role")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name")}),
        (
            "Droits",
            {
                "fields": (
                    "is_active",
                    "is_platform_admin",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_inlines(self, request, obj):
        """Memberships are added once the account exists (the add page asks for the password)."""
        return self.inlines if obj is not None else []


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """Read-only: the journal is written by the application, never by hand."""

    list_display = ("at", "action", "actor_id", "actor_role", "cpts", "object_type", "object_id")
    list_filter = ("action", "cpts", "at")
    date_hierarchy = "at"
    search_fields = ("object_id", "=actor__id")
    list_select_related = ("cpts",)
