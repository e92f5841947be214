"""The roll-up job: reruns replace, concurrent runs do not double-count, failures leave old figures."""

import datetime
import threading

import pytest
from django.db import OperationalError, connection, connections

from cases.models import Cohort, Offender
from dashboard import rollup
from dashboard.models import RollupPart, RollupRun, RollupValue
from dashboard.periods import Quarter
from dashboard.tasks import run_rollups
from tests.factories import MembershipFactory, OffenderFactory
from tests.processes import wait_for

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
    # New figures for the second quarter only: the joiners are in an area and agency the figures already have.
    known = Offender.objects.first()
    for _ in range(4):
        MembershipFactory(offender=OffenderFactory(area=known.area, lead_agency=known.lead_agency), cohort=Cohort.IOM,
                          started_on=QUARTERS[1].start + datetime.timedelta(5))
    real_bulk_create = RollupValue.objects.bulk_create

    def dies_half_way(values, **kwargs):
        real_bulk_create(values[: len(values) // 2], **kwargs)  # half written when the worker dies
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(RollupValue.objects, "bulk_create", dies_half_way)
    with pytest.raises(OperationalError):
        rollup.run_rollup(quarters=QUARTERS)

    # Every quarter as it was, not only those the run had not reached.
    assert snapshot() == before
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


def test_a_run_and_a_shared_run_never_work_at_once(some_people):
    shared = RollupRun.objects.create(status=RollupRun.Status.RUNNING)
    RollupPart.objects.create(run=shared, measure="cohort_size")
    run = rollup.run_rollup(quarters=QUARTERS)
    assert run.status == RollupRun.Status.SKIPPED
    assert not RollupValue.objects.exists()
    # And a second shared run waits for the first: marked skipped, no parts of its own.
    second, pending = rollup.start_parts(RollupRun.objects.create())
    assert second.status == RollupRun.Status.SKIPPED and pending == [] and not second.parts.exists()
    # The first done, a shared run starts: a part a measure and the run's cohorts table.
    RollupRun.objects.filter(pk=shared.pk).update(status=RollupRun.Status.SUCCEEDED)
    third, pending = rollup.start_parts(RollupRun.objects.create())
    assert third.status == RollupRun.Status.RUNNING and len(pending) == third.parts.count() > 10
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [rollup.run_cohorts_table(third.pk)])
        assert cursor.fetchone()[0] is not None
    # The sweep leaves a running run's table alone and drops one whose run has stopped.
    assert rollup.drop_run_cohorts_tables() == 0
    RollupRun.objects.filter(pk=third.pk).update(status=RollupRun.Status.FAILED)
    assert rollup.drop_run_cohorts_tables() == 1


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
            # The run is shared out: one part a measure, which the same worker takes in turn here.
            assert run_rollups.delay(run.pk).get(timeout=120)["parts"] > 10
            wait_for(lambda: RollupRun.objects.get(pk=run.pk).status == RollupRun.Status.SUCCEEDED, timeout=120,
                     what="the parts to finish")
    finally:
        app.conf.task_always_eager = True
    run.refresh_from_db()
    assert run.status == RollupRun.Status.SUCCEEDED and run.progress == 100
    assert RollupValue.objects.filter(run=run).exists()
    assert set(run.parts.values_list("status", flat=True)) == {"done"}


def test_a_killed_worker_gives_the_roll_up_back_to_the_queue(settings):
    assert run_rollups.acks_late and run_rollups.reject_on_worker_lost
    # Redis hands an unacknowledged task out again after the visibility timeout: longer than a roll-up takes.
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == settings.BROKER_VISIBILITY_TIMEOUT >= 1800


def test_runs_whose_heartbeat_stopped_are_failed_by_the_sweep(db, settings):
    from django.utils import timezone

    from dashboard.tasks import fail_stalled_rollups

    settings.ROLLUP_STALLED_AFTER_SECONDS = 60
    now = timezone.now()
    lost = RollupRun.objects.create(status=RollupRun.Status.RUNNING, heartbeat_at=now - datetime.timedelta(minutes=2))
    alive = RollupRun.objects.create(status=RollupRun.Status.RUNNING, heartbeat_at=now - datetime.timedelta(seconds=5))
    never_taken = RollupRun.objects.create()
    RollupRun.objects.filter(pk=never_taken.pk).update(queued_at=now - datetime.timedelta(hours=3))
    waiting = RollupRun.objects.create()
    assert fail_stalled_rollups.delay().get() == 2
    statuses = dict(RollupRun.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: "failed", alive.pk: "running", never_taken.pk: "failed", waiting.pk: "queued"}
    assert RollupRun.objects.get(pk=lost.pk).error.startswith("The worker stopped before the run finished")


def test_the_stalled_run_sweep_is_in_celery_beat(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="dashboard.tasks.fail_stalled_rollups")
    assert task.enabled and task.interval.every == 5 and task.interval.period == "minutes"


def test_a_scheduled_run_delivered_again_is_the_same_run(some_people):
    first = run_rollups.apply(task_id="nightly-1").get()
    again = run_rollups.apply(task_id="nightly-1").get()
    assert first == again and first["status"] == RollupRun.Status.SUCCEEDED
    assert RollupRun.objects.count() == 1 and RollupRun.objects.get().task_id == "nightly-1"


def test_a_run_delivered_again_after_a_later_run_was_queued_does_nothing(some_people):
    lost = RollupRun.objects.create(status=RollupRun.Status.RUNNING)
    later = RollupRun.objects.create()
    assert run_rollups.delay(lost.pk).get() == {"run": lost.pk, "status": RollupRun.Status.SKIPPED}
    assert RollupRun.objects.get(pk=later.pk).status == RollupRun.Status.QUEUED
    assert not RollupValue.objects.exists()
