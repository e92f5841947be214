"""The roll-up job: reruns replace, concurrent runs do not double-count, failures leave old figures."""

import datetime
import threading

import pytest
from django.db import OperationalError, connection, connections

from cases.models import Cohort
from dashboard import rollup
from dashboard.models import RollupRun, RollupValue
from dashboard.periods import Quarter
from dashboard.tasks import run_rollups
from tests.factories import MembershipFactory, OffenderFactory

QUARTERS = [Quarter.from_key("2025-04-01"), Quarter.from_key("2025-07-01"), Quarter.from_key("2025-10-01")]


def snapshot():
    return sorted(
        RollupValue.objects.values_list(
            "measure", "category", "period_start", "dimension", "slice_key", "numerator", "denominator"
        )
    )


def people_joining(count, quarter, cohort=Cohort.IOM):
    for _ in range(count):
        MembershipFactory(offender=OffenderFactory(), cohort=cohort, started_on=quarter.start + datetime.timedelta(5))


@pytest.fixture
def some_people(db):
    people_joining(3, QUARTERS[0])
    people_joining(6, QUARTERS[1], Cohort.DIP)


def test_rerunning_gives_the_same_rows(some_people):
    rollup.run_rollup(quarters=QUARTERS)
    first = snapshot()
    rollup.run_rollup(quarters=QUARTERS)
    assert snapshot() == first
    assert RollupValue.objects.count() == len(first)


def test_rerunning_replaces_a_quarter_with_the_latest_data(some_people):
    rollup.run_rollup(quarters=QUARTERS)
    people_joining(2, QUARTERS[0])
    rollup.run_rollup(quarters=QUARTERS)
    entries = RollupValue.objects.get(measure="cohort_entries", period_start=QUARTERS[0].start, dimension="all")
    assert entries.numerator == 5


def test_a_run_killed_half_way_leaves_the_previous_figures(some_people, monkeypatch):
    rollup.run_rollup(quarters=QUARTERS)
    before = snapshot()
    people_joining(4, QUARTERS[1])
    real_bulk_create = RollupValue.objects.bulk_create
    calls = []

    def dies_in_the_second_quarter(values, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            real_bulk_create(values[:3], **kwargs)  # half written when the worker dies
            raise OperationalError("server closed the connection unexpectedly")
        return real_bulk_create(values, **kwargs)

    monkeypatch.setattr(RollupValue.objects, "bulk_create", dies_in_the_second_quarter)
    with pytest.raises(OperationalError):
        rollup.run_rollup(quarters=QUARTERS)

    after = snapshot()
    second_quarter = [row for row in after if row[2] == QUARTERS[1].start]
    assert second_quarter == [row for row in before if row[2] == QUARTERS[1].start]
    assert [row for row in after if row[2] == QUARTERS[0].start] == [
        row for row in before if row[2] == QUARTERS[0].start
    ]
    failed = RollupRun.objects.latest()
    assert failed.status == RollupRun.Status.FAILED
    assert "server closed" in failed.error


def test_a_run_finding_another_in_progress_is_skipped_and_writes_nothing(some_people):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [rollup.RUN_LOCK_KEY])
        run = rollup.run_rollup(quarters=QUARTERS)
    finally:
        other.close()
    assert run.status == RollupRun.Status.SKIPPED
    assert not RollupValue.objects.exists()


def test_the_lock_is_released_after_a_run(some_people):
    rollup.run_rollup(quarters=QUARTERS)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [rollup.RUN_LOCK_KEY])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()


def test_duplicate_rows_are_refused_by_the_database(some_people):
    from django.db import IntegrityError, transaction

    rollup.run_rollup(quarters=QUARTERS)
    existing = RollupValue.objects.first()
    existing.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        existing.save()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_count_once():
    people_joining(3, QUARTERS[0])
    people_joining(7, QUARTERS[2], Cohort.SGV)
    rollup.run_rollup(quarters=QUARTERS)
    expected = snapshot()
    RollupValue.objects.all().delete()

    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(rollup.run_rollup(quarters=QUARTERS).status)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert RollupRun.Status.SUCCEEDED in results
    assert set(results) <= {RollupRun.Status.SUCCEEDED, RollupRun.Status.SKIPPED}
    assert snapshot() == expected


def test_the_task_retries_database_errors_with_backoff():
    assert OperationalError in run_rollups.autoretry_for
    assert run_rollups.retry_backoff
    assert run_rollups.max_retries >= 3


def test_the_nightly_schedule_is_in_celery_beat(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="dashboard.tasks.run_rollups")
    assert task.enabled and task.crontab is not None


@pytest.mark.django_db(transaction=True)
def test_roll_up_runs_through_a_real_celery_worker_and_redis(settings):
    from celery.contrib.testing.worker import start_worker

    from reoffending.celery import app

    people_joining(2, QUARTERS[0])
    run = RollupRun.objects.create()
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            result = run_rollups.delay(run.pk)
            assert result.get(timeout=120)["status"] == RollupRun.Status.SUCCEEDED
    finally:
        app.conf.task_always_eager = True
    run.refresh_from_db()
    assert run.status == RollupRun.Status.SUCCEEDED and run.progress == 100
    assert RollupValue.objects.filter(run=run).exists()
