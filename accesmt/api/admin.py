from django.contrib import admin, messages

from .models import ApiKey
from .services import api_key_create, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Create a key (shown once, in the confirmation message), see when it was last used,
    revoke it. The key itself is never stored, only its hash."""

    list_display = ("name", "cpts", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("cpts", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("cpts", "name")
        return ("cpts", "name", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return ("cpts", *self.readonly_fields) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        key, raw = api_key_create(cpts=obj.cpts, name=obj.name, by=request.user)
        obj.pk = key.pk
        obj.prefix, obj.key_hash, obj.created_at = key.prefix, key.key_hash, key.created_at
        messages.warning(
            request,
            f"Clé d'API créée : {raw} — copiez-la maintenant, elle ne sera plus jamais affichée.",
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the history of keys stays

    @admin.action(description="Révoquer les clés sélectionnées")
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key)
        messages.success(request, f"{queryset.count()} clé(s) révoquée(s).")
