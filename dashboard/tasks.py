"""Celery tasks of the dashboard: the scheduled (and on-demand) roll-up."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .models import RollupRun
from .rollup import run_rollup

ROLLUP_TASK = "dashboard.tasks.run_rollups"


@shared_task(
    name=ROLLUP_TASK,
    bind=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=15 * 60,
    retry_jitter=True,
    max_retries=5,
)
def run_rollups(self, run_id=None):
    """Recompute every measure for every reporting quarter.

    `run_id` is the RollupRun queued by the recalculate button; the schedule passes none
    and a run is created. A database error (the database restarting, a failover) is
    retried with exponential backoff, reusing the same run record.
    """
    run = RollupRun.objects.filter(pk=run_id).first() if run_id else None
    if run is None:
        run = RollupRun.objects.create()
        if self.request.id and not self.request.called_directly:
            # A retry re-sends the original arguments; remember the run so it is reused.
            self.request.args = [run.pk]
    run = run_rollup(run)
    return {"run": run.pk, "status": run.status}
