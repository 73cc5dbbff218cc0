import pytest

pytest_plugins = ["tests.smtp_server"]  # the `smtp_server` fixture: a real local SMTP server


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
