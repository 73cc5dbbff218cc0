import pytest

from accesmt.notifications import jobs


@pytest.fixture
def job_registry():
    """Registers test jobs and restores the registry afterwards."""
    saved = jobs.registered()
    for name in saved:
        jobs.unregister(name)
    yield jobs
    for name in jobs.registered():
        jobs.unregister(name)
    for job in saved.values():
        jobs.register(job.name, job.func, job.every_seconds)
