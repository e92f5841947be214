"""Celery tasks of the case record."""

from celery import shared_task

from .imports import run_job
from .models import User


@shared_task(name="cases.tasks.run_import")
def run_import(job_id, user_id):
    """Check or apply a large import in the background; progress and the report are kept with the job."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    job = run_job(job_id, user)
    return job and {"status": job["status"], "done": job["done"]}
