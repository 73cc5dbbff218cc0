"""The backup and restore commands of the README (scripts/backup.py), run as a person would: a
request with its members and an audit line saved, restored into an empty database, everything
back — and the audit log still append-only after the restore. On PostgreSQL the test database
itself is saved; on SQLite (in memory in tests) a file copy of it."""

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from accesmt.accounts.models import AuditLog
from accesmt.accounts.services import audit_record
from accesmt.intake.models import HouseholdMember
from tests.intake.factories import RequestFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _run(action: str, database_url: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(ROOT / "scripts" / "backup.py"), action, str(path)],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _pg_admin():
    s = connection.settings_dict
    return psycopg.connect(
        host=s.get("HOST") or "127.0.0.1",
        port=s.get("PORT") or 5432,
        user=s.get("USER") or "postgres",
        dbname="postgres",
        autocommit=True,
    )


def _pg_url(name: str) -> str:
    s = connection.settings_dict
    host, port = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432
    return f"postgres://{s.get('USER') or 'postgres'}@{host}:{port}/{name}"


def _rows(query, params, *, vendor, url):
    if vendor == "sqlite":
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return db.execute(query.replace("%s", "?"), params).fetchone()[0]
        finally:
            db.close()
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:
        return db.execute(query, params).fetchone()[0]


def _delete_audit(vendor, url):
    if vendor == "sqlite":
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            db.execute("DELETE FROM accounts_auditlog")
            db.commit()
        finally:
            db.close()
    else:
        with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:
            db.execute("DELETE FROM accounts_auditlog")


def test_a_backup_restores_every_row_and_the_audit_log_stays_append_only(tmp_path):
    request = RequestFactory()
    audit_record(actor=None, action="read", obj=request, cpts=request.cpts)
    members = HouseholdMember.objects.filter(request=request).count()
    audit = AuditLog.objects.count()
    vendor = connection.vendor
    if vendor == "sqlite":
        source = tmp_path / "source.sqlite3"
        copy = sqlite3.connect(source)
        connection.ensure_connection()
        connection.connection.backup(copy)
        copy.close()
        source_url, target_url = f"sqlite:///{source}", f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    else:
        name = f"accesmt_restore_{uuid.uuid4().hex[:8]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        source_url, target_url = _pg_url(connection.settings_dict["NAME"]), _pg_url(name)
    backup = tmp_path / "sauvegarde.dump"
    try:
        saved = _run("save", source_url, backup)
        assert saved.returncode == 0 and "Sauvegarde écrite" in saved.stdout, saved.stderr
        assert backup.stat().st_mode & 0o777 == 0o600
        restored = _run("restore", target_url, backup)
        assert restored.returncode == 0 and "Base restaurée" in restored.stdout, restored.stderr
        count = "SELECT count(*) FROM intake_request WHERE reference = %s"
        assert _rows(count, [request.reference], vendor=vendor, url=target_url) == 1
        count = "SELECT count(*) FROM intake_householdmember WHERE request_id = %s"
        assert _rows(count, [request.pk], vendor=vendor, url=target_url) == members
        count = "SELECT count(*) FROM accounts_auditlog"
        assert _rows(count, [], vendor=vendor, url=target_url) == audit >= 1
        with pytest.raises((sqlite3.DatabaseError, psycopg.errors.IntegrityConstraintViolation)):
            _delete_audit(vendor, target_url)
    finally:
        if vendor == "postgresql":
            with _pg_admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_restore_refuses_a_missing_file(tmp_path):
    result = _run("restore", f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "absent.dump")
    assert result.returncode != 0 and "Fichier introuvable" in result.stderr
