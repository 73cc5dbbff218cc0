"""The coordination's letters and undeliverable messages in the tenant matrix
(tests/tenant_matrix.py)."""

from tests.tenant_matrix import COORDINATION, register_page


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


register_page(
    "orientation:letters",
    allowed=COORDINATION,
    setup=_letter_and_undeliverable,
)
register_page(
    "orientation:letter_pdf",
    pk="letter",
    allowed=COORDINATION,
    setup=_letter_and_undeliverable,
)


def _operation_in(cpts) -> dict:
    from accesmt.notifications.models import Operation

    operation = Operation.objects.create(
        kind="matching.allocation_run",
        cpts=cpts,
        step=f"Étape-{cpts.slug}",
        done=3,
        total=10,
        status="running",
    )
    return {"operation": operation, "secrets": [operation.step]}


register_page("notifications:operation", pk="operation", allowed=COORDINATION, setup=_operation_in)


def _export_in(cpts) -> dict:
    """A finished export with its file (its content names the CPTS: B's must never show)."""
    from accesmt.notifications.models import Operation
    from accesmt.notifications.operations import operation_file_keep

    operation = Operation.objects.create(
        kind="reporting.person_export", cpts=cpts, status="done", done=1, total=1
    )
    secret = f"Fichier-{cpts.slug}"
    operation_file_keep(
        operation, secret.encode(), filename="demandes.csv", content_type="text/csv"
    )
    return {"operation": operation, "secrets": [secret]}


register_page(
    "notifications:operation_download", pk="operation", allowed=COORDINATION, setup=_export_in
)
