"""A release date recorded by hand or by a feed within the window opens its checklist once the change commits."""

import datetime

from django.db import transaction
from django.utils import timezone

from .services import open_due_checklists


def release_date_saved(sender, instance, **kwargs):
    released_on = instance.released_on
    if released_on is None or released_on < timezone.localdate():
        return
    # The window is at most 52 weeks: anything further off waits for the daily run.
    if released_on - timezone.localdate() > datetime.timedelta(weeks=52):
        return
    transaction.on_commit(open_due_checklists)
