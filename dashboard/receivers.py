"""Queue the incremental roll-up when a change to data the measures read commits.

The triggers (`dashboard.changes`) record what changed whatever the path; these receivers only
wake a worker soon after a save or delete through the ORM commits, once per transaction. Writes
that send no signal (bulk inserts, updates of a queryset, COPY, another system's SQL) are picked
up by the beat schedule, which runs the same task every 30 seconds.
"""

import logging

from django.apps import apps
from django.conf import settings
from django.db import connections, transaction
from django.db.models.signals import post_delete, post_save

from . import changes

logger = logging.getLogger(__name__)


def changes_committed():
    """Queue the incremental run after a short wait, so a burst of changes is taken in by one run."""
    from .tasks import apply_pending_rollup_changes

    if apply_pending_rollup_changes.app.conf.task_always_eager:
        return  # the demo (no triggers on SQLite) and the tests, which run the task themselves
    try:
        apply_pending_rollup_changes.apply_async(countdown=settings.ROLLUP_CHANGES_COUNTDOWN_SECONDS, retry=False,
                                                 ignore_result=True)
    except Exception as error:  # noqa: BLE001 - the change is committed and pending; the schedule will take it in
        logger.warning("Incremental roll-up not queued: %s", error)


def _data_changed(sender, using="default", **kwargs):
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    if any(func is changes_committed for _, func, _ in connection.run_on_commit):
        return  # queued for this transaction already
    transaction.on_commit(changes_committed, using=using, robust=True)


def connect():
    tables = {source.table for source in changes.SOURCES}
    for model in apps.get_models():
        if model._meta.db_table in tables:
            post_save.connect(_data_changed, sender=model, dispatch_uid=f"rollup-changes-save-{model._meta.label}")
            post_delete.connect(_data_changed, sender=model, dispatch_uid=f"rollup-changes-delete-{model._meta.label}")
