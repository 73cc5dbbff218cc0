"""gunicorn's settings, read from the project's root by `gunicorn config.wsgi` (or given with
`-c gunicorn.conf.py`): an access log with the route, never the URL a person was sent
(`/suivi/<token>/`, not the token), no query string, no referer; the error log through the same
scrub filter as the application's logs (docs/decisions/0023-logs-without-personal-data.md)."""

import os

wsgi_app = "config.wsgi:application"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"  # stdout; the atoms "r" and "U" hold the route (accesmt.common.logs.GunicornLogger)
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
logger_class = "accesmt.common.logs.GunicornLogger"
