"""The coordination's letters and undeliverable messages in the tenant matrix
(tests/tenant_matrix.py)."""

from django.urls import reverse

from tests.tenant_matrix import COORDINATION, TenantURL, register


def _letter_and_undeliverable(cpts) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from accesmt.intake.services import letter_enqueue
    from accesmt.notifications.models import Status
    from tests.intake.factories import HouseholdMemberFactory, RequestFactory

    from .factories import OutboxMessageFactory

    request = RequestFactory(cpts=cpts, status="waiting", email="", phone="")
    member = HouseholdMemberFactory(request=request, last_name=f"Courrier-{cpts.slug}")
    with transaction.atomic():
        letter = letter_enqueue(
            request=request, topic="intake.acknowledgment", subject="Objet", body="Texte"
        )
    failed = RequestFactory(cpts=cpts, status="waiting", email=f"perdu-{cpts.slug}@exemple.fr")
    OutboxMessageFactory(
        cpts=cpts,
        recipient=failed.email,
        related_type="intake.request",
        related_id=str(failed.pk),
        topic="intake.acknowledgment",
        status=Status.FAILED,
        failed_at=timezone.now(),
    )
    return {
        "letter": letter,
        "secrets": [request.reference, failed.reference, member.last_name, failed.email],
    }


register(
    TenantURL(
        name="notifications:letters",
        url=lambda cpts, objs: reverse("notifications:letters", kwargs={"cpts_slug": cpts.slug}),
        allowed=COORDINATION,
        setup=_letter_and_undeliverable,
    )
)
register(
    TenantURL(
        name="notifications:letter_pdf",
        url=lambda cpts, objs: reverse(
            "notifications:letter_pdf", kwargs={"cpts_slug": cpts.slug, "pk": objs["letter"].pk}
        ),
        allowed=COORDINATION,
        setup=_letter_and_undeliverable,
    )
)
