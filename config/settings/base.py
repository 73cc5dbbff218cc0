"""Settings shared by every environment. Values come from the environment through one reader."""

import warnings
from pathlib import Path

import environ
import xstatic.pkg.leaflet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def database_from_env(default: str) -> dict:
    """Parse DATABASE_URL, turning a malformed value into one clear French line."""
    url = env.str("DATABASE_URL", default=default)
    try:
        with warnings.catch_warnings():  # environ warns on unknown schemes; we say it below
            warnings.simplefilter("ignore")
            config = environ.Env.db_url_config(url)
    except Exception as exc:  # environ raises several types for bad URLs
        raise ImproperlyConfigured(
            f"DATABASE_URL invalide ({exc}). Exemple : "
            "postgres://utilisateur@127.0.0.1:5432/accesmt ou sqlite:///var/accesmt.sqlite3"
        ) from None
    engine = config.get("ENGINE", "")
    if engine not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
        raise ImproperlyConfigured(
            f"DATABASE_URL : moteur « {engine or '?'} » non pris en charge. "
            "Utilisez sqlite:///… ou postgres://…"
        )
    if not config.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_URL : nom de la base manquant. Exemple : "
            "postgres://utilisateur@127.0.0.1:5432/accesmt"
        )
    config["ATOMIC_REQUESTS"] = False
    config.setdefault("OPTIONS", {})
    if engine == "django.db.backends.sqlite3":
        # Django's SQLite backend, whose flush lifts the audit log's triggers (see its module).
        config["ENGINE"] = "accesmt.accounts.sqlite_backend"
        # WAL lets the worker and the web process read while the other writes.
        config["OPTIONS"].setdefault(
            "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        )
        config["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    else:
        config["OPTIONS"].setdefault("connect_timeout", 5)
        config["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
    return config


SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = False
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "ninja",  # serves Swagger UI from its own static files (no CDN) for /api/docs
    "accesmt.core",
    "accesmt.accounts",
    "accesmt.territory",
    "accesmt.directory",
    "accesmt.intake",
    "accesmt.notifications",
    "accesmt.api",
    "accesmt.matching",
    "accesmt.orientation",
    "accesmt.reporting",
    "accesmt.demo",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "accesmt.core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "accesmt.core.middleware.SecurityHeadersMiddleware",
    "accesmt.accounts.otp.OTPRequiredMiddleware",
    "accesmt.core.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {"default": database_from_env(default=f"sqlite:///{VAR_DIR / 'accesmt.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Length rather than composition (ANSSI, NIST SP 800-63B): 12 to 128 characters, not a common
# password even once its case, digits and symbols are set aside, nothing like the user's name.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "accesmt.accounts.validators.MaximumLengthValidator"},
    {"NAME": "accesmt.accounts.validators.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "reporting:espace"
LOGOUT_REDIRECT_URL = "territory:home"

# Failed logins (password or second-factor code), per account and address together
# (accesmt/accounts/lockout.py): from the 5th, a wait of 1 minute, doubled at each new failure,
# at most one hour.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_DELAY_BASE_SECONDS = env.int("LOGIN_DELAY_BASE_SECONDS", default=60)
LOGIN_DELAY_MAX_SECONDS = env.int("LOGIN_DELAY_MAX_SECONDS", default=3600)
# Number of trusted reverse proxies in front of the site (X-Forwarded-For), read by
# accesmt.accounts.ip.client_ip for lock-outs and the audit log.
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)

# Second factor (django-otp, docs/decisions/0025-authentication.md): mandatory for platform
# admins, staff and the roles of accesmt.accounts.models.OTP_REQUIRED_ROLES.
ACCESMT_OTP_REQUIRED = env.bool("OTP_REQUIRED", default=True)
OTP_TOTP_ISSUER = "AccèsMT"

# Pro Santé Connect (OpenID Connect, docs/decisions/0026-pro-sante-connect.md): off unless the
# deployment has its own client. PSC_DISCOVERY_URL is the provider's
# `.well-known/openid-configuration` (the integration or the production one).
PSC_ENABLED = env.bool("PSC_ENABLED", default=False)
PSC_CLIENT_ID = env.str("PSC_CLIENT_ID", default="")
PSC_CLIENT_SECRET = env.str("PSC_CLIENT_SECRET", default="")
PSC_DISCOVERY_URL = env.str("PSC_DISCOVERY_URL", default="")
PSC_TIMEOUT = env.float("PSC_TIMEOUT", default=10.0)
# The provider's discovery document and keys are cached this long (re-fetched at once when an
# unknown key signs a token: key rotation).
PSC_CACHE_SECONDS = env.int("PSC_CACHE_SECONDS", default=3600)

# `load_demo` writes fictitious people and accounts with a published password: only the dev and
# test settings allow it, never production (which inherits this False).
DEMO_DATA_ALLOWED = False

LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = None  # collected only in production (prod.py)
WHITENOISE_USE_FINDERS = True
# Leaflet (GP map) is served from the installed xstatic-leaflet package, as /static/leaflet/….
STATICFILES_DIRS = [("leaflet", xstatic.pkg.leaflet.BASE_DIR)]
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Sessions and cookies: HttpOnly, SameSite, short-lived; Secure in production.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "accesmt.core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Strict Content-Security-Policy: no inline script, no third-party origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# Absolute address of the site, for links in e-mails (survey invitations). Production must set
# it to its https:// address (a deploy check warns otherwise).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# Map tiles of the GP map (Leaflet URL template). Empty: no tiles, markers on a plain background.
# The tile host is added to the CSP img-src of the map pages only (docs/decisions/0009-map.md).
MAP_TILE_URL = env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env.str(
    "MAP_TILE_ATTRIBUTION",
    default='&copy; les contributeurs d\'<a href="https://www.openstreetmap.org/copyright">'
    "OpenStreetMap</a>",
)

# Cache (the public form's fields, PSC's discovery documents): per process here (dev, tests);
# production's default is the shared database cache (prod.py).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://accesmt")}
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="300/m")
# Failed authentications (key missing, unknown or revoked) per client address: beyond, 429
# before any key is checked (ninja authenticates before throttling, so API_RATE_LIMIT cannot).
API_FAILED_AUTH_LIMIT = env.str("API_FAILED_AUTH_LIMIT", default="20/m")

# Retention periods (ADR 0027; the privacy notice shows them, intake.retention.retention_periods).
# Closed requests: the default, in months (365 → 12), of a CPTS that has not chosen its own period
# (IntakeSettings.closed_retention_months, 1 to 36 months, on the coordinator's settings page).
CLOSED_REQUEST_RETENTION_DAYS = env.int("CLOSED_REQUEST_RETENTION_DAYS", default=365)
# Audit lines (job accounts.audit_log_purge); the database refuses to delete a line younger than
# 365 days whatever this says (accounts migration 0010).
AUDIT_LOG_RETENTION_DAYS = env.int("AUDIT_LOG_RETENTION_DAYS", default=1095)
# GP availability declarations superseded more than this long ago (directory.declarations_purge).
DECLARATION_RETENTION_DAYS = env.int("DECLARATION_RETENTION_DAYS", default=1095)
# Free comments of the satisfaction survey (reporting.satisfaction_comments_blank).
SATISFACTION_COMMENT_RETENTION_DAYS = env.int("SATISFACTION_COMMENT_RETENTION_DAYS", default=365)

# BAN geocoding (https://adresse.data.gouv.fr/outils/api-doc/adresse); addok serves the same API.
GEOCODER_URL = env.str("GEOCODER_URL", default="https://api-adresse.data.gouv.fr")
GEOCODER_TIMEOUT = env.float("GEOCODER_TIMEOUT", default=3.0)
GEOCODER_RETRIES = env.int("GEOCODER_RETRIES", default=2)
# A person waiting for the registration page: no retry, every try of the address within this
# many seconds in all (a sync worker is not held longer; the worker's job places it later).
GEOCODER_INTERACTIVE_TIMEOUT = env.float("GEOCODER_INTERACTIVE_TIMEOUT", default=0.8)
GEOCODER_MIN_SCORE = env.float("GEOCODER_MIN_SCORE", default=0.5)

# GP directory (accesmt.directory): an availability declaration counts for this many days.
DECLARATION_VALIDITY_DAYS = env.int("DECLARATION_VALIDITY_DAYS", default=183)
# An RPPS import that would mark absent more than this share of a CPTS's GPs stops and asks for
# confirmation (`import_rpps --confirm-absences`, second step of the admin upload).
RPPS_MAX_ABSENT_SHARE = env.float("RPPS_MAX_ABSENT_SHARE", default=0.10)
# An admin upload waiting for that confirmation is kept here (private, deleted after a day).
RPPS_PENDING_DIR = env.path("RPPS_PENDING_DIR", default=str(VAR_DIR / "rpps-pending"))
# A CPAM list uploaded by a coordinator waits here between its preview and the confirmation
# (private, random names held in the session, deleted after a day; intake.views.cpam_lists).
CPAM_PENDING_DIR = env.path("CPAM_PENDING_DIR", default=str(VAR_DIR / "cpam-pending"))

EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=1025)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="AccèsMT <ne-pas-repondre@accesmt.local>"
)

# Logs never hold personal data nor signed tokens: only identifiers, counts and states are logged,
# and the "scrub" filter on every handler puts routes for paths and masks what slips through
# (docs/decisions/0023-logs-without-personal-data.md). Every logger propagates to root.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "accesmt.common.logs.ScrubFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "accesmt.common.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # LOG_FORMAT=json: one JSON object a line (the production default, see prod.py).
            "formatter": env.str("LOG_FORMAT", default="plain"),
            "filters": ["scrub"],
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Named here so that Django's own handlers (unfiltered, mail_admins with the request's
        # POST data) are removed: their records reach root's filtered handler instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"level": "ERROR"},
        # Never below INFO: SQL with its parameters (names, NIR…) when DEBUG is on; failed
        # template lookups with the whole context (the person's file) at DEBUG.
        "django.db.backends": {"level": "INFO"},
        "django.template": {"level": "INFO"},
        # httpx logs every request URL at INFO: a geocoding URL holds an address.
        "httpx": {"level": "WARNING"},
    },
}

# Notifications outbox (accesmt.notifications, docs/decisions/0005-outbox.md).
NOTIFICATIONS_FROM_EMAIL = env.str("NOTIFICATIONS_FROM_EMAIL", default=DEFAULT_FROM_EMAIL)
# Always a real SMTP connection, even where EMAIL_BACKEND is swapped (tests use locmem for it).
NOTIFICATIONS_EMAIL_BACKEND = env.str(
    "NOTIFICATIONS_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
# Retries go on (at most every NOTIFICATIONS_BACKOFF_MAX_SECONDS) for this many days after a
# message was queued; then it is "undeliverable" and shown to the coordination.
OUTBOX_RETRY_DAYS = env.int("OUTBOX_RETRY_DAYS", default=7)
NOTIFICATIONS_BACKOFF_BASE_SECONDS = env.int("NOTIFICATIONS_BACKOFF_BASE_SECONDS", default=60)
NOTIFICATIONS_BACKOFF_MAX_SECONDS = env.int("NOTIFICATIONS_BACKOFF_MAX_SECONDS", default=3600)
NOTIFICATIONS_LEASE_SECONDS = env.int("NOTIFICATIONS_LEASE_SECONDS", default=600)
NOTIFICATIONS_WORKER_INTERVAL = env.float("NOTIFICATIONS_WORKER_INTERVAL", default=5.0)
NOTIFICATIONS_RETENTION_DAYS = env.int("NOTIFICATIONS_RETENTION_DAYS", default=30)
# The health endpoint (/healthz) says "degraded" when the oldest message waiting for delivery is
# older than this, or when no outbox worker (run_worker) gave a sign of life for that long, or no
# task worker (db_worker / rqworker) ran the minute's heartbeat task for that long (a single task
# worker busy on one long operation for longer shows as silent: other work waits meanwhile).
HEALTH_OUTBOX_MAX_AGE_SECONDS = env.int("HEALTH_OUTBOX_MAX_AGE_SECONDS", default=900)
HEALTH_WORKER_MAX_SILENCE_SECONDS = env.int("HEALTH_WORKER_MAX_SILENCE_SECONDS", default=120)
HEALTH_TASK_WORKER_MAX_SILENCE_SECONDS = env.int(
    "HEALTH_TASK_WORKER_MAX_SILENCE_SECONDS", default=600
)
SMS_PROVIDER = env.str("SMS_PROVIDER", default="accesmt.notifications.sms.LoggingSMSProvider")

# Background tasks (Django's Tasks API through the django-tasks backport, docs/decisions/
# 0030-background-tasks.md): by default in the database (django-tasks-db, `manage.py db_worker`,
# nothing more to run than the database); TASKS_BACKEND=rq puts them in Redis (django-tasks-rq,
# `manage.py rqworker default`), at REDIS_URL.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Long work (an allocation run of a whole region) may take minutes: RQ would kill it at 180 s.
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASKS_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    INSTALLED_APPS += ["django_rq"]
else:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND : « {TASKS_BACKEND} » inconnu. Valeurs possibles : database (par défaut) "
        "ou rq (Redis, voir REDIS_URL)."
    )
# An operation (allocation run, bulk send…) whose progress has not moved for this long is
# taken as interrupted (its worker died): it is marked failed and may be started again.
OPERATION_STALE_SECONDS = env.int("OPERATION_STALE_SECONDS", default=900)
# The file an operation produced (an export of requests) waits here for its download (private,
# random names, deleted after a day by notifications.operation_files_purge).
OPERATION_FILES_DIR = env.path("OPERATION_FILES_DIR", default=str(VAR_DIR / "operation-files"))
