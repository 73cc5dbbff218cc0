import pytest

from tests.worlds import Orientation

__all__ = ["Orientation"]


@pytest.fixture
def o(db, settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    return Orientation()
