"""Periodic jobs through Django's Tasks API (issue 15, point 1): `run_worker` claims each due job
once per period (a conditional UPDATE of its PeriodicJob row) and enqueues `periodic_job_run`;
the task workers run it. Here through the real database worker, a Redis queue, and two
schedulers and two task workers racing on PostgreSQL."""

import logging
import signal
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accesmt.notifications import jobs
from accesmt.notifications.models import PeriodicJob

from .test_tasks import DATABASE_TASKS, DUMMY_TASKS, RQ_TASKS, RQ_TEST_DB, run_database_worker


@pytest.fixture
def calls(job_registry):
    """Two hourly test jobs recording the `now` of each run."""
    seen: list[tuple[str, object]] = []
    lock = threading.Lock()

    def recorder(name):
        def run(now):
            with lock:
                seen.append((name, now))
            return 1

        return run

    for name in ("test.a", "test.b"):
        job_registry.register(name, recorder(name), every_seconds=3600)
    return seen


def _task_rows():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.order_by("enqueued_at")


@pytest.mark.django_db(transaction=True)
def test_a_due_job_is_enqueued_with_its_claim_and_run_by_the_database_worker(calls):
    now = timezone.now()
    with override_settings(TASKS=DATABASE_TASKS):
        assert jobs.schedule_due_jobs(now=now) == {"test.a": jobs.QUEUED, "test.b": jobs.QUEUED}
        assert jobs.schedule_due_jobs(now=now + timedelta(seconds=5)) == {}  # next pass
        rows = list(_task_rows())
        assert [(r.status, r.args_kwargs["args"][0]) for r in rows] == [
            ("READY", "test.a"),
            ("READY", "test.b"),
        ]
        assert calls == []  # nothing runs in the scheduler
        assert PeriodicJob.objects.get(name="test.a").last_outcome == jobs.QUEUED

        run_database_worker()

        assert sorted(calls) == [("test.a", now), ("test.b", now)]  # the claim's time
        assert [(r.status, r.return_value) for r in _task_rows()] == [("SUCCESSFUL", "ok 1")] * 2
        assert PeriodicJob.objects.get(name="test.b").last_outcome == "ok 1"
        # the same task delivered a second time does nothing
        assert jobs.periodic_job_run.call("test.a", now.isoformat()) == "ignorée"
        assert len(calls) == 2


@pytest.mark.django_db(transaction=True)
def test_a_task_overtaken_by_the_next_period_does_not_run_it_twice(calls):
    """No task worker for an hour: two periods are queued; the late first task does nothing,
    the job runs once, for the latest period."""
    now = timezone.now()
    later = now + timedelta(minutes=61)
    with override_settings(TASKS=DATABASE_TASKS):
        jobs.schedule_due_jobs(now=now)
        jobs.schedule_due_jobs(now=later)
        run_database_worker()
    assert sorted(calls) == [("test.a", later), ("test.b", later)]
    assert sorted(r.return_value for r in _task_rows()) == ["ignorée"] * 2 + ["ok 1"] * 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_is_logged_by_type_and_runs_again_next_period(job_registry, caplog):
    attempts = []

    def flaky(now):
        attempts.append(now)
        if len(attempts) == 1:
            raise ValueError("Dupont-Secret 06 12 34 56 78")
        return 4

    job_registry.register("test.flaky", flaky, every_seconds=900)
    now = timezone.now()
    with override_settings(TASKS=DATABASE_TASKS), caplog.at_level(logging.INFO):
        jobs.schedule_due_jobs(now=now)
        run_database_worker()
        job = PeriodicJob.objects.get(name="test.flaky")
        assert job.last_outcome == "erreur ValueError" and job.last_finished_at
        assert jobs.schedule_due_jobs(now=now + timedelta(minutes=14)) == {}
        jobs.schedule_due_jobs(now=now + timedelta(minutes=15))
        run_database_worker()
    assert attempts == [now, now + timedelta(minutes=15)]
    assert PeriodicJob.objects.get(name="test.flaky").last_outcome == "ok 4"
    assert "tâche test.flaky : erreur ValueError" in caplog.text
    assert "Dupont" not in caplog.text


@pytest.mark.django_db
@override_settings(TASKS=DUMMY_TASKS)  # an external queue: enqueued once the claim commits
def test_an_external_queue_gets_the_task_after_commit_and_its_failure_is_logged(
    calls, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from django_tasks import default_task_backend

    default_task_backend.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert jobs.schedule_due_jobs() == {"test.a": jobs.QUEUED, "test.b": jobs.QUEUED}
    assert len(callbacks) == 2 and default_task_backend.results == []
    callbacks[0]()
    assert [r.args[0] for r in default_task_backend.results] == ["test.a"]

    def down(*args, **kwargs):
        raise ConnectionError("redis://secret@host")

    monkeypatch.setattr(jobs, "periodic_job_run", SimpleNamespace(enqueue=down))
    callbacks[1]()  # the queue is down: logged, the scheduler goes on
    assert "tâche test.b : mise en file impossible (ConnectionError)" in caplog.text
    assert "secret" not in caplog.text


def test_the_redis_backend_runs_a_periodic_job_through_an_rq_worker(
    calls, db, django_capture_on_commit_callbacks
):
    import django_rq
    import redis
    from django_tasks_rq import Job
    from rq import SimpleWorker

    connection_ = redis.Redis(host="127.0.0.1", port=6379, db=RQ_TEST_DB, socket_timeout=2)
    try:
        connection_.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("pas de serveur Redis sur 127.0.0.1:6379 (la CI en fournit un)")
    connection_.flushdb()
    queues = {"default": {"HOST": "127.0.0.1", "PORT": 6379, "DB": RQ_TEST_DB}}
    now = timezone.now()
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with override_settings(TASKS=RQ_TASKS, RQ_QUEUES=queues):
            with django_capture_on_commit_callbacks(execute=True):
                jobs.schedule_due_jobs(now=now)
            queue = django_rq.get_queue("default", job_class=Job)
            assert len(queue.job_ids) == 2
            SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
    finally:
        for sig, handler in saved.items():  # the rq worker installs its own
            signal.signal(sig, handler)
        connection_.flushdb()
    assert sorted(calls) == [("test.a", now), ("test.b", now)]


PERIODS, PASSES = 3, 4


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_and_two_task_workers_racing_run_each_job_once_per_period(calls):
    """Two `run_worker` schedulers (threads, each with its own PostgreSQL connection) make
    several passes in each of three hourly periods, then two database task workers race for
    the queued tasks: each job is enqueued once and run once per period."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL")
    start = timezone.now()
    errors: list[Exception] = []
    scheduled: list[dict] = []

    def threads(target, count):
        barrier = threading.Barrier(count)

        def run(i):
            try:
                barrier.wait()
                target(i)
            except Exception as error:  # noqa: BLE001 (reported by the assertion below)
                errors.append(error)
            finally:
                connection.close()

        started = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in started:
            thread.start()
        for thread in started:
            thread.join()

    def scheduler(period):
        def passes(i):
            for p in range(PASSES):  # every 5 s of the period, each scheduler its own clock
                now = start + timedelta(hours=period, seconds=5 * p, microseconds=i)
                scheduled.append(jobs.schedule_due_jobs(now=now))

        return passes

    def task_worker(i):
        from django_tasks_db.management.commands.db_worker import Worker

        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"race-{i}",
            excluded_queue_names=[],
        ).run()

    with override_settings(TASKS=DATABASE_TASKS):
        for period in range(PERIODS):
            threads(scheduler(period), 2)
            threads(task_worker, 2)
    assert errors == []
    claims = [name for outcome in scheduled for name in outcome]
    assert sorted(claims) == sorted(["test.a", "test.b"] * PERIODS)
    rows = list(_task_rows())
    assert len(rows) == 2 * PERIODS
    assert {(r.status, r.return_value) for r in rows} == {("SUCCESSFUL", "ok 1")}
    assert {r.worker_ids[0] for r in rows} <= {"race-0", "race-1"}
    for name in ("test.a", "test.b"):
        runs = sorted(now for job, now in calls if job == name)
        assert len(runs) == PERIODS
        # one run in each period, at the time of the claim that won
        assert [(now - start) // timedelta(hours=1) for now in runs] == list(range(PERIODS))
