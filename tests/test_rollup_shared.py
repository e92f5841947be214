"""The roll-up shared by several workers, with real processes: a Redis of the test's own and Celery workers started
by the test (one killed with SIGKILL in the middle of a part), against a small generated partnership.

A part is held just before it stages its figures by a lock the test takes on the staging table (SHARE mode: reads
go on, the part's DELETE of its own earlier rows waits), so the test knows where the worker is when it kills it.
"""

import datetime
import importlib
import signal

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from dashboard import rollup
from dashboard.models import PendingRollupChange, RollupPart, RollupRun, RollupValue, StagedValue
from dashboard.tasks import run_rollups
from operations.background import send_to_worker
from synthetic import Plan
from synthetic.management.commands.generate_partnership import generate

from .processes import redis_server, wait_for
from .test_rollup_faults import VISIBILITY_TIMEOUT, broker_at, other_connection, start_worker

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis(tmp_path):
    with redis_server(tmp_path) as (url, process), broker_at(url):
        yield url, process


@pytest.fixture
def in_one_process():
    """A small generated partnership rolled up in this process: the figures every shared run must reproduce."""
    # The reference data migrations load, which an earlier transactional test's flush removed (as tests/e2e does).
    importlib.import_module("pathways.migrations.0002_seed_pathways").seed_pathways(apps, None)
    importlib.import_module("panels.migrations.0004_panel_types").seed_panel_types(apps, None)
    generate(Plan.build(seed=11, scale=0.001, as_of=timezone.localdate()))
    run = rollup.run_rollup(RollupRun.objects.create())
    assert run.status == RollupRun.Status.SUCCEEDED and not run.parts.exists()
    # The data is in these figures: no incremental run should follow the shared runs and rewrite any.
    PendingRollupChange.objects.all().delete()
    return published()


def published():
    return sorted(RollupValue.objects.values_list(
        "measure", "category", "period_start", "period_end", "dimension", "slice_key", "numerator", "denominator",
        "numerator_hidden", "denominator_hidden"))


def assert_finished_whole(run, expected):
    run.refresh_from_db()
    assert run.status == RollupRun.Status.SUCCEEDED and run.progress == 100
    figures = published()
    keys = [row[:6] for row in figures]
    assert len(keys) == len(set(keys)) == run.rows_written, "no figure twice"
    assert figures == expected, "the same figures as the run in one process"
    assert set(RollupValue.objects.values_list("run_id", flat=True).distinct()) == {run.pk}
    assert not StagedValue.objects.exists(), "the staged figures are gone once switched in"
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [rollup.run_cohorts_table(run.pk)])
        assert cursor.fetchone()[0] is None, "the run's cohorts table is dropped"
    parts = RollupPart.objects.filter(run=run)
    assert parts.count() > 10 and set(parts.values_list("status", flat=True)) == {RollupPart.Status.DONE}
    return parts


def wait_for_success(run, *workers, timeout=120):
    wait_for(lambda: RollupRun.objects.get(pk=run.pk).status == RollupRun.Status.SUCCEEDED, timeout=timeout,
             what="the run to finish\n" + "\n".join(worker.output()[-3000:] for worker in workers))


def test_two_workers_share_the_roll_up_and_give_the_same_figures_as_one_process(in_one_process, redis, tmp_path):
    url, _ = redis
    workers = [start_worker(tmp_path, url, f"worker-{n}") for n in (1, 2)]
    try:
        run = RollupRun.objects.create()
        send_to_worker(run_rollups, run.pk)
        wait_for_success(run, *workers)
    finally:
        for worker in workers:
            worker.stop()
    parts = assert_finished_whole(run, in_one_process)
    assert set(parts.values_list("attempts", flat=True)) == {1}, "each measure computed once"
    for worker in workers:  # both took parts
        assert "dashboard.tasks.run_rollup_part" in worker.output() and "succeeded" in worker.output()


def staging_waits():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE 'DELETE FROM \"dashboard_stagedvalue\"%%'")
        return cursor.fetchone()[0] == 1


def part_unlocked(part):
    holder = other_connection()
    try:
        holder.execute("SET lock_timeout = '200ms'")
        holder.execute("SELECT 1 FROM dashboard_rolluppart WHERE id = %s FOR UPDATE", [part.pk])
        return True
    finally:
        holder.rollback()
        holder.close()


def test_a_part_whose_worker_is_killed_is_done_again_without_duplicates(in_one_process, redis, tmp_path):
    url, _ = redis
    doomed = start_worker(tmp_path, url, "doomed-worker")
    holder = other_connection()
    try:
        holder.execute("LOCK TABLE dashboard_stagedvalue IN SHARE MODE")
        run = RollupRun.objects.create()
        send_to_worker(run_rollups, run.pk)
        wait_for(staging_waits, timeout=90, what=f"a part to reach its staging\n{doomed.output()[-3000:]}")
        doomed.stop(signal.SIGKILL)
        assert doomed.popen.returncode == -signal.SIGKILL
    finally:
        holder.rollback()
        holder.close()
        doomed.stop()
    killed = RollupPart.objects.get(run=run, status=RollupPart.Status.RUNNING)
    wait_for(lambda: part_unlocked(killed), timeout=30, what="the killed worker's session to end")
    killed.refresh_from_db()
    assert killed.attempts == 1 and killed.status == RollupPart.Status.RUNNING
    assert not StagedValue.objects.filter(run=run).exists(), "the killed part staged nothing"
    assert not RollupPart.objects.filter(run=run, status=RollupPart.Status.DONE).exists()
    run.refresh_from_db()
    assert run.status == RollupRun.Status.RUNNING
    # Redis hands the killed part out again once it has been unacknowledged for the visibility timeout.
    wait_for(lambda: (datetime.datetime.now(datetime.UTC) - killed.started_at).total_seconds()
             > VISIBILITY_TIMEOUT + 1, timeout=10)
    workers = [start_worker(tmp_path, url, f"next-worker-{n}") for n in (1, 2)]
    try:
        wait_for_success(run, *workers)
    finally:
        for worker in workers:
            worker.stop()
    parts = assert_finished_whole(run, in_one_process)
    assert parts.get(measure=killed.measure).attempts == 2, "the killed part was done again"
    assert set(parts.exclude(measure=killed.measure).values_list("attempts", flat=True)) == {1}
    assert RollupRun.objects.count() == 2, "the same run, not another"
