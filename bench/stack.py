"""A throw-away production stack on loopback, for benchmarks, `make prod-check` and load tests.

Each piece is a subprocess started with the production settings (config/settings/prod.py), its
output in `var/bench/<name>.log`, and everything is stopped on exit, Ctrl-C or SIGTERM:

- PostgreSQL: a cluster of its own (initdb into a temporary directory, port 55433 by default,
  socket in that directory, trust authentication on 127.0.0.1), which can be stopped and
  restarted at will; or an existing server given by DATABASE_URL (never restarted then);
- gunicorn (gunicorn.conf.py) with N workers on a free port;
- outbox workers (`manage.py run_worker`) and task workers (`manage.py db_worker`), as many as
  asked, each named (`worker`, `worker-2`, `tasks`, `tasks-2`…);
- the local SMTP sink (`manage.py smtp_sink`), writing .eml files to a directory of its own.

    from stack import Stack
    with Stack(web_workers=4) as stack:
        stack.start_postgres(); stack.migrate(); stack.start_smtp(); stack.start_worker()
        stack.start_task_worker(); stack.start_web()
        ... stack.base_url, stack.database_url, stack.mail_dir ...
        stack.restart_postgres(); stack.stop_smtp(); stack.start_smtp()

PostgreSQL refuses to run as root: when we are root, its commands run as the `postgres` OS user
(`runuser -u postgres --`), which is given the temporary directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# The communes (name, postcode) of the small CPTS the stack's scripts set up and register in.
COMMUNES = [
    ("Liévin", "62800"),
    ("Lens", "62300"),
    ("Avion", "62210"),
    ("Éleu-dit-Leauwette", "62300"),
]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def static_fingerprint() -> str:
    """Of the project's static files and the lock file (the packages' static files)."""
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted(ROOT.glob("accesmt/*/static/**/*")):
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    digest.update((ROOT / "requirements.lock").read_bytes())
    return digest.hexdigest()


def wait_for_port(port: int, *, timeout: float = 30.0, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited ({process.returncode}) before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Stack:
    def __init__(
        self,
        *,
        web_workers: int = 4,
        database_url: str | None = None,
        pg_port: int = 55433,
        log_dir: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ):
        self.web_workers = web_workers
        self.external_database = database_url
        self.pg_port = pg_port
        self.log_dir = Path(log_dir or ROOT / "var" / "bench")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.mail_dir = self.log_dir / "mails"
        self.web_port = free_port()
        self.web_ports: dict[str, int] = {}
        self.smtp_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.extra_env = extra_env or {}
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, object] = {}
        self.pg_dir: Path | None = None
        self.pg_durable = True
        self.database_url = database_url or ""
        self._previous_handlers: dict[int, object] = {}

    # --- lifetime -------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        # SIGTERM becomes KeyboardInterrupt, so that `with` cleans up as on Ctrl-C.
        def interrupt(signum, frame):
            raise KeyboardInterrupt

        self._previous_handlers[signal.SIGTERM] = signal.signal(signal.SIGTERM, interrupt)
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        self.stop_postgres()
        if self.pg_dir is not None:
            shutil.rmtree(self.pg_dir, ignore_errors=True)
            self.pg_dir = None
        for log in self.logs.values():
            log.close()
        self.logs.clear()

    # --- environment ----------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "SECRET_KEY": getattr(self, "_secret", None) or self._new_secret(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.database_url,
            "PUBLIC_BASE_URL": f"https://127.0.0.1:{self.web_port}",
            # Loopback without TLS: the client says https through the proxy header instead.
            "SECURE_SSL_REDIRECT": "False",
            "PROXY_COUNT": "1",
            "STATIC_ROOT": str(self.log_dir / "static"),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp_port),
            # No BAN from a benchmark: a closed port, so the commune's centre is used at once.
            "GEOCODER_URL": f"http://127.0.0.1:{free_port()}",
            "WEB_CONCURRENCY": str(self.web_workers),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        return env

    def _new_secret(self) -> str:
        self._secret = "bench-" + secrets.token_urlsafe(40)
        return self._secret

    def manage(self, *args: str, quiet: bool = True) -> str:
        """Run a manage.py command with the stack's settings; its output is returned."""
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        if not quiet:
            print(result.stdout, end="")
        return result.stdout

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = self.logs.get(name) or open(self.log_dir / f"{name}.log", "a")  # noqa: SIM115
        self.logs[name] = log
        log.write(f"--- {time.strftime('%H:%M:%S')} start {' '.join(argv)}\n")
        log.flush()
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
        )
        self.processes[name] = process
        return process

    def stop(self, name: str, *, timeout: float = 15.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def alive(self, name: str) -> bool:
        process = self.processes.get(name)
        return process is not None and process.poll() is None

    # --- PostgreSQL -----------------------------------------------------------------------

    def _as_postgres(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        log = self.logs.get("postgres") or open(self.log_dir / "postgres.log", "a")  # noqa: SIM115
        self.logs["postgres"] = log
        log.flush()
        return subprocess.run(
            [*prefix, *argv], stdout=log, stderr=subprocess.STDOUT, check=check, cwd="/"
        )

    def start_postgres(self, *, durable: bool = True) -> None:
        """Use DATABASE_URL when given, else initialise and start a cluster of our own.
        `durable=False` turns fsync off (set-up only: migrations take minutes with it on a
        loaded machine); `restart_postgres(durable=True)` turns it back on."""
        self.pg_durable = durable
        if self.external_database:
            self.database_url = self.external_database
            return
        if self.pg_dir is None:
            self.pg_dir = Path(tempfile.mkdtemp(prefix="accesmt-pg-"))
            if os.geteuid() == 0:
                shutil.chown(self.pg_dir, user="postgres", group="postgres")
            self._as_postgres(
                str(PG_BIN / "initdb"),
                "-D",
                str(self.pg_dir / "data"),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            )
        self._pg_ctl("start")
        self.database_url = f"postgres://postgres@127.0.0.1:{self.pg_port}/accesmt"
        self._as_postgres(
            str(PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.pg_port),
            "-U",
            "postgres",
            "-q",
            "-c",
            "CREATE DATABASE accesmt",
            check=False,  # already there after a restart
        )

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.pg_port} -k {self.pg_dir} -c listen_addresses=127.0.0.1"
        if not self.pg_durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.pg_dir / "data"),
            "-o",
            options,
            "-l",
            str(self.pg_dir / "server.log"),
            "-w",
            *extra,
            action,
        )

    def restart_postgres(self, *, durable: bool = True) -> float:
        """`pg_ctl restart -m fast` (connections cut, a clean checkpoint); the seconds it took."""
        if self.pg_dir is None:
            raise RuntimeError("only a cluster started by the stack can be restarted")
        self.pg_durable = durable
        started = time.monotonic()
        self._pg_ctl("restart", "-m", "fast")
        return time.monotonic() - started

    def stop_postgres(self) -> None:
        if self.pg_dir is not None and (self.pg_dir / "data" / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "fast")
            server_log = self.pg_dir / "server.log"
            if server_log.exists():
                shutil.copy(server_log, self.log_dir / "postgres-server.log")

    def migrate(self) -> None:
        """Migrations, the cache table, then collectstatic when the static files changed."""
        self.manage("migrate", "--noinput")
        self.manage("createcachetable")  # CACHE_URL's table (production default: dbcache)
        self.collect_static()

    def collect_static(self) -> None:
        # collectstatic takes minutes on a loaded machine: only when the static files changed.
        stamp = self.log_dir / "static" / "sources.sha1"
        fingerprint = static_fingerprint()
        if not stamp.exists() or stamp.read_text() != fingerprint:
            self.manage("collectstatic", "--noinput")
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(fingerprint)

    # --- web, worker, SMTP ----------------------------------------------------------------

    def start_web(self, name: str = "gunicorn", *, port: int | None = None, workers: int = 0):
        """gunicorn on `port` (the stack's web port by default); a second one needs its own name
        and port. Returns its base URL."""
        port = port or self.web_port
        gunicorn = str(Path(PYTHON).with_name("gunicorn"))
        process = self._spawn(
            name,
            [
                gunicorn,
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers or self.web_workers),
                "--backlog",
                "2048",
            ],
        )
        self.web_ports[name] = port
        wait_for_port(port, timeout=60, process=process)
        return f"http://127.0.0.1:{port}"

    def start_worker(self, name: str = "worker", *, interval: float = 1.0) -> None:
        """An outbox worker (`run_worker`); start several under different names."""
        self._spawn(name, [PYTHON, "manage.py", "run_worker", "--interval", str(interval)])

    def start_task_worker(self, name: str = "tasks") -> None:
        """A task worker (`db_worker` of django-tasks-db); start several under different names."""
        self._spawn(
            name,
            [
                PYTHON,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--verbosity",
                "0",
                "--no-startup-delay",
            ],
        )

    def start_smtp(self) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        process = self._spawn(
            "smtp",
            [
                PYTHON,
                "manage.py",
                "smtp_sink",
                "--port",
                str(self.smtp_port),
                "--dir",
                str(self.mail_dir),
            ],
        )
        wait_for_port(self.smtp_port, timeout=30, process=process)

    def stop_smtp(self) -> None:
        self.stop("smtp")
