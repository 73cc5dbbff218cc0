"""Local development and `make demo`: SQLite, debug pages, the local SMTP sink."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-accesmt-0123456789")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
# `make demo`: the demo accounts log in with their password only, unless OTP_REQUIRED=1 (the
# load_demo banner says so). Every other setting requires the second factor.
ACCESMT_OTP_REQUIRED = env.bool("OTP_REQUIRED", default=False)
DEMO_DATA_ALLOWED = True  # `make demo`
