"""Logs without personal data or signed tokens (docs/decisions/0023-logs-without-personal-data.md).

`ScrubFilter` sits on every logging handler (LOGGING in config/settings/base.py) and on
gunicorn's loggers (`GunicornLogger`, config/gunicorn.conf.py). For each record it:

- formats the message once (`msg % args`) and keeps only the scrubbed text (`args` emptied), and
  scrubs the exception text the same way;
- on the web loggers (django.request, django.server, django.security.*, gunicorn.access), rewrites
  every URL path to its route: `/suivi/eyJ…/choix/` → `/suivi/<token>/choix/`; a path no route
  matches keeps its first segment: `/wp-admin/setup.php` → `/wp-admin/…`;
- everywhere, drops query strings from URLs and masks what looks like a signed token, an
  e-mail address, a NIR (13 or 15 digits) or a phone number.

With LOG_FORMAT=json (the production default), `JsonFormatter` writes one JSON object a line
(time, level, logger, message, process, and for the access log method, route, status,
duration_ms, bytes), after the same scrubbing.

Names, addresses and free texts cannot be recognised in a text: the code never logs them (the
test `tests/common/test_logs.py` runs a whole day of the service and looks for them)."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from datetime import UTC, datetime

WEB_LOGGERS = ("django.request", "django.server", "django.security", "gunicorn.access")

MASKED_TOKEN = "[token]"  # noqa: S105 - the mask, not a secret
MASKED_EMAIL = "[email]"
MASKED_NIR = "[nir]"
MASKED_PHONE = "[phone]"

_SEP = r"[ .\-]?"
# Order matters: tokens hold digits and "-", an e-mail may hold digits.
_MASKS = [
    # django.core.signing (accesmt.common.signing): payload:timestamp:signature, base64url.
    (re.compile(r"\.?[A-Za-z0-9_-]{2,}:[0-9A-Za-z]{4,}:[A-Za-z0-9_-]{20,}"), MASKED_TOKEN),
    # Django's password reset and invitation tokens: timestamp-hash.
    (re.compile(r"(?<![\w-])[0-9a-z]{1,13}-[0-9a-f]{20,}(?![\w-])"), MASKED_TOKEN),
    # Any other long opaque value with letters and digits (API keys, secrets.token_urlsafe).
    (
        re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9_-]{32,}(?![\w-])"),
        MASKED_TOKEN,
    ),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), MASKED_EMAIL),
    # NIR: sex, year, month, department (2A/2B for Corsica), commune, order, optional key.
    (
        re.compile(
            rf"(?<![\w+])[1-478](?:{_SEP}\d){{4}}{_SEP}(?:\d{_SEP}\d|2{_SEP}[ABab])"
            rf"(?:{_SEP}\d){{6}}(?:(?:{_SEP}\d){{2}})?(?!\w)"
        ),
        MASKED_NIR,
    ),
    # French numbers in any usual writing, then any international E.164-like number.
    (
        re.compile(
            rf"(?<![\w+])(?:(?:\+|00){_SEP}33{_SEP}(?:\(0\){_SEP})?|0)[1-9](?:{_SEP}\d\d){{4}}(?!\d)"
        ),
        MASKED_PHONE,
    ),
    (re.compile(rf"(?<![\w+])(?:\+|00)\d{{1,3}}(?:{_SEP}\d){{6,14}}(?!\d)"), MASKED_PHONE),
]
_URL = re.compile(
    r"(?P<origin>https?://[^/\s\"'<>]+)(?P<path>/[^\s\"'<>?#]*)?(?P<query>\?[^\s\"'<>#]*)?"
)
_PATH = re.compile(r"(?<![\w.:/~%=-])(?P<path>/[^\s\"'?#]*)(?P<query>\?[^\s\"'<>#]*)?")
_ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")
_SEGMENT = re.compile(r"[a-z0-9_-]{1,40}")
_resolving = threading.local()


def mask(text: str) -> str:
    """Query strings dropped from full URLs; tokens, e-mails, NIR and phones masked."""
    text = _URL.sub(lambda m: m["origin"] + (m["path"] or ""), text)
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def route_of(path: str) -> str:
    """The route a path matches ("/suivi/<token>/"), else its first segment ("/suivi/…")."""
    if "<" in path or "…" in path:  # already a route (a record scrubbed twice)
        return path
    route = _resolve(path)
    if route is not None:
        return route
    first = path.strip("/").split("/", 1)[0]
    if not first:
        return "/"
    return f"/{first}/…" if _SEGMENT.fullmatch(first) else "/…"


def _resolve(path: str) -> str | None:
    if getattr(_resolving, "active", False):  # a URLconf import that logs: no recursion
        return None
    _resolving.active = True
    try:
        from django.urls import Resolver404, resolve

        try:
            match = resolve(path)
        except Resolver404:
            return None
        route = _ROUTE_PARAM.sub(lambda m: f"<{m[1] or m[2]}>", match.route)
        return "/" + route.lstrip("^").rstrip("$")
    except Exception:  # noqa: BLE001 - settings not ready, broken URLconf: never fail a log line
        return None
    finally:
        _resolving.active = False


def scrub_paths(text: str) -> str:
    """Every URL path in `text` replaced by its route, without its query string."""
    text = _URL.sub(lambda m: m["origin"] + (route_of(m["path"]) if m["path"] else ""), text)
    return _PATH.sub(lambda m: route_of(m["path"]), text)


def scrub(text: str, *, web: bool = False) -> str:
    return mask(scrub_paths(text) if web else text)


class ScrubFilter(logging.Filter):
    """Rewrites the record in place (message, args, exception text); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_accesmt_scrubbed", False):
            return True  # already done by another handler
        web = record.name.startswith(WEB_LOGGERS)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: keep the raw template only
            message = str(record.msg)
        record.msg = scrub(message, web=web)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        record.exc_info = None  # formatters then use the scrubbed exc_text
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        if hasattr(record, "request"):
            record.request = None  # Django's handlers never read the request in a log line
        record._accesmt_scrubbed = True
        return True


ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "bytes")


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for a log collector; the record is already scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                data[field] = getattr(record, field)
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(self.formatException(record.exc_info))
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


def log_format() -> str:
    """ "json" or "plain": the environment's LOG_FORMAT, else json under the production
    settings (read by gunicorn's logger before Django's settings are loaded)."""
    default = "json" if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".prod") else "plain"
    value = os.environ.get("LOG_FORMAT", default).strip().lower()
    return value if value in {"json", "plain"} else default


try:  # gunicorn is a production dependency; the module stays importable without it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object  # type: ignore[assignment,misc]


class GunicornLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn's logger with the route instead of the raw URL in the access log, no query
    string, no referer, and the scrub filter on its error and access handlers."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        self.json = log_format() == "json"
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(ScrubFilter())
                if self.json:
                    handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not getattr(self, "json", False):
            return super().access(resp, req, environ, request_time)
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict):
            return None
        route = route_of(environ.get("PATH_INFO") or "/")
        status = resp.status_code if hasattr(resp, "status_code") else str(resp.status)[:3]
        fields = {
            "method": environ.get("REQUEST_METHOD", ""),
            "route": route,
            "status": int(status) if str(status).isdigit() else status,
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "bytes": getattr(resp, "sent", None),
        }
        self.access_log.info("%s %s %s", fields["method"], route, fields["status"], extra=fields)
        return None

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        route = route_of(environ.get("PATH_INFO") or "/")
        atoms["r"] = f"{environ['REQUEST_METHOD']} {route} {environ['SERVER_PROTOCOL']}"
        atoms["U"] = route
        atoms["q"] = ""
        atoms["f"] = "-"
        for key in (
            "{referer}i",
            "{raw_uri}e",
            "{path_info}e",
            "{query_string}e",
            "{request_uri}e",
        ):
            if key in atoms:
                atoms[key] = "-"
        return atoms
