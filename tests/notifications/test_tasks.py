"""Background tasks (django-tasks) and long operations with their progress page.

The test settings run tasks at once (ImmediateBackend); here they also go through the real
database worker (django-tasks-db's `db_worker` loop) and through a real Redis (django-tasks-rq,
127.0.0.1:6379, db 15, flushed)."""

import html
import logging
import signal
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accesmt.matching.models import AllocationRun
from accesmt.notifications import operations
from accesmt.notifications.models import Operation, OperationStatus
from accesmt.notifications.operations import (
    STALE_ERROR,
    UNEXPECTED_ERROR,
    OperationFailed,
    OperationRefused,
    Outcome,
    operation_start,
)
from tests.accounts.factories import MembershipFactory
from tests.worlds import gp_at, two_cpts, waiting_request

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
RQ_TEST_DB = 15


@pytest.fixture
def world(db):
    w = two_cpts()
    gp_at(w.cpts, w.here, north=1, capacity=3)
    w.first = waiting_request(w.cpts, w.here, days=30, priority=True)
    w.second = waiting_request(w.cpts, w.here, days=10)
    w.coordinator = MembershipFactory(cpts=w.cpts, role="coordinator").user
    return w


@pytest.fixture
def test_kinds():
    """Kinds of operation for the tests; the registry is restored afterwards."""
    saved = dict(operations._kinds)

    def fails_expectedly(operation, progress):
        progress(done=1, total=4, step="Première étape")
        raise OperationFailed("Le fichier ne contient aucune ligne utilisable.")

    def crashes(operation, progress):
        raise RuntimeError("Dupont-Secret 06 12 34 56 78")

    def counts(operation, progress):
        for i in range(5):
            progress(done=i, total=5, step="Comptage")
        return Outcome(summary="Cinq comptés.", result_url="/resultat/")

    for name, handler in (("test.fails", fails_expectedly), ("test.crashes", crashes)):
        operations.register_kind(name, label="Essai", handler=handler, busy="Occupé.")
    operations.register_kind("test.counts", label="Comptage", handler=counts, busy="Occupé.")
    yield
    operations._kinds.clear()
    operations._kinds.update(saved)


def runs_url(cpts):
    return reverse("matching:runs", kwargs={"cpts_slug": cpts.slug})


def progress_url(operation):
    return reverse(
        "notifications:operation", kwargs={"cpts_slug": operation.cpts.slug, "pk": operation.pk}
    )


def run_database_worker():
    """django-tasks-db's own worker loop, in batch mode (every ready task, then return). Its
    signal handlers are not installed (the test runner keeps its own)."""
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


@pytest.mark.django_db(transaction=True)
def test_the_allocation_page_enqueues_and_the_database_worker_runs_it(client, world):
    from django_tasks_db.models import DBTaskResult

    w = world
    client.force_login(w.coordinator)
    with override_settings(TASKS=DATABASE_TASKS):
        response = client.post(runs_url(w.cpts), {"method": "exact"})
        operation = Operation.objects.get()
        assert response["Location"] == progress_url(operation)
        # queued in the database with the operation, nothing computed yet
        task_row = DBTaskResult.objects.get()
        assert task_row.status == "READY" and str(task_row.id) == operation.task_id
        assert not AllocationRun.objects.exists()
        page = client.get(progress_url(operation)).content.decode()
        assert '<meta http-equiv="refresh" content="2">' in page
        assert "En attente d'un worker" in html.unescape(page) and "<progress" in page

        run_database_worker()

    task_row.refresh_from_db()
    operation.refresh_from_db()
    assert task_row.status == "SUCCESSFUL" and task_row.return_value == "done"
    assert operation.status == OperationStatus.DONE and operation.percent == 100
    assert operation.started_at and operation.finished_at and operation.created_by == w.coordinator
    run = AllocationRun.objects.get()
    assert run.assigned == 2 and run.created_by == w.coordinator
    page = client.get(progress_url(operation)).content.decode()
    run_url = reverse("matching:run", kwargs={"cpts_slug": w.cpts.slug, "pk": run.pk})
    assert f'href="{run_url}"' in page and "2 foyers sur 2" in page
    assert "http-equiv" not in page


def _redis_or_skip():
    import redis

    connection = redis.Redis(host="127.0.0.1", port=6379, db=RQ_TEST_DB, socket_timeout=2)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("pas de serveur Redis sur 127.0.0.1:6379 (la CI en fournit un)")
    connection.flushdb()
    return connection


def test_the_redis_backend_runs_an_operation_through_an_rq_worker(
    client, world, django_capture_on_commit_callbacks
):
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker

    connection = _redis_or_skip()
    w = world
    client.force_login(w.coordinator)
    queues = {"default": {"HOST": "127.0.0.1", "PORT": 6379, "DB": RQ_TEST_DB}}
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with override_settings(TASKS=RQ_TASKS, RQ_QUEUES=queues):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                client.post(runs_url(w.cpts), {"method": "greedy"})
            assert len(callbacks) == 1  # enqueued once the operation was committed
            operation = Operation.objects.get()
            queue = django_rq.get_queue("default", job_class=Job)
            assert queue.job_ids == [operation.task_id]
            assert operation.status == OperationStatus.QUEUED

            # an rq worker in this process (SimpleWorker: no fork, it sees this test's data)
            SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)

            from django_tasks_rq import RQBackend

            result = RQBackend("default", {}).get_result(operation.task_id)
            assert result.status == "SUCCESSFUL" and result.return_value == "done"
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        connection.flushdb()
    operation.refresh_from_db()
    assert operation.status == OperationStatus.DONE
    assert AllocationRun.objects.get().method == "greedy"


@pytest.mark.django_db
@override_settings(TASKS=DUMMY_TASKS)  # enqueued, never run: the first one stays queued
def test_a_second_start_while_one_is_queued_is_refused(client, world):
    w = world
    client.force_login(w.coordinator)
    first = client.post(runs_url(w.cpts), {"method": "exact"})
    operation = Operation.objects.get()
    second = client.post(runs_url(w.cpts), {"method": "exact"}, follow=True)
    assert Operation.objects.count() == 1
    assert second.redirect_chain[0][0] == first["Location"] == progress_url(operation)
    assert "Une répartition est déjà en cours de calcul pour cette CPTS" in second.content.decode()

    # another CPTS, or another kind, is not held up
    operation_start(kind="matching.allocation_run", cpts=w.other, by=None)
    operation_start(kind="orientation.allocation_send", cpts=w.cpts, by=None, params={"run": 0})
    assert Operation.objects.count() == 3

    with pytest.raises(OperationRefused) as refused:
        operation_start(kind="matching.allocation_run", cpts=w.cpts, by=None)
    assert refused.value.active == operation
    # the launch page links to the run being computed
    runs_page = client.get(runs_url(w.cpts)).content.decode()
    assert "Une répartition est en cours de calcul" in runs_page
    assert f'href="{progress_url(operation)}"' in runs_page


@pytest.mark.django_db
@override_settings(TASKS=DUMMY_TASKS)
def test_an_operation_that_no_longer_moves_is_released(world, settings):
    w = world
    stuck = operation_start(kind="matching.allocation_run", cpts=w.cpts, by=None)
    late = timezone.now() - timedelta(seconds=settings.OPERATION_STALE_SECONDS + 1)
    Operation.objects.filter(pk=stuck.pk).update(updated_at=late)

    fresh = operation_start(kind="matching.allocation_run", cpts=w.cpts, by=None)

    stuck.refresh_from_db()
    assert stuck.status == OperationStatus.FAILED and stuck.error == STALE_ERROR
    assert fresh.status == OperationStatus.QUEUED


@pytest.mark.django_db
def test_failures_are_reported_in_french_without_personal_data_in_the_logs(
    client, world, test_kinds, caplog
):
    w = world
    client.force_login(w.coordinator)
    caplog.set_level(logging.INFO)
    expected = operation_start(kind="test.fails", cpts=w.cpts, by=w.coordinator)
    crashed = operation_start(kind="test.crashes", cpts=w.cpts, by=w.coordinator)

    assert expected.status == crashed.status == OperationStatus.FAILED
    page = client.get(progress_url(expected)).content.decode()
    assert "Le fichier ne contient aucune ligne utilisable." in page and 'role="alert"' in page
    page = client.get(progress_url(crashed)).content.decode()
    assert "erreur inattendue" in page and crashed.error == UNEXPECTED_ERROR
    assert "Dupont" not in page and "Dupont" not in caplog.text
    assert "RuntimeError" in caplog.text  # the type only
    assert "http-equiv" not in page


@pytest.mark.django_db
def test_progress_is_recorded_and_the_outcome_shown(client, world, test_kinds):
    w = world
    client.force_login(w.coordinator)
    operation = operation_start(kind="test.counts", cpts=w.cpts, by=w.coordinator)
    assert (operation.status, operation.done, operation.total) == ("done", 5, 5)
    assert operation.step == "Terminé" and operation.result_url == "/resultat/"
    page = client.get(progress_url(operation)).content.decode()
    assert "Cinq comptés." in page and 'href="/resultat/"' in page
    assert 'value="100">100 %</progress>' in page


@pytest.mark.django_db
def test_the_progress_page_of_a_running_operation(client, world):
    w = world
    started = timezone.now() - timedelta(seconds=60)
    operation = Operation.objects.create(
        kind="matching.allocation_run",
        cpts=w.cpts,
        status=OperationStatus.RUNNING,
        step="Calcul de la répartition",
        done=25,
        total=100,
        started_at=started,
    )
    client.force_login(w.coordinator)
    page = " ".join(client.get(progress_url(operation)).content.decode().split())
    assert '<meta http-equiv="refresh" content="2">' in page
    assert '<progress id="operation-progress" max="100" value="25">25 %</progress>' in page
    assert "Calcul de la répartition" in page and "25 sur 100" not in page  # percents: said once
    # 60 s for a quarter: about three minutes left
    assert "Temps restant estimé :</strong> environ 3 minutes" in page
    Operation.objects.filter(pk=operation.pk).update(done=1200, total=34520)
    page = " ".join(client.get(progress_url(operation)).content.decode().split())
    assert "(1 200 sur 34 520)" in page  # narrow no-break spaces, made plain by split()
    paused = client.get(progress_url(operation) + "?pause=1").content.decode()
    assert "http-equiv" not in paused and "la reprendre" in paused


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["observer", "gp", "referrer", "cpam_mediator", "mairie"])
def test_the_progress_page_is_for_the_coordination_of_its_cpts_only(client, world, role):
    w = world
    mine = Operation.objects.create(kind="matching.allocation_run", cpts=w.cpts)
    theirs = Operation.objects.create(kind="matching.allocation_run", cpts=w.other)
    client.force_login(w.coordinator)
    assert client.get(progress_url(mine)).status_code == 200
    url_under_mine = reverse(
        "notifications:operation", kwargs={"cpts_slug": w.cpts.slug, "pk": theirs.pk}
    )
    assert client.get(url_under_mine).status_code == 404
    client.force_login(MembershipFactory(cpts=w.cpts, role=role).user)
    assert client.get(progress_url(mine)).status_code == 404
    client.logout()
    assert client.get(progress_url(mine)).status_code == 302  # to the login page


@pytest.mark.django_db
def test_a_task_delivered_twice_runs_the_operation_once(world, test_kinds):
    w = world
    operation = operation_start(kind="test.counts", cpts=w.cpts, by=None)
    assert operations.operation_run.call(operation.pk) == "skipped"
    assert Operation.objects.get(pk=operation.pk).status == OperationStatus.DONE


@pytest.mark.django_db
def test_the_send_of_a_run_is_an_operation_too(client, world):
    w = world
    client.force_login(w.coordinator)
    client.post(runs_url(w.cpts), {"method": "exact"})
    run = AllocationRun.objects.get()
    url = reverse(
        "orientation:allocation_run_send", kwargs={"cpts_slug": w.cpts.slug, "pk": run.pk}
    )
    response = client.post(url, {"scope": "all"})
    send = Operation.objects.get(kind="orientation.allocation_send")
    assert response["Location"] == progress_url(send)
    assert (send.status, send.done, send.total) == ("done", 2, 2)
    page = client.get(progress_url(send)).content.decode()
    assert "2 demandes envoyées aux médecins proposés." in page


@pytest.mark.django_db
def test_old_finished_task_rows_are_pruned_by_a_periodic_job(world, settings):
    from django_tasks_db.models import DBTaskResult

    from accesmt.notifications import jobs

    settings.TASKS = DATABASE_TASKS
    now = timezone.now()
    old = operation_start(kind="matching.allocation_run", cpts=world.cpts, by=None)
    recent = operation_start(kind="matching.allocation_run", cpts=world.other, by=None)
    waiting = operation_start(kind="orientation.allocation_send", cpts=world.cpts, by=None)
    days = settings.NOTIFICATIONS_RETENTION_DAYS
    DBTaskResult.objects.filter(id=old.task_id).update(
        status="SUCCESSFUL", finished_at=now - timedelta(days=days + 1)
    )
    DBTaskResult.objects.filter(id=recent.task_id).update(
        status="FAILED", finished_at=now - timedelta(days=days - 1)
    )

    job = jobs.registered()["notifications.task_results_prune"]
    assert job.func(now=now) == 1
    assert sorted(str(i) for i in DBTaskResult.objects.values_list("id", flat=True)) == sorted(
        [recent.task_id, waiting.task_id]
    )
