"""Back up or restore the database named by DATABASE_URL (the README's production section).

    .venv/bin/python scripts/backup.py save    var/backups/accesmt-2026-12-03.dump
    .venv/bin/python scripts/backup.py restore var/backups/accesmt-2026-12-03.dump

PostgreSQL: `pg_dump --format=custom` (compressed, consistent snapshot while the site runs) and
`pg_restore --clean --if-exists --no-owner --single-transaction` (all or nothing: a failed restore
leaves the database as it was). The audit log's append-only triggers come back with the data.
SQLite: the online backup API of the sqlite3 module (a consistent copy while the site runs);
restore copies the file back (stop the web and the workers first).

The file holds every person's data: write it to an encrypted disk, readable by the service's
account only (it is created with mode 0600)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit


def _pg_env(url) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = unquote(url.password)
    args = ["--host", url.hostname or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", unquote(url.username)]
    return args, env


def _sqlite_path(url) -> str:
    return "/" + url.path.lstrip("/")


def save(database_url: str, target: Path) -> None:
    url = urlsplit(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600)
    target.chmod(0o600)
    if url.scheme.startswith("postgres"):
        args, env = _pg_env(url)
        name = url.path.lstrip("/")
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", *args, "--file", str(target), name],
            check=True,
            env=env,
        )
    elif url.scheme == "sqlite":
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)
        copy.close()
        source.close()
    else:
        raise SystemExit(f"Base non prise en charge : {url.scheme}")
    print(f"Sauvegarde écrite : {target} ({target.stat().st_size} octets).")


def restore(database_url: str, source: Path) -> None:
    if not source.is_file():
        raise SystemExit(f"Fichier introuvable : {source}")
    url = urlsplit(database_url)
    if url.scheme.startswith("postgres"):
        args, env = _pg_env(url)
        subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                *args,
                "--dbname",
                url.path.lstrip("/"),
                str(source),
            ],
            check=True,
            env=env,
        )
    elif url.scheme == "sqlite":
        check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()
        if not ok:
            raise SystemExit(f"Sauvegarde SQLite endommagée : {source}")
        shutil.copyfile(source, _sqlite_path(url))
    else:
        raise SystemExit(f"Base non prise en charge : {url.scheme}")
    print(f"Base restaurée depuis {source}.")


def main(argv: list[str]) -> None:
    if len(argv) != 3 or argv[1] not in {"save", "restore"}:
        raise SystemExit(__doc__)
    database_url = os.environ.get("DATABASE_URL", "sqlite:///var/accesmt.sqlite3")
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
        database_url = "sqlite:///" + str(Path(database_url[len("sqlite:///") :]).resolve())
    (save if argv[1] == "save" else restore)(database_url, Path(argv[2]))


if __name__ == "__main__":
    main(sys.argv)
