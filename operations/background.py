"""Handing work to a Celery worker, and saying at once when none can be reached.

Work that needs a worker (a large import, a recalculation) is sent without retries and
without a result to wait for, so a broker that is down is reported to the person who
asked within moments, never as a page that hangs or a job left queued that nothing runs.
"""

import logging

logger = logging.getLogger(__name__)


class WorkersUnavailable(Exception):  # noqa: N818 - a state of the world, as Django's ObjectDoesNotExist
    """The broker could not take the task: nothing was queued."""


def send_to_worker(task, *args):
    """Queue `task(*args)` for a worker; WorkersUnavailable when the broker cannot take it.

    With tasks run eagerly (the laptop demo, the tests) the task runs here, and its own
    errors are its own, not a broker that is down.
    """
    if task.app.conf.task_always_eager:
        return task.apply_async(args=list(args), ignore_result=True)
    try:
        return task.apply_async(args=list(args), retry=False, ignore_result=True)
    except Exception as error:  # noqa: BLE001 - any broker failure means the same to the person waiting
        logger.warning("%s could not be queued: %s", task.name, error)
        raise WorkersUnavailable(str(error)) from error
