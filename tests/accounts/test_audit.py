"""The audit log: what a line holds, and that nobody can change or delete one."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import RequestFactory

from accesmt.accounts.ip import client_ip
from accesmt.accounts.models import AuditLog, AuditLogIsAppendOnly
from accesmt.accounts.services import audit_record
from tests.accounts.factories import MembershipFactory
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def line():
    membership = MembershipFactory(role="referrer")
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")
    return audit_record(
        actor=membership.user,
        action="update",
        obj=membership,
        cpts=membership.cpts,
        http_request=request,
    )


def test_a_line_records_who_what_where_and_from_which_address(line):
    line.refresh_from_db()
    assert line.action == "update"
    assert line.actor_role == "referrer"
    assert line.object_type == "accounts.membership"
    assert line.ip_address == "203.0.113.7"
    assert line.at is not None and line.at.tzinfo is not None


def test_a_line_holds_identifiers_only():
    """No column may hold a name, an e-mail address or free text about a person."""
    columns = {field.name for field in AuditLog._meta.get_fields()}
    assert columns == {
        "id",
        "at",
        "actor",
        "actor_role",
        "cpts",
        "action",
        "object_type",
        "object_id",
        "ip_address",
    }


def test_explicit_object_type_and_id_without_an_instance():
    cpts = CPTSFactory()
    line = audit_record(
        actor=None, action="export", object_type="reporting.export", object_id=42, cpts=cpts
    )
    assert (line.object_type, line.object_id, line.actor_id, line.ip_address) == (
        "reporting.export",
        "42",
        None,
        None,
    )


def test_unknown_actions_are_refused():
    with pytest.raises(ValueError):
        audit_record(actor=None, action="peek")


@pytest.mark.parametrize(
    ("proxy_count", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.1"),  # no proxy trusted: X-Forwarded-For is ignored
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client-written part is not trusted
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.1"),  # fewer entries than proxies: fall back
        (1, "not-an-address", None),
    ],
)
def test_client_ip_respects_the_trusted_proxy_count(settings, proxy_count, forwarded, expected):
    settings.AXES_IPWARE_PROXY_COUNT = proxy_count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_model_refuses_to_change_or_delete_a_line(line):
    line.action = "read"
    with pytest.raises(AuditLogIsAppendOnly):
        line.save()
    with pytest.raises(AuditLogIsAppendOnly):
        line.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditLog.objects.filter(pk=line.pk).update(action="read")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditLog.objects.all().delete()
    line.refresh_from_db()
    assert line.action == "update"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditlog SET action = 'read'",
        "UPDATE accounts_auditlog SET actor_id = NULL",
        "DELETE FROM accounts_auditlog",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_line(line, sql):
    with (
        pytest.raises((IntegrityError, DatabaseError)) as error,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert "append-only" in str(error.value)
    assert AuditLog.objects.filter(pk=line.pk, action="update").exists()


def test_the_database_still_accepts_new_lines(line):
    audit_record(actor=None, action="login_failed")
    assert AuditLog.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_log_and_keeps_it_protected():
    """The test runner's flush (and `manage.py flush`) must work despite the triggers."""
    audit_record(actor=None, action="login_failed")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditLog.objects.exists()
    audit_record(actor=None, action="login_failed")
    with pytest.raises((IntegrityError, DatabaseError)), connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_auditlog")


def test_flush_is_djangos_own_command():
    from django.core.management import get_commands

    assert get_commands()["flush"] == "django.core"  # no local command shadows it
