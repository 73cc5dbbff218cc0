"""Raw uploaded files waiting for a confirmation live one day at most, in a private directory."""

import os
import stat
import time

import pytest

from accesmt.common.pending_files import (
    MAX_AGE_SECONDS,
    pending_delete,
    pending_keep,
    pending_path,
    pending_purge,
)


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_kept_file_is_private_and_read_back_by_its_token(tmp_path):
    directory = tmp_path / "pending"
    token = pending_keep(directory, data=b"nom;nir\nMartin;1850775123456")
    path = pending_path(directory, token)
    assert path.read_bytes().startswith(b"nom;nir")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert len(token) >= 40
    pending_delete(directory, token)
    assert pending_path(directory, token) is None


@pytest.mark.parametrize("token", ["", "../secret", ".hidden", "a/b"])
def test_a_token_cannot_leave_the_directory(tmp_path, token):
    (tmp_path / "secret").write_bytes(b"x")
    directory = tmp_path / "pending"
    directory.mkdir()
    assert pending_path(directory, token) is None
    pending_delete(directory, token)
    assert (tmp_path / "secret").exists()


def test_an_old_file_is_refused_and_the_job_deletes_only_old_files(tmp_path, settings):
    from accesmt.intake.retention import pending_uploads_purge

    settings.CPAM_PENDING_DIR = tmp_path
    old = pending_keep(tmp_path, data=b"old")
    recent = pending_keep(tmp_path, data=b"recent")
    transfer = pending_keep(tmp_path / "transfers", data=b"old transfer")
    _age(tmp_path / old, MAX_AGE_SECONDS + 60)
    _age(tmp_path / "transfers" / transfer, MAX_AGE_SECONDS + 60)
    assert pending_path(tmp_path, recent) is not None
    assert pending_uploads_purge() == 2
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [recent]
    _age(tmp_path / recent, MAX_AGE_SECONDS + 1)
    assert pending_path(tmp_path, recent) is None  # refused, and deleted on the way
    assert not (tmp_path / recent).exists()
    assert pending_purge(tmp_path / "missing") == 0


def test_the_purge_is_a_registered_job():
    from accesmt.notifications import jobs

    assert "intake.pending_uploads_purge" in jobs.registered()
