import pytest

from accesmt.api.services import api_key_create
from tests.intake.conftest import territory  # noqa: F401  (fixture)


@pytest.fixture
def cpts(territory):  # noqa: F811
    return territory["lievin"]


@pytest.fixture
def api_key(cpts):
    key, raw = api_key_create(cpts=cpts, name="Site web")
    return key, raw


@pytest.fixture
def auth(api_key):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_key[1]}"}
