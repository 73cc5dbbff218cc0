"""The files operations produce (exports): kept under a random name for a day at most, swept by
the hourly job `notifications.operation_files_purge`, only offered once the operation is done."""

import os
import time

import pytest
from django.utils import timezone

from accesmt.notifications import jobs
from accesmt.notifications.models import Operation
from accesmt.notifications.operations import (
    operation_file,
    operation_file_keep,
    operation_files_purge,
)
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db


def test_a_file_is_offered_once_done_and_swept_after_a_day(settings):
    operation = Operation.objects.create(kind="reporting.person_export", cpts=CPTSFactory())
    operation_file_keep(operation, b"a;b\r\n", filename="demandes.csv", content_type="text/csv")
    operation.refresh_from_db()
    assert operation_file(operation) is None and not operation.has_file  # still queued
    Operation.objects.filter(pk=operation.pk).update(status="done")
    operation.refresh_from_db()
    path, name, content_type = operation_file(operation)
    assert path.read_bytes() == b"a;b\r\n" and (name, content_type) == ("demandes.csv", "text/csv")
    assert path.name == operation.params["file"]["token"] and len(path.name) >= 40
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    assert "notifications.operation_files_purge" in jobs.registered()
    assert operation_files_purge(now=timezone.now()) == 0  # young: kept
    old = time.time() - 24 * 3600 - 1
    os.utime(path, (old, old))
    assert operation_files_purge(now=timezone.now()) == 1
    assert not path.exists() and operation_file(operation) is None
    assert operation.has_file  # the page then says the file is no longer there
