"""Celery tasks: large imports, and the sweep of the landing folders."""

from celery import shared_task

from operations.database import long_running_queries

from .models import ImportRun


@shared_task(name="feeds.tasks.run_import", acks_late=True, ignore_result=True)
def run_import(run_id, apply):
    """Check or apply a large file; the run, its progress and its report are in the database."""
    from . import runs

    run = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.QUEUED).select_related("user", "source").first()
    if run is None:
        return None
    with long_running_queries():
        run = runs.process(run, apply=apply)
    return {"status": run.status, "rows": run.rows_total}


@shared_task(name="feeds.tasks.sweep_landing_folders")
def sweep_landing_folders():
    """Import every file waiting in a source's landing folder, each in one transaction."""
    from .landing import sweep

    with long_running_queries():
        return [run.pk for run in sweep()]
