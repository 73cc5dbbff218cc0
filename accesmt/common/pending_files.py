"""Uploaded files waiting for the coordinator's confirmation (a CPAM list, a transfer plan's
file, an RPPS extraction): between the preview and « Confirmer », the raw file — names, NIR —
is kept server-side in a private directory under a random name held in the session, never in
the database nor in a URL.

Such a file lives at most MAX_AGE_SECONDS: it is deleted when the import is confirmed or
cancelled, refused once older, and deleted by `pending_purge`: intake's hourly job for CPAM lists
and transfer plans (an abandoned preview leaves nothing behind, issue 14), the next upload for
RPPS extractions (the directory's admin). Once confirmed, the background operation that imports
the file deletes it after reading it. The files produced by operations (exports) use the same
store in OPERATION_FILES_DIR (notifications.operations.operation_file_keep), swept hourly.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django.core.files.move import file_move_safe

MAX_AGE_SECONDS = 24 * 3600


def pending_keep(directory: Path, *, data: bytes | None = None, move_from: str = "") -> str:
    """Store `data` (or move the file `move_from`) under a new random name; return the name."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    path = directory / token
    if move_from:
        file_move_safe(move_from, str(path))
        path.chmod(0o600)
    else:
        path.touch(mode=0o600)
        path.write_bytes(data or b"")
    return token


def pending_path(directory: Path, token: str) -> Path | None:
    """The waiting file `token`, or None when it is gone or too old (then deleted)."""
    if not token or "/" in token or token.startswith("."):
        return None
    path = directory / token
    if not path.is_file():
        return None
    if path.stat().st_mtime < time.time() - MAX_AGE_SECONDS:
        path.unlink(missing_ok=True)
        return None
    return path


def pending_delete(directory: Path, token: str) -> None:
    if token and "/" not in token and not token.startswith("."):
        (directory / token).unlink(missing_ok=True)


def pending_purge(directory: Path, *, now: float | None = None) -> int:
    """Delete the waiting files older than MAX_AGE_SECONDS in `directory` and its
    sub-directories; return how many."""
    if not directory.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - MAX_AGE_SECONDS
    deleted = 0
    for path in directory.rglob("*"):
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
