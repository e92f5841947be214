"""The evaluation runs in a Celery worker: matching a large pool takes longer than a page may."""

import logging

from celery import shared_task

from operations.database import long_running_queries

from .models import Evaluation

logger = logging.getLogger(__name__)


@shared_task(name="evaluation.tasks.run_evaluation", acks_late=True, ignore_result=True)
def run_evaluation(evaluation_id):
    """Run a queued evaluation; its progress, result or refusal are in the database."""
    from . import services

    evaluation = Evaluation.objects.filter(pk=evaluation_id, status=Evaluation.Status.QUEUED).first()
    if evaluation is None:
        return None
    try:
        with long_running_queries():
            evaluation = services.perform(evaluation)
    except Exception:
        logger.exception("Evaluation %s failed", evaluation_id)
        services.fail(evaluation_id, "The evaluation could not be completed. Try running it again.")
        return Evaluation.Status.FAILED
    return evaluation.status
