import pytest

pytest_plugins = ["tests.smtp_server"]  # the `smtp_server` fixture: a real local SMTP server


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OPERATION_FILES_DIR = tmp_path / "operation-files"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cache (locmem, one per test process) holds rate-limit and failure counters, PSC's
    discovery documents…: each test starts with an empty one, whatever ran before (the fuzz
    tests send thousands of refused API keys from 127.0.0.1)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _second_factor(request, settings):
    """The second factor is required in every setting but dev; tests that are not about it run
    without it (force_login cannot give a code), tests marked `otp` keep it required."""
    if request.node.get_closest_marker("otp") is None:
        settings.ACCESMT_OTP_REQUIRED = False
