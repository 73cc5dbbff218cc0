"""Read-only view of the outbox for platform administrators. Recipients are shown masked and
texts are not shown at all: a text may carry a signed link that opens a patient's file."""

from django.contrib import admin, messages

from accesmt.common.admin import ReadOnlyAdmin

from .models import OutboxMessage, PeriodicJob
from .services import outbox_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "channel",
        "masked_recipient",
        "topic",
        "cpts",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "channel", "topic", "cpts")
    list_select_related = ("cpts",)
    date_hierarchy = "created_at"
    fields = (
        "channel",
        "masked_recipient",
        "subject",
        "body_length",
        "topic",
        "cpts",
        "related_type",
        "related_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "provider_id",
        "created_at",
        "sent_at",
        "failed_at",
        "redacted_at",
    )
    readonly_fields = fields
    actions = ["retry_now"]

    @admin.display(description="destinataire")
    def masked_recipient(self, obj: OutboxMessage) -> str:
        return obj.masked_recipient

    @admin.display(description="longueur du texte")
    def body_length(self, obj: OutboxMessage) -> int:
        return len(obj.body)

    def has_retry_permission(self, request) -> bool:
        user = request.user
        return bool(
            user.is_active and (user.is_superuser or getattr(user, "is_platform_admin", False))
        )

    @admin.action(description="Réessayer maintenant", permissions=["retry"])
    def retry_now(self, request, queryset):
        count = outbox_retry(messages=queryset)
        self.message_user(
            request,
            f"{count} message(s) remis en attente pour un envoi immédiat.",
            messages.SUCCESS,
        )


@admin.register(PeriodicJob)
class PeriodicJobAdmin(admin.ModelAdmin):
    list_display = ("name", "next_run_at", "last_started_at", "last_finished_at", "last_outcome")
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
