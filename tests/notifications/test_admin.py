"""The outbox admin: read-only, recipients masked, texts hidden, "retry now" action."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.notifications.models import Status
from tests.accounts.factories import UserFactory

from .factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(platform_admin=True))
    return client


def test_list_and_detail_show_masked_recipients_and_no_text(admin_client):
    email = OutboxMessageFactory(recipient="camille.martin@exemple.fr", body="TEXTE-SECRET")
    text = OutboxMessageFactory(sms=True, recipient="+33612345642", body="SMS-SECRET")
    listing = admin_client.get(reverse("admin:notifications_outboxmessage_changelist"))
    assert listing.status_code == 200
    content = listing.content.decode()
    assert "c•••@e•••.fr" in content and "+33 6 •• •• •• 42" in content
    for secret in ("camille.martin", "12345642", "TEXTE-SECRET", "SMS-SECRET"):
        assert secret not in content
    for message in (email, text):
        detail = admin_client.get(
            reverse("admin:notifications_outboxmessage_change", args=[message.pk])
        )
        assert detail.status_code == 200
        page = detail.content.decode()
        assert "SECRET" not in page and "camille.martin" not in page and "12345642" not in page
        assert 'name="_save"' not in page  # read-only


def test_admin_cannot_add_or_delete_messages(admin_client):
    message = OutboxMessageFactory()
    add = admin_client.get(reverse("admin:notifications_outboxmessage_add"))
    delete = admin_client.get(
        reverse("admin:notifications_outboxmessage_delete", args=[message.pk])
    )
    assert (add.status_code, delete.status_code) == (403, 403)


def test_retry_now_action_makes_failed_messages_due(admin_client):
    later = timezone.now() + timezone.timedelta(hours=1)
    failed = OutboxMessageFactory(status=Status.FAILED, failed_at=timezone.now(), attempts=10)
    waiting = OutboxMessageFactory(next_attempt_at=later)
    response = admin_client.post(
        reverse("admin:notifications_outboxmessage_changelist"),
        {"action": "retry_now", "_selected_action": [failed.pk, waiting.pk]},
        follow=True,
    )
    assert "2 message(s) remis en attente" in response.content.decode()
    for message in (failed, waiting):
        message.refresh_from_db()
        assert message.status == Status.PENDING
        assert message.next_attempt_at <= timezone.now()


def test_staff_without_platform_role_cannot_retry(client):
    staff = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client.force_login(staff)
    failed = OutboxMessageFactory(status=Status.FAILED, failed_at=timezone.now())
    # The admin is the platform admins' alone (decision 0022): the staff flag opens nothing.
    listing = client.get(reverse("admin:notifications_outboxmessage_changelist"))
    assert listing.status_code == 302 and listing["Location"].startswith(reverse("admin:login"))
    client.post(
        reverse("admin:notifications_outboxmessage_changelist"),
        {"action": "retry_now", "_selected_action": [failed.pk]},
    )
    failed.refresh_from_db()
    assert failed.status == Status.FAILED
