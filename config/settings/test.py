"""Test settings: the same stack as production, fast password hashing, no outbound network."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-key-accesmt-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
GEOCODER_URL = env.str("TEST_GEOCODER_URL", default="http://127.0.0.1:9")  # nothing listens
GEOCODER_RETRIES = 0
GEOCODER_TIMEOUT = 1.0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MAP_TILE_URL = ""  # no tile server at test time: the map shows markers on a plain background
DEMO_DATA_ALLOWED = True  # tests/demo load the demo territory
# Tasks run at once, inside the request, unless a test swaps in the database or Redis backend
# to go through a real worker (tests/notifications/test_tasks.py).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
