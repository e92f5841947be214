"""Celery tasks of the dashboard: the scheduled (and on-demand) roll-up, the incremental roll-up after changes,
and finding runs whose worker died."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, connection

from operations.background import send_to_worker
from operations.database import long_running_queries

from .models import RollupRun
from .rollup import RunSkipped, apply_pending_changes, changes_pending, run_part, run_rollup, start_parts

ROLLUP_TASK = "dashboard.tasks.run_rollups"
PART_TASK = "dashboard.tasks.run_rollup_part"
CHANGES_TASK = "dashboard.tasks.apply_pending_rollup_changes"
# Runs one worker does back to back while changes keep arriving, before leaving the rest to the next task.
MAX_RUNS_IN_A_ROW = 10


@shared_task(
    name=ROLLUP_TASK,
    bind=True,
    # Acknowledged when done, and given back to the queue if the worker dies: a killed roll-up runs again.
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=False,
    autoretry_for=(OperationalError, InterfaceError, RunSkipped),
    retry_backoff=30,
    retry_backoff_max=15 * 60,
    retry_jitter=True,
    max_retries=5,
)
def run_rollups(self, run_id=None):
    """Recompute every measure for every reporting quarter, as one run.

    `run_id` is the RollupRun queued by the recalculate button; the schedule passes none and
    a run is created, remembered by the task's id. A message delivered again (its worker died,
    or a database error is retried with exponential backoff) restarts the same run, unless it
    has finished or a later run has been queued since.

    With real workers on PostgreSQL the run is shared: one `run_rollup_part` task a measure, which
    any worker takes, and the last part done combines them (dashboard.rollup.start_parts). Tasks run
    eagerly (the laptop demo, most tests) compute the run here, in one process.
    """
    run = _run_for(run_id, self.request.id if not self.request.called_directly else None)
    if run is None:
        return None
    if run.status in {RollupRun.Status.SUCCEEDED, RollupRun.Status.SKIPPED}:
        return {"run": run.pk, "status": run.status}  # delivered again after it finished
    if _superseded(run):
        return {"run": run.pk, "status": run.status}
    if not self.app.conf.task_always_eager and connection.vendor == "postgresql":
        with long_running_queries():
            run, pending = start_parts(run)
        for measure in pending:
            send_to_worker(run_rollup_part, run.pk, measure)
        return {"run": run.pk, "status": run.status, "parts": len(pending)}
    with long_running_queries():
        run = run_rollup(run)
    _take_in_later_changes()
    return {"run": run.pk, "status": run.status}


def _superseded(run):
    """A later run has taken this one's place (queued after its worker was found dead, say): marks it skipped."""
    if not RollupRun.objects.filter(kind=RollupRun.Kind.FULL, queued_at__gt=run.queued_at).exists():
        return False
    RollupRun.objects.filter(pk=run.pk, status__in=[RollupRun.Status.QUEUED, RollupRun.Status.RUNNING]).update(
        status=RollupRun.Status.SKIPPED, step="A later run took its place")
    run.refresh_from_db()
    return True


@shared_task(
    name=PART_TASK,
    # As the run's own task: acknowledged when done, given back if the worker dies, and safe to run twice.
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=False,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=15 * 60,
    retry_jitter=True,
    max_retries=5,
)
def run_rollup_part(run_id, measure):
    """Compute one measure of a shared run; the part that finds every part done switches the figures in."""
    run = RollupRun.objects.filter(pk=run_id).first()
    if run is None:
        return None
    if run.status in {RollupRun.Status.SUCCEEDED, RollupRun.Status.SKIPPED} or _superseded(run):
        return {"run": run.pk, "status": run.status}
    with long_running_queries():
        combined = run_part(run, measure)
    if combined:
        _take_in_later_changes()
    run.refresh_from_db()
    return {"run": run.pk, "status": run.status, "measure": measure, "combined": combined}


@shared_task(
    name=CHANGES_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def apply_pending_rollup_changes():
    """Take pending changes into the figures (dashboard.rollup.apply_pending_changes), queued after each change
    commits and every 30 seconds by the beat schedule.

    While a run works, later changes only queue tasks that find the lock taken and stop; so the run
    looks again once it has let the lock go, and runs again for what arrived meanwhile.
    """
    runs = []
    with long_running_queries():
        for _ in range(MAX_RUNS_IN_A_ROW):
            run = apply_pending_changes()
            if run is None:
                break
            runs.append({"run": run.pk, "status": run.status, "changes": run.changes_applied})
    return runs


def _take_in_later_changes():
    """After a full run: the changes that came in while it held the lock, whose own tasks found it taken."""
    from .receivers import changes_committed

    if changes_pending():
        changes_committed()


def _run_for(run_id, task_id):
    if run_id:
        run = RollupRun.objects.filter(pk=run_id).first()
        if run is not None and task_id and run.task_id != task_id:
            RollupRun.objects.filter(pk=run.pk).update(task_id=task_id)
        return run
    if task_id:
        run = RollupRun.objects.filter(task_id=task_id).first()
        if run is not None:
            return run
    return RollupRun.objects.create(task_id=task_id or "")


@shared_task(name="dashboard.tasks.fail_stalled_rollups", ignore_result=True)
def fail_stalled_rollups():
    """Mark failed the runs whose worker stopped, so the Recalculate button works again (every five minutes)."""
    from .services import fail_stalled_runs

    return fail_stalled_runs()
