"""The roll-up when parts fail, with real processes: a Redis of the test's own (stopped by PID), Celery workers
started by the test (one killed with SIGKILL mid-run), and readers on other connections while a run switches.

A run is held just before its figures switch by a row lock the test takes on one of the previous run's rows
(the last quarter's): the run's single DELETE of the old figures waits for it, so the test knows where the
run is when it reads the figures or kills the worker. Nothing here stops the shared PostgreSQL or Redis.
"""

import contextlib
import datetime
import signal
import time

import psycopg
import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from cases.models import Cohort
from dashboard import rollup
from dashboard.models import RollupRun, RollupValue
from dashboard.periods import reporting_quarters
from dashboard.services import WORKERS_DOWN
from reoffending.celery import app as celery_app

from .factories import MembershipFactory, OffenderFactory
from .processes import celery_worker, django_env, redis_server, wait_for
from .test_feeds_faults import forget_broker_connections

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 3  # seconds: a killed worker's roll-up is handed out again this soon
WORKER_ENV = {"BROKER_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT, "ROLLUP_HEARTBEAT_SECONDS": 1,
              "DB_LONG_LOCK_TIMEOUT": "60s", "TEST_TASKS_EAGER": 0}


@contextlib.contextmanager
def broker_at(url):
    """The test's tasks really sent to `url` (not run in-process)."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    celery_app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    forget_broker_connections()
    try:
        with override_settings(CELERY_BROKER_URL=url, CELERY_TASK_ALWAYS_EAGER=False):
            yield
    finally:
        celery_app.conf.update(saved)
        forget_broker_connections()


@pytest.fixture
def redis(tmp_path):
    with redis_server(tmp_path) as (url, process), broker_at(url):
        yield url, process


def start_worker(tmp_path, url, name):
    return celery_worker(tmp_path, django_env(REDIS_URL=url, **WORKER_ENV), name=name)


def people_join(count, quarter):
    for _ in range(count):
        MembershipFactory(offender=OffenderFactory(), cohort=Cohort.IOM,
                          started_on=quarter.start + datetime.timedelta(3))


@pytest.fixture
def previous_rollup(partnership):
    """A complete roll-up (run in this process), then people joining that change every later run's figures."""
    quarters = reporting_quarters()
    people_join(3, quarters[-2])
    run = rollup.run_rollup(RollupRun.objects.create())
    assert run.status == RollupRun.Status.SUCCEEDED
    people_join(4, quarters[-2])
    people_join(2, quarters[-1])
    return run


def figures():
    return sorted(RollupValue.objects.values_list(
        "measure", "category", "period_start", "dimension", "slice_key", "numerator", "denominator", "run_id",
        "computed_at"))


def runs_of_figures():
    return set(RollupValue.objects.values_list("run_id", flat=True).distinct())


def other_connection():
    config = connection.settings_dict
    return psycopg.connect(host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432, user=config["USER"],
                           dbname=config["NAME"])


@contextlib.contextmanager
def switch_held():
    """Hold a row lock on one of the last quarter's figures: a run's switch waits for it."""
    holder = other_connection()
    try:
        last = max(reporting_quarters()).start
        locked = holder.execute("SELECT id FROM dashboard_rollupvalue WHERE period_start = %s LIMIT 1 FOR UPDATE",
                                [last]).fetchone()
        assert locked is not None
        yield
    finally:
        holder.rollback()
        holder.close()


def switch_waiting():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE 'DELETE FROM \"dashboard_rollupvalue\"%%'")
        return cursor.fetchone()[0] == 1


def run_lock_free():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [rollup.RUN_LOCK_KEY])
        if cursor.fetchone()[0]:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [rollup.RUN_LOCK_KEY])
            return True
    return False


def press_recalculate(client):
    started = time.monotonic()
    response = client.post(reverse("dashboard:recalculate"), follow=True)
    assert time.monotonic() - started < 10, "answered within seconds"
    assert response.status_code == 200
    return response.content.decode()


def shown_time(client):
    """When the dashboard says its figures were calculated (the page's context, to the microsecond)."""
    return client.get(reverse("dashboard:index")).context["freshness"].calculated_at


def no_run_left_active():
    return not RollupRun.objects.filter(status__in=[RollupRun.Status.QUEUED, RollupRun.Status.RUNNING]).exists()


def test_recalculate_with_redis_stopped_is_refused_and_leaves_no_queued_run(partnership, client_for, redis,
                                                                               tmp_path):
    url, redis_process = redis
    client = client_for(partnership.analyst)
    redis_process.stop()
    for _ in range(2):  # and the second press is refused the same way, not blocked by a phantom run
        page = press_recalculate(client)
        assert "the background service is not reachable, nothing was queued" in page
        assert "already queued" not in page
        assert no_run_left_active()
    refused = RollupRun.objects.all()
    assert [run.status for run in refused] == [RollupRun.Status.FAILED] * 2
    assert all(run.error == WORKERS_DOWN for run in refused)
    # Redis back (a new one, at another address) and a worker: the button works again.
    with redis_server(tmp_path) as (new_url, _), broker_at(new_url):
        worker = start_worker(tmp_path, new_url, "worker")
        try:
            assert "Recalculation queued" in press_recalculate(client)
            run = RollupRun.objects.latest()
            wait_for(lambda: RollupRun.objects.get(pk=run.pk).status == RollupRun.Status.SUCCEEDED, timeout=90,
                     what=f"the run to finish\n{worker.output()[-3000:]}")
        finally:
            worker.stop()
    assert no_run_left_active()


def test_readers_see_the_previous_roll_up_whole_until_the_new_one_switches_in(previous_rollup, partnership,
                                                                              client_for, redis, tmp_path):
    url, _ = redis
    client = client_for(partnership.analyst)
    before = figures()
    assert runs_of_figures() == {previous_rollup.pk}
    assert shown_time(client) == previous_rollup.finished_at
    worker = start_worker(tmp_path, url, "worker")
    try:
        with switch_held():
            assert "Recalculation queued" in press_recalculate(client)
            wait_for(switch_waiting, timeout=90, what=f"the run to reach its switch\n{worker.output()[-3000:]}")
            run = RollupRun.objects.latest()
            assert run.status == RollupRun.Status.RUNNING and run.progress >= 95
            # Every quarter still the previous run's, and the page says when that run was.
            assert figures() == before
            assert shown_time(client) == previous_rollup.finished_at
        wait_for(lambda: RollupRun.objects.get(pk=run.pk).status == RollupRun.Status.SUCCEEDED, timeout=60,
                 what="the run to finish")
    finally:
        worker.stop()
    run.refresh_from_db()
    after = figures()
    assert after != before
    assert runs_of_figures() == {run.pk}
    assert {row[-1] for row in after} == {run.finished_at}
    assert shown_time(client) == run.finished_at
    assert run.rows_written == len(after)


def kill_worker_at_the_switch(client, tmp_path, url):
    """Press Recalculate, let the run reach its switch, SIGKILL its worker there; returns the run."""
    worker = start_worker(tmp_path, url, "doomed-worker")
    try:
        with switch_held():
            assert "Recalculation queued" in press_recalculate(client)
            wait_for(switch_waiting, timeout=90, what=f"the run to reach its switch\n{worker.output()[-3000:]}")
            worker.stop(signal.SIGKILL)
        assert worker.popen.returncode == -signal.SIGKILL
    finally:
        worker.stop()
    # The killed worker's database session ends once its statement finds no client; its lock goes with it.
    wait_for(run_lock_free, timeout=30, what="the killed worker's session to end")
    run = RollupRun.objects.latest()
    assert run.status == RollupRun.Status.RUNNING, "nothing else has touched the run"
    return run


def test_a_roll_up_whose_worker_is_killed_is_finished_by_the_next_worker(previous_rollup, partnership,
                                                                         client_for, redis, tmp_path):
    url, _ = redis
    client = client_for(partnership.analyst)
    before = figures()
    run = kill_worker_at_the_switch(client, tmp_path, url)
    assert figures() == before, "the killed run changed nothing"
    # Redis hands the message out again once it has been unacknowledged for the visibility timeout.
    wait_for(lambda: (datetime.datetime.now(datetime.UTC) - run.started_at).total_seconds() > VISIBILITY_TIMEOUT + 1,
             timeout=10)
    worker = start_worker(tmp_path, url, "next-worker")
    try:
        wait_for(lambda: RollupRun.objects.get(pk=run.pk).status == RollupRun.Status.SUCCEEDED, timeout=90,
                 what=f"the same run to finish\n{worker.output()[-3000:]}")
    finally:
        worker.stop()
    run.refresh_from_db()
    assert RollupRun.objects.count() == 2, "the same run, not another"
    assert no_run_left_active()
    after = figures()
    assert runs_of_figures() == {run.pk} and after != before
    keys = [row[:5] for row in after]
    assert len(keys) == len(set(keys)) == run.rows_written, "no duplicate rows"
    assert shown_time(client) == run.finished_at


def test_a_run_whose_heartbeat_stopped_is_failed_and_the_button_works_again(previous_rollup, partnership,
                                                                           client_for, redis, tmp_path):
    url, _ = redis
    client = client_for(partnership.analyst)
    lost = kill_worker_at_the_switch(client, tmp_path, url)
    # Within the usual five minutes, a second press is told a run is still going.
    assert "already queued or running" in press_recalculate(client)
    with override_settings(ROLLUP_STALLED_AFTER_SECONDS=2):
        wait_for(lambda: (datetime.datetime.now(datetime.UTC) - RollupRun.objects.get(pk=lost.pk).heartbeat_at)
                 .total_seconds() > 2.5, timeout=10, what="the heartbeat to go quiet")
        assert "Recalculation queued" in press_recalculate(client)
    lost.refresh_from_db()
    assert lost.status == RollupRun.Status.FAILED
    assert lost.error.startswith("The worker stopped before the run finished")
    new = RollupRun.objects.latest()
    assert new.pk != lost.pk and new.status == RollupRun.Status.QUEUED
    worker = start_worker(tmp_path, url, "next-worker")
    try:
        wait_for(lambda: RollupRun.objects.get(pk=new.pk).status == RollupRun.Status.SUCCEEDED, timeout=90,
                 what=f"the new run to finish\n{worker.output()[-3000:]}")
        # The lost run's message, handed out again, finds a later run in its place and does nothing.
        wait_for(lambda: f"{{'run': {lost.pk}, 'status': 'failed'}}" in worker.output(), timeout=30,
                 what=f"the lost run's message to be handed out again\n{worker.output()[-3000:]}")
    finally:
        worker.stop()
    lost.refresh_from_db()
    assert lost.status == RollupRun.Status.FAILED
    assert no_run_left_active()
    assert runs_of_figures() == {new.pk}
